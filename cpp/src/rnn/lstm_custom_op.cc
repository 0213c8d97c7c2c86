// tflstm's TFLSTM_LSTM custom op (lstm_options.h's contract) on the fused LSTM kernels of
// lstm/float_lstm.h with the gate function as a parameter: float32 weights (and float16 ones a
// DEQUANTIZE makes float32 once), or int8 ones (hybrid: lstm/hybrid_lstm.h's products, x and h
// quantized per row asymmetrically, as the GRU op does; the cell update in float). Its operands
// are checked first (lstm_custom_check.h), in Prepare as in the model validator.
#include <memory>
#include <string>
#include <vector>

#include "lstm/lstm_sequence.h"
#include "lstm_custom_check.h"
#include "node_operands.h"
#include "op_util.h"
#include "recurrent_ops.h"
#include "sequence.h"
#include "state_operands.h"

namespace tflstm::rnn {
namespace {

using lstm::kGates;

enum Temporary { kProjection = 0, kState = 1, kTemporaries = 2 };

struct OpData {
  void* builtin = nullptr;  // unused: no TFLite kernel runs this op
  int first_temporary = -1;
  LstmOptions options;
  LstmCustomDims dims;
  size_t state_stride = 0;
  bool constant = false;  // weights that cannot change: packed once
  bool hybrid = false;    // int8 weights
  bool packed = false;
  std::shared_ptr<const lstm::PackedWeights> weights;
  lstm::HybridLstm hybrid_lstm;
  const lstm::Kernels* kernels = nullptr;
};

TfLiteStatus Fail(TfLiteContext* context, const std::string& what) {
  context->ReportError(context, "%s: %s", kLstmCustomOp, what.c_str());
  return kTfLiteError;
}

// Packs the weights; weights in the model are packed once for every node that runs them.
TfLiteStatus Pack(TfLiteContext* context, const TfLiteNode* node, OpData& data, bool in_model) {
  const int units = data.dims.units, n_input = data.dims.n_input;
  const TfLiteTensor* w[2] = {OptionalInput(context, node, kLstmInputWeights),
                              OptionalInput(context, node, kLstmRecurrentWeights)};
  const TfLiteTensor* b = OptionalInput(context, node, kLstmBias);
  if (w[0]->data.raw == nullptr || w[1]->data.raw == nullptr || (b != nullptr && b->data.raw == nullptr)) {
    return Fail(context, "a weight tensor has no data");
  }
  std::vector<float> zeros;  // an absent bias
  if (b == nullptr) zeros.assign(static_cast<size_t>(kGates) * units, 0.0f);
  const float* bias = b != nullptr ? b->data.f : zeros.data();
  const float* bias_gates[kGates];
  for (int g = 0; g < kGates; ++g) bias_gates[g] = bias + static_cast<size_t>(g) * units;
  // A zero bias is the same packing whatever its address: only a model's bias names one.
  const bool shared = in_model && b != nullptr;
  if (data.hybrid) {
    lstm::HybridLstm::Gates gates[2];
    for (int k = 0; k < 2; ++k) {
      for (int g = 0; g < kGates; ++g) {
        gates[k].weights[g] = w[k]->data.int8 + static_cast<size_t>(g) * units * (k ? units : n_input);
        gates[k].scale[g] = w[k]->params.scale;
      }
    }
    lstm::PackHybridLstm(data.hybrid_lstm, gates, bias_gates, n_input, units, shared);
  } else {
    const float* gates[3][kGates];
    for (int g = 0; g < kGates; ++g) {
      gates[0][g] = w[0]->data.f + static_cast<size_t>(g) * units * n_input;
      gates[1][g] = w[1]->data.f + static_cast<size_t>(g) * units * units;
      gates[2][g] = bias_gates[g];
    }
    data.weights = lstm::PackLstm(gates, n_input, units, shared);
  }
  data.packed = true;
  return kTfLiteOk;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  std::string options_error;
  if (!ParseLstmOptions(static_cast<const uint8_t*>(node->custom_initial_data), node->custom_initial_data_size,
                        &data.options, &options_error)) {
    return Fail(context, options_error);
  }
  if (data.first_temporary < 0) return Fail(context, "no scratch tensors");
  const std::vector<GruOperandView> views = NodeOperandViews(context, node);
  const std::string error = CheckLstmOperands(views, TensorViews(context, node->outputs), data.options, &data.dims);
  if (!error.empty()) return Fail(context, error);
  const LstmCustomDims& d = data.dims;
  TfLiteIntArray* output_shape = TfLiteIntArrayCopy(OptionalInput(context, node, kLstmInput)->dims);
  output_shape->data[2] = d.units;
  TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, &context->tensors[node->outputs->data[0]], output_shape));
  TF_LITE_ENSURE_OK(context, ResizeStateOutputs(context, node, {kLstmFinalHidden, kLstmFinalCell}, d.batch, d.units));

  const size_t blocks = static_cast<size_t>(lstm::Blocks(d.units));
  data.state_stride = blocks * lstm::kBlockUnits;
  data.kernels = &lstm::BestKernels();
  data.hybrid = views[kLstmInputWeights].type == GruType::kInt8;
  const size_t rows = SequenceShape{d.batch, d.time, data.options.time_major, 0}.ChunkRows();
  if (data.hybrid) {
    data.hybrid_lstm.kernels = &lstm::BestHybridKernels();
    data.hybrid_lstm.Configure(d.n_input, d.units, static_cast<int>(rows), d.batch, /*asymmetric=*/true);
  }
  TfLiteIntArrayFree(node->temporaries);
  node->temporaries = TfLiteIntArrayCreate(kTemporaries);
  TF_LITE_ENSURE_OK(context, ResizeTemporary(context, node, data.first_temporary, kProjection,
                                             rows * blocks * lstm::kBlockWidth, kLstmCustomOp));
  // h, h's next, c (and with a mask c before the step: lstm/lstm_sequence.h)
  const size_t states = OptionalInput(context, node, kLstmMask) != nullptr ? 4 : 3;
  TF_LITE_ENSURE_OK(context, ResizeTemporary(context, node, data.first_temporary, kState,
                                             states * static_cast<size_t>(d.batch) * data.state_stride, kLstmCustomOp));
  data.constant = true;
  bool in_model = true;
  for (int i = kLstmInputWeights; i <= kLstmBias; ++i) {
    const TfLiteTensor* t = OptionalInput(context, node, i);
    data.constant = data.constant && (t == nullptr || IsConstant(t));
    in_model = in_model && (t == nullptr || t->allocation_type == kTfLiteMmapRo);
  }
  data.weights.reset();
  data.hybrid_lstm.Use(nullptr);
  data.packed = false;
  return in_model ? Pack(context, node, data, true) : kTfLiteOk;
}

TfLiteStatus Invoke(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  if (!data.packed || !data.constant) TF_LITE_ENSURE_OK(context, Pack(context, node, data, false));
  const LstmCustomDims& d = data.dims;
  lstm::LstmSequence run;
  run.batch = d.batch;
  run.time = d.time;
  run.n_input = d.n_input;
  run.n_cell = d.units;
  run.time_major = data.options.time_major;
  run.state_stride = data.state_stride;
  run.kernels = data.kernels;
  run.weights = data.hybrid ? nullptr : data.weights.get();
  run.hybrid = data.hybrid ? &data.hybrid_lstm : nullptr;
  run.activation = data.options.activation;
  run.gate = data.options.recurrent_activation;
  const TfLiteTensor* mask = OptionalInput(context, node, kLstmMask);
  if (mask != nullptr && mask->data.raw == nullptr) return Fail(context, "input 8 (mask) has no data");
  return lstm::RunLstmSequence(context, run, context->tensors[node->inputs->data[kLstmInput]].data.f,
                               context->tensors[node->outputs->data[0]].data.f,
                               StateOperandsOf(context, node, kLstmHidden, kLstmInitialHidden, kLstmFinalHidden),
                               StateOperandsOf(context, node, kLstmCell, kLstmInitialCell, kLstmFinalCell),
                               context->tensors[node->temporaries->data[kProjection]].data.f,
                               context->tensors[node->temporaries->data[kState]].data.f,
                               StepMask::Of(mask, data.options.zero_output_for_mask));
}

}  // namespace

const TfLiteRegistration& LstmCustomRegistration() {
  static const TfLiteRegistration registration = RegistrationOf<OpData, kTemporaries, &NoBuiltin>(Prepare, Invoke);
  return registration;
}

const char* LstmCustomNodeKernel(const TfLiteNode& node) {
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  if (data.kernels == nullptr) return nullptr;
  return data.hybrid ? data.hybrid_lstm.kernels->name : data.kernels->name;
}

size_t LstmCustomNodeBytes(const TfLiteNode& node) {
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  const lstm::PackedWeights* w = data.weights.get();
  return (w ? (w->input.capacity() + w->recurrent.capacity() + w->bias.capacity()) * sizeof(float) : 0) +
         data.hybrid_lstm.WeightBytes();
}

}  // namespace tflstm::rnn
