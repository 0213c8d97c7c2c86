// The hybrid LSTM's int8 products with aarch64's dot product instructions (DotProd): one sdot
// per 16 columns, exact for any int8 values, in place of two vmull_s8 and two vpadal. The rest is
// the NEON kernel's. Compiled with +dotprod; the variant table runs it only on a CPU that has it.
#if defined(__aarch64__)
#include <arm_neon.h>

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

}  // namespace

const HybridKernels& DotProdHybridKernels() {
  static const HybridKernels kernels = [] {
    HybridKernels k = NeonHybridKernels();
    k.name = rnn::VariantName(HybridKernels::kFamily, rnn::Isa::kDotProd);
    k.dot = &Dot<DotProd>;
    k.dot_narrow = &Dot<DotProd>;
    return k;
  }();
  return kernels;
}

}  // namespace tflstm::lstm
#endif
