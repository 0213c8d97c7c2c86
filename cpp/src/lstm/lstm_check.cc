#include "lstm_check.h"

#include <cstddef>
#include <cstdio>
#include <initializer_list>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/kernels/lstm_shared.h"
#include "tensorflow/lite/util.h"

namespace tflstm::lstm {
namespace {

namespace full = tflite::ops::builtin::lstm::full;

constexpr const char* kOp = "UNIDIRECTIONAL_SEQUENCE_LSTM";

// "[2, 3]" into a buffer of 64 chars (dims past what fits are cut).
void Format(const int* dims, int rank, char* out) {
  int n = std::snprintf(out, 64, "[");
  for (int d = 0; d < rank && n < 60; ++d) n += std::snprintf(out + n, 64 - n, d ? ", %d" : "%d", dims[d]);
  if (n < 63) std::snprintf(out + n, 64 - n, "]");
}

bool IsWeightType(TfLiteType t) { return t == kTfLiteFloat32 || t == kTfLiteInt8 || t == kTfLiteUInt8; }

bool HasAffineScale(const TfLiteTensor* t) {
  if (t->quantization.type != kTfLiteAffineQuantization || t->quantization.params == nullptr) return false;
  const auto* q = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
  return q->scale != nullptr && q->scale->size >= 1 && q->zero_point != nullptr && q->zero_point->size >= 1;
}

class Checker {
 public:
  Checker(TfLiteContext* context, const TfLiteNode* node) : context_(context), node_(node) {}

  // The tensor at input `i`, which must be present.
  const TfLiteTensor* Required(int i) {
    const TfLiteTensor* t = OptionalInput(context_, node_, i);
    if (t == nullptr) Fail("input %d is required but absent", i);
    return t;
  }
  // Checks a present tensor's shape, and that it holds exactly that many elements of its type.
  void Shape(int i, const TfLiteTensor* t, std::initializer_list<int> dims) {
    if (t == nullptr || !ok_) return;
    bool same = t->dims != nullptr && t->dims->size == static_cast<int>(dims.size());
    int d = 0;
    for (int want : dims) same = same && t->dims->data[d++] == want;
    if (!same) {
      char got[64];
      char want[64];
      Format(t->dims ? t->dims->data : nullptr, t->dims ? t->dims->size : 0, got);
      Format(dims.begin(), static_cast<int>(dims.size()), want);
      Fail("input %d ('%s') has shape %s, expected %s", i, Name(t), got, want);
      return;
    }
    Bytes(i, t);
  }
  void Bytes(int i, const TfLiteTensor* t) {
    if (!ok_) return;
    size_t size = 0;
    if (tflite::GetSizeOfType(context_, t->type, &size) != kTfLiteOk) {
      Fail("input %d ('%s') has an unsupported type %d", i, Name(t), static_cast<int>(t->type));
      return;
    }
    const size_t want = static_cast<size_t>(tflite::NumElements(t)) * size;
    if (t->bytes != want)
      Fail("input %d ('%s') holds %zu bytes, its shape and type need %zu", i, Name(t), t->bytes, want);
  }
  void Type(int i, const TfLiteTensor* t, TfLiteType want) {
    if (t != nullptr && ok_ && t->type != want) {
      Fail("input %d ('%s') has type %s, expected %s", i, Name(t), TfLiteTypeGetName(t->type), TfLiteTypeGetName(want));
    }
  }
  void Quantized(const char* what, const TfLiteTensor* t) {
    if (t != nullptr && ok_ && !HasAffineScale(t))
      Fail("%s ('%s') has no quantization scale and zero point", what, Name(t));
  }
  void Expect(bool condition, const char* message) {
    if (!condition && ok_) Fail("%s", message);
  }
  bool ok() const { return ok_; }

  template <typename... Args>
  void Fail(const char* format, Args... args) {
    if (!ok_) return;  // the first problem is the one to report
    ok_ = false;
    char message[512];
    // Every caller passes a literal format; clang cannot see that through the template.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    std::snprintf(message, sizeof(message), format, args...);
#pragma GCC diagnostic pop
    context_->ReportError(context_, "%s: %s", kOp, message);
  }

 private:
  static const char* Name(const TfLiteTensor* t) { return t->name ? t->name : ""; }
  TfLiteContext* context_;
  const TfLiteNode* node_;
  bool ok_ = true;
};

}  // namespace

TfLiteStatus CheckLstmNode(TfLiteContext* context, const TfLiteNode* node, LstmDims* dims) {
  Checker c(context, node);
  if (node->builtin_data == nullptr) c.Fail("the node has no parameters");
  if (node->inputs->size != 20 && node->inputs->size != 24)
    c.Fail("expects 20 or 24 inputs, got %d", node->inputs->size);
  if (node->outputs->size != 1) c.Fail("expects 1 output, got %d", node->outputs->size);
  for (const TfLiteIntArray* list : {node->inputs, node->outputs}) {
    for (int i = 0; c.ok() && i < list->size; ++i) {
      if (list->data[i] < -1 || list->data[i] >= static_cast<int>(context->tensors_size)) {
        c.Fail("tensor index %d is out of range", list->data[i]);
      }
    }
  }
  if (!c.ok()) return kTfLiteError;
  const auto* params = static_cast<const TfLiteUnidirectionalSequenceLSTMParams*>(node->builtin_data);
  c.Expect(params->cell_clip >= 0 && params->proj_clip >= 0, "cell_clip and proj_clip must not be negative");

  const TfLiteTensor* input = c.Required(full::kInputTensor);
  const TfLiteTensor* output = node->outputs->data[0] < 0 ? nullptr : &context->tensors[node->outputs->data[0]];
  if (output == nullptr) c.Fail("the output is absent");
  if (!c.ok()) return kTfLiteError;
  if (input->dims == nullptr || input->dims->size != 3) {
    c.Fail("the input must have rank 3 ([batch, time, features] or [time, batch, features])");
    return kTfLiteError;
  }
  for (int d = 0; d < 3; ++d) c.Expect(input->dims->data[d] >= 1, "every input dimension must be at least 1");
  c.Expect(input->type == kTfLiteFloat32 || input->type == kTfLiteInt8, "the input must be float32 or int8");
  c.Bytes(full::kInputTensor, input);
  dims->batch = params->time_major ? input->dims->data[1] : input->dims->data[0];
  dims->time = params->time_major ? input->dims->data[0] : input->dims->data[1];
  dims->n_input = input->dims->data[2];

  const TfLiteTensor* to_output = c.Required(full::kInputToOutputWeightsTensor);
  const TfLiteTensor* rec_output = c.Required(full::kRecurrentToOutputWeightsTensor);
  if (!c.ok()) return kTfLiteError;
  c.Expect(to_output->dims != nullptr && to_output->dims->size == 2, "input-to-output weights must have rank 2");
  c.Expect(rec_output->dims != nullptr && (rec_output->dims->size == 1 || rec_output->dims->size == 2),
           "recurrent-to-output weights must have rank 1 (diagonal) or 2");
  if (!c.ok()) return kTfLiteError;
  const int n_cell = to_output->dims->data[0];
  const bool diagonal = rec_output->dims->size == 1;
  const int n_output = diagonal ? n_cell : rec_output->dims->data[1];
  c.Expect(n_cell >= 1 && n_output >= 1, "the LSTM needs at least one unit");
  dims->n_cell = n_cell;
  dims->n_output = n_output;

  // Weights: all of one type; gate weights [n_cell, n_input] and [n_cell, n_output] (or the
  // diagonal [n_cell]); the input gate's are absent together (CIFG).
  const TfLiteType weight_type = to_output->type;
  c.Expect(IsWeightType(weight_type), "the weights must be float32, int8 or uint8");
  const bool cifg = OptionalInput(context, node, full::kInputToInputWeightsTensor) == nullptr;
  c.Expect(cifg == (OptionalInput(context, node, full::kRecurrentToInputWeightsTensor) == nullptr),
           "input-to-input and recurrent-to-input weights must be present or absent together");
  for (int i = full::kInputToInputWeightsTensor; i <= full::kRecurrentToOutputWeightsTensor; ++i) {
    const bool recurrent = i >= full::kRecurrentToInputWeightsTensor;
    const bool optional = i == full::kInputToInputWeightsTensor || i == full::kRecurrentToInputWeightsTensor;
    const TfLiteTensor* w = optional ? OptionalInput(context, node, i) : c.Required(i);
    c.Type(i, w, weight_type);
    if (!recurrent) {
      c.Shape(i, w, {n_cell, dims->n_input});
    } else if (diagonal) {
      c.Shape(i, w, {n_cell});
    } else {
      c.Shape(i, w, {n_cell, n_output});
    }
  }
  // Peephole weights [n_cell], the forget and output ones together.
  const bool peephole = OptionalInput(context, node, full::kCellToForgetWeightsTensor) != nullptr;
  c.Expect(peephole == (OptionalInput(context, node, full::kCellToOutputWeightsTensor) != nullptr),
           "cell-to-forget and cell-to-output weights must be present or absent together");
  c.Expect(!(cifg && OptionalInput(context, node, full::kCellToInputWeightsTensor) != nullptr),
           "a CIFG LSTM has no cell-to-input weights");
  for (int i = full::kCellToInputWeightsTensor; i <= full::kCellToOutputWeightsTensor; ++i) {
    c.Shape(i, OptionalInput(context, node, i), {n_cell});
  }

  const bool integer = input->type == kTfLiteInt8;
  const TfLiteType bias_type = integer ? kTfLiteInt32 : kTfLiteFloat32;
  c.Expect(cifg || OptionalInput(context, node, full::kInputGateBiasTensor) != nullptr,
           "the input gate bias is absent");
  for (int i = full::kInputGateBiasTensor; i <= full::kOutputGateBiasTensor; ++i) {
    const TfLiteTensor* b = i == full::kInputGateBiasTensor ? OptionalInput(context, node, i) : c.Required(i);
    c.Type(i, b, bias_type);
    c.Shape(i, b, {n_cell});
  }
  const TfLiteTensor* projection = OptionalInput(context, node, full::kProjectionWeightsTensor);
  c.Expect(projection != nullptr || n_output == n_cell, "without projection weights the output size must be n_cell");
  c.Type(full::kProjectionWeightsTensor, projection, weight_type);
  c.Shape(full::kProjectionWeightsTensor, projection, {n_output, n_cell});
  c.Expect(projection != nullptr || OptionalInput(context, node, full::kProjectionBiasTensor) == nullptr,
           "a projection bias needs projection weights");
  c.Type(full::kProjectionBiasTensor, OptionalInput(context, node, full::kProjectionBiasTensor), bias_type);
  c.Shape(full::kProjectionBiasTensor, OptionalInput(context, node, full::kProjectionBiasTensor), {n_output});

  // State: variable tensors of batch * size elements (of any rank, as TFLite allows).
  const TfLiteTensor* output_state = c.Required(full::kOutputStateTensor);
  const TfLiteTensor* cell_state = c.Required(full::kCellStateTensor);
  if (!c.ok()) return kTfLiteError;
  c.Expect(output_state->is_variable && cell_state->is_variable, "the output and cell state must be variable tensors");
  c.Expect(tflite::NumElements(output_state) == static_cast<int64_t>(dims->batch) * n_output,
           "the output state must hold batch x n_output values");
  c.Expect(tflite::NumElements(cell_state) == static_cast<int64_t>(dims->batch) * n_cell,
           "the cell state must hold batch x n_cell values");
  c.Bytes(full::kOutputStateTensor, output_state);
  c.Bytes(full::kCellStateTensor, cell_state);
  c.Expect(output->type == input->type, "the output must have the input's type");

  // Layer norm coefficients [n_cell]; the forget gate's says whether layer norm is used.
  if (node->inputs->size == 24) {
    const bool layer_norm = OptionalInput(context, node, full::kForgetLayerNormCoefficientsTensor) != nullptr;
    for (int i = full::kInputLayerNormCoefficientsTensor; i <= full::kOutputLayerNormCoefficientsTensor; ++i) {
      const TfLiteTensor* ln = OptionalInput(context, node, i);
      const bool needed = layer_norm && !(cifg && i == full::kInputLayerNormCoefficientsTensor);
      c.Expect(!needed || ln != nullptr, "layer norm needs the coefficients of every gate");
      c.Type(i, ln, integer ? kTfLiteInt16 : kTfLiteFloat32);
      c.Shape(i, ln, {n_cell});
    }
  }

  if (integer) {  // the integer kernel reads these parameters without checking them
    c.Expect(weight_type == kTfLiteInt8, "an int8 LSTM needs int8 weights");
    c.Expect(output_state->type == kTfLiteInt8 && cell_state->type == kTfLiteInt16,
             "an int8 LSTM needs an int8 output state and an int16 cell state");
    c.Expect(node->intermediates != nullptr && node->intermediates->size == 5,
             "an int8 LSTM needs 5 intermediate tensors");
    c.Quantized("the input", input);
    c.Quantized("the output", output);
    c.Quantized("the output state", output_state);
    c.Quantized("the cell state", cell_state);
    // A cell state scale of 2^e gives tanh of the cell 15 + e integer bits, and TFLite's
    // ApplyTanh computes 0..6 of them: outside -15..-9 it writes nothing and the hidden state
    // reads a stale buffer (the input gate), a silent wrong answer TensorFlow's interpreter gives
    // too (TFLite 2.14's own bound, e <= -9, is commented out). Below -30 the step's shift by
    // 30 + e is undefined as well (found by model_fuzzer).
    int cell_exponent = 0;
    if (c.ok() && tflite::CheckedLog2(cell_state->params.scale, &cell_exponent)) {
      if (cell_exponent < -15 || cell_exponent > -9) {
        c.Fail(
            "the cell state's scale is 2^%d; TFLite's integer LSTM computes tanh of the cell for scales 2^-15 to "
            "2^-9 only (a cell range of +-1 to +-64), at others its output ignores the cell state "
            "(tflstm.convert keeps the scale in that range)",
            cell_exponent);
      }
    }
    // TFLite reads the hidden intermediate's scale always, the gates' ones with layer norm.
    const bool layer_norm = OptionalInput(context, node, full::kForgetLayerNormCoefficientsTensor) != nullptr;
    for (int i = 0; c.ok() && i < node->intermediates->size; ++i) {
      const int t = node->intermediates->data[i];
      if (t < 0 || t >= static_cast<int>(context->tensors_size)) {
        c.Fail("intermediate tensor index %d is out of range", t);
      } else if (i == 4 || layer_norm) {
        c.Quantized("an intermediate tensor", &context->tensors[t]);
      }
    }
  } else if (weight_type != kTfLiteFloat32) {  // hybrid: float activations, quantized weights
    c.Expect(output_state->type == kTfLiteFloat32 && cell_state->type == kTfLiteFloat32,
             "a float LSTM needs float32 state tensors");
    for (int i = 1; i < node->inputs->size && c.ok(); ++i) {
      const TfLiteTensor* t = OptionalInput(context, node, i);
      if (t != nullptr && t->type == weight_type) c.Expect(t->params.scale > 0, "quantized weights need a scale");
    }
  } else {
    c.Expect(output_state->type == kTfLiteFloat32 && cell_state->type == kTfLiteFloat32,
             "a float LSTM needs float32 state tensors");
  }
  return c.ok() ? kTfLiteOk : kTfLiteError;
}

}  // namespace tflstm::lstm
