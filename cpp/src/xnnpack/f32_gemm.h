// tflstm's float32 matrix multiply for FULLY_CONNECTED (and float32 BATCH_MATMUL) on x86 with
// AVX2 and FMA: XNNPACK 2024-11's GEMM there is its C 5x16 microkernel, which moves five row
// pointers per depth and leaves rows of its last tile idle on 32-row inputs (attention's); this
// one keeps 6 rows x 16 columns in 12 accumulators and indexes the rows from fixed pointers
// (tf.lite 2.21's XNNPACK runs a 6x16 assembly kernel). The right-hand side is packed as
// XNNPACK packs it: blocks of 16 output channels, each the block's bias and then [depth][16].
// Each output is the bias plus the products in depth order, fused multiply-adds, clamped to
// the activation's range as TFLite clamps (a NaN passes through).
#pragma once

#include <cstddef>

namespace tflstm::xnn {

struct F32Gemm {
  int rows = 0;                // of the left-hand side (the input's batch)
  int depth = 0;               // the shared dimension (input channels)
  int cols = 0;                // output channels
  float lo = 0.0f, hi = 0.0f;  // the fused activation's range
  size_t x_stride = 0;         // floats between rows of the left-hand side; 0: depth
};

constexpr int kF32GemmBlock = 16;
constexpr int kF32GemmMinRows = 2;  // FULLY_CONNECTED: fewer rows stay on XNNPACK
inline size_t F32GemmPackedFloats(int depth, int cols) {
  return static_cast<size_t>((cols + kF32GemmBlock - 1) / kF32GemmBlock) * kF32GemmBlock *
         (1 + static_cast<size_t>(depth));
}

// Packs the right-hand side: element (channel c, depth k) at w[c * col_stride + k * depth_stride]
// (a FULLY_CONNECTED's [cols][depth] weights: col_stride = depth, depth_stride = 1), an
// optional bias; `packed` holds F32GemmPackedFloats.
void PackF32Gemm(const F32Gemm& p, const float* w, size_t col_stride, size_t depth_stride, const float* bias,
                 float* packed);

struct F32GemmKernel {
  const char* name;  // as `inspect` and the profile show it: "fc-f32-avx2"
  // y[r][c] (row stride p.cols) for the p.rows rows of x (row stride p.x_stride, or p.depth).
  void (*run)(const F32Gemm& p, const float* packed, const float* x, float* y);
};

// The kernel this CPU runs (TFLSTM_LSTM_ISA limits it as it limits the recurrent kernels), or
// null: XNNPACK then runs the node.
const F32GemmKernel* BestF32Gemm();
// The AVX2 kernel (null where the build has none).
const F32GemmKernel* Avx2F32Gemm();

}  // namespace tflstm::xnn
