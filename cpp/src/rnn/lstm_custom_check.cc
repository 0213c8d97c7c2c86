#include "lstm_custom_check.h"

namespace tflstm::rnn {
namespace {

constexpr const char* kNames[kLstmOperands] = {"input", "input weights", "recurrent weights",
                                               "bias",  "output state",  "cell state"};

std::string Operand(int i) { return "input " + std::to_string(i) + " (" + kNames[i] + ")"; }

// "" when operand i's type fits: float32, or int8 (one scale, zero point 0) for the weights.
std::string TypeError(const GruOperandView& v, int i) {
  const bool weights = i == kLstmInputWeights || i == kLstmRecurrentWeights;
  if (v.type == GruType::kFloat32) return "";
  if (!weights || v.type != GruType::kInt8) {
    return Operand(i) + (weights ? " is neither FLOAT32 nor INT8" : " is not FLOAT32") +
           "; tflstm's LSTM runs float32 tensors, and int8 weights (hybrid)";
  }
  if (v.scales != 1 || v.zero_point != 0) {
    return Operand(i) + " is INT8 with " + std::to_string(v.scales) + " scales and zero point " +
           std::to_string(v.zero_point) + "; hybrid weights take one scale a tensor and zero point 0";
  }
  return "";
}

}  // namespace

std::string CheckLstmOperands(const std::vector<GruOperandView>& in, int outputs, const LstmOptions& options,
                              LstmCustomDims* dims) {
  if (in.size() != kLstmOperands || outputs != 1) {
    return std::to_string(in.size()) + " inputs and " + std::to_string(outputs) + " outputs; " + kLstmCustomOp +
           " takes 6 inputs (input, input weights, recurrent weights, bias, output state, cell state) and 1 output";
  }
  for (int i = 0; i < kLstmOperands; ++i) {
    if (!in[i].present) {
      if (i == kLstmBias) continue;
      return Operand(i) + " is absent; the op needs it";
    }
    const std::string error = TypeError(in[i], i);
    if (!error.empty()) return error;
  }
  if (in[kLstmInputWeights].type != in[kLstmRecurrentWeights].type) {
    return Operand(kLstmInputWeights) + " and " + Operand(kLstmRecurrentWeights) + " differ in type";
  }
  const std::vector<int>& x = in[kLstmInput].shape;
  if (x.size() != 3) return Operand(kLstmInput) + " has shape " + ShapeText(x) + "; it must have rank 3";
  const std::vector<int>& w = in[kLstmInputWeights].shape;
  if (w.size() != 2 || w[0] <= 0 || w[0] % 4 != 0 || w[1] != x[2]) {
    return Operand(kLstmInputWeights) + " has shape " + ShapeText(w) + "; it must be [4 * units, " +
           std::to_string(x[2]) + "] for an input of " + std::to_string(x[2]) + " features";
  }
  LstmCustomDims d;
  d.units = w[0] / 4;
  d.n_input = x[2];
  d.batch = options.time_major ? x[1] : x[0];
  d.time = options.time_major ? x[0] : x[1];
  const std::vector<int> rec = {4 * d.units, d.units};
  if (in[kLstmRecurrentWeights].shape != rec) {
    return Operand(kLstmRecurrentWeights) + " has shape " + ShapeText(in[kLstmRecurrentWeights].shape) +
           "; it must be " + ShapeText(rec) + " for " + std::to_string(d.units) + " units";
  }
  if (in[kLstmBias].present && in[kLstmBias].shape != std::vector<int>{4 * d.units}) {
    return Operand(kLstmBias) + " has shape " + ShapeText(in[kLstmBias].shape) + "; it must be [" +
           std::to_string(4 * d.units) + "]";
  }
  const std::vector<int> state = {d.batch, d.units};
  for (int i : {kLstmHidden, kLstmCell}) {
    if (in[i].shape != state) {
      return Operand(i) + " has shape " + ShapeText(in[i].shape) + "; it must be " + ShapeText(state) +
             " (batch, units)";
    }
    if (!in[i].variable) return Operand(i) + " is not a variable tensor";
  }
  if (d.batch < 0 || d.time < 0) return Operand(kLstmInput) + " has shape " + ShapeText(x);
  *dims = d;
  return "";
}

}  // namespace tflstm::rnn
