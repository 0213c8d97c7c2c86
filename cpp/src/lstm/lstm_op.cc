// tflstm's UNIDIRECTIONAL_SEQUENCE_LSTM kernel: the fused float path of float_lstm.h for the
// plain LSTM that Keras models convert to, the integer path of int8_lstm.h for its full-integer
// (8x8_16) form, hybrid_lstm.h for its hybrid form (int8 weights, float activations), TFLite's
// builtin kernel for everything else (peephole, projection, layer norm, CIFG, diagonal
// recurrent weights, weights computed at run time, activation none or sign bit). Every node is
// checked first.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "float_lstm.h"
#include "hybrid_lstm.h"
#include "int8_lstm.h"
#include "lstm_check.h"
#include "lstm_op.h"
#include "lstm_sequence.h"
#include "rnn/op_util.h"
#include "rnn/pack_cache.h"
#include "rnn/sequence.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/kernels/lstm_shared.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm {
namespace lstm {
namespace {

namespace full = tflite::ops::builtin::lstm::full;
using rnn::IsConstant;
using rnn::LendUserData;
using rnn::PackedFor;
using rnn::PackKey;

const TfLiteRegistration& Builtin() {
  static const TfLiteRegistration* const builtin = tflite::ops::builtin::Register_UNIDIRECTIONAL_SEQUENCE_LSTM();
  return *builtin;
}

enum Temporary { kProjection = 0, kState = 1, kTemporaries = 2 };

struct OpData {
  void* builtin = nullptr;  // TFLite's kernel's own data, for the configurations it runs
  int first_temporary = -1;
  bool fast = false;
  bool packed = false;  // `weights` hold the current weight tensors
  LstmDims dims;
  bool time_major = false;
  float cell_clip = 0.0f;
  Activation activation = Activation::kTanh;
  size_t state_stride = 0;  // floats per batch row of the padded h and c
  std::shared_ptr<const PackedWeights> weights;
  const Kernels* kernels = nullptr;
  bool hybrid = false;  // a fast node with int8 weights: `hybrid_lstm` holds them
  HybridLstm hybrid_lstm;
  std::unique_ptr<Int8Lstm> int8;  // the integer kernel of int8_lstm.h, when it runs the node
};

std::optional<Activation> FastActivation(TfLiteFusedActivation a) {
  switch (a) {
    case kTfLiteActTanh: return Activation::kTanh;
    case kTfLiteActRelu: return Activation::kRelu;
    case kTfLiteActRelu6: return Activation::kRelu6;
    case kTfLiteActReluN1To1: return Activation::kReluN1To1;
    default: return std::nullopt;  // TFLite's kernel leaves its buffers unwritten for "none"
  }
}

// Whether every weight and bias is in the model's bytes (not computed by an op).
bool WeightsInModel(const TfLiteContext* context, const TfLiteNode* node) {
  for (int i = full::kInputToInputWeightsTensor; i <= full::kOutputGateBiasTensor; ++i) {
    const TfLiteTensor* t = OptionalInput(context, node, i);
    if (t != nullptr && t->allocation_type != kTfLiteMmapRo) return false;
  }
  return true;
}

// A per-tensor scale with zero point 0 (what TFLite's hybrid LSTM reads), not per channel.
bool PerTensorSymmetric(const TfLiteTensor* t) {
  if (t->params.zero_point != 0) return false;
  if (t->quantization.type != kTfLiteAffineQuantization || t->quantization.params == nullptr) return true;
  const auto* q = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
  return (q->scale == nullptr || q->scale->size <= 1) && (q->zero_point == nullptr || q->zero_point->size <= 1);
}

// Whether the fused path covers this (checked) node: float weights, or (hybrid) int8 ones.
bool FastPathCovers(const TfLiteContext* context, const TfLiteNode* node, bool hybrid, Activation* activation) {
  const auto* params = static_cast<const TfLiteUnidirectionalSequenceLSTMParams*>(node->builtin_data);
  const std::optional<Activation> act = FastActivation(params->activation);
  if (!act || params->diagonal_recurrent_tensors) return false;
  if (OptionalInput(context, node, full::kInputTensor)->type != kTfLiteFloat32) return false;
  for (int i = full::kInputToInputWeightsTensor; i <= full::kOutputGateBiasTensor; ++i) {
    if (i >= full::kCellToInputWeightsTensor && i <= full::kCellToOutputWeightsTensor) continue;
    const TfLiteTensor* t = OptionalInput(context, node, i);  // absent for CIFG
    const bool weights = i < full::kInputGateBiasTensor;
    if (!IsConstant(t) || t->type != (hybrid && weights ? kTfLiteInt8 : kTfLiteFloat32)) return false;
    if (hybrid && weights && !PerTensorSymmetric(t)) return false;
  }
  if (OptionalInput(context, node, full::kRecurrentToOutputWeightsTensor)->dims->size != 2) return false;
  for (int i : {full::kCellToInputWeightsTensor, full::kCellToForgetWeightsTensor, full::kCellToOutputWeightsTensor,
                full::kProjectionWeightsTensor, full::kProjectionBiasTensor, full::kInputLayerNormCoefficientsTensor,
                full::kForgetLayerNormCoefficientsTensor, full::kCellLayerNormCoefficientsTensor,
                full::kOutputLayerNormCoefficientsTensor}) {
    if (OptionalInput(context, node, i) != nullptr) return false;
  }
  *activation = *act;
  return true;
}

TfLiteStatus PackHybrid(TfLiteContext* context, const TfLiteNode* node, OpData& data, bool in_model) {
  HybridLstm::Gates gates[2];  // input and recurrent weights
  const float* bias[kGates];
  for (int g = 0; g < kGates; ++g) {
    for (int k = 0; k < 2; ++k) {
      const TfLiteTensor* t = OptionalInput(
          context, node, (k ? full::kRecurrentToInputWeightsTensor : full::kInputToInputWeightsTensor) + g);
      gates[k].weights[g] = t->data.int8;
      gates[k].scale[g] = t->params.scale;
      TF_LITE_ENSURE(context, t->data.int8 != nullptr);
    }
    bias[g] = OptionalInput(context, node, full::kInputGateBiasTensor + g)->data.f;
    TF_LITE_ENSURE(context, bias[g] != nullptr);
  }
  PackHybridLstm(data.hybrid_lstm, gates, bias, data.dims.n_input, data.dims.n_cell, in_model);
  data.packed = true;
  return kTfLiteOk;
}

// Packs the weights once their data is there (a persistent tensor's after its producer ran).
TfLiteStatus Pack(TfLiteContext* context, const TfLiteNode* node, OpData& data, bool in_model) {
  if (data.hybrid) return PackHybrid(context, node, data, in_model);
  const float* gates[3][kGates];  // input weights, recurrent weights, biases
  for (int g = 0; g < kGates; ++g) {
    const int tensors[3] = {full::kInputToInputWeightsTensor + g, full::kRecurrentToInputWeightsTensor + g,
                            full::kInputGateBiasTensor + g};
    for (int k = 0; k < 3; ++k) {
      gates[k][g] = OptionalInput(context, node, tensors[k])->data.f;
      if (gates[k][g] == nullptr) {
        context->ReportError(context, "UNIDIRECTIONAL_SEQUENCE_LSTM: weight tensor %d has no data", tensors[k]);
        return kTfLiteError;
      }
    }
  }
  data.weights = PackLstm(gates, data.dims.n_input, data.dims.n_cell, in_model);
  data.packed = true;
  return kTfLiteOk;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE_OK(context, CheckLstmNode(context, node, &data.dims));
  data.int8.reset();
  if (data.first_temporary >= 0 && Int8Lstm::Covers(context, node)) {
    data.fast = false;
    data.hybrid = false;
    data.int8 = std::make_unique<Int8Lstm>();
    return data.int8->Prepare(context, node, data.dims, data.first_temporary);
  }
  data.hybrid = data.first_temporary >= 0 && FastPathCovers(context, node, true, &data.activation);
  data.fast = data.hybrid || (data.first_temporary >= 0 && FastPathCovers(context, node, false, &data.activation));
  data.packed = false;
  if (!data.fast) {
    LendUserData lend(node, data.builtin);
    return Builtin().prepare(context, node);
  }
  const auto* params = static_cast<const TfLiteUnidirectionalSequenceLSTMParams*>(node->builtin_data);
  data.time_major = params->time_major;
  data.cell_clip = params->cell_clip;
  data.kernels = &BestKernels();
  const LstmDims& d = data.dims;

  const TfLiteTensor* input = OptionalInput(context, node, full::kInputTensor);
  TfLiteIntArray* output_shape = TfLiteIntArrayCopy(input->dims);
  output_shape->data[2] = d.n_cell;
  TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, &context->tensors[node->outputs->data[0]], output_shape));

  const size_t blocks = static_cast<size_t>(Blocks(d.n_cell));
  data.state_stride = blocks * kBlockUnits;
  TfLiteIntArrayFree(node->temporaries);
  node->temporaries = TfLiteIntArrayCreate(kTemporaries);
  const size_t rows = rnn::SequenceShape{d.batch, d.time, data.time_major, 0}.ChunkRows();
  constexpr const char* kOp = "UNIDIRECTIONAL_SEQUENCE_LSTM";
  TF_LITE_ENSURE_OK(context, rnn::ResizeTemporary(context, node, data.first_temporary, kProjection,
                                                  rows * blocks * kBlockWidth, kOp));
  TF_LITE_ENSURE_OK(
      context, rnn::ResizeTemporary(context, node, data.first_temporary, kState, 3 * d.batch * data.state_stride, kOp));

  if (data.hybrid) {
    data.hybrid_lstm.kernels = &BestHybridKernels();
    data.hybrid_lstm.Configure(d.n_input, d.n_cell, static_cast<int>(rows), d.batch,
                               params->asymmetric_quantize_inputs);
  }
  data.weights.reset();
  return WeightsInModel(context, node) ? Pack(context, node, data, true) : kTfLiteOk;
}

TfLiteStatus Invoke(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  if (data.int8) return data.int8->Invoke(context, node);
  if (!data.fast) {
    LendUserData lend(node, data.builtin);
    return Builtin().invoke(context, node);
  }
  if (!data.packed) TF_LITE_ENSURE_OK(context, Pack(context, node, data, false));
  const LstmDims& d = data.dims;
  LstmSequence run;
  run.batch = d.batch;
  run.time = d.time;
  run.n_input = d.n_input;
  run.n_cell = d.n_cell;
  run.time_major = data.time_major;
  run.state_stride = data.state_stride;
  run.kernels = data.kernels;
  run.weights = data.hybrid ? nullptr : data.weights.get();
  run.hybrid = data.hybrid ? &data.hybrid_lstm : nullptr;
  run.cell_clip = data.cell_clip;
  run.activation = data.activation;
  return RunLstmSequence(context, run, OptionalInput(context, node, full::kInputTensor)->data.f,
                         context->tensors[node->outputs->data[0]].data.f,
                         VariableState(context->tensors[node->inputs->data[full::kOutputStateTensor]].data.f),
                         VariableState(context->tensors[node->inputs->data[full::kCellStateTensor]].data.f),
                         context->tensors[node->temporaries->data[kProjection]].data.f,
                         context->tensors[node->temporaries->data[kState]].data.f);
}

}  // namespace

const char* NodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (registration.invoke != &Invoke || node.user_data == nullptr) return nullptr;
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  if (data.int8) return data.int8->Name();
  if (data.hybrid) return data.hybrid_lstm.kernels->name;
  return data.fast ? data.kernels->name : "tflite";
}

size_t NodeKernelBytes(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (registration.invoke != &Invoke || node.user_data == nullptr) return 0;
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  const PackedWeights* w = data.weights.get();
  return (w ? (w->input.capacity() + w->recurrent.capacity() + w->bias.capacity()) * sizeof(float) : 0) +
         data.hybrid_lstm.WeightBytes() + (data.int8 ? data.int8->Bytes() : 0);
}

size_t NodeScratchBytes(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (registration.invoke != &Invoke || node.user_data == nullptr) return 0;
  return static_cast<const OpData*>(node.user_data)->hybrid_lstm.ScratchBytes();
}

const void* NodePackedWeights(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (registration.invoke != &Invoke || node.user_data == nullptr) return nullptr;
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  if (data.int8) return data.int8->weights();
  if (data.hybrid) return data.hybrid_lstm.weights();
  return data.fast ? data.weights.get() : nullptr;
}

}  // namespace lstm

void AddTflstmLstmKernel(tflite::MutableOpResolver& resolver) {
  static const TfLiteRegistration registration =
      rnn::RegistrationOf<lstm::OpData, lstm::kTemporaries, &lstm::Builtin>(lstm::Prepare, lstm::Invoke);
  resolver.AddBuiltin(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, &registration, 1, 4);
}

}  // namespace tflstm
