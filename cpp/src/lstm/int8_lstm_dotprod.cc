// The integer LSTM with aarch64's dot product instructions (DotProd: Armv8.2-A, optional up to
// Armv8.4-A): the NEON kernel with each group of four columns as one sdot per four units, which
// adds four int8 products into each int32 lane exactly, in place of a widening and four vmlal.
// Compiled with +dotprod; the variant table runs it only on a CPU that has it.
#if defined(__aarch64__)
#include "int8_lstm_neon.h"

namespace tflstm::lstm {
namespace {

struct DotProdInt8 : NeonInt8 {
  static constexpr int kGroup = 4;
  static constexpr int kBlocksAtOnce = 2;  // 16 accumulators of aarch64's 32 registers
  static constexpr bool kMac2 = false;     // NeonInt8's pairs of 2-column groups, not sdot's layout
  using XV = int8x16_t;                    // the group's 4 columns as int8, in every 32-bit lane
  TFLSTM_INT8_INLINE static XV LoadX(const int16_t* x) {
    const int8x8_t x8 = vmovn_s16(vcombine_s16(vld1_s16(x), vdup_n_s16(0)));  // int8 values already
    return vreinterpretq_s8_s32(vdupq_lane_s32(vreinterpret_s32_s8(x8), 0));
  }
  // acc[2g], acc[2g + 1] (units 0-3 and 4-7 of gate g) += the group's products: unit j's four
  // weights are bytes 4j..4j+3 of the gate's 32.
  TFLSTM_INT8_INLINE static void Mac(V32* acc, const int8_t* w, XV x) {
    for (int g = 0; g < kGates; ++g) {
      acc[2 * g] = vdotq_s32(acc[2 * g], vld1q_s8(w + 32 * g), x);
      acc[2 * g + 1] = vdotq_s32(acc[2 * g + 1], vld1q_s8(w + 32 * g + 16), x);
    }
  }
};

}  // namespace

// The NEON kernels with the products replaced: the cell update and activations are NEON's own.
const Int8Kernels& DotProdInt8Kernels() {
  static const Int8Kernels kernels = [] {
    Int8Kernels k = NeonInt8Kernels();
    k.name = rnn::VariantName(Int8Kernels::kFamily, rnn::Isa::kDotProd);
    k.group = DotProdInt8::kGroup;
    k.project = &Int8Project<DotProdInt8>;
    k.gates = &Int8Gates<DotProdInt8>;
    return k;
  }();
  return kernels;
}

}  // namespace tflstm::lstm
#endif
