// tflstm's UNIDIRECTIONAL_SEQUENCE_RNN kernel (what a Keras SimpleRNN is as one stock op): the
// fused float kernel of gru.h for float32 weights that cannot change, TFLite's builtin kernel for
// everything else (hybrid weights, weights computed at run time, the sign-bit activation).
// TFLite's Prepare checks the node (after tflstm's check of the ranks it reads unchecked).
#include <memory>
#include <optional>

#include "float_sequence.h"
#include "gru.h"
#include "op_util.h"
#include "pack_cache.h"
#include "recurrent_ops.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"

namespace tflstm::rnn {
namespace {

constexpr const char* kOp = "UNIDIRECTIONAL_SEQUENCE_RNN";
enum Operand { kInput = 0, kWeights = 1, kRecurrent = 2, kBias = 3, kHidden = 4 };
enum Temporary { kProjection = 0, kState = 1, kTemporaries = 2 };

const TfLiteRegistration& Builtin() {
  static const TfLiteRegistration* const builtin = tflite::ops::builtin::Register_UNIDIRECTIONAL_SEQUENCE_RNN();
  return *builtin;
}

struct OpData {
  void* builtin = nullptr;
  int first_temporary = -1;
  bool fast = false;
  SequenceShape shape;
  int n_input = 0;
  int units = 0;
  size_t stride = 0;
  Act activation = Act::kTanh;
  std::shared_ptr<const RnnWeights> weights;
  const RnnKernels* kernels = nullptr;
};

std::optional<Act> FastActivation(TfLiteFusedActivation a) {
  switch (a) {
    case kTfLiteActNone: return Act::kLinear;
    case kTfLiteActRelu: return Act::kRelu;
    case kTfLiteActReluN1To1: return Act::kReluN1To1;
    case kTfLiteActRelu6: return Act::kRelu6;
    case kTfLiteActTanh: return Act::kTanh;
    case kTfLiteActSigmoid: return Act::kSigmoid;
    default: return std::nullopt;
  }
}

// The ranks TFLite's Prepare reads dimensions of without checking them.
TfLiteStatus CheckRanks(TfLiteContext* context, const TfLiteNode* node) {
  static constexpr int kRanks[] = {3, 2, 2, 1, 2};
  static constexpr const char* kNames[] = {"input", "input weights", "recurrent weights", "bias", "hidden state"};
  if (node->inputs->size != 5 || node->outputs->size != 1) {
    context->ReportError(context, "%s: %d inputs and %d outputs; the op takes 5 and 1", kOp, node->inputs->size,
                         node->outputs->size);
    return kTfLiteError;
  }
  for (int i = 0; i < 5; ++i) {
    const TfLiteTensor* t = OptionalInput(context, node, i);
    if (t == nullptr || t->dims == nullptr || t->dims->size != kRanks[i]) {
      context->ReportError(context, "%s: the %s (input %d) must be a tensor of rank %d", kOp, kNames[i], i, kRanks[i]);
      return kTfLiteError;
    }
  }
  return kTfLiteOk;
}

// Packs the weights once their data is there (a persistent tensor's after its producer ran);
// weights in the model are packed once for every node that runs them (pack_cache.h).
TfLiteStatus Pack(TfLiteContext* context, const TfLiteNode* node, OpData& data) {
  const TfLiteTensor* w[3] = {OptionalInput(context, node, kWeights), OptionalInput(context, node, kRecurrent),
                              OptionalInput(context, node, kBias)};
  bool in_model = true;
  PackKey key;
  key.Add(data.n_input).Add(data.units);
  for (const TfLiteTensor* t : w) {
    TF_LITE_ENSURE(context, t->data.f != nullptr);
    in_model = in_model && t->allocation_type == kTfLiteMmapRo;
    key.Add(t->data.f);
  }
  auto pack = [&] {
    return std::make_unique<RnnWeights>(PackRnn(w[0]->data.f, w[1]->data.f, w[2]->data.f, data.n_input, data.units));
  };
  data.weights = PackedFor<RnnWeights>(in_model, std::move(key), pack);
  return kTfLiteOk;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE_OK(context, CheckRanks(context, node));
  {
    LendUserData lend(node, data.builtin);
    TF_LITE_ENSURE_OK(context, Builtin().prepare(context, node));
  }
  const auto* params = static_cast<const TfLiteSequenceRNNParams*>(node->builtin_data);
  const std::optional<Act> act = FastActivation(params->activation);
  data.fast =
      data.first_temporary >= 0 && act.has_value() && OptionalInput(context, node, kInput)->type == kTfLiteFloat32;
  for (int i : {kWeights, kRecurrent, kBias}) {
    const TfLiteTensor* t = OptionalInput(context, node, i);
    data.fast = data.fast && IsConstant(t) && t->type == kTfLiteFloat32;
  }
  data.weights.reset();
  if (!data.fast) return kTfLiteOk;
  const TfLiteTensor* input = OptionalInput(context, node, kInput);
  data.activation = *act;
  data.n_input = input->dims->data[2];
  data.units = OptionalInput(context, node, kWeights)->dims->data[0];
  data.shape = {params->time_major ? input->dims->data[1] : input->dims->data[0],
                params->time_major ? input->dims->data[0] : input->dims->data[1], params->time_major,
                RnnLayout::Row(data.units)};
  data.stride = static_cast<size_t>(RnnLayout::Blocks(data.units)) * kRnnUnits;
  data.kernels = &Best<RnnKernels>();
  TfLiteIntArrayFree(node->temporaries);
  node->temporaries = TfLiteIntArrayCreate(kTemporaries);
  TF_LITE_ENSURE_OK(context, ResizeTemporary(context, node, data.first_temporary, kProjection,
                                             data.shape.ChunkRows() * data.shape.row, kOp));
  TF_LITE_ENSURE_OK(
      context, ResizeTemporary(context, node, data.first_temporary, kState, 2 * data.shape.batch * data.stride, kOp));
  for (int i : {kWeights, kRecurrent, kBias}) {
    if (OptionalInput(context, node, i)->allocation_type != kTfLiteMmapRo) return kTfLiteOk;  // packed at the first run
  }
  return Pack(context, node, data);
}

TfLiteStatus Invoke(TfLiteContext* context, TfLiteNode* node) {
  OpData& data = *static_cast<OpData*>(node->user_data);
  if (!data.fast) {
    LendUserData lend(node, data.builtin);
    return Builtin().invoke(context, node);
  }
  if (!data.weights) TF_LITE_ENSURE_OK(context, Pack(context, node, data));
  const RnnStepArgs step{data.weights->recurrent.data(),
                         nullptr,
                         0,
                         nullptr,
                         nullptr,
                         data.stride,
                         data.shape.batch,
                         data.units,
                         data.activation};
  return InvokeFloatKernels(context, node, StateOperandsOf(context, node, kHidden, -1, -1), data.shape, data.n_input,
                            data.units, data.stride, *data.kernels, *data.weights, step);
}

}  // namespace

const TfLiteRegistration& SimpleRnnRegistration() {
  static const TfLiteRegistration registration = RegistrationOf<OpData, kTemporaries, &Builtin>(Prepare, Invoke);
  return registration;
}

const char* SimpleRnnNodeKernel(const TfLiteNode& node) {
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  return data.fast ? data.kernels->name : "tflite";
}

size_t SimpleRnnNodeBytes(const TfLiteNode& node) {
  const OpData& data = *static_cast<const OpData*>(node.user_data);
  return data.weights ? data.weights->Bytes() : 0;
}

}  // namespace tflstm::rnn
