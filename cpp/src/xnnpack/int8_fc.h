// tflstm's int8 FULLY_CONNECTED where the CPU has aarch64's dot product instructions (XNNPACK
// 2024-11's DotProd GEMM reads its weights 16 bytes at a time and re-reads the input per 8
// depths): the weights packed once at prepare, bit-exact with TFLite 2.14.1's reference int8
// FullyConnected and FullyConnectedPerChannel. The input's zero point is folded into the bias
// at prepare (sum of w * (x - zx) = sum of w * x - zx * sum of w, exact in int32 as TFLite's
// sum is), so one sdot adds four int8 products per lane; the output is requantized with
// MultiplyByQuantizedMultiplier (double rounding) per channel, offset, clamped to the
// activation's range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tflstm::xnn {

struct Int8Fc {
  int rows = 0;   // the batch: rows of the input
  int depth = 0;  // input channels
  int cols = 0;   // output channels
  int32_t out_zero = 0;
  int8_t lo = -128, hi = 127;  // the fused activation's range
};

// The packed layout: blocks of 16 output channels, each a header of 4 x 16 int32 (the bias with
// the input's zero point folded in, the multipliers, the left shifts and the negated right
// shifts) and then the weights as [depth / 4][16 channels][4 depths], the depth padded to 16.
constexpr int kInt8FcBlock = 16;
inline int Int8FcDepth(int depth) { return (depth + 15) / 16 * 16; }
inline size_t Int8FcBlockInts(int depth) { return 4 * kInt8FcBlock + static_cast<size_t>(Int8FcDepth(depth)) * 4; }

// Packs weights [cols][depth] (zero point 0), an optional bias, and per-channel multipliers
// and shifts (TFLite's QuantizeMultiplier) for input zero point `in_zero`.
void PackInt8Fc(const Int8Fc& p, const int8_t* weights, const int32_t* bias, int32_t in_zero,
                const std::vector<int32_t>& multipliers, const std::vector<int>& shifts, std::vector<int32_t>* packed);
// The scratch a run needs, in bytes: the input's rows padded to 16 depths when the depth is not.
size_t Int8FcScratchBytes(const Int8Fc& p);

struct Int8FcKernel {
  const char* name;  // as `inspect` and the profile show it: "fc-int8-neon-dotprod"
  void (*run)(const Int8Fc& p, const int32_t* packed, const int8_t* x, int8_t* y, int8_t* scratch);
};

// The kernel this CPU runs (TFLSTM_LSTM_ISA limits it as it limits the recurrent kernels), or
// null: XNNPACK then runs the node.
const Int8FcKernel* BestInt8Fc();
// The DotProd kernel (null where the build has none).
const Int8FcKernel* DotProdInt8Fc();

#if defined(__aarch64__)
// The DotProd product itself (on a CPU that has DotProd only): p.rows rows of x, each padded
// with zeros to Int8FcDepth(p.depth), times the packed weights; row_add (null: none) adds a
// value per row to its sums before the requantization (int8 BATCH_MATMUL's zero point).
void DotProdInt8Product(const Int8Fc& p, const int32_t* packed, const int8_t* x, const int32_t* row_add, int8_t* y);
#endif

}  // namespace tflstm::xnn
