// The hybrid LSTM's int8 products with AVX2 (x86-64). Any weights: int8 widened to int16,
// pmaddwd into int32, row by row. Weights in [-127, 127]: pmaddubsw of |x| (unsigned) with
// w * sign(x), twice the products per instruction and still exact, since a pair of them is at
// most 2 * 128 * 127 < 2^15 (pmaddubsw saturates only beyond), over weights rearranged so that
// eight rows are summed in parallel lanes. Compiled with -mavx2; chosen only on a CPU with AVX2.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "hybrid_lstm_impl.h"
#include "hybrid_lstm_narrow.h"

namespace tflstm::lstm {
namespace {

struct Avx2 {
  using Acc = __m256i;
  static Acc Zero() { return _mm256_setzero_si256(); }
  static Acc Madd(Acc acc, const int8_t* w, const int8_t* x) {
    const __m256i w16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    const __m256i x16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(w16, x16));
  }
  static int32_t Sum(Acc acc) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
  }
  static void Sum4(const Acc* acc, int32_t* out) {  // four rows' sums in one reduction
    const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
    const __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), t);
  }
  using Floats = __m256;
  static constexpr int kFloatLanes = 8;
  static Floats LoadF(const float* x) { return _mm256_loadu_ps(x); }
  static Floats MinF(Floats a, Floats b) { return _mm256_min_ps(a, b); }
  static Floats MaxF(Floats a, Floats b) { return _mm256_max_ps(a, b); }
  static float ReduceMin(Floats v) {
    __m128 l = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    l = _mm_min_ps(l, _mm_movehl_ps(l, l));
    return _mm_cvtss_f32(_mm_min_ss(l, _mm_shuffle_ps(l, l, 1)));
  }
  static float ReduceMax(Floats v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_max_ss(h, _mm_shuffle_ps(h, h, 1)));
  }
};

// The multiply and the add below are fused only where the build's baseline has FMA (this file
// adds no -mfma), as the compiler does for TFLite's scalar code under the same flags.
void Accumulate(const int32_t* dot, const int32_t* sums, int32_t offset, float q_scale, const float* w_scale, int rows,
                const float* in, float* out) {
  const __m256i off = _mm256_set1_epi32(offset);
  const __m256 qs = _mm256_set1_ps(q_scale);
  for (int p = 0; p < rows; p += 8) {
    const __m256i d =
        _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dot + p)),
                         _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums + p)), off));
    const __m256 scale = _mm256_mul_ps(qs, _mm256_loadu_ps(w_scale + p));
    _mm256_storeu_ps(out + p, _mm256_add_ps(_mm256_loadu_ps(in + p), _mm256_mul_ps(_mm256_cvtepi32_ps(d), scale)));
  }
}

// QuantizeScalar 8 at a time, the same operations in the same order.
void Quantize(const float* x, int n, float inv, float zero, float lo, float hi, int8_t* q) {
  const __m256 vinv = _mm256_set1_ps(inv), vzero = _mm256_set1_ps(zero);
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256 half = _mm256_set1_ps(0.5f), minus_half = _mm256_set1_ps(-0.5f);
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    __m256 f = _mm256_add_ps(vzero, _mm256_mul_ps(_mm256_loadu_ps(x + k), vinv));
    f = _mm256_and_ps(f, _mm256_cmp_ps(f, f, _CMP_ORD_Q));  // NaN to 0 first: min and max drop it
    f = _mm256_max_ps(_mm256_min_ps(f, vhi), vlo);
    const __m256i t = _mm256_cvttps_epi32(f);
    const __m256 d = _mm256_sub_ps(f, _mm256_cvtepi32_ps(t));
    // The comparisons' all-ones lanes are -1: t + (d >= 1/2) - (d <= -1/2).
    const __m256i r = _mm256_add_epi32(_mm256_sub_epi32(t, _mm256_castps_si256(_mm256_cmp_ps(d, half, _CMP_GE_OQ))),
                                       _mm256_castps_si256(_mm256_cmp_ps(d, minus_half, _CMP_LE_OQ)));
    const __m128i r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + k), _mm_packs_epi16(r16, r16));
  }
  QuantizeScalar(x + k, n - k, inv, zero, lo, hi, q + k);
}

// pmaddubsw of |x| with w * sign(x), then pmaddwd by ones.
struct MaddubsProduct {
  static __m256i Add(__m256i acc, __m256i x_abs, __m256i w_signed) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x_abs, w_signed), _mm256_set1_epi16(1)));
  }
};

}  // namespace

const HybridKernels& Avx2HybridKernels() {
  return HybridKernelsFor<Avx2>(rnn::Isa::kAvx2, &NarrowLayout, &DotNarrow<MaddubsProduct>, &Accumulate,
                                &MinMaxLanes<Avx2>, &Quantize);
}

}  // namespace tflstm::lstm
#endif
