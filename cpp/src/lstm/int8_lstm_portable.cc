// The integer LSTM in plain C++: any CPU, and the reference the vector kernels are tested
// against (one lane: each operation is gemmlowp's or TFLite's scalar code).
#include "int8_lstm_impl.h"

namespace tflstm::lstm {
namespace {

struct ScalarInt8 {
  using V16 = int16_t;
  using V32 = int32_t;
  static constexpr int kLanes16 = 1;
  static constexpr int kLanes32 = 1;
  static constexpr int kGroup = 1;
  static constexpr int kBlocksAtOnce = 1;

  static V16 Clamp16(int32_t x) { return static_cast<int16_t>(std::min(32767, std::max(-32768, x))); }
  static V16 Set16(int16_t x) { return x; }
  static V16 Load16(const int16_t* p) { return *p; }
  static void Store16(int16_t* p, V16 v) { *p = v; }
  static V16 Add16(V16 a, V16 b) { return static_cast<int16_t>(static_cast<uint16_t>(a) + static_cast<uint16_t>(b)); }
  static V16 Sub16(V16 a, V16 b) { return static_cast<int16_t>(static_cast<uint16_t>(a) - static_cast<uint16_t>(b)); }
  static V16 SatAdd16(V16 a, V16 b) { return Clamp16(int32_t{a} + b); }
  static V16 Mul16(V16 a, V16 b) {  // gemmlowp's SaturatingRoundingDoublingHighMul for int16
    if (a == b && a == -32768) return 32767;
    const int32_t ab = int32_t{a} * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return static_cast<int16_t>((ab + nudge) / (1 << 15));
  }
  static V16 Mullo16(V16 a, V16 b) { return static_cast<int16_t>(static_cast<uint16_t>(int32_t{a} * b)); }
  static V16 And16(V16 a, V16 b) { return static_cast<int16_t>(a & b); }
  static V16 Min16(V16 a, V16 b) { return std::min(a, b); }
  static V16 Max16(V16 a, V16 b) { return std::max(a, b); }
  static V16 CmpGt16(V16 a, V16 b) { return a > b ? -1 : 0; }
  static V16 CmpLt16(V16 a, V16 b) { return a < b ? -1 : 0; }
  static V16 CmpEq16(V16 a, V16 b) { return a == b ? -1 : 0; }
  static V16 Select16(V16 mask, V16 then_v, V16 else_v) {
    return static_cast<int16_t>((mask & then_v) | (~mask & else_v));
  }
  template <int N>
  static V16 Sra16(V16 a) {
    return static_cast<int16_t>(a >> N);
  }
  template <int N>
  static V16 Shl16(V16 a) {
    return static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint16_t>(a) << N));
  }
  template <int E>
  static V16 DivPot16(V16 x) {  // gemmlowp's generic RoundingDivideByPOT
    constexpr int16_t kMask = (1 << E) - 1;
    const int16_t remainder = static_cast<int16_t>(x & kMask);
    const int16_t threshold = static_cast<int16_t>((kMask >> 1) + (x < 0 ? 1 : 0));
    return static_cast<int16_t>((x >> E) + (remainder > threshold ? 1 : 0));
  }
  static V16 HalfSumNonneg16(V16 a, V16 b) {  // gemmlowp's RoundingHalfSum, for any sum
    const int32_t sum = int32_t{a} + b;
    return static_cast<int16_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  }
  static V16 MulRound16(V16 a, V16 b, int shift) { return static_cast<int16_t>(Rdbpot32(int32_t{a} * b, shift)); }
  static V16 HiddenOut(V16 o, V16 t, QuantizedMultiplier q, int32_t zp) {
    const int32_t v = Mbqm32(int32_t{o} * t, q) + zp;
    return static_cast<int16_t>(std::min(127, std::max(-128, v)));
  }

  static V32 Load32(const int32_t* p) { return *p; }
  static V32 Add32(V32 a, V32 b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
  static V32 Widen16(const int16_t* p) { return *p; }
  static void StoreSat16(int16_t* p, V32 v) { *p = Clamp16(v); }
  static V32 Mbqm(V32 v, QuantizedMultiplier q) { return Mbqm32(v, q); }
  using XV = int32_t;
  static XV LoadX(const int16_t* x) { return x[0]; }
  static void Mac(V32* acc, const int8_t* w, XV xk) {
    for (int i = 0; i < kBlockWidth; ++i) acc[i] += w[i] * xk;
  }
};

}  // namespace

const Int8Kernels& PortableInt8Kernels() { return Int8KernelsFor<ScalarInt8>(rnn::Isa::kPortable); }

}  // namespace tflstm::lstm
