// Validator's rules for the LSTM ops: operand counts, weight, bias and state shapes against each
// other, and the int8 kernel's scales.
#include "model_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "op_versions.h"
#include "rnn/gru_validate.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/schema/schema_utils.h"
#include "tflstm/model.h"

namespace tflstm::internal {

Validator::LstmOperands Validator::FullLstm(bool layer_norm) {
  LstmOperands p{0, {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11}, {12, 13, 14, 15}, 16, 17, 18, 19, {-1, -1, -1, -1}};
  if (layer_norm)
    for (int i = 0; i < 4; ++i) p.layer_norm[i] = 20 + i;
  return p;
}

Status Validator::CheckLstmOp(const OpView& v, bool sequence, bool time_major) {
  if (v.inputs() != 20 && v.inputs() != 24) {
    return Fail(v.name + " has " + std::to_string(v.inputs()) + " inputs; it takes 20, or 24 with layer normalization");
  }
  TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 1));
  const LstmOperands p = FullLstm(v.inputs() == 24);
  TFLSTM_RETURN_IF_ERROR(Present(v, p.input));
  const std::vector<int> in = Shape(*v.in(p.input));
  const size_t rank = sequence ? 3 : 2;
  if (in.size() != rank) {
    return Fail(v.InName(p.input) + " has shape " + ShapeText(in) + "; the op needs rank " + Str(rank));
  }
  const int batch = sequence && time_major ? in[1] : in[0];
  const int n_input = FreeDim(*v.in(p.input), rank - 1) ? -1 : in[rank - 1];
  TFLSTM_RETURN_IF_ERROR(CheckLstm(v, p, batch, n_input));
  const bool integer = v.in(p.input)->type() == tflite::TensorType_INT8;
  if (v.out(0)->type() != v.in(p.input)->type()) {
    return Fail(v.name + ": its output is " + tflite::EnumNameTensorType(v.out(0)->type()) + " but its input " +
                tflite::EnumNameTensorType(v.in(p.input)->type()));
  }
  if (integer) {
    // The integer kernel reads five intermediates' quantization (gate scales and the hidden state's).
    if (Length(v.op.intermediates()) != 5) {
      return Fail(v.name + " is integer (int8 input) and has " + Str(Length(v.op.intermediates())) +
                  " intermediates; it needs 5");
    }
    const bool layer_norm = v.inputs() == 24 && v.in(p.layer_norm[1]) != nullptr;
    for (int i = layer_norm ? 0 : 4; i < 5; ++i) {
      const tflite::Tensor* t = v.intermediate(i);
      if (t == nullptr || !Quantized(*t)) {
        return Fail(v.Name("intermediate", v.op.intermediates(), i) + " needs quantization parameters");
      }
    }
    if (!Quantized(*v.out(0))) return Fail(v.name + ": its int8 output needs quantization parameters");
    return CheckInt8LstmScales(v, p, layer_norm);
  }
  return Status::Ok();
}

// The integer kernel turns ratios of scales into fixed-point multipliers (as TFLite's
// PopulateQuantizedLstmParams8x8_16 does, in float) and shifts by their exponent: one of
// 2^30 or more is a left shift past 30 bits, which overflows. No trained model is near it.
Status Validator::CheckInt8LstmScales(const OpView& v, const LstmOperands& p, bool layer_norm) const {
  auto scale = [](const tflite::Tensor* t) { return t ? t->quantization()->scale()->Get(0) : 1.0f; };
  float gate[4];
  for (int g = 0; g < 4; ++g) gate[g] = layer_norm ? scale(v.intermediate(g)) : std::ldexp(1.0f, -12);
  const float hidden = scale(v.intermediate(4));
  const float input = scale(v.in(p.input));
  const float state = scale(v.in(p.output_state));
  const int cell_exponent = static_cast<int>(std::round(std::log2(scale(v.in(p.cell_state)))));
  const char* gate_name[4] = {"input", "forget", "cell", "output"};
  std::vector<std::pair<std::string, float>> effective = {
      {"the hidden state", std::ldexp(1.0f, -15) / hidden * std::ldexp(1.0f, -15)},
      {"the projection", scale(v.in(p.projection_weights)) * hidden / state}};
  for (int g = 0; g < 4; ++g) {
    if (v.in(p.weights_in[g]) == nullptr) continue;  // CIFG
    effective.emplace_back(std::string("input to ") + gate_name[g], scale(v.in(p.weights_in[g])) * input / gate[g]);
    effective.emplace_back(std::string("recurrent to ") + gate_name[g],
                           scale(v.in(p.weights_rec[g])) * state / gate[g]);
  }
  for (int k = 0; k < 3; ++k) {
    const int g = k == 2 ? 3 : k;  // cell-to-{input, forget, output}
    if (v.in(p.peephole[k]) != nullptr) {
      effective.emplace_back(std::string("cell to ") + gate_name[g],
                             std::ldexp(1.0f, cell_exponent) * scale(v.in(p.peephole[k])) / gate[g]);
    }
  }
  for (int g = 0; layer_norm && g < 4; ++g) {
    if (v.in(p.layer_norm[g]) != nullptr) {
      effective.emplace_back(std::string("the ") + gate_name[g] + " gate's layer norm", scale(v.in(p.layer_norm[g])));
    }
  }
  for (const auto& [what, value] : effective) {
    if (!(value < std::ldexp(1.0f, 30))) {
      return Fail(v.name + ": the effective scale of " + what + " is " + Number(value) +
                  ", 2^30 or more; the integer kernel's fixed-point multipliers cannot hold it");
    }
  }
  return Status::Ok();
}

Status Validator::CheckBidirectionalLstm(const OpView& v) {
  TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 48, 48));
  TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 2));
  const auto* options = v.op.builtin_options_as_BidirectionalSequenceLSTMOptions();
  const bool time_major = options ? options->time_major() : true;
  TFLSTM_RETURN_IF_ERROR(Present(v, 0));
  const std::vector<int> in = Shape(*v.in(0));
  if (in.size() != 3) return Fail(v.InName(0) + " has shape " + ShapeText(in) + "; the op needs rank 3");
  const int batch = time_major ? in[1] : in[0];
  const int n_input = FreeDim(*v.in(0), 2) ? -1 : in[2];
  const LstmOperands fw{0, {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11}, {12, 13, 14, 15}, 16, 17, 35, 36, {-1, -1, -1, -1}};
  const LstmOperands bw{0,  {18, 19, 20, 21}, {22, 23, 24, 25}, {26, 27, 28}, {29, 30, 31, 32}, 33, 34, 37,
                        38, {-1, -1, -1, -1}};
  TFLSTM_RETURN_IF_ERROR(CheckLstm(v, fw, batch, n_input));
  TFLSTM_RETURN_IF_ERROR(CheckLstm(v, bw, batch, n_input));
  // Auxiliary input weights map the auxiliary input to each direction's cells.
  for (int i = 40; i < 48; ++i) {
    if (v.in(i) == nullptr) continue;
    const int n_cell = Shape(*v.in(i < 44 ? fw.weights_in[3] : bw.weights_in[3]))[0];
    TFLSTM_RETURN_IF_ERROR(HasShape(v, i, {n_cell, -1}, "an auxiliary input weight"));
    if (v.in(39) == nullptr) return Fail(v.InName(i) + " is given but the auxiliary input (39) is not");
  }
  return Status::Ok();
}

// Weight, bias and state shapes against each other, as the kernels index them.
Status Validator::CheckLstm(const OpView& v, const LstmOperands& p, int batch, int n_input) {
  for (int i : {p.weights_in[1], p.weights_in[2], p.weights_in[3], p.weights_rec[1], p.weights_rec[2], p.weights_rec[3],
                p.bias[1], p.bias[2], p.bias[3], p.output_state, p.cell_state}) {
    TFLSTM_RETURN_IF_ERROR(Present(v, i));
  }
  const std::vector<int> w_out = Shape(*v.in(p.weights_in[3]));
  if (w_out.size() != 2) {
    return Fail(v.InName(p.weights_in[3]) + " has shape " + ShapeText(w_out) + "; a weight matrix has rank 2");
  }
  const int n_cell = w_out[0];
  const bool cifg = v.in(p.weights_in[0]) == nullptr;
  const tflite::TensorType weight_type = v.in(p.weights_in[3])->type();
  const tflite::TensorType input_type = v.in(p.input)->type();
  if (input_type != tflite::TensorType_FLOAT32 && input_type != tflite::TensorType_INT8) {
    return Fail(v.InName(p.input) + " is " + tflite::EnumNameTensorType(input_type) + "; the op takes FLOAT32 or INT8");
  }
  const bool integer = input_type == tflite::TensorType_INT8;
  const bool hybrid = !integer && weight_type != tflite::TensorType_FLOAT32;
  if (weight_type != tflite::TensorType_FLOAT32 && weight_type != tflite::TensorType_INT8 &&
      weight_type != tflite::TensorType_UINT8) {
    return Fail(v.InName(p.weights_in[3]) + " is " + tflite::EnumNameTensorType(weight_type) +
                "; LSTM weights are FLOAT32, INT8 or UINT8");
  }
  if (integer && weight_type != tflite::TensorType_INT8) {
    return Fail(v.InName(p.weights_in[3]) + " is " + tflite::EnumNameTensorType(weight_type) +
                "; an int8 LSTM needs INT8 weights");
  }
  // The integer kernel folds its weights and biases into precomputed rows in Prepare, reading
  // their data whether or not they have any: they must be constants of the model.
  if (integer) {
    std::vector<int> constant(std::begin(p.weights_in), std::end(p.weights_in));
    constant.insert(constant.end(), std::begin(p.weights_rec), std::end(p.weights_rec));
    constant.insert(constant.end(), std::begin(p.bias), std::end(p.bias));
    constant.insert(constant.end(), {p.projection_weights, p.projection_bias});
    for (int i : constant) {
      if (v.in(i) != nullptr && ConstantBytes(*v.in(i)) <= 0) {
        return Fail(v.InName(i) + " has no data in the model; an int8 LSTM needs constant weights and biases");
      }
    }
  }
  for (int g = 0; g < 4; ++g) {
    if (v.in(p.weights_in[g]) == nullptr) continue;
    TFLSTM_RETURN_IF_ERROR(HasShape(v, p.weights_in[g], {n_cell, n_input}, "an input weight matrix"));
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.weights_in[g], weight_type, "every weight of the op"));
  }
  if ((v.in(p.weights_rec[0]) == nullptr) != cifg) {
    return Fail(v.name + ": the input gate's input and recurrent weights must both be given or both be absent");
  }
  // Recurrent weights are [n_cell, n_output], or a diagonal [n_cell] (then n_output = n_cell).
  const std::vector<int> r_out = Shape(*v.in(p.weights_rec[3]));
  const int n_output = r_out.size() == 2 ? r_out[1] : n_cell;
  for (int g = 0; g < 4; ++g) {
    if (v.in(p.weights_rec[g]) == nullptr) continue;
    TFLSTM_RETURN_IF_ERROR(HasShape(v, p.weights_rec[g],
                                    r_out.size() == 1 ? std::vector<int>{n_cell} : std::vector<int>{n_cell, n_output},
                                    "a recurrent weight matrix"));
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.weights_rec[g], weight_type, "every weight of the op"));
  }
  const bool peephole = v.in(p.peephole[2]) != nullptr;
  if ((v.in(p.peephole[1]) != nullptr) != peephole || (!cifg && (v.in(p.peephole[0]) != nullptr) != peephole)) {
    return Fail(v.name + ": the peephole weights must all be given or all be absent");
  }
  for (int i : p.peephole) {
    if (v.in(i) != nullptr) TFLSTM_RETURN_IF_ERROR(HasShape(v, i, {n_cell}, "a peephole weight"));
  }
  const tflite::TensorType bias_type = integer ? tflite::TensorType_INT32 : tflite::TensorType_FLOAT32;
  if (cifg && v.in(p.bias[0]) != nullptr) {
    return Fail(v.InName(p.bias[0]) + " is given, but the op has no input gate (no input weights)");
  }
  if (!cifg) TFLSTM_RETURN_IF_ERROR(Present(v, p.bias[0]));
  const bool layer_norm = p.layer_norm[1] >= 0 && v.in(p.layer_norm[1]) != nullptr;
  for (int g = 0; g < 4; ++g) {
    if (v.in(p.bias[g]) == nullptr) continue;
    TFLSTM_RETURN_IF_ERROR(HasShape(v, p.bias[g], {n_cell}, "a gate bias"));
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.bias[g], bias_type, "a gate bias of this LSTM"));
  }
  if (v.in(p.projection_weights) != nullptr) {
    TFLSTM_RETURN_IF_ERROR(HasShape(v, p.projection_weights, {n_output, n_cell}, "the projection"));
    if (integer) TFLSTM_RETURN_IF_ERROR(HasType(v, p.projection_weights, tflite::TensorType_INT8, "an int8 LSTM"));
  } else if (n_output != n_cell) {
    // Without a projection the hidden state (n_cell wide) is the output (n_output wide).
    return Fail(v.name + " has " + std::to_string(n_cell) + " cells but an output of " + std::to_string(n_output) +
                " and no projection");
  }
  if (v.in(p.projection_bias) != nullptr) {
    if (v.in(p.projection_weights) == nullptr)
      return Fail(v.InName(p.projection_bias) + " is given without projection weights");
    TFLSTM_RETURN_IF_ERROR(HasShape(v, p.projection_bias, {n_output}, "the projection bias"));
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.projection_bias, bias_type, "the projection bias of this LSTM"));
  }
  if (layer_norm) {
    for (int g = 0; g < 4; ++g) {
      if (g == 0 && cifg) {
        if (v.in(p.layer_norm[0]) != nullptr)
          return Fail(v.InName(p.layer_norm[0]) + " is given but the op has no input gate");
        continue;
      }
      TFLSTM_RETURN_IF_ERROR(Present(v, p.layer_norm[g]));
      TFLSTM_RETURN_IF_ERROR(HasShape(v, p.layer_norm[g], {n_cell}, "a layer normalization coefficient"));
      if (integer) TFLSTM_RETURN_IF_ERROR(HasType(v, p.layer_norm[g], tflite::TensorType_INT16, "an int8 LSTM"));
    }
  }
  // States are [batch, n_output] and [batch, n_cell]; the kernel checks only element counts.
  const uint64_t want_out = static_cast<uint64_t>(batch) * static_cast<uint64_t>(n_output);
  const uint64_t want_cell = static_cast<uint64_t>(batch) * static_cast<uint64_t>(n_cell);
  if (Elements(*v.in(p.output_state)) != want_out) {
    return Fail(v.InName(p.output_state) + " (output state) has shape " + ShapeText(Shape(*v.in(p.output_state))) +
                "; batch " + std::to_string(batch) + " x output " + std::to_string(n_output) + " is needed");
  }
  if (Elements(*v.in(p.cell_state)) != want_cell) {
    return Fail(v.InName(p.cell_state) + " (cell state) has shape " + ShapeText(Shape(*v.in(p.cell_state))) +
                "; batch " + std::to_string(batch) + " x cells " + std::to_string(n_cell) + " is needed");
  }
  if (integer) {
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.output_state, tflite::TensorType_INT8, "an int8 LSTM's output state"));
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.cell_state, tflite::TensorType_INT16, "an int8 LSTM's cell state"));
    for (int i : {p.input, p.output_state, p.cell_state}) {
      if (!Quantized(*v.in(i))) return Fail(v.InName(i) + " needs quantization parameters (the LSTM is int8)");
    }
  } else {
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.output_state, tflite::TensorType_FLOAT32, "a float LSTM's output state"));
    TFLSTM_RETURN_IF_ERROR(HasType(v, p.cell_state, tflite::TensorType_FLOAT32, "a float LSTM's cell state"));
  }
  if (integer || hybrid) {
    for (int i : {p.weights_in[0], p.weights_in[1], p.weights_in[2], p.weights_in[3], p.weights_rec[0],
                  p.weights_rec[1], p.weights_rec[2], p.weights_rec[3], p.projection_weights}) {
      if (v.in(i) != nullptr && v.in(i)->type() != tflite::TensorType_FLOAT32 && !Quantized(*v.in(i))) {
        return Fail(v.InName(i) + " is quantized but has no quantization parameters");
      }
    }
  }
  return Status::Ok();
}

}  // namespace tflstm::internal
