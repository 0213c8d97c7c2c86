// The hybrid LSTM's int8 products with AVX2 (x86-64): int8 widened to int16, pmaddwd into
// int32 (exact for any int8 values). Compiled with -mavx2; chosen only on a CPU with AVX2.
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

}  // namespace

const HybridKernels& Avx2HybridKernels() { return HybridKernelsFor<Avx2>("hybrid-avx2"); }

}  // namespace tflstm::lstm
#endif
