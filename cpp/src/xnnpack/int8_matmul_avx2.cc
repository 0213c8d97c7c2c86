// The int8 matrix multiply with AVX2: b packed in pairs of depths, so that one vpmaddwd of a
// broadcast pair of a's values adds two products into each of 8 int32 columns; tiles of up to
// 4 rows x 16 columns (8 accumulators). The requantization is the integer LSTM's (Avx2Int8).
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

#include "int8_matmul.h"
#include "lstm/int8_lstm_avx2.h"

namespace tflstm::xnn {
namespace {

using lstm::Avx2Int8;

// Rows x Blocks tile at (row, block): a's rows are packed with the depth padded to 4 (pairs
// read as one int32), b's blocks [k / 2][8][2].
template <int Rows, int Blocks>
void Tile(const Int8MatMul& p, const int16_t* pa, const int16_t* pb, int row, int block,
          const Avx2Int8::Requant& requant, int8_t* out) {
  const int depth = Int8MatMulDepth(p.k);
  const size_t block_stride = static_cast<size_t>(depth) * 8;
  __m256i acc[Rows][Blocks];
  for (auto& r : acc) {
    for (__m256i& v : r) v = _mm256_setzero_si256();
  }
  const int16_t* a0 = pa + static_cast<size_t>(row) * depth;
  const int16_t* b0 = pb + block * block_stride;
  for (int pair = 0; pair < depth / 2; ++pair) {
    __m256i bv[Blocks];
    for (int c = 0; c < Blocks; ++c) {
      bv[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + c * block_stride + pair * 16));
    }
    for (int r = 0; r < Rows; ++r) {
      int32_t two = 0;
      std::memcpy(&two, a0 + static_cast<size_t>(r) * depth + pair * 2, sizeof(two));
      const __m256i av = _mm256_set1_epi32(two);
      for (int c = 0; c < Blocks; ++c) acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(av, bv[c]));
    }
  }
  const __m256i zero = _mm256_set1_epi32(p.out_zero);
  for (int r = 0; r < Rows; ++r) {
    for (int c = 0; c < Blocks; ++c) {
      const __m256i v = _mm256_add_epi32(Avx2Int8::Mbqm(acc[r][c], requant), zero);
      // int32 -> int16 -> int8 with saturation: the clamp to [-128, 127] TFLite applies.
      const __m128i s16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      const __m128i s8 = _mm_packs_epi16(s16, s16);
      const int col = (block + c) * 8;
      int8_t* dst = out + static_cast<size_t>(row + r) * p.n + col;
      if (col + 8 <= p.n) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), s8);
      } else {
        alignas(16) int8_t lanes[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), s8);
        std::memcpy(dst, lanes, static_cast<size_t>(p.n - col));
      }
    }
  }
}

// The packing of int8_matmul.cc, 16 (a) or 8 x 2 (b) values at a time.
void PackA(const Int8MatMul& p, const int8_t* a, int16_t* packed) {
  const __m256i zero = _mm256_set1_epi16(static_cast<int16_t>(p.a_zero));
  PackInt8AWith(p, a, packed, [&](const int8_t* src, int16_t* row) {
    int k = 0;
    for (; k + 16 <= p.k; k += 16) {
      const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + k), _mm256_sub_epi16(v, zero));
    }
    return k;
  });
}

void PackB(const Int8MatMul& p, const int8_t* b, int16_t* packed) {
  const int depth = Int8MatMulDepth(p.k);
  const __m128i zero = _mm_set1_epi16(static_cast<int16_t>(p.b_zero));
  PackInt8BWith(p, b, true, packed, [&](int block, int16_t* dst) {
    // Row k's 8 columns, widened, less the zero point (0 past the depth).
    const auto row = [&](int k) {
      if (k >= p.k) return _mm_setzero_si128();
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + static_cast<size_t>(k) * p.n + block * 8));
      return _mm_sub_epi16(_mm_cvtepi8_epi16(q), zero);
    };
    for (int k = 0; k < depth; k += 2) {
      const __m128i r0 = row(k), r1 = row(k + 1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k * 8),
                          _mm256_set_m128i(_mm_unpackhi_epi16(r0, r1), _mm_unpacklo_epi16(r0, r1)));
    }
  });
}

template <int Blocks>
void Rows(const Int8MatMul& p, const int16_t* pa, const int16_t* pb, int block, const Avx2Int8::Requant& requant,
          int8_t* out) {
  int row = 0;
  for (; row + 4 <= p.m; row += 4) Tile<4, Blocks>(p, pa, pb, row, block, requant, out);
  switch (p.m - row) {
    case 3: Tile<3, Blocks>(p, pa, pb, row, block, requant, out); break;
    case 2: Tile<2, Blocks>(p, pa, pb, row, block, requant, out); break;
    case 1: Tile<1, Blocks>(p, pa, pb, row, block, requant, out); break;
    default: break;
  }
}

void Run(const Int8MatMul& p, const int8_t* a, const int8_t* b, int8_t* out, int16_t* scratch, bool pack_b) {
  const int blocks = Int8MatMulBlocks(p.n);
  int16_t* pb = scratch;
  int16_t* pa = scratch + static_cast<size_t>(blocks) * Int8MatMulDepth(p.k) * 8;
  if (pack_b) PackB(p, b, pb);
  PackA(p, a, pa);
  const Avx2Int8::Requant requant = Avx2Int8::MakeRequant({p.multiplier, p.shift});
  int block = 0;
  for (; block + 2 <= blocks; block += 2) Rows<2>(p, pa, pb, block, requant, out);
  if (block < blocks) Rows<1>(p, pa, pb, block, requant, out);
}

const Int8MatMulKernel kAvx2 = {"bmm-int8-avx2", Run, Int8MatMulScratchBytes};

}  // namespace

const Int8MatMulKernel* Avx2Int8MatMul() { return &kAvx2; }

}  // namespace tflstm::xnn
#else
#include "int8_matmul.h"

namespace tflstm::xnn {
const Int8MatMulKernel* Avx2Int8MatMul() { return nullptr; }
}  // namespace tflstm::xnn
#endif
