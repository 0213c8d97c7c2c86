// The hybrid LSTM's narrow int8 product with AVX-512 VNNI (256-bit vectors, EVEX: AVX512VL): one
// vpdpbusd of |x| with w * sign(x) per four columns, in place of pmaddubsw, pmaddwd and an add;
// the rest is the AVX2 kernel's. Compiled with -mavx2 -mavx512vnni -mavx512vl; chosen only on a
// CPU that has both.
#if defined(__x86_64__) || defined(_M_X64)
#include "hybrid_lstm.h"
#include "hybrid_lstm_narrow.h"

namespace tflstm::lstm {
namespace {

struct DpbusdProduct {
  static __m256i Add(__m256i acc, __m256i x_abs, __m256i w_signed) { return _mm256_dpbusd_epi32(acc, x_abs, w_signed); }
};

}  // namespace

const HybridKernels& VnniHybridKernels() {
  static const HybridKernels kernels = [] {
    HybridKernels k = Avx2HybridKernels();
    k.name = rnn::VariantName(HybridKernels::kFamily, rnn::Isa::kAvx512Vnni);
    k.dot_narrow = &DotNarrow<DpbusdProduct>;
    return k;
  }();
  return kernels;
}

}  // namespace tflstm::lstm
#endif
