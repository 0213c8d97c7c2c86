// The hybrid LSTM's int8 products with NEON (aarch64 and armhf). Any weights: row by row,
// vmull_s8 per half and vpadal into int32, exact for any int8 values (-128 included, which vmlal
// pairs would not be). Weights in [-127, 127], as TF's converter writes them: blocked
// (hybrid_lstm_blocked_neon.h), two int8 products per int16 lane (vmull then vmlal) before one
// vpadal, exact since |w x| <= 127 * 128 and two of them stay below 2^15.
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

#include <cstring>

#include "hybrid_lstm_blocked_neon.h"
#include "hybrid_lstm_impl.h"

namespace tflstm::lstm {
namespace {

struct Neon {
  using Acc = int32x4_t;
  static Acc Zero() { return vdupq_n_s32(0); }
  static Acc Madd(Acc acc, const int8_t* w, const int8_t* x) {
    const int8x16_t wv = vld1q_s8(w);
    const int8x16_t xv = vld1q_s8(x);
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(wv), vget_low_s8(xv)));
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(wv), vget_high_s8(xv)));
  }
#if defined(__aarch64__)
  static int32_t Sum(Acc acc) { return vaddvq_s32(acc); }
  static void Sum4(const Acc* acc, int32_t* out) {  // 3 addp where 4 separate reductions took 4 x 3
    vst1q_s32(out, vpaddq_s32(vpaddq_s32(acc[0], acc[1]), vpaddq_s32(acc[2], acc[3])));
  }
#else
  static int32_t Sum(Acc acc) {
    const int32x2_t s = vadd_s32(vget_low_s32(acc), vget_high_s32(acc));
    return vget_lane_s32(vpadd_s32(s, s), 0);
  }
  static int32x2_t Sum2(Acc a, Acc b) {  // (sum of a, sum of b)
    return vpadd_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
  }
  static void Sum4(const Acc* acc, int32_t* out) {
    vst1q_s32(out, vcombine_s32(Sum2(acc[0], acc[1]), Sum2(acc[2], acc[3])));
  }
#endif
  using Floats = float32x4_t;
  static constexpr int kFloatLanes = 4;
  static Floats LoadF(const float* x) { return vld1q_f32(x); }
  static Floats MinF(Floats a, Floats b) { return vminq_f32(a, b); }
  static Floats MaxF(Floats a, Floats b) { return vmaxq_f32(a, b); }
  static float ReduceMin(Floats v) {
    const float32x2_t l = vpmin_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmin_f32(l, l), 0);
  }
  static float ReduceMax(Floats v) {
    const float32x2_t h = vpmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(h, h), 0);
  }
};

// DotBlocked's products for weights in [-127, 127]. A group's 16 bytes are 4 rows x 4 columns;
// vmull of its low 8 bytes (rows 0-1) by x[4c..4c+3] twice gives 8 int16 products, vmlal adds
// those of the next 4 columns to them, and vpadal adds adjacent lanes into int32: lanes (row 0,
// columns 0-1), (row 0, columns 2-3), (row 1, ...), the high 8 bytes (rows 2-3) likewise into a
// second vector. One vpadd per group at the end gives the 4 rows' sums.
struct NeonPairs {
#if defined(__aarch64__)
  static constexpr int kPass = 8;  // 16 accumulators of 32 registers
#else
  static constexpr int kPass = 4;  // 8 accumulators, 2 x, 2 weights, 2 products: 16 registers
#endif
  static int8x16_t Broadcast4(const int8_t* x) {  // x[0..4) in every 32-bit lane
    int32_t x4;
    std::memcpy(&x4, x, sizeof x4);
    return vreinterpretq_s8_s32(vdupq_n_s32(x4));
  }
  static int16x8_t MulHigh(int8x16_t w, int8x16_t x) {
#if defined(__aarch64__)
    return vmull_high_s8(w, x);
#else
    return vmull_s8(vget_high_s8(w), vget_high_s8(x));
#endif
  }
  static int16x8_t MulAddHigh(int16x8_t acc, int8x16_t w, int8x16_t x) {
#if defined(__aarch64__)
    return vmlal_high_s8(acc, w, x);
#else
    return vmlal_s8(acc, vget_high_s8(w), vget_high_s8(x));
#endif
  }
  template <int G>
  static void Groups(const int8_t* w, size_t stride, int cols, const int8_t* x, int32_t* out) {
    int32x4_t lo[G], hi[G];  // rows 0-1 and 2-3 of each group, two lanes a row
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) lo[g] = hi[g] = vdupq_n_s32(0);
    const int8_t* wc = w;
    for (int c = 0; c < cols; c += 8, wc += 2 * stride) {
      const int8x16_t x0 = Broadcast4(x + c), x1 = Broadcast4(x + c + 4);
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const int8x16_t w0 = vld1q_s8(wc + 16 * g), w1 = vld1q_s8(wc + stride + 16 * g);
        lo[g] =
            vpadalq_s16(lo[g], vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), vget_low_s8(w1), vget_low_s8(x1)));
        hi[g] = vpadalq_s16(hi[g], MulAddHigh(MulHigh(w0, x0), w1, x1));
        // Two groups at a time: else GCC loads every group's weights first and, with their
        // products, runs out of registers and spills accumulators.
        if (g % 2 == 1) asm volatile("" ::: "memory");
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
#if defined(__aarch64__)
      vst1q_s32(out + 4 * g, vpaddq_s32(lo[g], hi[g]));
#else
      vst1q_s32(out + 4 * g, vcombine_s32(vpadd_s32(vget_low_s32(lo[g]), vget_high_s32(lo[g])),
                                          vpadd_s32(vget_low_s32(hi[g]), vget_high_s32(hi[g]))));
#endif
    }
  }
};

// QuantizeScalar 4 at a time, the same operations in the same order.
void Quantize(const float* x, int n, float inv, float zero, float lo, float hi, int8_t* q) {
  const float32x4_t vinv = vdupq_n_f32(inv), vzero = vdupq_n_f32(zero);
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    int16x4_t halves[2];
    for (int h = 0; h < 2; ++h) {
      float32x4_t f = vaddq_f32(vzero, vmulq_f32(vld1q_f32(x + k + 4 * h), vinv));
      f = vmaxq_f32(vminq_f32(f, vhi), vlo);
      f = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(f), vceqq_f32(f, f)));  // NaN to 0
      const int32x4_t t = vcvtq_s32_f32(f);
      const float32x4_t d = vsubq_f32(f, vcvtq_f32_s32(t));
      // The comparisons' all-ones lanes are -1: t + (d >= 1/2) - (d <= -1/2).
      const int32x4_t r = vaddq_s32(vsubq_s32(t, vreinterpretq_s32_u32(vcgeq_f32(d, vdupq_n_f32(0.5f)))),
                                    vreinterpretq_s32_u32(vcleq_f32(d, vdupq_n_f32(-0.5f))));
      halves[h] = vmovn_s32(r);
    }
    vst1_s8(q + k, vmovn_s16(vcombine_s16(halves[0], halves[1])));
  }
  QuantizeScalar(x + k, n - k, inv, zero, lo, hi, q + k);
}

}  // namespace

const HybridKernels& NeonHybridKernels() {
  return HybridKernelsFor<Neon>(rnn::Isa::kNeon, &NeonBlockedLayout, &DotBlocked<NeonPairs>, &AccumulateScalar,
                                &MinMaxLanes<Neon>, &Quantize);
}

}  // namespace tflstm::lstm
#endif
