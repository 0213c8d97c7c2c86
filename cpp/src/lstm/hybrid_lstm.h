// tflstm's hybrid (dynamic-range) LSTM: float input, state and output, int8 symmetric weights
// with one scale per weight tensor (what TFLite 2.14's hybrid kernel reads). The weights are
// packed once, gate rows in the float kernel's interleaved order (four gates of a block of
// units together), each row padded to a multiple of kDotCols. The input projection of a chunk
// of steps is one int8 product over rows quantized one by one; each step quantizes h_prev per
// batch row, takes one int8 product for all four gates and ends in the float kernel's cell
// update. Quantization, the zero-point correction and the float accumulation order follow
// TFLite's hybrid kernel: bias, then + dot(x) * scale, then + dot(h) * scale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "float_lstm.h"
#include "rnn/aligned_vector.h"

namespace tflstm::lstm {

constexpr int kDotCols = 16;  // int8 columns per step of the dot kernels
inline int PadCols(int n) { return (n + kDotCols - 1) / kDotCols * kDotCols; }

// out[v * rows + r] = sum_k w[r * cols + k] * x[v * cols + k]; cols is a multiple of kDotCols.
using DotFn = void (*)(const int8_t* w, int rows, int cols, const int8_t* x, int vectors, int32_t* out);
struct HybridKernels {
  static constexpr rnn::Family kFamily = rnn::Family::kLstmHybrid;
  const char* name;
  DotFn dot;  // any int8 values, w row-major
  // For w in [-127, 127], as TF's converter writes them: the instruction set's faster product
  // (AVX2's maddubs, NEON's paired vmlal, DotProd's sdot by element) over w as narrow_layout
  // rearranged it once (hybrid_lstm_layout.h's blocks; rows a multiple of 8; null: kept
  // row-major), else `dot`.
  void (*narrow_layout)(const int8_t* row_major, int rows, int cols, int8_t* out);
  DotFn dot_narrow;
  // out[p] = in[p] + (dot[p] - sums[p] * offset) * (q_scale * w_scale[p]) for p < rows (a multiple of
  // kBlockWidth), as TFLite accumulates a hybrid product: the two scales' product rounded to
  // float first, no fused multiply-add.
  void (*accumulate)(const int32_t* dot, const int32_t* sums, int32_t offset, float q_scale, const float* w_scale,
                     int rows, const float* in, float* out);
  // The smallest and the largest of x[0..n), n >= 1, for the quantization of x and h: the
  // same for every instruction set on finite x.
  std::pair<float, float> (*min_max)(const float* x, int n);
  // q[k] = clamp(round(zero + x[k] * inv), lo, hi) for k < n, the rounding half away from zero
  // and NaN to 0: TFLite's quantization of a row (zero 0: the symmetric one). The same bits for
  // every instruction set: each multiplies and adds as the build's flags make the scalar code do.
  void (*quantize)(const float* x, int n, float inv, float zero, float lo, float hi, int8_t* q);
};

const HybridKernels& PortableHybridKernels();
#if defined(__x86_64__) || defined(_M_X64)
const HybridKernels& Avx2HybridKernels();  // only for a CPU with AVX2
const HybridKernels& VnniHybridKernels();  // only for a CPU with AVX-512 VNNI and VL
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
const HybridKernels& NeonHybridKernels();
#endif
#if defined(__aarch64__)
const HybridKernels& DotProdHybridKernels();  // only for a CPU with DotProd
#endif
// "hybrid-avx512vnni", "hybrid-avx2", "hybrid-neon-dotprod", "hybrid-neon" or "hybrid-portable"
inline const HybridKernels& BestHybridKernels() { return rnn::Best<HybridKernels>(); }
// Every implementation this CPU can run, the portable one first (for the tests).
inline std::vector<const HybridKernels*> HybridKernelsOnThisCpu() { return rnn::OnThisCpu<HybridKernels>(); }

// TFLite's per-row input quantization (tensor_utils::BatchQuantizeFloats for one row):
// symmetric to [-127, 127] with offset 0, or asymmetric to [-128, 127] with a zero point.
// q gets n values then zeros up to `padded`; `kernels` gives the min and max.
void QuantizeRow(const HybridKernels& kernels, const float* x, int n, int padded, bool asymmetric, int8_t* q,
                 float* scale, int32_t* offset);

// One hybrid LSTM layer's weights in the packed layout of one HybridKernels: immutable once
// packed, so that the runners of a model can share them (pack_cache.h).
struct HybridWeights {
  AlignedVector<int8_t> input, recurrent;                   // [packed rows][cols]
  DotFn input_dot = nullptr, recurrent_dot = nullptr;       // dot_narrow unless a weight is -128
  AlignedVector<float> bias, input_scale, recurrent_scale;  // per packed row
  AlignedVector<int32_t> input_sums, recurrent_sums;        // row sums, for the zero points
  size_t Bytes() const;
};

// One hybrid recurrent layer (the LSTM's, and the GRU's of rnn/gru_op.cc): its packed weights
// and its own scratch (sized once in Configure), in a gate layout of `gates` gates of
// `block_units` units a block (the LSTM's by default).
class HybridLstm {
 public:
  struct Gates {
    const int8_t* weights[kGates];  // [n_cell, cols] row-major, TFLite's layout; `gates` of them
    float scale[kGates];
  };
  // Sizes the scratch for `max_rows` projected rows and `batch` rows per step.
  void Configure(int n_input, int n_cell, int max_rows, int batch, bool asymmetric, int gates = kGates,
                 int block_units = kBlockUnits);
  // The weights of a layer of Configure's sizes, packed for `kernels`; Use() runs with them.
  std::unique_ptr<HybridWeights> Pack(const Gates& input, const Gates& recurrent,
                                      const float* const bias[kGates]) const;
  void Use(std::shared_ptr<const HybridWeights> weights) { weights_ = std::move(weights); }
  const HybridWeights* weights() const { return weights_.get(); }
  // gx[r] = bias + dot(W_x, q(x[r])) * scale for `rows` input rows, in the packed float layout.
  void Project(const float* x, int rows, float* gx);
  // out[b] = in[b] + dot(W_h, q(h[b])) * scale for `batch` rows of h (h_stride apart) and of
  // `in` (in_stride apart; 0: the same row for all); out is this layer's scratch, Row() apart.
  const float* Recurrent(const float* h, size_t h_stride, int batch, const float* in, size_t in_stride);
  // One LSTM step: s.gx holds the input projection; adds the recurrent product of h_prev and
  // runs the float kernel's cell update into s.c and s.h_next.
  void Step(const Kernels& kernels, const StepArgs& s);
  // Floats of one packed row (every gate of every block).
  size_t Row() const { return static_cast<size_t>(rows_); }
  size_t WeightBytes() const { return weights_ ? weights_->Bytes() : 0; }
  size_t ScratchBytes() const {
    return q_.capacity() + 4 * (q_scale_.capacity() + q_offset_.capacity() + dots_.capacity() + gates_.capacity());
  }
  const HybridKernels* kernels = nullptr;

 private:
  int n_input_ = 0, n_cell_ = 0, in_cols_ = 0, rec_cols_ = 0, rows_ = 0;
  int gates_per_block_ = kGates, block_units_ = kBlockUnits;
  bool asymmetric_ = false;
  std::shared_ptr<const HybridWeights> weights_;
  // Scratch.
  AlignedVector<int8_t> q_;
  std::vector<float> q_scale_;
  std::vector<int32_t> q_offset_;
  AlignedVector<int32_t> dots_;
  AlignedVector<float> gates_;
};

}  // namespace tflstm::lstm
