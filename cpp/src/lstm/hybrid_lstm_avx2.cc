// The hybrid LSTM's int8 products with AVX2 (x86-64). Any weights: int8 widened to int16,
// pmaddwd into int32. Weights in [-127, 127]: pmaddubsw of |x| (unsigned) with w * sign(x),
// twice the products per instruction and still exact, since a pair of them is at most
// 2 * 128 * 127 < 2^15 (pmaddubsw saturates only beyond). Compiled with -mavx2; chosen only on
// a CPU with AVX2.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "hybrid_lstm_impl.h"

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
};

// acc += the four-byte sums of products of w and x, 32 (or 16 in the 128-bit form) at a time.
inline __m256i MaddNarrow(__m256i acc, __m256i w, __m256i x, __m256i x_abs) {
  const __m256i pairs = _mm256_maddubs_epi16(x_abs, _mm256_sign_epi8(w, x));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}
inline __m256i MaddNarrow(__m256i acc, __m128i w, __m128i x, __m128i x_abs) {
  const __m128i pairs = _mm_maddubs_epi16(x_abs, _mm_sign_epi8(w, x));
  return _mm256_add_epi32(acc, _mm256_zextsi128_si256(_mm_madd_epi16(pairs, _mm_set1_epi16(1))));
}

template <int R>
inline void DotRows(const int8_t* w, int cols, const int8_t* x, int32_t* out) {
  __m256i acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm256_setzero_si256();
  int k = 0;
  for (; k + 32 <= cols; k += 32) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k));
    const __m256i xa = _mm256_abs_epi8(xv);
    for (int i = 0; i < R; ++i) {
      const auto* wr = reinterpret_cast<const __m256i*>(w + static_cast<size_t>(i) * cols + k);
      acc[i] = MaddNarrow(acc[i], _mm256_loadu_si256(wr), xv, xa);
    }
  }
  if (k < cols) {  // cols is a multiple of 16
    const __m128i xv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k));
    const __m128i xa = _mm_abs_epi8(xv);
    for (int i = 0; i < R; ++i) {
      const auto* wr = reinterpret_cast<const __m128i*>(w + static_cast<size_t>(i) * cols + k);
      acc[i] = MaddNarrow(acc[i], _mm_loadu_si128(wr), xv, xa);
    }
  }
  if constexpr (R == 4) {
    Avx2::Sum4(acc, out);
  } else {
    for (int i = 0; i < R; ++i) out[i] = Avx2::Sum(acc[i]);
  }
}

// Eight rows of 16 columns (a layer of up to 16 inputs), two rows per 256-bit load: the
// horizontal sums, not the products, are what a 16-column row costs.
inline void Dot8Rows16(const int8_t* w, __m256i x, __m256i x_abs, int32_t* out) {
  __m256i acc[4];
  for (int j = 0; j < 4; ++j) {
    const __m256i wj = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * j));  // rows 2j, 2j+1
    acc[j] = MaddNarrow(_mm256_setzero_si256(), wj, x, x_abs);
  }
  // Lane 0 ends with the sums of rows 0, 2, 4, 6 and lane 1 with those of rows 1, 3, 5, 7.
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
  const __m128i even = _mm256_castsi256_si128(s), odd = _mm256_extracti128_si256(s, 1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi32(even, odd));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4), _mm_unpackhi_epi32(even, odd));
}

void DotNarrow(const int8_t* w, int rows, int cols, const int8_t* x, int vectors, int32_t* out) {
  for (int v = 0; v < vectors; ++v) {
    const int8_t* xv = x + static_cast<size_t>(v) * cols;
    int32_t* o = out + static_cast<size_t>(v) * rows;
    int r = 0;
    if (cols == 16) {
      const __m256i x2 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xv)));
      const __m256i x2_abs = _mm256_abs_epi8(x2);
      for (; r + 8 <= rows; r += 8) Dot8Rows16(w + static_cast<size_t>(r) * 16, x2, x2_abs, o + r);
    }
    for (; r + 4 <= rows; r += 4) DotRows<4>(w + static_cast<size_t>(r) * cols, cols, xv, o + r);
    for (; r < rows; ++r) DotRows<1>(w + static_cast<size_t>(r) * cols, cols, xv, o + r);
  }
}

// No -mfma for this file: the multiply and the add stay two roundings, as TFLite's.
void Accumulate(const int32_t* dot, const int32_t* sums, int32_t offset, float q_scale, const float* w_scale, int rows,
                float* out) {
  const __m256i off = _mm256_set1_epi32(offset);
  const __m256 qs = _mm256_set1_ps(q_scale);
  for (int p = 0; p < rows; p += 8) {
    const __m256i d =
        _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dot + p)),
                         _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums + p)), off));
    const __m256 scale = _mm256_mul_ps(qs, _mm256_loadu_ps(w_scale + p));
    _mm256_storeu_ps(out + p, _mm256_add_ps(_mm256_loadu_ps(out + p), _mm256_mul_ps(_mm256_cvtepi32_ps(d), scale)));
  }
}

}  // namespace

const HybridKernels& Avx2HybridKernels() { return HybridKernelsFor<Avx2>("hybrid-avx2", &DotNarrow, &Accumulate); }

}  // namespace tflstm::lstm
#endif
