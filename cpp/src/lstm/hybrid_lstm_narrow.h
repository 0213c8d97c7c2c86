// The hybrid LSTM's narrow int8 product on 256-bit vectors (hybrid_lstm_layout.h's layout), over a
// product P: P::Add(acc, |x|, w * sign(x)) adds the products of four columns into each int32
// lane. AVX2's pmaddubsw + pmaddwd and AVX-512 VNNI's vpdpbusd are the two. Include it only from
// files compiled with -mavx2.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "hybrid_lstm_layout.h"

namespace tflstm::lstm {
namespace {

// The narrow product's layout (hybrid_lstm_layout.h): 8 rows x 4 columns per 32 bytes, blocks of
// up to 8 such groups, one pass of accumulators each.
constexpr int kGroupRows = 8;
constexpr int kBlockGroups = 8;
inline void NarrowLayout(const int8_t* w, int rows, int cols, int8_t* out) {
  BlockedLayout<kGroupRows, kBlockGroups>(w, rows, cols, out);
}

// G groups of 8 rows: out[0 .. 8G) for one input vector x.
template <class P, int G>
void DotBlock(const int8_t* block, int cols, const int8_t* x, int32_t* out) {
  // Unrolled, so that the accumulators live in registers (else GCC keeps them on the stack).
  __m256i acc[G];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) acc[g] = _mm256_setzero_si256();
  for (int c = 0; c < cols / 4; ++c) {
    int32_t x4;
    std::memcpy(&x4, x + 4 * c, 4);
    const __m256i xb = _mm256_set1_epi32(x4);
    const __m256i xa = _mm256_abs_epi8(xb);
    const int8_t* wc = block + static_cast<size_t>(c) * G * 32;
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wc + 32 * g));
      acc[g] = P::Add(acc[g], xa, _mm256_sign_epi8(w, xb));
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * g), acc[g]);
}

// rows is a multiple of 8 (the packed rows are) and w in NarrowLayout's order. Each block of
// rows takes every vector in turn, so that a projection's many vectors find it in L1.
template <class P>
void DotNarrow(const int8_t* w, int rows, int cols, const int8_t* x, int vectors, int32_t* out) {
  using Block = void (*)(const int8_t*, int, const int8_t*, int32_t*);
  static constexpr Block kBlocks[kBlockGroups + 1] = {nullptr,         &DotBlock<P, 1>, &DotBlock<P, 2>,
                                                      &DotBlock<P, 3>, &DotBlock<P, 4>, &DotBlock<P, 5>,
                                                      &DotBlock<P, 6>, &DotBlock<P, 7>, &DotBlock<P, 8>};
  for (int r0 = 0; r0 < rows; r0 += kBlockGroups * kGroupRows) {
    const int groups = std::min(kBlockGroups, (rows - r0) / kGroupRows);
    for (int v = 0; v < vectors; ++v) {
      kBlocks[groups](w + static_cast<size_t>(r0) * cols, cols, x + static_cast<size_t>(v) * cols,
                      out + static_cast<size_t>(v) * rows + r0);
    }
  }
}

}  // namespace
}  // namespace tflstm::lstm
