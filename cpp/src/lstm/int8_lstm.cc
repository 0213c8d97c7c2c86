#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "int8_lstm.h"
#include "rnn/pack_cache.h"
#include "rnn/sequence.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/lstm_shared.h"

namespace tflstm::lstm {

namespace {

namespace full = tflite::ops::builtin::lstm::full;

const TfLiteTensor& Input(const TfLiteContext* context, const TfLiteNode* node, int i) {
  return *OptionalInput(context, node, i);
}

QuantizedMultiplier Quantize(double scale) {
  QuantizedMultiplier q;
  tflite::QuantizeMultiplier(scale, &q.multiplier, &q.shift);
  return q;
}

}  // namespace

void PackInt8Gates(const int8_t* const gates[kGates], int units, int cols, int group, int8_t* out) {
  const int groups = (cols + group - 1) / group;
  for (int blk = 0; blk < Blocks(units); ++blk) {
    for (int k = 0; k < groups; ++k) {
      int8_t* dst = out + (static_cast<size_t>(blk) * groups + k) * kBlockWidth * group;
      for (int g = 0; g < kGates; ++g) {
        for (int j = 0; j < kBlockUnits; ++j) {
          for (int e = 0; e < group; ++e) {
            const int unit = blk * kBlockUnits + j;
            const int col = k * group + e;
            const bool inside = unit < units && col < cols;
            dst[(g * kBlockUnits + j) * group + e] = inside ? gates[g][static_cast<size_t>(unit) * cols + col] : 0;
          }
        }
      }
    }
  }
}

void Int8EffectiveBias(const int8_t* const gates[kGates], const int32_t* const bias[kGates], int32_t zero_point,
                       int units, int cols, int32_t* out) {
  std::fill(out, out + static_cast<size_t>(Blocks(units)) * kBlockWidth, 0);
  for (int g = 0; g < kGates; ++g) {
    for (int unit = 0; unit < units; ++unit) {
      int32_t row_sum = 0;  // as TFLite's MatrixScalarMultiplyAccumulate
      for (int k = 0; k < cols; ++k) row_sum += gates[g][static_cast<size_t>(unit) * cols + k];
      const int32_t b = bias[g] != nullptr ? bias[g][unit] : 0;
      // TFLite's int32 sum wraps on extreme biases (found by model_fuzzer): the same bits, in
      // unsigned arithmetic, where the wrap is defined.
      const uint32_t sum =
          static_cast<uint32_t>(b) + static_cast<uint32_t>(row_sum) * static_cast<uint32_t>(zero_point);
      out[(unit / kBlockUnits) * kBlockWidth + g * kBlockUnits + unit % kBlockUnits] = static_cast<int32_t>(sum);
    }
  }
}

bool Int8Lstm::Covers(const TfLiteContext* context, const TfLiteNode* node) {
  const auto* params = static_cast<const TfLiteUnidirectionalSequenceLSTMParams*>(node->builtin_data);
  if (params->diagonal_recurrent_tensors) return false;
  const TfLiteTensor* input = OptionalInput(context, node, full::kInputTensor);
  if (input->type != kTfLiteInt8 || node->intermediates == nullptr || node->intermediates->size != 5) return false;
  for (int i = full::kInputToInputWeightsTensor; i <= full::kOutputGateBiasTensor; ++i) {
    if (i >= full::kCellToInputWeightsTensor && i <= full::kCellToOutputWeightsTensor) continue;
    const TfLiteTensor* t = OptionalInput(context, node, i);  // absent for CIFG
    if (t == nullptr || t->allocation_type != kTfLiteMmapRo || t->data.raw == nullptr) return false;
    if (i < full::kInputGateBiasTensor) {
      if (t->type != kTfLiteInt8 || t->dims->size != 2) return false;
      const int8_t* w = t->data.int8;
      if (std::find(w, w + t->bytes, std::numeric_limits<int8_t>::min()) != w + t->bytes) return false;
    } else if (t->type != kTfLiteInt32) {
      return false;
    }
  }
  for (int i : {full::kCellToInputWeightsTensor, full::kCellToForgetWeightsTensor, full::kCellToOutputWeightsTensor,
                full::kProjectionWeightsTensor, full::kProjectionBiasTensor, full::kInputLayerNormCoefficientsTensor,
                full::kForgetLayerNormCoefficientsTensor, full::kCellLayerNormCoefficientsTensor,
                full::kOutputLayerNormCoefficientsTensor}) {
    if (OptionalInput(context, node, i) != nullptr) return false;
  }
  const TfLiteTensor* cell_state = OptionalInput(context, node, full::kCellStateTensor);
  int cell_scale = 0;
  if (!tflite::CheckedLog2(cell_state->params.scale, &cell_scale)) return false;
  // The scales at which TFLite computes tanh of the cell; the LSTM check (lstm_check.cc) refuses
  // the others before any kernel is chosen.
  return cell_scale >= -15 && cell_scale <= -9;
}

TfLiteStatus Int8Lstm::Prepare(TfLiteContext* context, TfLiteNode* node, const LstmDims& dims, int first_temporary) {
  const auto* op = static_cast<const TfLiteUnidirectionalSequenceLSTMParams*>(node->builtin_data);
  dims_ = dims;
  time_major_ = op->time_major;
  kernels_ = &BestInt8Kernels();

  // The effective scales, in TFLite's expressions and types (PopulateQuantizedLstmParams8x8_16).
  const TfLiteTensor& input = Input(context, node, full::kInputTensor);
  const TfLiteTensor& output_state = Input(context, node, full::kOutputStateTensor);
  const TfLiteTensor& cell_state = Input(context, node, full::kCellStateTensor);
  const TfLiteTensor& hidden = context->tensors[node->intermediates->data[4]];
  const auto* hidden_q = static_cast<const TfLiteAffineQuantization*>(hidden.quantization.params);
  const auto* cell_q = static_cast<const TfLiteAffineQuantization*>(cell_state.quantization.params);
  const float gate_scale = static_cast<float>(std::pow(2, -12));  // Q3.12 without layer norm
  const float hidden_scale = hidden_q->scale->data[0];
  const int8_t* w_in[kGates];
  const int8_t* w_rec[kGates];
  const int32_t* bias[kGates];
  for (int g = 0; g < kGates; ++g) {
    const TfLiteTensor& wi = Input(context, node, full::kInputToInputWeightsTensor + g);
    const TfLiteTensor& wr = Input(context, node, full::kRecurrentToInputWeightsTensor + g);
    const float in_scale = wi.params.scale * input.params.scale / gate_scale;
    const float rec_scale = wr.params.scale * output_state.params.scale / gate_scale;
    params_.input[g] = Quantize(in_scale);
    params_.recurrent[g] = Quantize(rec_scale);
    w_in[g] = wi.data.int8;
    w_rec[g] = wr.data.int8;
    bias[g] = Input(context, node, full::kInputGateBiasTensor + g).data.i32;
  }
  const float effective_hidden_scale = std::pow(2, -15) / hidden_scale * std::pow(2, -15);
  params_.hidden = Quantize(effective_hidden_scale);
  params_.hidden_zp = hidden_q->zero_point->data[0];
  TF_LITE_ENSURE(context, tflite::CheckedLog2(cell_state.params.scale, &params_.cell_scale));
  params_.cell_clip = 0;
  if (op->cell_clip > 0.0) {
    params_.cell_clip =
        static_cast<int16_t>(std::min(std::max(op->cell_clip / cell_q->scale->data[0], -32768.0f), 32767.0f));
  }

  const int n_cell = dims.n_cell;
  const int group = kernels_->group;
  rnn::PackKey key;  // Covers() took weights in the model only
  const int x_offset = kernels_->x_offset;
  key.Add(group)
      .Add(x_offset)
      .Add(dims.n_input)
      .Add(n_cell)
      .Add(input.params.zero_point)
      .Add(output_state.params.zero_point);
  for (int g = 0; g < kGates; ++g) key.Add(w_in[g]).Add(w_rec[g]).Add(bias[g]);
  weights_ = rnn::SharedPack<Int8Weights>(std::move(key), [&] {
    auto w = std::make_unique<Int8Weights>();
    w->input.assign(PackedInt8Size(n_cell, dims.n_input, group), 0);
    w->recurrent.assign(PackedInt8Size(n_cell, n_cell, group), 0);
    w->input_bias.assign(static_cast<size_t>(Blocks(n_cell)) * kBlockWidth, 0);
    w->recurrent_bias.assign(w->input_bias.size(), 0);
    PackInt8Gates(w_in, n_cell, dims.n_input, group, w->input.data());
    PackInt8Gates(w_rec, n_cell, n_cell, group, w->recurrent.data());
    const int32_t* no_bias[kGates] = {nullptr, nullptr, nullptr, nullptr};
    Int8EffectiveBias(w_in, bias, -input.params.zero_point - x_offset, n_cell, dims.n_input, w->input_bias.data());
    Int8EffectiveBias(w_rec, no_bias, -output_state.params.zero_point - x_offset, n_cell, n_cell,
                      w->recurrent_bias.data());
    return w;
  });

  TfLiteIntArray* output_shape = TfLiteIntArrayCopy(input.dims);
  output_shape->data[2] = n_cell;
  TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, &context->tensors[node->outputs->data[0]], output_shape));

  // Scratch: the projection of a chunk and its int16 inputs; h (twice), c and the gates.
  const size_t rows = rnn::SequenceShape{dims.batch, dims.time, time_major_, 0}.ChunkRows();
  const size_t padded = static_cast<size_t>(Int8Padded(n_cell));
  const size_t sizes[2] = {rows * (static_cast<size_t>(Blocks(n_cell)) * kBlockWidth + Int8Columns(dims.n_input)),
                           static_cast<size_t>(dims.batch) * padded * (3 + kGates)};
  TfLiteIntArrayFree(node->temporaries);
  node->temporaries = TfLiteIntArrayCreate(2);
  for (int k = 0; k < 2; ++k) {
    node->temporaries->data[k] = first_temporary + k;
    TfLiteTensor* t = &context->tensors[first_temporary + k];
    TF_LITE_ENSURE(context, sizes[k] <= static_cast<size_t>(std::numeric_limits<int>::max()));
    t->type = kTfLiteInt16;
    t->allocation_type = kTfLiteArenaRw;
    TfLiteIntArray* shape = TfLiteIntArrayCreate(1);
    shape->data[0] = static_cast<int>(sizes[k]);
    TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, t, shape));
  }
  return kTfLiteOk;
}

TfLiteStatus Int8Lstm::Invoke(TfLiteContext* context, TfLiteNode* node) const {
  const LstmDims& d = dims_;
  const TfLiteTensor& input = Input(context, node, full::kInputTensor);
  TfLiteTensor& output = context->tensors[node->outputs->data[0]];
  TfLiteTensor& output_state = context->tensors[node->inputs->data[full::kOutputStateTensor]];
  TfLiteTensor& cell_state = context->tensors[node->inputs->data[full::kCellStateTensor]];
  int16_t* projection = context->tensors[node->temporaries->data[0]].data.i16;
  int16_t* state = context->tensors[node->temporaries->data[1]].data.i16;
  TF_LITE_ENSURE(context, projection != nullptr && state != nullptr && input.data.int8 != nullptr &&
                              output.data.int8 != nullptr && output_state.data.int8 != nullptr &&
                              cell_state.data.i16 != nullptr);

  const size_t n = static_cast<size_t>(d.n_cell);
  const size_t padded = static_cast<size_t>(Int8Padded(d.n_cell));
  const size_t row = static_cast<size_t>(Blocks(d.n_cell)) * kBlockWidth;
  const size_t x_cols = static_cast<size_t>(Int8Columns(d.n_input));
  const rnn::SequenceShape shape{d.batch, d.time, time_major_, row};
  const size_t rows = shape.ChunkRows();
  int16_t* gx = projection;
  int16_t* x16 = projection + rows * row;
  int16_t* h_prev = state;
  int16_t* h_next = state + d.batch * padded;
  int16_t* c = state + 2 * d.batch * padded;
  int16_t* gates = state + 3 * d.batch * padded;
  std::fill(state, state + 3 * d.batch * padded, int16_t{0});
  std::fill(x16, x16 + rows * x_cols, int16_t{0});  // the padding column stays 0
  rnn::CopyRows(output_state.data.int8, n, h_prev, padded, d.batch, n);
  rnn::CopyRows(cell_state.data.i16, n, c, padded, d.batch, n);

  const Int8Kernels& kernels = *kernels_;
  Int8StepArgs step{weights_->recurrent.data(),
                    weights_->recurrent_bias.data(),
                    gx,
                    0,
                    h_prev,
                    h_next,
                    c,
                    gates,
                    d.batch,
                    d.n_cell,
                    &params_};
  rnn::RunSequence(
      shape, gx,
      [&](size_t first, int count, int16_t* out) {
        const size_t n_in = static_cast<size_t>(d.n_input);
        rnn::CopyRows(input.data.int8 + first * n_in, n_in, x16, x_cols, count, n_in);
        kernels.project(
            {x16, count, d.n_input, d.n_cell, weights_->input.data(), weights_->input_bias.data(), &params_, out});
      },
      [&](int t, const int16_t* gx_t, size_t gx_batch_stride) {
        step.gx = gx_t;
        step.gx_batch_stride = gx_batch_stride;
        step.h_prev = h_prev;
        step.h_next = h_next;
        kernels.gates(step);
        kernels.cell(step);
        for (int b = 0; b < d.batch; ++b) {
          std::copy_n(h_next + b * padded, n, output.data.int8 + shape.Row(t, b) * n);  // values in [-128, 127]
        }
        std::swap(h_prev, h_next);
      });
  rnn::CopyRows(h_prev, padded, output_state.data.int8, n, d.batch, n);
  rnn::CopyRows(c, padded, cell_state.data.i16, n, d.batch, n);
  return kTfLiteOk;
}

}  // namespace tflstm::lstm
