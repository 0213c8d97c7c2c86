#include "lstm_custom_check.h"

namespace tflstm::rnn {
namespace {

constexpr const char* kNames[kLstmOperands] = {"input",     "input weights", "recurrent weights",
                                               "bias",      "output state",  "cell state",
                                               "initial h", "initial c",     "mask"};
constexpr const char* kOutputNames[kLstmOutputs] = {"sequence", "final h", "final c"};

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

// "" when the node starts from exactly one pair of state operands, both h and c: its variables
// (inputs 4 and 5) or a state other ops compute (inputs 6 and 7); else which of them it has.
std::string StateFormError(const std::vector<GruOperandView>& in) {
  const bool variables = in[kLstmHidden].present && in[kLstmCell].present;
  const bool given = in[kLstmInitialHidden].present && in[kLstmInitialCell].present;
  std::string present;
  for (int i = kLstmHidden; i <= kLstmInitialCell; ++i) {
    if (in[i].present) present += (present.empty() ? "" : ", ") + std::to_string(i);
  }
  if ((variables && !in[kLstmInitialHidden].present && !in[kLstmInitialCell].present) ||
      (given && !in[kLstmHidden].present && !in[kLstmCell].present)) {
    return "";
  }
  return "of inputs 4-7 (output state, cell state, initial h, initial c) " +
         (present.empty() ? std::string("none is present") : present + " present") +
         "; the LSTM starts from exactly one pair, h and c alike: its variables (4, 5) or a state other ops compute "
         "(6, 7)";
}

}  // namespace

std::string CheckLstmOperands(const std::vector<GruOperandView>& given, const std::vector<GruOperandView>& outputs,
                              const LstmOptions& options, LstmCustomDims* dims) {
  const size_t inputs = given.size();
  const bool v3 = options.version >= 3;
  if (options.version < 2 && (inputs != kLstmInitialHidden || outputs.size() != 1)) {
    return std::to_string(inputs) + " inputs and " + std::to_string(outputs.size()) + " outputs; " + kLstmCustomOp +
           " version 1 takes 6 inputs (input, input weights, recurrent weights, bias, output state, cell state) and 1 "
           "output";
  }
  if (options.version >= 2 && !v3 &&
      ((inputs != kLstmInitialHidden && inputs != kLstmMask) || outputs.empty() || outputs.size() > kLstmOutputs)) {
    return std::to_string(inputs) + " inputs and " + std::to_string(outputs.size()) + " outputs; " + kLstmCustomOp +
           " version 2 takes 6 or 8 inputs (input, input weights, recurrent weights, bias, output state, cell state, "
           "initial h, initial c) and 1 to 3 outputs (sequence, final h, final c)";
  }
  if (v3 && ((inputs != kLstmInitialHidden && inputs != kLstmMask && inputs != kLstmOperands) || outputs.empty() ||
             outputs.size() > kLstmOutputs)) {
    return std::to_string(inputs) + " inputs and " + std::to_string(outputs.size()) + " outputs; " + kLstmCustomOp +
           " version 3 takes 6, 8 or 9 inputs (input, input weights, recurrent weights, bias, output state, cell "
           "state, initial h, initial c, mask) and 1 to 3 outputs (sequence, final h, final c)";
  }
  std::vector<GruOperandView> in = given;
  in.resize(kLstmOperands);  // initial states or a mask past the inputs are absent
  const std::string form = StateFormError(in);
  if (!form.empty()) return form;
  const bool initial = in[kLstmInitialHidden].present;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].present && outputs[i].type != GruType::kFloat32) {
      return "output " + std::to_string(i) + " (" + kOutputNames[i] + ") is not FLOAT32; tflstm's LSTM outputs float32";
    }
  }
  if (!outputs[kLstmSequence].present) return "output 0 (sequence) is absent; the op needs it";
  for (int i = 0; i < kLstmMask; ++i) {  // the mask's own checks follow
    if (!in[i].present) {
      if (i == kLstmBias || i >= kLstmHidden) continue;  // the states' presence is checked above
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
  for (int i :
       initial ? std::vector<int>{kLstmInitialHidden, kLstmInitialCell} : std::vector<int>{kLstmHidden, kLstmCell}) {
    if (in[i].shape != state) {
      return Operand(i) + " has shape " + ShapeText(in[i].shape) + "; it must be " + ShapeText(state) +
             " (batch, units)";
    }
    if (!initial && !in[i].variable) return Operand(i) + " is not a variable tensor";
    if (initial && in[i].variable) {
      return Operand(i) +
             " is a variable tensor; it takes a state other ops compute (variable states are inputs 4 "
             "and 5)";
    }
  }
  if (d.batch < 0 || d.time < 0) return Operand(kLstmInput) + " has shape " + ShapeText(x);
  if (in[kLstmMask].present) {
    const std::string error = MaskError(in[kLstmMask], Operand(kLstmMask), options.time_major, d.batch, d.time, x);
    if (!error.empty()) return error;
  }
  *dims = d;
  return "";
}

}  // namespace tflstm::rnn
