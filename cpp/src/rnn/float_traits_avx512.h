// The AVX-512 traits of the float recurrence (AVX512F, 512-bit vectors): 4 chains of
// accumulators and 6 projected rows at once in 32 registers. Include it only from files compiled
// with -mavx512f -mavx2 -mfma.
#pragma once

#include "float_traits_avx2.h"

namespace tflstm::rnn {
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
  static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V Div(V a, V b) { return _mm512_div_ps(a, b); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Min(V a, V b) { return _mm512_min_ps(a, b); }
  static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  static V Round(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V Pow2(V n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  // [a's low 8 lanes | b's low 8 lanes] and the same of the high ones: one gate of two blocks.
  static V Lows(V a, V b) { return _mm512_shuffle_f32x4(a, b, 0x44); }
  static V Highs(V a, V b) { return _mm512_shuffle_f32x4(a, b, 0xee); }
  using Half = Avx2;
  // The zero-masking extract with every lane kept: GCC 12's plain one and the 512-to-256 cast
  // start from an undefined vector, which -Wmaybe-uninitialized reports.
  template <int I>
  static __m256 HalfOf(V v) {
    return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xf, _mm512_castps_pd(v), I));
  }
  // N vectors as 2N halves.
  template <int N>
  static void Split(const V* acc, __m256* halves) {
    for (int v = 0; v < N; ++v) {
      halves[2 * v] = HalfOf<0>(acc[v]);
      halves[2 * v + 1] = HalfOf<1>(acc[v]);
    }
  }
};

}  // namespace
}  // namespace tflstm::rnn
