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
  // Product's four-column steps for a block of 8 vectors (traits with kFmaLane give it): acc[v]
  // += h[k + i] w[k + i][v] for `groups` groups of 4 columns, in Product's order (the same bits).
  // Written out because GCC 12 pairs only some of the loads (ldp) and copies the registers of
  // vld1q_f32_x4: here 8 ld1 of four registers, 32 fmla, the h load and the loop, 43
  // instructions a group where the compiled loop took 54.
  static void Columns8(const float* w, const float* h, long groups, V (&acc)[8]) {
    V h4;
    asm("1:\n\t"
        "ldr %q[h4], [%[h]], #16\n\t"
        "ld1 {v16.4s-v19.4s}, [%[w]], #64\n\t"
        "ld1 {v20.4s-v23.4s}, [%[w]], #64\n\t"
        "ld1 {v24.4s-v27.4s}, [%[w]], #64\n\t"
        "ld1 {v28.4s-v31.4s}, [%[w]], #64\n\t"
        "fmla %[r0].4s, v16.4s, %[h4].s[0]\n\t"
        "fmla %[r1].4s, v17.4s, %[h4].s[0]\n\t"
        "fmla %[r2].4s, v18.4s, %[h4].s[0]\n\t"
        "fmla %[r3].4s, v19.4s, %[h4].s[0]\n\t"
        "fmla %[r4].4s, v20.4s, %[h4].s[0]\n\t"
        "fmla %[r5].4s, v21.4s, %[h4].s[0]\n\t"
        "fmla %[r6].4s, v22.4s, %[h4].s[0]\n\t"
        "fmla %[r7].4s, v23.4s, %[h4].s[0]\n\t"
        "fmla %[r0].4s, v24.4s, %[h4].s[1]\n\t"
        "fmla %[r1].4s, v25.4s, %[h4].s[1]\n\t"
        "fmla %[r2].4s, v26.4s, %[h4].s[1]\n\t"
        "fmla %[r3].4s, v27.4s, %[h4].s[1]\n\t"
        "fmla %[r4].4s, v28.4s, %[h4].s[1]\n\t"
        "fmla %[r5].4s, v29.4s, %[h4].s[1]\n\t"
        "fmla %[r6].4s, v30.4s, %[h4].s[1]\n\t"
        "fmla %[r7].4s, v31.4s, %[h4].s[1]\n\t"
        "ld1 {v16.4s-v19.4s}, [%[w]], #64\n\t"
        "ld1 {v20.4s-v23.4s}, [%[w]], #64\n\t"
        "ld1 {v24.4s-v27.4s}, [%[w]], #64\n\t"
        "ld1 {v28.4s-v31.4s}, [%[w]], #64\n\t"
        "fmla %[r0].4s, v16.4s, %[h4].s[2]\n\t"
        "fmla %[r1].4s, v17.4s, %[h4].s[2]\n\t"
        "fmla %[r2].4s, v18.4s, %[h4].s[2]\n\t"
        "fmla %[r3].4s, v19.4s, %[h4].s[2]\n\t"
        "fmla %[r4].4s, v20.4s, %[h4].s[2]\n\t"
        "fmla %[r5].4s, v21.4s, %[h4].s[2]\n\t"
        "fmla %[r6].4s, v22.4s, %[h4].s[2]\n\t"
        "fmla %[r7].4s, v23.4s, %[h4].s[2]\n\t"
        "fmla %[r0].4s, v24.4s, %[h4].s[3]\n\t"
        "fmla %[r1].4s, v25.4s, %[h4].s[3]\n\t"
        "fmla %[r2].4s, v26.4s, %[h4].s[3]\n\t"
        "fmla %[r3].4s, v27.4s, %[h4].s[3]\n\t"
        "fmla %[r4].4s, v28.4s, %[h4].s[3]\n\t"
        "fmla %[r5].4s, v29.4s, %[h4].s[3]\n\t"
        "fmla %[r6].4s, v30.4s, %[h4].s[3]\n\t"
        "fmla %[r7].4s, v31.4s, %[h4].s[3]\n\t"
        "subs %[n], %[n], #1\n\t"
        "b.ne 1b"
        : [r0] "+w"(acc[0]), [r1] "+w"(acc[1]), [r2] "+w"(acc[2]), [r3] "+w"(acc[3]), [r4] "+w"(acc[4]),
          [r5] "+w"(acc[5]), [r6] "+w"(acc[6]), [r7] "+w"(acc[7]), [w] "+r"(w), [h] "+r"(h), [n] "+r"(groups),
          [h4] "=&w"(h4)
        :
        : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30",
          "v31", "cc", "memory");
  }
  static V Div(V a, V b) { return vdivq_f32(a, b); }
  static V Round(V x) { return vrndmq_f32(vaddq_f32(x, vdupq_n_f32(0.5f))); }  // floor(x + 0.5)

  // Math's Sigmoid and Tanh in 20 and 21 instructions a vector where Math's Exp-based ones took
  // 27 and 28: e^(s x) with the scale s folded into the constants, a degree-5 polynomial in
  // Estrin's form, the constants lanes of three registers (fmla and fmul by element, dup where
  // a constant is added) so that they stay in registers next to the recurrent product's. Both
  // clamp to +-40, where every intermediate stays a normal float and the results round to 0, 1
  // and +-1. The same accuracy as Math's (max abs error 9.0e-8 against 8.9e-8, tanh 1.3e-7 both),
  // not the same bits: aarch64's kernels differ from the other instruction sets' in the last bit.
  static constexpr bool kOwnActivations = true;
  static V Sigmoid(V x) {
    const V one = vdupq_n_f32(1.0f);
    return vdivq_f32(one, vaddq_f32(one, ExpScaled<0>(Clamp40(x))));
  }
  static V Tanh(V x) {
    const V one = vdupq_n_f32(1.0f);
    const V e = ExpScaled<1>(Clamp40(x));
    return vdivq_f32(vsubq_f32(one, e), vaddq_f32(one, e));
  }
  static V Clamp40(V x) { return vminq_f32(vmaxq_f32(x, vdupq_n_f32(-40.0f)), vdupq_n_f32(40.0f)); }
  // By-element multiplies by a lane of a constant vector, in assembly: through the intrinsics
  // GCC hoists each lane's broadcast out of the recurrent loop as a constant of its own, more
  // registers than the loop has, and spills them.
  template <int I>
  static V MulLane(V a, V k) {
    V r;
    asm("fmul %0.4s, %1.4s, %2.s[%3]" : "=w"(r) : "w"(a), "w"(k), "i"(I));
    return r;
  }
  template <int I>
  static V FmaLaneOf(V acc, V a, V k) {  // acc + a k[I]
    asm("fmla %0.4s, %1.4s, %2.s[%3]" : "+w"(acc) : "w"(a), "w"(k), "i"(I));
    return acc;
  }
  template <int I>
  static V AddMulLane(V c, V a, V k) {  // c[I] + a k[I]
    V r;
    asm("dup %0.4s, %2.s[%4]\n\tfmla %0.4s, %1.4s, %3.s[%4]" : "=&w"(r) : "w"(a), "w"(c), "w"(k), "i"(I));
    return r;
  }
  // e^(s x) for |x| <= 40, s = -1 (kWhich 0) or -2 (1): n = round(s x / ln 2) and
  // r = s x - n ln 2 (in two parts, as Math's Exp) = s t, t computed from x with s (a power of
  // two) in the constants, exactly; e^r = 1 + a1 r + ... + a5 r^5 on |r| <= ln 2 / 2 (a minimax
  // fit of the relative error, 1.1e-7 before rounding), its exponent plus n.
  template <int kWhich>
  static V ExpScaled(V x) {
    constexpr float a1 = 0x1.fffffcp-1f, a2 = 0x1.fffdc4p-2f, a3 = 0x1.55580ap-3f, a4 = 0x1.573ad8p-5f,
                    a5 = 0x1.108f3ep-7f, log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    // per s: s / ln 2, -ln2_hi / s, -ln2_lo / s, a1 s; then a2 s^2, a4 s^4; a3 s^3, a5 s^5
    alignas(16) static constexpr float kSig[4] = {-log2e, ln2_hi, ln2_lo, -a1};
    alignas(16) static constexpr float kTanh[4] = {-2 * log2e, ln2_hi / 2, ln2_lo / 2, -2 * a1};
    alignas(16) static constexpr float kHigh[8] = {a2, a4, 4 * a2, 16 * a4, -a3, -a5, -8 * a3, -32 * a5};
    const V k = vld1q_f32(kWhich == 0 ? kSig : kTanh), even = vld1q_f32(kHigh), odd = vld1q_f32(kHigh + 4);
    const int32x4_t n_int = vcvtnq_s32_f32(MulLane<0>(x, k));
    const V n = vcvtq_f32_s32(n_int);
    const V t = FmaLaneOf<2>(FmaLaneOf<1>(x, n, k), n, k);
    const V t2 = vmulq_f32(t, t);
    const V p45 = AddMulLane<2 * kWhich + 1>(even, t, odd);
    V p = AddMulLane<2 * kWhich>(even, t, odd);
    p = vfmaq_f32(p, p45, t2);
    p = vfmaq_f32(MulLane<3>(t, k), p, t2);  // e^r - 1
    const V y = vaddq_f32(p, vdupq_n_f32(1.0f));
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(y), vshlq_n_s32(n_int, 23)));
  }
#else
  // 16 q registers: a block's product keeps at most 8 accumulators a pass (float_recurrence.h's
  // PassVecs); the GRU's 12 spilled weights and accumulators to the stack every column.
  static constexpr int kPassVecs = 8;
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
