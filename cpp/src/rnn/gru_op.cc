// tflstm's TFLSTM_GRU custom op (gru_options.h's contract) on the fused GRU kernels of gru.h:
// float32 weights (and float16 ones a DEQUANTIZE makes float32 once), or int8 ones (hybrid: the
// products of lstm/hybrid_lstm.h with x and h quantized per row, asymmetrically, as TFLite's
// hybrid kernels do; the gates in float). Its operands are checked first (gru_check.h), in
// Prepare as in the model validator.
#include <memory>
#include <string>
#include <vector>

#include "float_sequence.h"
#include "gru.h"
#include "gru_check.h"
#include "lstm/hybrid_lstm.h"
#include "node_operands.h"
#include "op_util.h"
#include "pack_cache.h"
#include "recurrent_ops.h"

namespace tflstm::rnn {
namespace {

enum Temporary { kProjection = 0, kState = 1, kTemporaries = 2 };

struct OpData {
  void* builtin = nullptr;  // unused: no TFLite kernel runs a GRU
  int first_temporary = -1;
  GruOptions options;
  GruDims dims;
  SequenceShape shape;
  size_t stride = 0;
  bool constant = false;  // weights that cannot change: packed once
  bool int8 = false;      // int8 weights
  bool hybrid = false;    // int8 weights and reset_after: the hybrid kernel (else dequantized to float)
  std::shared_ptr<const GruWeights> weights;
  lstm::HybridLstm hybrid_layer;            // hybrid: the int8 products and their weights
  AlignedVector<float> recurrent_bias_row;  // hybrid: one GruLayout row, h's recurrent bias (z, r: 0)
  const GruKernels* kernels = nullptr;
  std::string name;  // the kernel's name
};

TfLiteStatus Fail(TfLiteContext* context, const std::string& what) {
  context->ReportError(context, "%s: %s", kGruCustomOp, what.c_str());
  return kTfLiteError;
}

const float* FloatData(const TfLiteTensor* t) { return t != nullptr ? t->data.f : nullptr; }

// w as float: int8 weights dequantized with their scale.
std::vector<float> Dequantized(const TfLiteTensor& w) {
  std::vector<float> f(w.bytes);
  for (size_t k = 0; k < w.bytes; ++k) f[k] = w.data.int8[k] * w.params.scale;
  return f;
}

// z, r and h's biases as the projection adds them: the input biases, plus the recurrent ones that
// add outside the reset gate's product (z's and r's: h's is inside it, reset_after).
std::vector<float> FoldedBias(const float* b_in, const float* b_rec, int units) {
  std::vector<float> bias(3 * static_cast<size_t>(units), 0.0f);
  for (size_t k = 0; k < bias.size(); ++k) {
    bias[k] = (b_in ? b_in[k] : 0.0f) + (b_rec && k < 2 * static_cast<size_t>(units) ? b_rec[k] : 0.0f);
  }
  return bias;
}

TfLiteStatus PackHybrid(const TfLiteTensor* const w[4], OpData& data, bool in_model, PackKey key) {
  const int units = data.dims.units;
  lstm::HybridLstm::Gates gates[2];  // input, recurrent
  for (int k = 0; k < 2; ++k) {
    for (int g = 0; g < kGruGates; ++g) {
      gates[k].weights[g] = w[k]->data.int8 + static_cast<size_t>(g) * units * (k ? units : data.dims.n_input);
      gates[k].scale[g] = w[k]->params.scale;
    }
    key.Add(w[k]->params.scale);
  }
  key.Add(data.hybrid_layer.kernels);
  const std::vector<float> bias = FoldedBias(FloatData(w[2]), FloatData(w[3]), units);
  const float* bias_gates[lstm::kGates] = {bias.data(), bias.data() + units, bias.data() + 2 * units, nullptr};
  data.hybrid_layer.Use(PackedFor<lstm::HybridWeights>(
      in_model, std::move(key), [&] { return data.hybrid_layer.Pack(gates[0], gates[1], bias_gates); }));
  // The recurrent bias of h as a row the recurrent product adds to (z's and r's are in the projection's).
  std::vector<float> zeros(units, 0.0f), bias_h(units, 0.0f);
  if (w[3] != nullptr) std::copy_n(w[3]->data.f + 2 * units, units, bias_h.begin());
  const float* rows[kGruGates] = {zeros.data(), zeros.data(), bias_h.data()};
  data.recurrent_bias_row.assign(GruLayout::Row(units), 0.0f);
  PackBlocked<kGruGates, kGruUnits>(rows, units, 1, data.recurrent_bias_row.data());
  return kTfLiteOk;
}

// Packs the weights; weights in the model are packed once for every node that runs them.
TfLiteStatus Pack(TfLiteContext* context, const TfLiteNode* node, OpData& data) {
  const TfLiteTensor* w[4];
  bool in_model = true;
  PackKey key;
  key.Add(data.dims.n_input).Add(data.dims.units).Add(static_cast<int>(data.options.reset_after));
  for (int i = 0; i < 4; ++i) {
    w[i] = OptionalInput(context, node, kGruInputWeights + i);
    if (w[i] != nullptr && w[i]->data.raw == nullptr) return Fail(context, "a weight tensor has no data");
    in_model = in_model && (w[i] == nullptr || w[i]->allocation_type == kTfLiteMmapRo);
    key.Add(w[i] != nullptr ? w[i]->data.raw : nullptr);
  }
  if (data.hybrid) return PackHybrid(w, data, in_model, std::move(key));
  auto pack = [&] {
    if (!data.int8) {
      return std::make_unique<GruWeights>(PackGru(w[0]->data.f, w[1]->data.f, FloatData(w[2]), FloatData(w[3]),
                                                  data.dims.n_input, data.dims.units, data.options.reset_after));
    }
    const std::vector<float> wi = Dequantized(*w[0]), wr = Dequantized(*w[1]);  // reset_after false
    return std::make_unique<GruWeights>(PackGru(wi.data(), wr.data(), FloatData(w[2]), FloatData(w[3]),
                                                data.dims.n_input, data.dims.units, data.options.reset_after));
  };
  data.weights = PackedFor<GruWeights>(in_model, std::move(key), pack);
  return kTfLiteOk;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  std::string options_error;
  if (!ParseGruOptions(static_cast<const uint8_t*>(node->custom_initial_data), node->custom_initial_data_size,
                       &data.options, &options_error)) {
    return Fail(context, options_error);
  }
  if (data.first_temporary < 0) return Fail(context, "no scratch tensors");
  const std::vector<GruOperandView> inputs = NodeOperandViews(context, node);
  const std::string error = CheckGruOperands(inputs, TensorViews(context, node->outputs), data.options, &data.dims);
  if (!error.empty()) return Fail(context, error);
  const GruDims& d = data.dims;
  TfLiteIntArray* output_shape = TfLiteIntArrayCopy(OptionalInput(context, node, kGruInput)->dims);
  output_shape->data[2] = d.units;
  TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, &context->tensors[node->outputs->data[0]], output_shape));
  if (node->outputs->size > kGruFinalState && node->outputs->data[kGruFinalState] >= 0) {
    TfLiteIntArray* state_shape = TfLiteIntArrayCreate(2);
    state_shape->data[0] = d.batch;
    state_shape->data[1] = d.units;
    TF_LITE_ENSURE_OK(
        context, context->ResizeTensor(context, &context->tensors[node->outputs->data[kGruFinalState]], state_shape));
  }

  data.shape = {d.batch, d.time, data.options.time_major, GruLayout::Row(d.units)};
  data.stride = static_cast<size_t>(GruLayout::Blocks(d.units)) * kGruUnits;
  data.kernels = &Best<GruKernels>();
  data.int8 = inputs[kGruInputWeights].type == GruType::kInt8;
  data.hybrid = data.int8 && data.options.reset_after;
  data.name = data.kernels->name;
  if (data.hybrid) {
    data.hybrid_layer.kernels = &lstm::BestHybridKernels();
    data.hybrid_layer.Configure(d.n_input, d.units, static_cast<int>(data.shape.ChunkRows()), d.batch,
                                /*asymmetric=*/true, kGruGates, kGruUnits);
    data.name = "gru-" + std::string(data.hybrid_layer.kernels->name);
  }
  TfLiteIntArrayFree(node->temporaries);
  node->temporaries = TfLiteIntArrayCreate(kTemporaries);
  TF_LITE_ENSURE_OK(context, ResizeTemporary(context, node, data.first_temporary, kProjection,
                                             data.shape.ChunkRows() * data.shape.row, kGruCustomOp));
  // h twice, then (reset_after false) z and r * h.
  TF_LITE_ENSURE_OK(context, ResizeTemporary(context, node, data.first_temporary, kState,
                                             4 * static_cast<size_t>(d.batch) * data.stride, kGruCustomOp));
  data.constant = true;
  bool in_model = true;
  for (int i = kGruInputWeights; i <= kGruRecurrentBias; ++i) {
    const TfLiteTensor* t = OptionalInput(context, node, i);
    data.constant = data.constant && (t == nullptr || IsConstant(t));
    in_model = in_model && (t == nullptr || t->allocation_type == kTfLiteMmapRo);
  }
  data.weights.reset();
  data.hybrid_layer.Use(nullptr);
  return in_model ? Pack(context, node, data) : kTfLiteOk;
}

TfLiteStatus Invoke(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  const bool packed = data.hybrid ? data.hybrid_layer.weights() != nullptr : data.weights != nullptr;
  if (!packed || !data.constant) TF_LITE_ENSURE_OK(context, Pack(context, node, data));
  const GruDims& d = data.dims;
  const GruKernels& k = *data.kernels;
  const StateOperands state = StateOperandsOf(context, node, kGruHidden, kGruInitialState, kGruFinalState);
  const TfLiteTensor* mask_tensor = OptionalInput(context, node, kGruMask);
  if (mask_tensor != nullptr && mask_tensor->data.raw == nullptr) return Fail(context, "input 7 (mask) has no data");
  const StepMask mask = StepMask::Of(mask_tensor, data.options.zero_output_for_mask);
  if (data.hybrid) {
    lstm::HybridLstm& layer = data.hybrid_layer;
    GruUpdateArgs update{nullptr,
                         0,
                         nullptr,
                         layer.Row(),
                         nullptr,
                         nullptr,
                         data.stride,
                         d.batch,
                         d.units,
                         data.options.recurrent_activation,
                         data.options.activation};
    return InvokeFloatLayer(
        context, node, state, data.shape, d.n_input, d.units, data.stride,
        [&](const float* x, int count, float* to) { layer.Project(x, count, to); },
        [&](const float* gx, size_t gx_batch_stride, const float* h_prev, float* h_next) {
          update.rec = layer.Recurrent(h_prev, data.stride, d.batch, data.recurrent_bias_row.data(), 0);
          update.gx = gx;
          update.gx_batch_stride = gx_batch_stride;
          update.h_prev = h_prev;
          update.h_next = h_next;
          k.update(update);
        },
        mask);
  }
  float* scratch = context->tensors[node->temporaries->data[kState]].data.f;
  TF_LITE_ENSURE(context, scratch != nullptr);
  const GruStepArgs step{data.weights.get(),
                         nullptr,
                         0,
                         nullptr,
                         nullptr,
                         scratch + 2 * static_cast<size_t>(d.batch) * data.stride,  // after h twice
                         data.stride,
                         d.batch,
                         d.units,
                         data.options.recurrent_activation,
                         data.options.activation};
  return InvokeFloatKernels(context, node, state, data.shape, d.n_input, d.units, data.stride, k, *data.weights, step,
                            mask);
}

}  // namespace

const TfLiteRegistration& GruRegistration() {
  static const TfLiteRegistration registration = RegistrationOf<OpData, kTemporaries, &NoBuiltin>(Prepare, Invoke);
  return registration;
}

const char* GruNodeKernel(const TfLiteNode& node) {
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  return data.kernels != nullptr ? data.name.c_str() : nullptr;
}

size_t GruNodeBytes(const TfLiteNode& node) {
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  return (data.weights ? data.weights->Bytes() : 0) + data.hybrid_layer.WeightBytes() +
         data.recurrent_bias_row.capacity() * sizeof(float);
}

}  // namespace tflstm::rnn
