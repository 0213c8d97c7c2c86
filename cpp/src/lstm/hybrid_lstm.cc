#include "hybrid_lstm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tflstm::lstm {

void QuantizeRow(const HybridKernels& kernels, const float* x, int n, int padded, bool asymmetric, int8_t* q,
                 float* scale, int32_t* offset) {
  std::fill(q + n, q + padded, int8_t{0});
  const auto minmax = kernels.min_max(x, n);
  if (!asymmetric) {  // tensor_utils::SymmetricQuantizeFloats
    const float range = std::max(std::abs(minmax.first), std::abs(minmax.second));
    *offset = 0;
    if (range == 0) {
      std::fill(q, q + n, int8_t{0});
      *scale = 1;
      return;
    }
    *scale = range / 127;
    kernels.quantize(x, n, 127 / range, 0.0f, -127, 127, q);
    return;
  }
  // tensor_utils::AsymmetricQuantizeFloats, in double where TFLite computes in double.
  const double qmin = -128, qmax = 127;
  const double rmin = std::min(0.0f, minmax.first);
  const double rmax = std::max(0.0f, minmax.second);
  if (rmin == rmax) {
    std::fill(q, q + n, int8_t{0});
    *scale = 1;
    *offset = 0;
    return;
  }
  const double s = (rmax - rmin) / (qmax - qmin);
  const double from_min = qmin - rmin / s;
  const double from_max = qmax - rmax / s;
  const double from_min_error = std::abs(qmin) + std::abs(rmin / s);
  const double from_max_error = std::abs(qmax) + std::abs(rmax / s);
  const double zero_point = from_min_error < from_max_error ? from_min : from_max;
  int8_t nudged = 0;
  if (!(zero_point > qmin)) {  // NaN too (non-finite inputs)
    nudged = -128;
  } else if (zero_point >= qmax) {
    nudged = 127;
  } else {
    nudged = static_cast<int8_t>(std::round(zero_point));
  }
  *scale = static_cast<float>(s);
  *offset = nudged;
  kernels.quantize(x, n, 1.0f / *scale, static_cast<float>(nudged), -128, 127, q);
}

namespace {

// Packed row p = blk * width + g * block_units + j (width = gates * block_units) is unit
// blk * block_units + j of gate g (zero past the last unit), its columns padded to `padded`.
int RowGate(int p, int gates, int block_units) { return (p % (gates * block_units)) / block_units; }
int RowUnit(int p, int gates, int block_units) { return p / (gates * block_units) * block_units + p % block_units; }

void PackRows(const HybridLstm::Gates& gates, int n_gates, int block_units, int rows, int units, int cols, int padded,
              int8_t* out, float* scale, int32_t* sums) {
  for (int p = 0; p < rows; ++p) {
    const int g = RowGate(p, n_gates, block_units);
    const int unit = RowUnit(p, n_gates, block_units);
    int8_t* row = out + static_cast<size_t>(p) * padded;
    std::fill(row, row + padded, int8_t{0});
    scale[p] = gates.scale[g];
    sums[p] = 0;
    if (unit >= units) continue;
    std::memcpy(row, gates.weights[g] + static_cast<size_t>(unit) * cols, cols);
    for (int k = 0; k < cols; ++k) sums[p] += row[k];
  }
}

}  // namespace

void HybridLstm::Configure(int n_input, int n_cell, int max_rows, int batch, bool asymmetric, int gates,
                           int block_units) {
  n_input_ = n_input;
  n_cell_ = n_cell;
  in_cols_ = PadCols(n_input);
  rec_cols_ = PadCols(n_cell);
  gates_per_block_ = gates;
  block_units_ = block_units;
  rows_ = (n_cell + block_units - 1) / block_units * gates * block_units;
  asymmetric_ = asymmetric;
  weights_.reset();
  const size_t rows = static_cast<size_t>(rows_);
  const size_t vectors = static_cast<size_t>(std::max(max_rows, batch));
  q_.assign(vectors * std::max(in_cols_, rec_cols_), 0);
  q_scale_.assign(vectors, 0.0f);
  q_offset_.assign(vectors, 0);
  dots_.assign(vectors * rows, 0);
  gates_.assign(static_cast<size_t>(batch) * rows, 0.0f);
}

std::unique_ptr<HybridWeights> HybridLstm::Pack(const Gates& input, const Gates& recurrent,
                                                const float* const bias[kGates]) const {
  auto packed = std::make_unique<HybridWeights>();
  HybridWeights& p = *packed;
  const size_t rows = static_cast<size_t>(rows_);
  p.input.assign(rows * in_cols_, 0);
  p.recurrent.assign(rows * rec_cols_, 0);
  p.bias.assign(rows, 0.0f);
  p.input_scale.assign(rows, 0.0f);
  p.recurrent_scale.assign(rows, 0.0f);
  p.input_sums.assign(rows, 0);
  p.recurrent_sums.assign(rows, 0);
  PackRows(input, gates_per_block_, block_units_, rows_, n_cell_, n_input_, in_cols_, p.input.data(),
           p.input_scale.data(), p.input_sums.data());
  PackRows(recurrent, gates_per_block_, block_units_, rows_, n_cell_, n_cell_, rec_cols_, p.recurrent.data(),
           p.recurrent_scale.data(), p.recurrent_sums.data());
  const auto dot_for = [&](AlignedVector<int8_t>& w, int cols) {
    if (std::find(w.begin(), w.end(), int8_t{-128}) != w.end()) return kernels->dot;
    if (kernels->narrow_layout != nullptr) {
      const std::vector<int8_t> row_major(w.begin(), w.end());  // once per prepare
      kernels->narrow_layout(row_major.data(), rows_, cols, w.data());
    }
    return kernels->dot_narrow;
  };
  p.input_dot = dot_for(p.input, in_cols_);
  p.recurrent_dot = dot_for(p.recurrent, rec_cols_);
  for (int r = 0; r < rows_; ++r) {
    const int unit = RowUnit(r, gates_per_block_, block_units_);
    p.bias[r] = unit < n_cell_ ? bias[RowGate(r, gates_per_block_, block_units_)][unit] : 0.0f;
  }
  return packed;
}

size_t HybridWeights::Bytes() const {
  return input.capacity() + recurrent.capacity() +
         (bias.capacity() + input_scale.capacity() + recurrent_scale.capacity()) * sizeof(float) +
         (input_sums.capacity() + recurrent_sums.capacity()) * sizeof(int32_t);
}

void HybridLstm::Project(const float* x, int rows, float* gx) {
  for (int r = 0; r < rows; ++r) {
    QuantizeRow(*kernels, x + static_cast<size_t>(r) * n_input_, n_input_, in_cols_, asymmetric_,
                q_.data() + static_cast<size_t>(r) * in_cols_, &q_scale_[r], &q_offset_[r]);
  }
  const HybridWeights& w = *weights_;
  w.input_dot(w.input.data(), rows_, in_cols_, q_.data(), rows, dots_.data());
  for (int r = 0; r < rows; ++r) {
    // bias + the product (TFLite skips the product of an all-zero input: the same as adding zeros).
    kernels->accumulate(dots_.data() + static_cast<size_t>(r) * rows_, w.input_sums.data(), q_offset_[r], q_scale_[r],
                        w.input_scale.data(), rows_, w.bias.data(), gx + static_cast<size_t>(r) * rows_);
  }
}

const float* HybridLstm::Recurrent(const float* h, size_t h_stride, int batch, const float* in, size_t in_stride) {
  for (int b = 0; b < batch; ++b) {
    QuantizeRow(*kernels, h + b * h_stride, n_cell_, rec_cols_, asymmetric_,
                q_.data() + static_cast<size_t>(b) * rec_cols_, &q_scale_[b], &q_offset_[b]);
  }
  const HybridWeights& w = *weights_;
  w.recurrent_dot(w.recurrent.data(), rows_, rec_cols_, q_.data(), batch, dots_.data());
  for (int b = 0; b < batch; ++b) {
    kernels->accumulate(dots_.data() + static_cast<size_t>(b) * rows_, w.recurrent_sums.data(), q_offset_[b],
                        q_scale_[b], w.recurrent_scale.data(), rows_, in + b * in_stride,
                        gates_.data() + static_cast<size_t>(b) * rows_);
  }
  return gates_.data();
}

void HybridLstm::Step(const Kernels& kernels_float, const StepArgs& s) {
  StepArgs update = s;
  update.gx = Recurrent(s.h_prev, s.state_stride, s.batch, s.gx, s.gx_batch_stride);
  update.gx_batch_stride = static_cast<size_t>(rows_);
  kernels_float.update(update);
}

}  // namespace tflstm::lstm
