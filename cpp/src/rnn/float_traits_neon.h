// The NEON traits of the float recurrence: aarch64, and 32-bit ARM built with -mfpu=neon-vfpv4.
// Include it only where __ARM_NEON is defined.
#pragma once

#include <arm_neon.h>

#include "float_recurrence.h"

namespace tflstm::rnn {
namespace {

struct Neon {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  static constexpr int kChains = 1;  // 8 accumulators per block already
  static constexpr int kProjectRows = 1;
  static V Load(const float* p) { return vld1q_f32(p); }
  static void Store(float* p, V v) { vst1q_f32(p, v); }
  static V Set(float x) { return vdupq_n_f32(x); }
  static V Add(V a, V b) { return vaddq_f32(a, b); }
  static V Sub(V a, V b) { return vsubq_f32(a, b); }
  static V Mul(V a, V b) { return vmulq_f32(a, b); }
  static V Min(V a, V b) { return vminq_f32(a, b); }
  static V Max(V a, V b) { return vmaxq_f32(a, b); }
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
  static V Fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
#else
  static V Fma(V a, V b, V c) { return vmlaq_f32(c, a, b); }
#endif
#if defined(__aarch64__)
  // fmla by element: four columns a load of h (float_recurrence.h's Product). ARMv7's VFMA has
  // no by-scalar form, and VMLA by scalar rounds twice: 32-bit ARM keeps one column a load.
  static constexpr bool kFmaLane = true;
  template <int I>
  static V FmaLane(V h4, V w, V acc) {
    return vfmaq_laneq_f32(acc, w, h4, I);
  }
  static V Div(V a, V b) { return vdivq_f32(a, b); }
  static V Round(V x) { return vrndmq_f32(vaddq_f32(x, vdupq_n_f32(0.5f))); }  // floor(x + 0.5)
#else
  static V Div(V a, V b) {  // ARMv7 has no vector divide: a reciprocal estimate and two Newton steps
    V r = vrecpeq_f32(b);
    r = vmulq_f32(vrecpsq_f32(b, r), r);
    r = vmulq_f32(vrecpsq_f32(b, r), r);
    return vmulq_f32(a, r);
  }
  static V Round(V x) {  // floor(x + 0.5), which ARMv7 has no instruction for
    const V t = vaddq_f32(x, vdupq_n_f32(0.5f));
    const V i = vcvtq_f32_s32(vcvtq_s32_f32(t));  // toward zero
    const uint32x4_t above = vcgtq_f32(i, t);
    return vsubq_f32(i, vreinterpretq_f32_u32(vandq_u32(above, vreinterpretq_u32_f32(vdupq_n_f32(1.0f)))));
  }
#endif
  static V Pow2(V n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
};

}  // namespace
}  // namespace tflstm::rnn
