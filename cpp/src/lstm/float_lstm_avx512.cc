// The float LSTM's products with AVX-512 (AVX512F, 512-bit vectors: one packed row of a block is
// two vectors, each holding two gates): the recurrent product with 4 chains of 2 accumulators and
// the input projection 6 rows at a time, in 32 registers. The cell update splits each vector into
// its gates and runs AVX2's. Compiled with -mavx512f -mavx2 -mfma; BestKernels() calls it only
// on a CPU that has AVX-512F (HasAvx512).
#if defined(__x86_64__) || defined(_M_X64)
#include "float_lstm_avx2.h"

namespace tflstm::lstm {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kChains = 4;
  static constexpr int kProjectRows = 6;  // 12 accumulators and the block's 2 weight vectors
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V Set(float x) { return _mm512_set1_ps(x); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  using Half = Avx2;
  // The zero-masking extract with every lane kept: GCC 12's plain one and the 512-to-256 cast
  // start from an undefined vector, which -Wmaybe-uninitialized reports.
  template <int I>
  static __m256 HalfOf(V v) {
    return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xf, _mm512_castps_pd(v), I));
  }
  static void Split(const V* acc, __m256* halves) {
    for (int v = 0; v < kBlockWidth / kLanes; ++v) {
      halves[2 * v] = HalfOf<0>(acc[v]);
      halves[2 * v + 1] = HalfOf<1>(acc[v]);
    }
  }
};

}  // namespace

const Kernels& Avx512Kernels() { return KernelsFor<Avx512>("avx512"); }

}  // namespace tflstm::lstm
#endif
