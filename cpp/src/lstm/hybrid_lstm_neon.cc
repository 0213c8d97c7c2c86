// The hybrid LSTM's int8 products with NEON (aarch64 and armhf): vmull_s8 per half and
// vpadal into int32, exact for any int8 values (-128 included, which vmlal pairs would not be).
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

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
  static int32_t Sum(Acc acc) {
    const int32x2_t s = vadd_s32(vget_low_s32(acc), vget_high_s32(acc));
    return vget_lane_s32(vpadd_s32(s, s), 0);
  }
  static void Sum4(const Acc* acc, int32_t* out) {
    for (int i = 0; i < 4; ++i) out[i] = Sum(acc[i]);
  }
};

}  // namespace

const HybridKernels& NeonHybridKernels() { return HybridKernelsFor<Neon>("hybrid-neon"); }

}  // namespace tflstm::lstm
#endif
