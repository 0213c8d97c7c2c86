// The int8 matrix multiply with NEON (aarch64, and 32-bit ARM built with NEON): b packed
// [k][8], vmlal_lane_s16 adds a's value at one depth times 8 columns; tiles of up to 4 rows x 8
// columns. The requantization is the integer LSTM's (NeonInt8, vqrdmulh: gemmlowp's rounding).
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

#include <cstring>

#include "int8_matmul.h"
#include "lstm/int8_lstm_neon.h"

namespace tflstm::xnn {
namespace {

using lstm::NeonInt8;

template <int Rows>
void Tile(const Int8MatMul& p, const int16_t* pa, const int16_t* pb, int row, int block, int8_t* out) {
  const int depth = Int8MatMulDepth(p.k);
  int32x4_t lo[Rows], hi[Rows];
  for (int r = 0; r < Rows; ++r) lo[r] = hi[r] = vdupq_n_s32(0);
  const int16_t* a0 = pa + static_cast<size_t>(row) * depth;
  const int16_t* b0 = pb + static_cast<size_t>(block) * depth * 8;
  for (int k = 0; k < depth; k += 4) {
    const int16x8_t b[4] = {vld1q_s16(b0 + k * 8), vld1q_s16(b0 + k * 8 + 8), vld1q_s16(b0 + k * 8 + 16),
                            vld1q_s16(b0 + k * 8 + 24)};
    for (int r = 0; r < Rows; ++r) {
      const int16x4_t a = vld1_s16(a0 + static_cast<size_t>(r) * depth + k);
      lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(b[0]), a, 0);
      hi[r] = vmlal_lane_s16(hi[r], vget_high_s16(b[0]), a, 0);
      lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(b[1]), a, 1);
      hi[r] = vmlal_lane_s16(hi[r], vget_high_s16(b[1]), a, 1);
      lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(b[2]), a, 2);
      hi[r] = vmlal_lane_s16(hi[r], vget_high_s16(b[2]), a, 2);
      lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(b[3]), a, 3);
      hi[r] = vmlal_lane_s16(hi[r], vget_high_s16(b[3]), a, 3);
    }
  }
  const lstm::QuantizedMultiplier q{p.multiplier, p.shift};
  const int32x4_t zero = vdupq_n_s32(p.out_zero);
  const int col = block * 8;
  for (int r = 0; r < Rows; ++r) {
    const int32x4_t l = vaddq_s32(NeonInt8::Mbqm(lo[r], q), zero);
    const int32x4_t h = vaddq_s32(NeonInt8::Mbqm(hi[r], q), zero);
    // int32 -> int16 -> int8 with saturation: the clamp to [-128, 127] TFLite applies.
    const int8x8_t s8 = vqmovn_s16(vcombine_s16(vqmovn_s32(l), vqmovn_s32(h)));
    int8_t* dst = out + static_cast<size_t>(row + r) * p.n + col;
    if (col + 8 <= p.n) {
      vst1_s8(dst, s8);
    } else {
      int8_t lanes[8];
      vst1_s8(lanes, s8);
      std::memcpy(dst, lanes, static_cast<size_t>(p.n - col));
    }
  }
}

// The packing of int8_matmul.cc, 8 values at a time.
void PackA(const Int8MatMul& p, const int8_t* a, int16_t* packed) {
  const int16x8_t zero = vdupq_n_s16(static_cast<int16_t>(p.a_zero));
  PackInt8AWith(p, a, packed, [&](const int8_t* src, int16_t* row) {
    int k = 0;
    for (; k + 8 <= p.k; k += 8) vst1q_s16(row + k, vsubq_s16(vmovl_s8(vld1_s8(src + k)), zero));
    return k;
  });
}

void PackB(const Int8MatMul& p, const int8_t* b, int16_t* packed) {
  const int depth = Int8MatMulDepth(p.k);
  const int16x8_t zero = vdupq_n_s16(static_cast<int16_t>(p.b_zero));
  PackInt8BWith(p, b, false, packed, [&](int block, int16_t* dst) {
    for (int k = 0; k < depth; ++k) {
      const int16x8_t v =
          k < p.k ? vsubq_s16(vmovl_s8(vld1_s8(b + static_cast<size_t>(k) * p.n + block * 8)), zero) : vdupq_n_s16(0);
      vst1q_s16(dst + k * 8, v);
    }
  });
}

void Run(const Int8MatMul& p, const int8_t* a, const int8_t* b, int8_t* out, int16_t* scratch, bool pack_b) {
  const int blocks = Int8MatMulBlocks(p.n);
  int16_t* pb = scratch;
  int16_t* pa = scratch + static_cast<size_t>(blocks) * Int8MatMulDepth(p.k) * 8;
  if (pack_b) PackB(p, b, pb);
  PackA(p, a, pa);
  for (int block = 0; block < blocks; ++block) {
    int row = 0;
    for (; row + 4 <= p.m; row += 4) Tile<4>(p, pa, pb, row, block, out);
    switch (p.m - row) {
      case 3: Tile<3>(p, pa, pb, row, block, out); break;
      case 2: Tile<2>(p, pa, pb, row, block, out); break;
      case 1: Tile<1>(p, pa, pb, row, block, out); break;
      default: break;
    }
  }
}

const Int8MatMulKernel kNeon = {"bmm-int8-neon", Run, Int8MatMulScratchBytes};

}  // namespace

const Int8MatMulKernel* NeonInt8MatMul() { return &kNeon; }

}  // namespace tflstm::xnn
#else
#include "int8_matmul.h"

namespace tflstm::xnn {
const Int8MatMulKernel* NeonInt8MatMul() { return nullptr; }
}  // namespace tflstm::xnn
#endif
