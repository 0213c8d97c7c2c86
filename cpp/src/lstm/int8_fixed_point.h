// The integer arithmetic of the int8 LSTM kernels (int8_lstm_impl.h) over a traits struct S's
// lanes: gemmlowp's fixed-point functions (fixedpoint.h) for 16-bit raw values, the same
// operations in the same order, so every lane gets the scalar code's bits; TFLite's
// MultiplyByQuantizedMultiplier; and the detection of S's optional operations. Include it only
// from int8_lstm_impl.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "int8_lstm.h"

// The activations' operations and the cell's passes inlined whatever the compiler's budget:
// an interleaved activation is several hundred instructions, past GCC's limits, and a call
// per operation takes the vectors through memory.
#if defined(__GNUC__)
#define TFLSTM_INT8_INLINE inline __attribute__((always_inline))
#else
#define TFLSTM_INT8_INLINE inline
#endif

namespace tflstm::lstm {
namespace {

// gemmlowp's RescaleConstantInitializer for int16: a Q0.31 constant rounded to Q0.15.
constexpr int16_t Q16(int32_t v) {
  const int32_t mask = (1 << 16) - 1;
  const int32_t remainder = v & mask;
  const int32_t threshold = (mask >> 1) + (v < 0 ? 1 : 0);
  return static_cast<int16_t>((v >> 16) + (remainder > threshold ? 1 : 0));
}

// gemmlowp's SaturatingRoundingDoublingHighMul for int32.
inline int32_t Srdhm32(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}
// gemmlowp's RoundingDivideByPOT for int32: to nearest, ties away from zero.
inline int32_t Rdbpot32(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}
// TFLite's MultiplyByQuantizedMultiplier (double rounding; x * 2^left wraps as TFLite's does).
inline int32_t Mbqm32(int32_t x, QuantizedMultiplier q) {
  const int left = q.shift > 0 ? q.shift : 0;
  const int right = q.shift > 0 ? 0 : -q.shift;
  const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return Rdbpot32(Srdhm32(shifted, q.multiplier), right);
}

template <class S, class = void>
struct HasMulIfBit : std::false_type {};
template <class S>
struct HasMulIfBit<S, std::enable_if_t<S::kMulIfBit>> : std::true_type {};
template <class S, class = void>
struct HasMac2 : std::false_type {};
template <class S>
struct HasMac2<S, std::enable_if_t<S::kMac2>> : std::true_type {};
template <class S, class = void>
struct HasLookupInPlace : std::false_type {};
template <class S>
struct HasLookupInPlace<S, std::enable_if_t<S::kLookupInPlace>> : std::true_type {};
template <class S, class = void>
struct HasStoreSat16x2 : std::false_type {};
template <class S>
struct HasStoreSat16x2<S, std::enable_if_t<S::kStoreSat16x2>> : std::true_type {};
template <class S, class = void>
struct HasStoreSat16x4 : std::false_type {};
template <class S>
struct HasStoreSat16x4<S, std::enable_if_t<S::kStoreSat16x4>> : std::true_type {};

// A quantized multiplier as S's Mbqm takes it: S::Requant (S::MakeRequant(q): its constants
// made once per kernel call, not once per vector), or the multiplier itself.
template <class S, class = void>
struct RequantOf {
  using type = QuantizedMultiplier;
  static type Make(QuantizedMultiplier q) { return q; }
};
template <class S>
struct RequantOf<S, std::void_t<typename S::Requant>> {
  using type = typename S::Requant;
  static type Make(QuantizedMultiplier q) { return S::MakeRequant(q); }
};

template <class S>
struct Fixed {
  using V = typename S::V16;

  TFLSTM_INT8_INLINE static V Neg(V a) { return S::Sub16(S::Set16(0), a); }
  // RoundingDivideByPOT with a compile-time exponent: to nearest, ties away from zero.
  template <int E>
  TFLSTM_INT8_INLINE static V DivPot(V x) {
    return S::template DivPot16<E>(x);
  }
  // SaturatingRoundingMultiplyByPOT<E> for E > 0: a left shift that saturates, which is E
  // saturating doublings.
  template <int E>
  TFLSTM_INT8_INLINE static V SatShl(V x) {
    for (int i = 0; i < E; ++i) x = S::SatAdd16(x, x);
    return x;
  }

  // exp(a) for a in [-1/4, 0), Q0.15.
  TFLSTM_INT8_INLINE static V ExpQuarter(V a) {
    const V constant_term = S::Set16(Q16(1895147668));
    const V one_third = S::Set16(Q16(715827883));
    const V x = S::Add16(a, S::Set16(1 << 12));
    const V x2 = S::Mul16(x, x);
    const V x3 = S::Mul16(x2, x);
    const V x4 = S::Mul16(x2, x2);
    // RoundingDivideByPOT of a value >= 0 (x4, and the polynomial's sum) rounds half up, as
    // Mul16 by 2^(15 - E) does: one operation where DivPot handles either sign.
    const V x4_over_4 = S::Mul16(x4, S::Set16(1 << 13));
    const V poly = S::Mul16(S::Add16(S::Mul16(S::Add16(x4_over_4, x3), one_third), x2), S::Set16(1 << 14));
    return S::SatAdd16(constant_term, S::Mul16(constant_term, S::Add16(x, poly)));
  }

  template <int N, int E>
  TFLSTM_INT8_INLINE static V Barrel(V result, V remainder, int32_t multiplier) {
    if constexpr (N > E) {
      constexpr int kShift = 15 - N + E;
      const V bit = S::Set16(static_cast<int16_t>(1 << kShift));
      if constexpr (HasMulIfBit<S>::value) {
        return S::MulIfBit16(result, remainder, bit, S::Set16(Q16(multiplier)));
      } else {
        return S::Select16(S::CmpEq16(S::And16(remainder, bit), S::Set16(0)), result,
                           S::Mul16(result, S::Set16(Q16(multiplier))));
      }
    }
    return result;
  }

  // exp(a) for a <= 0 with N integer bits, Q0.15.
  template <int N>
  TFLSTM_INT8_INLINE static V ExpOnNegative(V a) {
    constexpr int16_t kQuarter = static_cast<int16_t>(1 << (15 - N - 2));
    const V a_mod_quarter_minus_quarter = S::Sub16(S::And16(a, S::Set16(kQuarter - 1)), S::Set16(kQuarter));
    // Rescale<0>: in [-1/4, 0) the shift cannot saturate.
    V result = ExpQuarter(S::template Shl16<N>(a_mod_quarter_minus_quarter));
    const V remainder = S::Sub16(a_mod_quarter_minus_quarter, a);
    result = Barrel<N, -2>(result, remainder, 1672461947);
    result = Barrel<N, -1>(result, remainder, 1302514674);
    result = Barrel<N, 0>(result, remainder, 790015084);
    result = Barrel<N, 1>(result, remainder, 290630308);
    result = Barrel<N, 2>(result, remainder, 39332535);
    result = Barrel<N, 3>(result, remainder, 720401);
    result = Barrel<N, 4>(result, remainder, 242);
    if constexpr (N > 5) {
      const V clamp = S::Set16(Q16(-(1 << (36 - N))));
      result = S::Select16(S::CmpLt16(a, clamp), S::Set16(0), result);
    }
    return S::Select16(S::CmpEq16(a, S::Set16(0)), S::Set16(32767), result);
  }

  // Newton-Raphson for 1 / (1 + a), a in [0, 1]: Q2.13.
  TFLSTM_INT8_INLINE static V Reciprocal(V a) {
    const V half_denominator = S::HalfSumNonneg16(a, S::Set16(32767));
    V x = S::Add16(S::Set16(Q16(1515870810)), S::Mul16(half_denominator, S::Set16(Q16(-1010580540))));
    for (int i = 0; i < 3; ++i) {
      const V one_minus = S::Sub16(S::Set16(1 << 13), S::Mul16(half_denominator, x));
      // gemmlowp's saturating shift never saturates here (the correction is small once x
      // starts from the linear estimate; Int8Activations.EveryInputMatchesTflite runs every
      // input): a plain shift gives its bits.
      x = S::Add16(x, S::template Shl16<2>(S::Mul16(x, one_minus)));
    }
    return x;
  }

  // (int16) RoundingDivideByPOT(a * b, 15) for a >= 0 (the forget gate times the cell state, as
  // TFLite's CwiseMul): Mul16 rounds halves up, which differs only where a * b < 0 lies exactly
  // halfway, its low 15 bits 0x4000; there the result is one less (every pair was checked).
  TFLSTM_INT8_INLINE static V MulRoundQ15(V a, V b) {
    const V low = S::Select16(S::CmpLt16(b, S::Set16(0)), S::And16(S::Mullo16(a, b), S::Set16(0x7fff)), S::Set16(0));
    const V r = S::Mul16(a, b);
    return S::Select16(S::CmpEq16(low, S::Set16(0x4000)), S::Sub16(r, S::Set16(1)), r);
  }

  template <int N>
  TFLSTM_INT8_INLINE static V Logistic(V a) {
    const V zero = S::Set16(0);
    const auto positive = S::CmpGt16(a, zero);
    const V minus_abs = S::Select16(positive, Neg(a), a);  // -|a|, -32768 staying -32768 as in gemmlowp
    const V if_positive = SatShl<1>(Reciprocal(ExpOnNegative<N>(minus_abs)));
    const V if_negative = S::Sub16(S::Set16(32767), if_positive);
    return S::Select16(S::CmpEq16(a, zero), S::Set16(1 << 14), S::Select16(positive, if_positive, if_negative));
  }

  template <int N>
  TFLSTM_INT8_INLINE static V Tanh(V a) {
    const V zero = S::Set16(0);
    const auto negative = S::CmpLt16(a, zero);
    const V n = S::Select16(negative, a, Neg(a));
    const V t = SatShl<2>(S::Sub16(Reciprocal(ExpOnNegative<N + 1>(n)), S::Set16(1 << 13)));
    return S::Select16(S::CmpEq16(a, zero), zero, S::Select16(negative, Neg(t), t));
  }
};

}  // namespace
}  // namespace tflstm::lstm
