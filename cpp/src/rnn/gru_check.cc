#include "gru_check.h"

namespace tflstm::rnn {

std::string ShapeText(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

constexpr const char* kNames[kGruOperands] = {"input",          "input weights", "recurrent weights", "input bias",
                                              "recurrent bias", "hidden state",  "initial state",     "mask"};

std::string Operand(int i) { return "input " + std::to_string(i) + " (" + kNames[i] + ")"; }

}  // namespace

std::string MaskError(const GruOperandView& m, const std::string& operand, bool time_major, int batch, int time,
                      const std::vector<int>& x) {
  if (m.type != GruType::kBool && m.type != GruType::kFloat32) {
    return operand + " is neither BOOL nor FLOAT32; a mask is true (or not 0) at the steps it keeps";
  }
  const std::vector<int> mask = time_major ? std::vector<int>{time, batch} : std::vector<int>{batch, time};
  if (m.shape != mask) {
    return operand + " has shape " + ShapeText(m.shape) + "; it must be " + ShapeText(mask) +
           (time_major ? " (time, batch)" : " (batch, time)") + " for an input of shape " + ShapeText(x);
  }
  return "";
}

std::string CheckGruOperands(const std::vector<GruOperandView>& given, const std::vector<GruOperandView>& outputs,
                             const GruOptions& options, GruDims* dims) {
  const bool v2 = options.version >= 2;
  const bool v3 = options.version >= 3;
  const size_t inputs = given.size();
  if (!v2 && (inputs != kGruInitialState || outputs.size() != 1)) {
    return std::to_string(inputs) + " inputs and " + std::to_string(outputs.size()) + " outputs; " + kGruCustomOp +
           " version 1 takes 6 inputs (input, input weights, recurrent weights, input bias, recurrent bias, hidden "
           "state) and 1 output";
  }
  if (v2 && !v3 && (inputs < kGruInitialState || inputs > kGruMask || outputs.empty() || outputs.size() > 2)) {
    return std::to_string(inputs) + " inputs and " + std::to_string(outputs.size()) + " outputs; " + kGruCustomOp +
           " version 2 takes 6 or 7 inputs (input, input weights, recurrent weights, input bias, recurrent bias, "
           "hidden state, initial state) and 1 or 2 outputs (sequence, final state)";
  }
  if (v3 && (inputs < kGruInitialState || inputs > kGruOperands || outputs.empty() || outputs.size() > 2)) {
    return std::to_string(inputs) + " inputs and " + std::to_string(outputs.size()) + " outputs; " + kGruCustomOp +
           " version 3 takes 6 to 8 inputs (input, input weights, recurrent weights, input bias, recurrent bias, "
           "hidden state, initial state, mask) and 1 or 2 outputs (sequence, final state)";
  }
  std::vector<GruOperandView> in = given;
  in.resize(kGruOperands);  // an initial state or mask past the inputs is absent
  const bool initial = in[kGruInitialState].present;
  if (!v2 && !in[kGruHidden].present) return Operand(kGruHidden) + " is absent; the op needs it";
  if (initial == in[kGruHidden].present) {
    return Operand(kGruHidden) + " and " + Operand(kGruInitialState) +
           (initial ? " are both present" : " are both absent") +
           "; the GRU starts from exactly one of them (its variable, or a state other ops compute)";
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].present && outputs[i].type != GruType::kFloat32) {
      return "output " + std::to_string(i) + (i == kGruSequence ? " (sequence)" : " (final state)") +
             " is not FLOAT32; tflstm's GRU outputs float32";
    }
  }
  if (!outputs[kGruSequence].present) return "output 0 (sequence) is absent; the op needs it";
  for (int i = 0; i < kGruMask; ++i) {  // the mask's own checks follow
    const bool optional = i == kGruInputBias || i == kGruRecurrentBias || i == kGruHidden || i == kGruInitialState;
    if (!in[i].present) {
      if (optional) continue;
      return Operand(i) + " is absent; the op needs it";
    }
    const bool weights = i == kGruInputWeights || i == kGruRecurrentWeights;
    if (in[i].type == GruType::kFloat32) continue;
    if (!weights || in[i].type != GruType::kInt8) {
      return Operand(i) + (weights ? " is neither FLOAT32 nor INT8" : " is not FLOAT32") +
             "; tflstm's GRU runs float32 tensors, and int8 weights (hybrid)";
    }
    if (in[i].scales != 1 || in[i].zero_point != 0) {
      return Operand(i) + " is INT8 with " + std::to_string(in[i].scales) + " scales and zero point " +
             std::to_string(in[i].zero_point) + "; hybrid weights take one scale a tensor and zero point 0";
    }
  }
  if (in[kGruInputWeights].type != in[kGruRecurrentWeights].type) {
    return Operand(kGruInputWeights) + " and " + Operand(kGruRecurrentWeights) + " differ in type";
  }
  const std::vector<int>& x = in[kGruInput].shape;
  if (x.size() != 3) return Operand(kGruInput) + " has shape " + ShapeText(x) + "; it must have rank 3";
  const std::vector<int>& w = in[kGruInputWeights].shape;
  if (w.size() != 2 || w[0] <= 0 || w[0] % 3 != 0 || w[1] != x[2]) {
    return Operand(kGruInputWeights) + " has shape " + ShapeText(w) + "; it must be [3 * units, " +
           std::to_string(x[2]) + "] for an input of " + std::to_string(x[2]) + " features";
  }
  GruDims d;
  d.units = w[0] / 3;
  d.n_input = x[2];
  d.batch = options.time_major ? x[1] : x[0];
  d.time = options.time_major ? x[0] : x[1];
  const std::vector<int> rec = {3 * d.units, d.units};
  if (in[kGruRecurrentWeights].shape != rec) {
    return Operand(kGruRecurrentWeights) + " has shape " + ShapeText(in[kGruRecurrentWeights].shape) + "; it must be " +
           ShapeText(rec) + " for " + std::to_string(d.units) + " units";
  }
  for (int i : {kGruInputBias, kGruRecurrentBias}) {
    if (in[i].present && in[i].shape != std::vector<int>{3 * d.units}) {
      return Operand(i) + " has shape " + ShapeText(in[i].shape) + "; it must be [" + std::to_string(3 * d.units) + "]";
    }
  }
  const std::vector<int> state = {d.batch, d.units};
  const int from = initial ? kGruInitialState : kGruHidden;
  if (in[from].shape != state) {
    return Operand(from) + " has shape " + ShapeText(in[from].shape) + "; it must be " + ShapeText(state) +
           " (batch, units)";
  }
  if (!initial && !in[kGruHidden].variable) return Operand(kGruHidden) + " is not a variable tensor";
  if (initial && in[kGruInitialState].variable) {
    return Operand(kGruInitialState) +
           " is a variable tensor; it takes a state other ops compute (a variable "
           "state is input 5)";
  }
  if (d.batch < 0 || d.time < 0) return Operand(kGruInput) + " has shape " + ShapeText(x);
  if (in[kGruMask].present) {
    const std::string error = MaskError(in[kGruMask], Operand(kGruMask), options.time_major, d.batch, d.time, x);
    if (!error.empty()) return error;
  }
  *dims = d;
  return "";
}

}  // namespace tflstm::rnn
