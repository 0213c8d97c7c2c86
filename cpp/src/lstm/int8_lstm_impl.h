// The integer LSTM kernels of int8_lstm.h, written once over vector types: each instruction
// set's file defines a traits struct S and instantiates Int8KernelsFor<S>(). Include it only
// from those files.
//
// S provides V16 (kLanes16 int16 lanes) and V32 (kLanes32 int32 lanes), kGroup (columns per
// packed weight group) and:
//   int16: Set16 Load16 Store16 Add16 Sub16 SatAdd16 Mul16 (gemmlowp's
//     SaturatingRoundingDoublingHighMul) Mullo16 (the low 16 bits of the product) And16 Min16
//     Max16 CmpGt16 CmpLt16 CmpEq16 (a mask: all-ones lanes, or a mask register)
//     Select16(mask, then, else) Sra16<n> Shl16<n> DivPot16<n> (gemmlowp's RoundingDivideByPOT)
//     HalfSumNonneg16 (gemmlowp's RoundingHalfSum for a + b >= 0), MulRound16(a, b, shift) =
//     (int16) RoundingDivideByPOT(a * b, shift) (the low 16 bits, as TFLite's cast),
//     HiddenOut(o, t, qm, zp) = clamp(MBQM(o * t) + zp, -128, 127);
//   int32: Load32 Add32 Widen16(p) (kLanes32 int16 -> int32) StoreSat16(p, v) Mbqm(v, qm) (TFLite's
//     MultiplyByQuantizedMultiplier), XV LoadX(x) (x[0..kGroup) in the form Mac takes, prepared
//     once for every block that uses it), Mac(acc, w, xv) (acc[v] += the products of one packed
//     weight group with those columns), kBlocksAtOnce (1, 2 or 4: blocks whose products share each
//     prepared x, where the registers hold all their accumulators).
// Optionally (kMulIfBit = true) MulIfBit16(x, bits, bit, m) = lanes where bits & bit != 0:
// Mul16(x, m), others x (AVX-512: one test into a mask register and a masked multiply); and
// (kStoreSat16x4 = true, with 8 int32 lanes) StoreSat16x4(p, a, b, c, d): four vectors
// saturated to 32 int16 in one store.
// The fixed-point functions below are gemmlowp's (fixedpoint.h) for 16-bit raw values, the
// same operations in the same order, so every lane gets the scalar code's bits.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "int8_lstm.h"

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
struct HasStoreSat16x4 : std::false_type {};
template <class S>
struct HasStoreSat16x4<S, std::enable_if_t<S::kStoreSat16x4>> : std::true_type {};

template <class S>
struct Fixed {
  using V = typename S::V16;

  static V Neg(V a) { return S::Sub16(S::Set16(0), a); }
  // RoundingDivideByPOT with a compile-time exponent: to nearest, ties away from zero.
  template <int E>
  static V DivPot(V x) {
    return S::template DivPot16<E>(x);
  }
  // SaturatingRoundingMultiplyByPOT<E> for E > 0: a left shift that saturates, which is E
  // saturating doublings.
  template <int E>
  static V SatShl(V x) {
    for (int i = 0; i < E; ++i) x = S::SatAdd16(x, x);
    return x;
  }

  // exp(a) for a in [-1/4, 0), Q0.15.
  static V ExpQuarter(V a) {
    const V constant_term = S::Set16(Q16(1895147668));
    const V one_third = S::Set16(Q16(715827883));
    const V x = S::Add16(a, S::Set16(1 << 12));
    const V x2 = S::Mul16(x, x);
    const V x3 = S::Mul16(x2, x);
    const V x4 = S::Mul16(x2, x2);
    const V x4_over_4 = DivPot<2>(x4);
    const V poly = DivPot<1>(S::Add16(S::Mul16(S::Add16(x4_over_4, x3), one_third), x2));
    return S::SatAdd16(constant_term, S::Mul16(constant_term, S::Add16(x, poly)));
  }

  template <int N, int E>
  static V Barrel(V result, V remainder, int32_t multiplier) {
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
  static V ExpOnNegative(V a) {
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
  static V Reciprocal(V a) {
    const V half_denominator = S::HalfSumNonneg16(a, S::Set16(32767));
    V x = S::Add16(S::Set16(Q16(1515870810)), S::Mul16(half_denominator, S::Set16(Q16(-1010580540))));
    for (int i = 0; i < 3; ++i) {
      const V one_minus = S::Sub16(S::Set16(1 << 13), S::Mul16(half_denominator, x));
      x = S::Add16(x, SatShl<2>(S::Mul16(x, one_minus)));
    }
    return x;
  }

  // (int16) RoundingDivideByPOT(a * b, 15) for a >= 0 (the forget gate times the cell state, as
  // TFLite's CwiseMul): Mul16 rounds halves up, which differs only where a * b < 0 lies exactly
  // halfway, its low 15 bits 0x4000; there the result is one less (every pair was checked).
  static V MulRoundQ15(V a, V b) {
    const V low = S::Select16(S::CmpLt16(b, S::Set16(0)), S::And16(S::Mullo16(a, b), S::Set16(0x7fff)), S::Set16(0));
    const V r = S::Mul16(a, b);
    return S::Select16(S::CmpEq16(low, S::Set16(0x4000)), S::Sub16(r, S::Set16(1)), r);
  }

  template <int N>
  static V Logistic(V a) {
    const V zero = S::Set16(0);
    const auto positive = S::CmpGt16(a, zero);
    const V minus_abs = S::Select16(positive, Neg(a), a);  // -|a|, -32768 staying -32768 as in gemmlowp
    const V if_positive = SatShl<1>(Reciprocal(ExpOnNegative<N>(minus_abs)));
    const V if_negative = S::Sub16(S::Set16(32767), if_positive);
    return S::Select16(S::CmpEq16(a, zero), S::Set16(1 << 14), S::Select16(positive, if_positive, if_negative));
  }

  template <int N>
  static V Tanh(V a) {
    const V zero = S::Set16(0);
    const auto negative = S::CmpLt16(a, zero);
    const V n = S::Select16(negative, a, Neg(a));
    const V t = SatShl<2>(S::Sub16(Reciprocal(ExpOnNegative<N + 1>(n)), S::Set16(1 << 13)));
    return S::Select16(S::CmpEq16(a, zero), zero, S::Select16(negative, Neg(t), t));
  }
};

// For NB consecutive blocks (their packed weights `block_stride` apart, their biases next to
// each other): acc[n] = block n's bias + its packed weights x the int16 columns of x. Each group
// of x is prepared once for all NB blocks, and the NB blocks' sums are independent chains.
template <class S, int NB>
inline void Accumulate(const int8_t* w, size_t block_stride, int groups, const int16_t* x, const int32_t* bias,
                       typename S::V32 (&acc)[NB][kBlockWidth / S::kLanes32]) {
  constexpr int kVecs = kBlockWidth / S::kLanes32;
  for (int n = 0; n < NB; ++n) {
    for (int v = 0; v < kVecs; ++v) acc[n][v] = S::Load32(bias + n * kBlockWidth + v * S::kLanes32);
  }
  for (int k = 0; k < groups; ++k) {
    const typename S::XV xk = S::LoadX(x + k * S::kGroup);
    const int8_t* wk = w + static_cast<size_t>(k) * kBlockWidth * S::kGroup;
    for (int n = 0; n < NB; ++n) S::Mac(acc[n], wk + n * block_stride, xk);
  }
}

// Blocks `blk` .. blk + NB of the input projection, for every row.
template <class S, int NB>
void ProjectBlocks(const Int8ProjectArgs& a, int blk, int groups) {
  using V32 = typename S::V32;
  constexpr int L = S::kLanes32;
  constexpr int kVecs = kBlockWidth / L;
  const size_t block_stride = static_cast<size_t>(groups) * kBlockWidth * S::kGroup;
  const size_t x_stride = static_cast<size_t>(Int8Columns(a.n_input));
  const size_t row_stride = static_cast<size_t>(Blocks(a.n_cell)) * kBlockWidth;
  const int8_t* w = a.weights + blk * block_stride;
  const int32_t* bias = a.bias + static_cast<size_t>(blk) * kBlockWidth;
  for (int r = 0; r < a.rows; ++r) {
    V32 acc[NB][kVecs];
    Accumulate<S, NB>(w, block_stride, groups, a.x + r * x_stride, bias, acc);
    for (int n = 0; n < NB; ++n) {
      int16_t* gx = a.gx + r * row_stride + static_cast<size_t>(blk + n) * kBlockWidth;
      for (int v = 0; v < kVecs; ++v) {
        S::StoreSat16(gx + v * L, S::Mbqm(acc[n][v], a.params->input[v * L / kBlockUnits]));
      }
    }
  }
}

template <class S>
void Int8Project(const Int8ProjectArgs& a) {
  const int blocks = Blocks(a.n_cell);
  const int groups = (a.n_input + S::kGroup - 1) / S::kGroup;
  constexpr int NB = S::kBlocksAtOnce;
  int blk = 0;
  for (; blk + NB <= blocks; blk += NB) ProjectBlocks<S, NB>(a, blk, groups);
  for (; blk < blocks; ++blk) ProjectBlocks<S, 1>(a, blk, groups);
}

// Blocks `blk` .. blk + NB of one step's gates, for every batch row (the blocks' weights stay in
// L1 across the batch): input half + rescaled recurrent product, saturated.
template <class S, int NB>
void GatesOfBlocks(const Int8StepArgs& a, int blk, int groups) {
  using V32 = typename S::V32;
  constexpr int L = S::kLanes32;
  constexpr int kVecs = kBlockWidth / L;
  const size_t padded = static_cast<size_t>(Int8Padded(a.n_cell));
  const size_t block_stride = static_cast<size_t>(groups) * kBlockWidth * S::kGroup;
  const int8_t* w = a.recurrent + blk * block_stride;
  const int32_t* bias = a.bias + static_cast<size_t>(blk) * kBlockWidth;
  for (int b = 0; b < a.batch; ++b) {
    V32 acc[NB][kVecs];
    Accumulate<S, NB>(w, block_stride, groups, a.h_prev + b * padded, bias, acc);
    for (int n = 0; n < NB; ++n) {
      const int16_t* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk + n) * kBlockWidth;
      for (int v = 0; v < kVecs; ++v) {
        acc[n][v] = S::Add32(S::Mbqm(acc[n][v], a.params->recurrent[v * L / kBlockUnits]), S::Widen16(gx + v * L));
      }
    }
    int16_t* gates = a.gates + b * kGates * padded + static_cast<size_t>(blk) * kBlockUnits;
    if constexpr (NB == 4 && kVecs == kGates && HasStoreSat16x4<S>::value) {
      // Each gate's 32 units in one store, which the cell's 32-lane load of them can forward from
      // (a wide load over several narrow stores waits until they reach the cache).
      for (int g = 0; g < kGates; ++g) S::StoreSat16x4(gates + g * padded, acc[0][g], acc[1][g], acc[2][g], acc[3][g]);
    } else {
      for (int n = 0; n < NB; ++n) {
        for (int v = 0; v < kVecs; ++v) {
          S::StoreSat16(gates + n * kBlockUnits + v * L / kBlockUnits * padded + v * L % kBlockUnits, acc[n][v]);
        }
      }
    }
  }
}

template <class S>
void Int8Gates(const Int8StepArgs& a) {
  const int blocks = Blocks(a.n_cell);
  const int groups = (a.n_cell + S::kGroup - 1) / S::kGroup;
  constexpr int NB = S::kBlocksAtOnce;
  int blk = 0;
  for (; blk + NB <= blocks; blk += NB) GatesOfBlocks<S, NB>(a, blk, groups);
  for (; blk < blocks; ++blk) GatesOfBlocks<S, 1>(a, blk, groups);
}

// The activations, cell update and hidden state, kLanes16 units at a time (kCellBits =
// 15 + the cell state's scale exponent: tanh's input format). For kCellBits outside 0..6
// TFLite's ApplyTanh writes nothing, and its output stage reads the buffer it reuses, which
// holds the input gate: kCellBits = -1 does the same.
template <class S, int kCellBits>
void Int8Cell(const Int8StepArgs& a) {
  using F = Fixed<S>;
  using V = typename S::V16;
  const Int8Params& p = *a.params;
  const size_t padded = static_cast<size_t>(Int8Padded(a.n_cell));
  const int ic_shift = 30 + p.cell_scale;
  const V clip_hi = S::Set16(p.cell_clip);
  const V clip_lo = S::Set16(static_cast<int16_t>(-p.cell_clip));
  for (int b = 0; b < a.batch; ++b) {
    const int16_t* gates = a.gates + b * kGates * padded;
    int16_t* c = a.c + b * padded;
    int16_t* h = a.h_next + b * padded;
    for (size_t u = 0; u < padded; u += S::kLanes16) {
      const V i_gate = F::template Logistic<3>(S::Load16(gates + u));
      const V f_gate = F::template Logistic<3>(S::Load16(gates + padded + u));
      const V c_gate = F::template Tanh<3>(S::Load16(gates + 2 * padded + u));
      const V o_gate = F::template Logistic<3>(S::Load16(gates + 3 * padded + u));
      V cell = S::SatAdd16(F::MulRoundQ15(f_gate, S::Load16(c + u)), S::MulRound16(i_gate, c_gate, ic_shift));
      if (p.cell_clip > 0) cell = S::Max16(S::Min16(cell, clip_hi), clip_lo);
      S::Store16(c + u, cell);
      V cell_tanh = i_gate;
      if constexpr (kCellBits >= 0) cell_tanh = F::template Tanh<kCellBits>(cell);
      S::Store16(h + u, S::HiddenOut(o_gate, cell_tanh, p.hidden, p.hidden_zp));
    }
  }
}

template <class S>
void Int8CellOf(const Int8StepArgs& a) {
  switch (15 + a.params->cell_scale) {
    case 0: return Int8Cell<S, 0>(a);
    case 1: return Int8Cell<S, 1>(a);
    case 2: return Int8Cell<S, 2>(a);
    case 3: return Int8Cell<S, 3>(a);
    case 4: return Int8Cell<S, 4>(a);
    case 5: return Int8Cell<S, 5>(a);
    case 6: return Int8Cell<S, 6>(a);
    default: return Int8Cell<S, -1>(a);
  }
}

// Whole vectors over buffers of n values (n a multiple of kLanes16), for the tests.
template <class S>
void Int8Sigmoid(const int16_t* in, int16_t* out, int n) {
  for (int i = 0; i < n; i += S::kLanes16) S::Store16(out + i, Fixed<S>::template Logistic<3>(S::Load16(in + i)));
}
template <class S, int N>
void Int8TanhN(const int16_t* in, int16_t* out, int n) {
  for (int i = 0; i < n; i += S::kLanes16) S::Store16(out + i, Fixed<S>::template Tanh<N>(S::Load16(in + i)));
}
template <class S>
void Int8Tanh(int integer_bits, const int16_t* in, int16_t* out, int n) {
  switch (integer_bits) {
    case 0: return Int8TanhN<S, 0>(in, out, n);
    case 1: return Int8TanhN<S, 1>(in, out, n);
    case 2: return Int8TanhN<S, 2>(in, out, n);
    case 3: return Int8TanhN<S, 3>(in, out, n);
    case 4: return Int8TanhN<S, 4>(in, out, n);
    case 5: return Int8TanhN<S, 5>(in, out, n);
    default: return Int8TanhN<S, 6>(in, out, n);
  }
}

template <class S>
void Int8MulQ15(const int16_t* a, const int16_t* b, int16_t* out, int n) {
  for (int i = 0; i < n; i += S::kLanes16) {
    S::Store16(out + i, Fixed<S>::MulRoundQ15(S::Load16(a + i), S::Load16(b + i)));
  }
}

template <class S>
const Int8Kernels& Int8KernelsFor(rnn::Isa isa) {
  static_assert(kInt8UnitPad % S::kLanes16 == 0 && kBlockUnits % S::kLanes32 == 0, "vector width");
  static const Int8Kernels kernels{rnn::VariantName(Int8Kernels::kFamily, isa),
                                   S::kGroup,
                                   0,
                                   &Int8Project<S>,
                                   &Int8Gates<S>,
                                   &Int8CellOf<S>,
                                   &Int8Sigmoid<S>,
                                   &Int8Tanh<S>,
                                   &Int8MulQ15<S>};
  return kernels;
}

}  // namespace
}  // namespace tflstm::lstm
