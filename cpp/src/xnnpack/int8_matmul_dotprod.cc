// The int8 matrix multiply with aarch64's dot product instructions: b packed each call into the
// layout of int8_fc.h's packed weights (blocks of 16 columns, [depth / 4][16][4], 4x16 byte
// transposes by zips, or 4x4 word transposes where b is stored transposed), a's rows padded to
// 16 depths, and int8_fc.h's product, whose sums of raw int8 products get the zero points'
// terms: sum (a - za)(b - zb) = sum ab - za * (column sum of b) - zb * (row sum of a) + k za zb,
// exact in int32 (as TFLite's sum is). The sums themselves are sdot with a vector of ones.
// Compiled with +dotprod; BestInt8MatMul runs it only on a CPU that has it.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstring>

#include "int8_fc.h"
#include "int8_matmul.h"

namespace tflstm::xnn {
namespace {

constexpr int kBlock = kInt8FcBlock;

size_t PackedBInts(const Int8MatMul& p) {
  return static_cast<size_t>((p.n + kBlock - 1) / kBlock) * Int8FcBlockInts(p.k);
}

size_t Scratch(const Int8MatMul& p) {
  const size_t rows = static_cast<size_t>(p.m);
  return PackedBInts(p) * sizeof(int32_t) + rows * sizeof(int32_t) + rows * Int8FcDepth(p.k);
}

int8_t BAt(const Int8MatMul& p, const int8_t* b, int k, int n) {
  if (k >= p.k || n >= p.n) return 0;
  return p.adj_b ? b[static_cast<size_t>(n) * p.k + k] : b[static_cast<size_t>(k) * p.n + n];
}

// One block of 16 columns of b as [depth / 4][16][4]: whole 4x16 (or, transposed, 16x4) tiles
// with NEON, the edges one value at a time.
void PackBlock(const Int8MatMul& p, const int8_t* b, int block, int8_t* w) {
  const int depth = Int8FcDepth(p.k);
  const int col = block * kBlock;
  const bool whole = col + kBlock <= p.n;
  int k = 0;
  if (whole && !p.adj_b) {
    for (; k + 4 <= p.k; k += 4) {
      const int8_t* src = b + static_cast<size_t>(k) * p.n + col;
      const int8x16_t r0 = vld1q_s8(src), r1 = vld1q_s8(src + p.n), r2 = vld1q_s8(src + 2 * p.n),
                      r3 = vld1q_s8(src + 3 * p.n);
      const int16x8_t t0 = vreinterpretq_s16_s8(vzip1q_s8(r0, r1)), t1 = vreinterpretq_s16_s8(vzip2q_s8(r0, r1));
      const int16x8_t t2 = vreinterpretq_s16_s8(vzip1q_s8(r2, r3)), t3 = vreinterpretq_s16_s8(vzip2q_s8(r2, r3));
      const int8x16x4_t out = {{vreinterpretq_s8_s16(vzip1q_s16(t0, t2)), vreinterpretq_s8_s16(vzip2q_s16(t0, t2)),
                                vreinterpretq_s8_s16(vzip1q_s16(t1, t3)), vreinterpretq_s8_s16(vzip2q_s16(t1, t3))}};
      vst1q_s8_x4(w + k * kBlock, out);
    }
  } else if (whole) {
    for (; k + 16 <= p.k; k += 16) {
      for (int quad = 0; quad < 4; ++quad) {  // columns 4 quad .. 4 quad + 3, 4 groups of 4 depths
        int32x4_t r[4];
        for (int i = 0; i < 4; ++i) {
          r[i] = vreinterpretq_s32_s8(vld1q_s8(b + static_cast<size_t>(col + 4 * quad + i) * p.k + k));
        }
        const int32x4_t t0 = vtrn1q_s32(r[0], r[1]), t1 = vtrn2q_s32(r[0], r[1]);
        const int32x4_t t2 = vtrn1q_s32(r[2], r[3]), t3 = vtrn2q_s32(r[2], r[3]);
        const auto s64 = [](int32x4_t v) { return vreinterpretq_s64_s32(v); };
        const int64x2_t g[4] = {vtrn1q_s64(s64(t0), s64(t2)), vtrn1q_s64(s64(t1), s64(t3)),
                                vtrn2q_s64(s64(t0), s64(t2)), vtrn2q_s64(s64(t1), s64(t3))};
        for (int group = 0; group < 4; ++group) {
          vst1q_s8(w + (k + 4 * group) * kBlock + 16 * quad, vreinterpretq_s8_s64(g[group]));
        }
      }
    }
  }
  for (; k < depth; k += 4) {
    for (int j = 0; j < kBlock; ++j) {
      for (int i = 0; i < 4; ++i) w[k * kBlock + j * 4 + i] = BAt(p, b, k + i, col + j);
    }
  }
}

// b packed with each block's header: the column terms of the zero points, the multiplier and
// the shifts.
void PackB(const Int8MatMul& p, const int8_t* b, int32_t* packed) {
  const int depth = Int8FcDepth(p.k);
  const size_t block_ints = Int8FcBlockInts(p.k);
  const int8x16_t ones = vdupq_n_s8(1);
  const int32_t constant = p.k * p.a_zero * p.b_zero;
  const int32x4_t left = vdupq_n_s32(p.shift > 0 ? p.shift : 0), right = vdupq_n_s32(p.shift > 0 ? 0 : p.shift);
  for (int block = 0; block * kBlock < p.n; ++block, packed += block_ints) {
    auto* w = reinterpret_cast<int8_t*>(packed + 4 * kBlock);
    PackBlock(p, b, block, w);
    int32x4_t sums[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (int k = 0; k < depth; k += 4) {
      const int8x16x4_t v = vld1q_s8_x4(w + k * kBlock);
      for (int j = 0; j < 4; ++j) sums[j] = vdotq_s32(sums[j], v.val[j], ones);
    }
    for (int j = 0; j < 4; ++j) {
      vst1q_s32(packed + 4 * j, vmlsq_n_s32(vdupq_n_s32(constant), sums[j], p.a_zero));
      vst1q_s32(packed + kBlock + 4 * j, vdupq_n_s32(p.multiplier));
      vst1q_s32(packed + 2 * kBlock + 4 * j, left);
      vst1q_s32(packed + 3 * kBlock + 4 * j, right);
    }
  }
}

// a's rows padded with zeros to 16 depths (a itself where it is so already), and each row's term
// of the zero points.
const int8_t* PackA(const Int8MatMul& p, const int8_t* a, int8_t* packed, int32_t* row_add) {
  const int depth = Int8FcDepth(p.k);
  const int8_t* rows = a;
  if (p.adj_a || depth != p.k) {
    for (int i = 0; i < p.m; ++i) {
      int8_t* row = packed + static_cast<size_t>(i) * depth;
      if (p.adj_a) {
        for (int k = 0; k < p.k; ++k) row[k] = a[static_cast<size_t>(k) * p.m + i];
      } else {
        std::memcpy(row, a + static_cast<size_t>(i) * p.k, static_cast<size_t>(p.k));
      }
      std::memset(row + p.k, 0, static_cast<size_t>(depth - p.k));
    }
    rows = packed;
  }
  const int8x16_t ones = vdupq_n_s8(1);
  for (int i = 0; i < p.m; ++i) {
    int32x4_t sum = vdupq_n_s32(0);
    for (int k = 0; k < depth; k += 16) sum = vdotq_s32(sum, vld1q_s8(rows + static_cast<size_t>(i) * depth + k), ones);
    row_add[i] = -p.b_zero * vaddvq_s32(sum);
  }
  return rows;
}

void Run(const Int8MatMul& p, const int8_t* a, const int8_t* b, int8_t* out, int16_t* scratch, bool pack_b) {
  auto* packed_b = reinterpret_cast<int32_t*>(scratch);
  int32_t* row_add = packed_b + PackedBInts(p);
  auto* packed_a = reinterpret_cast<int8_t*>(row_add + p.m);
  if (pack_b) PackB(p, b, packed_b);
  const int8_t* rows = PackA(p, a, packed_a, row_add);
  Int8Fc fc;
  fc.rows = p.m;
  fc.depth = p.k;
  fc.cols = p.n;
  fc.out_zero = p.out_zero;
  DotProdInt8Product(fc, packed_b, rows, row_add, out);
}

const Int8MatMulKernel kDotProd = {"bmm-int8-neon-dotprod", Run, Scratch};

}  // namespace

const Int8MatMulKernel* DotProdInt8MatMul() { return &kDotProd; }

}  // namespace tflstm::xnn
#else
#include "int8_matmul.h"

namespace tflstm::xnn {
const Int8MatMulKernel* DotProdInt8MatMul() { return nullptr; }
}  // namespace tflstm::xnn
#endif
