// The int8 FULLY_CONNECTED with aarch64's dot product instructions: per 16 depths, one load of
// 16 input values per row and four 64-byte loads of a block's weights, and 16 sdot (by lane) per
// row; tiles of up to 2 rows x 16 channels (4 rows' 16 accumulators and the weights made GCC 12
// keep the accumulators on the stack). Compiled with +dotprod; BestInt8Fc runs it only on a CPU
// that has it.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstring>

#include "int8_fc.h"

namespace tflstm::xnn {
namespace {

// MultiplyByQuantizedMultiplier per lane: the left shift, vqrdmulh (SaturatingRoundingDoublingHighMul)
// and RoundingDivideByPOT as a rounding shift of the value less one where it is negative
// (gemmlowp's fixup: ties away from zero, as TFLite rounds).
inline int32x4_t Requantize(int32x4_t v, int32x4_t multiplier, int32x4_t left, int32x4_t right) {
  v = vqrdmulhq_s32(vshlq_s32(v, left), multiplier);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(v, right), 31);
  return vrshlq_s32(vqaddq_s32(v, fixup), right);
}

template <int Rows>
void Tile(const Int8Fc& p, const int32_t* block, const int8_t* x, size_t x_stride, const int32_t* row_add, int8_t* y,
          int width) {
  const int depth = Int8FcDepth(p.depth);
  const int32x4x4_t bias = vld1q_s32_x4(block);
  int32x4_t acc[Rows][4];
  for (int r = 0; r < Rows; ++r) {
    const int32x4_t add = row_add ? vdupq_n_s32(row_add[r]) : vdupq_n_s32(0);
    for (int j = 0; j < 4; ++j) acc[r][j] = row_add ? vaddq_s32(bias.val[j], add) : bias.val[j];
  }
  const auto* w = reinterpret_cast<const int8_t*>(block + 4 * kInt8FcBlock);
  for (int k = 0; k < depth; k += 16, w += 16 * kInt8FcBlock) {
    int8x16_t a[Rows];
    for (int r = 0; r < Rows; ++r) a[r] = vld1q_s8(x + r * x_stride + k);
    const int8x16x4_t w0 = vld1q_s8_x4(w);
    for (int r = 0; r < Rows; ++r) {
      for (int j = 0; j < 4; ++j) acc[r][j] = vdotq_laneq_s32(acc[r][j], w0.val[j], a[r], 0);
    }
    const int8x16x4_t w1 = vld1q_s8_x4(w + 64);
    for (int r = 0; r < Rows; ++r) {
      for (int j = 0; j < 4; ++j) acc[r][j] = vdotq_laneq_s32(acc[r][j], w1.val[j], a[r], 1);
    }
    const int8x16x4_t w2 = vld1q_s8_x4(w + 128);
    for (int r = 0; r < Rows; ++r) {
      for (int j = 0; j < 4; ++j) acc[r][j] = vdotq_laneq_s32(acc[r][j], w2.val[j], a[r], 2);
    }
    const int8x16x4_t w3 = vld1q_s8_x4(w + 192);
    for (int r = 0; r < Rows; ++r) {
      for (int j = 0; j < 4; ++j) acc[r][j] = vdotq_laneq_s32(acc[r][j], w3.val[j], a[r], 3);
    }
  }
  const int32x4x4_t multiplier = vld1q_s32_x4(block + kInt8FcBlock);
  const int32x4x4_t left = vld1q_s32_x4(block + 2 * kInt8FcBlock);
  const int32x4x4_t right = vld1q_s32_x4(block + 3 * kInt8FcBlock);
  const int32x4_t zero = vdupq_n_s32(p.out_zero);
  const int8x16_t lo = vdupq_n_s8(p.lo), hi = vdupq_n_s8(p.hi);
  for (int r = 0; r < Rows; ++r) {
    int16x8_t half[2];
    for (int h = 0; h < 2; ++h) {
      const int32x4_t v0 =
          vaddq_s32(Requantize(acc[r][2 * h], multiplier.val[2 * h], left.val[2 * h], right.val[2 * h]), zero);
      const int32x4_t v1 = vaddq_s32(
          Requantize(acc[r][2 * h + 1], multiplier.val[2 * h + 1], left.val[2 * h + 1], right.val[2 * h + 1]), zero);
      half[h] = vqmovn_high_s32(vqmovn_s32(v0), v1);
    }
    // Saturated to int8, then the activation's range: TFLite's clamp in int32, then the cast.
    const int8x16_t out = vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(half[0]), half[1]), lo), hi);
    int8_t* dst = y + static_cast<size_t>(r) * p.cols;
    if (width == kInt8FcBlock) {
      vst1q_s8(dst, out);
    } else {
      int8_t lanes[kInt8FcBlock];
      vst1q_s8(lanes, out);
      std::memcpy(dst, lanes, static_cast<size_t>(width));
    }
  }
}

void Run(const Int8Fc& p, const int32_t* packed, const int8_t* x, int8_t* y, int8_t* scratch) {
  const int depth = Int8FcDepth(p.depth);
  if (depth != p.depth) {  // the rows padded with zeros (times the padded weights' zeros)
    for (int r = 0; r < p.rows; ++r) {
      std::memcpy(scratch + static_cast<size_t>(r) * depth, x + static_cast<size_t>(r) * p.depth,
                  static_cast<size_t>(p.depth));
      std::memset(scratch + static_cast<size_t>(r) * depth + p.depth, 0, static_cast<size_t>(depth - p.depth));
    }
    x = scratch;
  }
  DotProdInt8Product(p, packed, x, nullptr, y);
}

const Int8FcKernel kDotProd = {"fc-int8-neon-dotprod", Run};

}  // namespace

void DotProdInt8Product(const Int8Fc& p, const int32_t* packed, const int8_t* x, const int32_t* row_add, int8_t* y) {
  const int depth = Int8FcDepth(p.depth);
  const size_t block_ints = Int8FcBlockInts(p.depth);
  for (int col = 0; col < p.cols; col += kInt8FcBlock, packed += block_ints) {
    const int width = p.cols - col < kInt8FcBlock ? p.cols - col : kInt8FcBlock;
    int row = 0;
    const auto at = [&](int r) { return x + static_cast<size_t>(r) * depth; };
    const auto add = [&](int r) { return row_add ? row_add + r : nullptr; };
    const auto out = [&](int r) { return y + static_cast<size_t>(r) * p.cols + col; };
    for (; row + 2 <= p.rows; row += 2) Tile<2>(p, packed, at(row), depth, add(row), out(row), width);
    if (row < p.rows) Tile<1>(p, packed, at(row), depth, add(row), out(row), width);
  }
}

const Int8FcKernel* DotProdInt8Fc() { return &kDotProd; }

}  // namespace tflstm::xnn
#else
#include "int8_fc.h"

namespace tflstm::xnn {
const Int8FcKernel* DotProdInt8Fc() { return nullptr; }
}  // namespace tflstm::xnn
#endif
