// The hybrid LSTM's int8 products with aarch64's dot product instructions (DotProd), exact for
// any int8 values: row by row, one sdot per 16 columns in place of two vmull_s8 and two vpadal;
// blocked (hybrid_lstm_blocked_neon.h, the weights NEON's blocked product takes), one sdot by
// element per 4 columns of 4 rows. The rest is the NEON kernel's. Compiled with +dotprod; the
// variant table runs it only on a CPU that has it.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "hybrid_lstm_blocked_neon.h"
#include "hybrid_lstm_impl.h"

namespace tflstm::lstm {
namespace {

struct DotProd {
  using Acc = int32x4_t;
  static Acc Zero() { return vdupq_n_s32(0); }
  static Acc Madd(Acc acc, const int8_t* w, const int8_t* x) { return vdotq_s32(acc, vld1q_s8(w), vld1q_s8(x)); }
  static int32_t Sum(Acc acc) { return vaddvq_s32(acc); }
  static void Sum4(const Acc* acc, int32_t* out) {
    vst1q_s32(out, vpaddq_s32(vpaddq_s32(acc[0], acc[1]), vpaddq_s32(acc[2], acc[3])));
  }
};

// DotBlocked's products: a group's 16 bytes are 4 rows x 4 columns, so one sdot of them by
// x[4c..4c+3] adds each row's 4 products into its lane; one load of x serves 16 columns.
struct BlockedSdot {
  static constexpr int kPass = 8;  // 8 accumulators
  template <int Lane, int G>
  static void Columns(int32x4_t (&acc)[G], const int8_t* wc, int8x16_t x) {
    int g = 0;
#pragma GCC unroll 8
    for (; g + 4 <= G; g += 4) {  // one ld1 of four registers: GCC pairs no ldr q here
      const int8x16x4_t w4 = vld1q_s8_x4(wc + 16 * g);
      acc[g] = vdotq_laneq_s32(acc[g], w4.val[0], x, Lane);
      acc[g + 1] = vdotq_laneq_s32(acc[g + 1], w4.val[1], x, Lane);
      acc[g + 2] = vdotq_laneq_s32(acc[g + 2], w4.val[2], x, Lane);
      acc[g + 3] = vdotq_laneq_s32(acc[g + 3], w4.val[3], x, Lane);
    }
#pragma GCC unroll 8
    for (; g < G; ++g) acc[g] = vdotq_laneq_s32(acc[g], vld1q_s8(wc + 16 * g), x, Lane);
  }
  template <int G>
  static void Groups(const int8_t* w, size_t stride, int cols, const int8_t* x, int32_t* out) {
    int32x4_t acc[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) acc[g] = vdupq_n_s32(0);
    const int8_t* wc = w;
    for (int c = 0; c < cols; c += 16, wc += 4 * stride) {
      const int8x16_t x16 = vld1q_s8(x + c);
      Columns<0>(acc, wc, x16);
      Columns<1>(acc, wc + stride, x16);
      Columns<2>(acc, wc + 2 * stride, x16);
      Columns<3>(acc, wc + 3 * stride, x16);
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) vst1q_s32(out + 4 * g, acc[g]);
  }
};

}  // namespace

const HybridKernels& DotProdHybridKernels() {
  static const HybridKernels kernels = [] {
    HybridKernels k = NeonHybridKernels();
    k.name = rnn::VariantName(HybridKernels::kFamily, rnn::Isa::kDotProd);
    k.dot = &Dot<DotProd>;
    k.dot_narrow = &DotBlocked<BlockedSdot>;  // NEON's narrow_layout
    return k;
  }();
  return kernels;
}

}  // namespace tflstm::lstm
#endif
