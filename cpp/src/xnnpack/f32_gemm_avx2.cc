// The float32 matrix multiply with AVX2 and FMA (f32_gemm.h): tiles of 6 rows x 16 columns,
// the rows read from fixed pointers at a running depth index, a block's 16 weights per depth
// loaded once for the 6 rows.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "f32_gemm.h"

namespace tflstm::xnn {
namespace {

size_t XStride(const F32Gemm& p) { return p.x_stride != 0 ? p.x_stride : static_cast<size_t>(p.depth); }

template <int Rows>
void Tile(const F32Gemm& p, const float* packed, const float* x, float* y) {
  const size_t block_floats = kF32GemmBlock * (1 + static_cast<size_t>(p.depth));
  const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
  const float* a[Rows];
#pragma GCC unroll 6
  for (int r = 0; r < Rows; ++r) {
    a[r] = x + static_cast<size_t>(r) * XStride(p);
    __asm__("" : "+r"(a[r]));  // (each row a pointer of its own: see the depth loop)
  }
  for (int c0 = 0; c0 < p.cols; c0 += kF32GemmBlock, packed += block_floats) {
    __m256 acc0[Rows], acc1[Rows];
    const __m256 bias0 = _mm256_loadu_ps(packed), bias1 = _mm256_loadu_ps(packed + 8);
#pragma GCC unroll 6
    for (int r = 0; r < Rows; ++r) acc0[r] = bias0, acc1[r] = bias1;
    const float* w = packed + kF32GemmBlock;
    // The depth index is opaque to the compiler, so that each row is read at (its pointer +
    // 4 k) rather than from a pointer of its own moved each step (GCC 12's choice otherwise).
    for (size_t k = 0; k < static_cast<size_t>(p.depth); ++k, w += kF32GemmBlock) {
      __asm__("" : "+r"(k));
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma GCC unroll 6
      for (int r = 0; r < Rows; ++r) {
        const __m256 v = _mm256_broadcast_ss(a[r] + k);
        acc0[r] = _mm256_fmadd_ps(v, w0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(v, w1, acc1[r]);
      }
    }
    const int n = std::min(kF32GemmBlock, p.cols - c0);
#pragma GCC unroll 6
    for (int r = 0; r < Rows; ++r) {
      // min(max(v, lo), hi) with TFLite's operand order: a NaN stays a NaN.
      const __m256 v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, acc0[r]));
      const __m256 v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, acc1[r]));
      float* out = y + static_cast<size_t>(r) * p.cols + c0;
      if (n == kF32GemmBlock) {
        _mm256_storeu_ps(out, v0);
        _mm256_storeu_ps(out + 8, v1);
      } else {
        alignas(32) float t[kF32GemmBlock];
        _mm256_store_ps(t, v0);
        _mm256_store_ps(t + 8, v1);
        std::memcpy(out, t, static_cast<size_t>(n) * sizeof(float));
      }
    }
  }
}

// Rows [row, row + rows) in one tile (rows <= 6).
void Rows(const F32Gemm& p, const float* packed, const float* x, float* y, int row, int rows) {
  const float* xr = x + static_cast<size_t>(row) * XStride(p);
  float* yr = y + static_cast<size_t>(row) * p.cols;
  switch (rows) {
    case 6: Tile<6>(p, packed, xr, yr); break;
    case 5: Tile<5>(p, packed, xr, yr); break;
    case 4: Tile<4>(p, packed, xr, yr); break;
    case 3: Tile<3>(p, packed, xr, yr); break;
    case 2: Tile<2>(p, packed, xr, yr); break;
    case 1: Tile<1>(p, packed, xr, yr); break;
    default: break;
  }
}

void Run(const F32Gemm& p, const float* packed, const float* x, float* y) {
  // Tiles of 6 and 5 rows: 12 or 10 independent accumulators cover the FMA latency (5 cycles
  // at 2 a cycle); a tile of 4 or fewer waits on it. n = 6a + 5b with b = -n mod 6 tiles of 5
  // (32 rows: 6, 6, 5, 5, 5, 5), when n is that large.
  const int fives = (6 - p.rows % 6) % 6;
  int row = 0;
  if (p.rows >= 5 * fives) {
    for (; row < p.rows - 5 * fives; row += 6) Rows(p, packed, x, y, row, 6);
    for (; row < p.rows; row += 5) Rows(p, packed, x, y, row, 5);
    return;
  }
  // Otherwise tiles of 6, the last 7 to 10 rows as two tiles of 4 or 5.
  for (; p.rows - row > 10 || p.rows - row == 6; row += 6) Rows(p, packed, x, y, row, 6);
  const int left = p.rows - row;
  if (left > 6) {
    Rows(p, packed, x, y, row, left - left / 2);
    row += left - left / 2;
  }
  Rows(p, packed, x, y, row, p.rows - row);
}

const F32GemmKernel kAvx2 = {"fc-f32-avx2", Run};

}  // namespace

const F32GemmKernel* Avx2F32Gemm() { return &kAvx2; }

}  // namespace tflstm::xnn
#else
#include "f32_gemm.h"

namespace tflstm::xnn {
const F32GemmKernel* Avx2F32Gemm() { return nullptr; }
}  // namespace tflstm::xnn
#endif
