// The NEON traits of the integer LSTM (int8_lstm_impl.h): aarch64, and 32-bit ARM built with
// NEON. vqrdmulh is gemmlowp's SaturatingRoundingDoublingHighMul, saturation included; 8 int16 or
// 4 int32 lanes. Shared by int8_lstm_neon.cc and int8_lstm_dotprod.cc, which replaces the product.
#pragma once

#include <arm_neon.h>

#include <cstring>

#include "int8_lstm_impl.h"

namespace tflstm::lstm {
namespace {

struct NeonInt8 {
  using V16 = int16x8_t;
  using V32 = int32x4_t;
  static constexpr int kLanes16 = 8;
  static constexpr int kLanes32 = 4;
#if defined(__aarch64__)
  static constexpr int kBlocksAtOnce = 2;  // 16 accumulators of 32 registers: each x pair prepared once
#else
  static constexpr int kBlocksAtOnce = 1;  // 8 accumulators a block: armhf has 16 q registers
#endif

  static V16 Set16(int16_t x) { return vdupq_n_s16(x); }
  static V16 Load16(const int16_t* p) { return vld1q_s16(p); }
  static void Store16(int16_t* p, V16 v) { vst1q_s16(p, v); }
  static V16 Add16(V16 a, V16 b) { return vaddq_s16(a, b); }
  static V16 Sub16(V16 a, V16 b) { return vsubq_s16(a, b); }
  static V16 SatAdd16(V16 a, V16 b) { return vqaddq_s16(a, b); }
  static V16 Mul16(V16 a, V16 b) { return vqrdmulhq_s16(a, b); }
  static V16 Mullo16(V16 a, V16 b) { return vmulq_s16(a, b); }
  static V16 And16(V16 a, V16 b) { return vandq_s16(a, b); }
  static V16 Min16(V16 a, V16 b) { return vminq_s16(a, b); }
  static V16 Max16(V16 a, V16 b) { return vmaxq_s16(a, b); }
  static V16 CmpGt16(V16 a, V16 b) { return vreinterpretq_s16_u16(vcgtq_s16(a, b)); }
  static V16 CmpLt16(V16 a, V16 b) { return vreinterpretq_s16_u16(vcltq_s16(a, b)); }
  static V16 CmpEq16(V16 a, V16 b) { return vreinterpretq_s16_u16(vceqq_s16(a, b)); }
  static V16 Select16(V16 mask, V16 then_v, V16 else_v) {
    return vbslq_s16(vreinterpretq_u16_s16(mask), then_v, else_v);
  }
  template <int N>
  static V16 Sra16(V16 a) {
    return vshrq_n_s16(a, N);
  }
  template <int N>
  static V16 Shl16(V16 a) {
    if constexpr (N == 0) {
      return a;
    } else {
      return vshlq_n_s16(a, N);
    }
  }
  template <int E>
  static V16 DivPot16(V16 x) {  // gemmlowp's NEON RoundingDivideByPOT
    return vrshrq_n_s16(vqaddq_s16(x, vshrq_n_s16(x, 15)), E);
  }
  static V16 HalfSumNonneg16(V16 a, V16 b) { return vrhaddq_s16(a, b); }  // (a + b + 1) >> 1

  // gemmlowp's NEON RoundingDivideByPOT (to nearest, ties away from zero) with neg_exponent =
  // -exponent in every lane: a negative x less one (saturating), then srshl's round half up.
  // exponent 0 takes nothing off (the and with 0).
  static V32 DivPot32(V32 x, int32x4_t neg_exponent) {
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, neg_exponent), 31);
    return vrshlq_s32(vqaddq_s32(x, fixup), neg_exponent);
  }
  // A multiplier's constants for the rescaling, made once per kernel call (or hoisted by the
  // compiler out of the cell's loop): 6 instructions a vector.
  struct Requant {
    int32x4_t left;        // the left shift (0 when shift <= 0)
    int32x4_t multiplier;  // sqrdmulh is gemmlowp's SaturatingRoundingDoublingHighMul
    int32x4_t neg_right;   // minus the right shift
  };
  static Requant MakeRequant(QuantizedMultiplier q) {
    const int left = q.shift > 0 ? q.shift : 0;
    const int right = q.shift > 0 ? 0 : -q.shift;
    return {vdupq_n_s32(left), vdupq_n_s32(q.multiplier), vdupq_n_s32(-right)};
  }
  TFLSTM_INT8_INLINE static V32 Mbqm(V32 v, const Requant& r) {
    return DivPot32(vqrdmulhq_s32(vshlq_s32(v, r.left), r.multiplier), r.neg_right);
  }
  TFLSTM_INT8_INLINE static V32 Mbqm(V32 v, QuantizedMultiplier q) { return Mbqm(v, MakeRequant(q)); }
  TFLSTM_INT8_INLINE static V16 MulRound16(V16 a, V16 b, int shift) {
    const int32x4_t neg_shift = vdupq_n_s32(-shift);
    const int32x4_t lo = DivPot32(vmull_s16(vget_low_s16(a), vget_low_s16(b)), neg_shift);
#if defined(__aarch64__)
    const int32x4_t hi = DivPot32(vmull_high_s16(a, b), neg_shift);
    return vuzp1q_s16(vreinterpretq_s16_s32(lo), vreinterpretq_s16_s32(hi));  // the low 16 bits, as TFLite's cast
#else
    const int32x4_t hi = DivPot32(vmull_s16(vget_high_s16(a), vget_high_s16(b)), neg_shift);
    return vcombine_s16(vmovn_s32(lo), vmovn_s32(hi));  // the low 16 bits, as TFLite's cast
#endif
  }
  // Inlined into the cell's loop, where the multiplier's constants stay in registers.
  TFLSTM_INT8_INLINE static V16 HiddenOut(V16 o, V16 t, QuantizedMultiplier q, int32_t zp) {
    const Requant r = MakeRequant(q);
    const int32x4_t z = vdupq_n_s32(zp);
    const int32x4_t lo = vaddq_s32(Mbqm(vmull_s16(vget_low_s16(o), vget_low_s16(t)), r), z);
#if defined(__aarch64__)
    const int32x4_t hi = vaddq_s32(Mbqm(vmull_high_s16(o, t), r), z);
    const int16x8_t s = vqmovn_high_s32(vqmovn_s32(lo), hi);
#else
    const int32x4_t hi = vaddq_s32(Mbqm(vmull_s16(vget_high_s16(o), vget_high_s16(t)), r), z);
    const int16x8_t s = vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi));
#endif
    return vmaxq_s16(vminq_s16(s, vdupq_n_s16(127)), vdupq_n_s16(-128));
  }

  // The activations looked up (int8_lstm_impl.h's TableOf: 128 KB per function, the values that
  // gemmlowp's code computes for every int16 input), not computed: NEON has no gather, so each
  // lane of a vector is a move to a general register, a load and an insert (about 27
  // instructions a vector against about 95 for gemmlowp's logistic). Two chains of four lanes, so
  // the inserts overlap. The gates, which are in memory, are looked up in place (LookupInPlace).
  static constexpr bool kLookup16 = true;
  TFLSTM_INT8_INLINE static V16 Lookup16(const int16_t* table, V16 v) {
    const int16_t* t = table - 32768;  // indexed by the lane's bits as unsigned, v + 32768
    const uint16x8_t u = veorq_u16(vreinterpretq_u16_s16(v), vdupq_n_u16(0x8000));
    int16x4_t lo = vld1_dup_s16(t + vgetq_lane_u16(u, 0));
    int16x4_t hi = vld1_dup_s16(t + vgetq_lane_u16(u, 4));
    lo = vld1_lane_s16(t + vgetq_lane_u16(u, 1), lo, 1);
    hi = vld1_lane_s16(t + vgetq_lane_u16(u, 5), hi, 1);
    lo = vld1_lane_s16(t + vgetq_lane_u16(u, 2), lo, 2);
    hi = vld1_lane_s16(t + vgetq_lane_u16(u, 6), hi, 2);
    lo = vld1_lane_s16(t + vgetq_lane_u16(u, 3), lo, 3);
    hi = vld1_lane_s16(t + vgetq_lane_u16(u, 7), hi, 3);
    return vcombine_s16(lo, hi);
  }
  // p[i] = table[p[i]] for n values (a multiple of 8): a load, a load and a store a value, with
  // no moves between vector and general registers (llvm-mca: about 16 cycles per 8 values on
  // Cortex-A72 where the vector lookup takes 55, its lane inserts a chain).
  static constexpr bool kLookupInPlace = true;
  static void LookupInPlace(const int16_t* table, int16_t* p, size_t n) {
    for (int16_t* end = p + n; p != end; p += 8) {
      for (int k = 0; k < 8; ++k) p[k] = table[p[k]];
    }
  }

  static V32 Load32(const int32_t* p) { return vld1q_s32(p); }
  static V32 Add32(V32 a, V32 b) { return vaddq_s32(a, b); }
  static V32 Widen16(const int16_t* p) { return vmovl_s16(vld1_s16(p)); }
  static void StoreSat16(int16_t* p, V32 v) { vst1_s16(p, vqmovn_s32(v)); }
  // Two columns a group: unit j's two weights are bytes 2j, 2j + 1 of the gate's 16, so one
  // smull of 8 weight bytes by (x[k], x[k + 1]) x 4 gives 4 units' pairs of int16 products (exact:
  // |int8 x int8| <= 2^14) and one sadalp adds each pair into its unit's int32 lane: 2
  // instructions per 4 units and 2 columns, where widening the weights and vmlal by x[k] took 5
  // per column.
  static constexpr int kGroup = 2;
  using XV = int8x16_t;  // (x[k], x[k + 1]) in every 16-bit lane, as int8 (the int16 x holds int8 values)
  TFLSTM_INT8_INLINE static XV LoadX(const int16_t* x) {
    int32_t pair;  // x[k] and x[k + 1]: one 32-bit load (x's rows are padded to 4 columns)
    std::memcpy(&pair, x, sizeof pair);
    const int8x8_t x8 = vmovn_s16(vreinterpretq_s16_s32(vdupq_n_s32(pair)));
    return vcombine_s8(x8, x8);
  }
  // acc[2g], acc[2g + 1] (units 0-3 and 4-7 of gate g) += the group's products.
  TFLSTM_INT8_INLINE static void Mac(V32* acc, const int8_t* w, XV x) {
    for (int g = 0; g < kGates; ++g) {
      const int8x16_t wg = vld1q_s8(w + 16 * g);
      acc[2 * g] = vpadalq_s16(acc[2 * g], vmull_s8(vget_low_s8(wg), vget_low_s8(x)));
#if defined(__aarch64__)
      acc[2 * g + 1] = vpadalq_s16(acc[2 * g + 1], vmull_high_s8(wg, x));
#else
      acc[2 * g + 1] = vpadalq_s16(acc[2 * g + 1], vmull_s8(vget_high_s8(wg), vget_high_s8(x)));
#endif
    }
  }

  // Two groups (4 columns) at once: each int16 lane adds the products of group k (smull) and of
  // group k + 1 (smlal) before one sadalp, 3 instructions per 4 units and 4 columns where Mac
  // takes 4. Exact: the covered weights are in [-127, 127] (Int8Lstm::Covers) and x holds int8
  // values, so two products are at most 2 * 127 * 128 = 32512 < 2^15.
  static constexpr bool kMac2 = true;
  struct XV2 {
    int8x16_t x01, x23;  // (x[k], x[k + 1]) and (x[k + 2], x[k + 3]) in every 16-bit lane
  };
  TFLSTM_INT8_INLINE static XV2 LoadX2(const int16_t* x) {
    const int16x4_t x8 = vreinterpret_s16_s8(vmovn_s16(vcombine_s16(vld1_s16(x), vdup_n_s16(0))));
    return {vreinterpretq_s8_s16(vdupq_lane_s16(x8, 0)), vreinterpretq_s8_s16(vdupq_lane_s16(x8, 1))};
  }
  TFLSTM_INT8_INLINE static void Mac2(V32* acc, const int8_t* w, const XV2& x) {
    for (int g = 0; g < kGates; ++g) {
      const int8x16_t w0 = vld1q_s8(w + 16 * g);
      const int8x16_t w1 = vld1q_s8(w + kBlockWidth * kGroup + 16 * g);
      const int16x8_t lo = vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x.x01)), vget_low_s8(w1), vget_low_s8(x.x23));
#if defined(__aarch64__)
      const int16x8_t hi = vmlal_high_s8(vmull_high_s8(w0, x.x01), w1, x.x23);
#else
      const int16x8_t hi =
          vmlal_s8(vmull_s8(vget_high_s8(w0), vget_high_s8(x.x01)), vget_high_s8(w1), vget_high_s8(x.x23));
#endif
      acc[2 * g] = vpadalq_s16(acc[2 * g], lo);
      acc[2 * g + 1] = vpadalq_s16(acc[2 * g + 1], hi);
    }
  }
};

}  // namespace
}  // namespace tflstm::lstm
