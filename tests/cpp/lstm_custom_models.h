// The TFLSTM_LSTM test models (lstm_options.h's contract): an LSTM's settings, Glorot-scaled
// random weights stored as float32, float16 or int8, and the one-op model that runs them (for
// lstm_custom_test.cc and lstm_mask_test.cc).
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gru_models.h"
#include "op_interp.h"
#include "rnn/lstm_options.h"

namespace tflstm::testing {

using rnn::Act;

struct LstmCustomSpec {
  int batch = 1;
  int time = 5;
  int n_input = 3;
  int units = 8;
  bool time_major = false;
  bool bias = true;
  Act activation = Act::kTanh;
  Act gate = Act::kHardSigmoid;
  bool float16 = false;
  bool int8 = false;
  bool initial_state = false;  // h and c from model inputs 1 and 2 (options version 2), no variables
  int final_state = 0;         // 1: h and c after the last step as outputs 1 and 2; 2: c only (output 1 absent)
  bool mask = false;           // a [batch, time] mask as the model's last input (options version 3)
  bool float_mask = false;     // the mask FLOAT32 (else BOOL)
  bool zero_output_for_mask = false;
  unsigned seed = 1;
};

inline std::string Describe(const LstmCustomSpec& s) {
  return "batch " + std::to_string(s.batch) + " time " + std::to_string(s.time) + " features " +
         std::to_string(s.n_input) + " units " + std::to_string(s.units) + (s.time_major ? " time-major" : "") +
         (s.bias ? " bias" : " no bias") + " activation " + rnn::ActName(s.activation) + " gates " +
         rnn::ActName(s.gate) + (s.float16 ? " float16" : "") + (s.int8 ? " int8" : "") +
         (s.initial_state ? " initial-state" : "") +
         (s.final_state ? " final-state " + std::to_string(s.final_state) : "") +
         (s.mask ? (s.float_mask ? " float-mask" : " bool-mask") : "") + (s.zero_output_for_mask ? " zero-output" : "");
}

// Keras's LSTM weights in TFLite's layout: w [4 * units, n_input], u [4 * units, units] (rows
// i, f, c, o), b [4 * units] or empty.
struct LstmCustomWeights {
  std::vector<float> w, u, b;
};

inline GruSpec Storage(const LstmCustomSpec& s) {
  GruSpec g;
  g.float16 = s.float16;
  g.int8 = s.int8;
  return g;
}

// Glorot-scaled random weights, stored (float16, int8) and the values they stand for.
inline LstmCustomWeights StoredWeights(const LstmCustomSpec& s) {
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  LstmCustomWeights w;
  w.w.resize(static_cast<size_t>(4 * s.units) * s.n_input);
  w.u.resize(static_cast<size_t>(4 * s.units) * s.units);
  for (float& v : w.w) v = 1.5f * u(rng) / std::sqrt(static_cast<float>(s.n_input));
  for (float& v : w.u) v = 1.5f * u(rng) / std::sqrt(static_cast<float>(s.units));
  if (s.bias) w.b.resize(4 * s.units);
  for (float& v : w.b) v = 0.5f * u(rng);
  Store(Storage(s), w.w);
  Store(Storage(s), w.u);
  return w;
}

inline std::vector<char> CustomModel(const LstmCustomSpec& s, const LstmCustomWeights& w) {
  GraphBuilder g;
  const int x = g.Activation("x", SequenceShape(s.batch, s.time, s.n_input, s.time_major));
  const GruSpec storage = Storage(s);
  const auto matrix = [&](const std::string& name, std::vector<int> shape, std::vector<float> values) {
    return StoredConstant(g, storage, name, std::move(shape), std::move(values));
  };
  const int wi = matrix("w", {4 * s.units, s.n_input}, w.w);
  const int wr = matrix("u", {4 * s.units, s.units}, w.u);
  const int b = w.b.empty() ? -1 : g.Constant("b", {4 * s.units}, w.b);
  const int y = g.Activation("y", SequenceShape(s.batch, s.time, s.units, s.time_major));
  rnn::LstmOptions o;
  o.version = s.mask ? 3 : s.initial_state || s.final_state ? 2 : 1;
  o.zero_output_for_mask = s.zero_output_for_mask;
  o.time_major = s.time_major;
  o.activation = s.activation;
  o.recurrent_activation = s.gate;
  std::vector<int> inputs = {x}, outputs = {y}, operands = {x, wi, wr, b};
  if (s.initial_state) {
    inputs.push_back(g.Activation("h0", {s.batch, s.units}));
    inputs.push_back(g.Activation("c0", {s.batch, s.units}));
    operands.insert(operands.end(), {-1, -1, inputs[1], inputs[2]});
  } else {
    operands.push_back(g.Variable("h", {s.batch, s.units}));
    operands.push_back(g.Variable("c", {s.batch, s.units}));
  }
  if (s.mask) {
    const std::vector<int> shape = s.time_major ? std::vector<int>{s.time, s.batch} : std::vector<int>{s.batch, s.time};
    inputs.push_back(g.Add(Tensor("mask", shape, s.float_mask ? tflite::TensorType_FLOAT32 : tflite::TensorType_BOOL)));
    if (operands.size() == 6) operands.insert(operands.end(), {-1, -1});
    operands.push_back(inputs.back());
  }
  std::vector<int> op_outputs = outputs;
  if (s.final_state) {
    const int h_last = s.final_state == 1 ? g.Activation("h_last", {s.batch, s.units}) : -1;
    const int c_last = g.Activation("c_last", {s.batch, s.units});
    op_outputs.insert(op_outputs.end(), {h_last, c_last});
    if (h_last >= 0) outputs.push_back(h_last);
    outputs.push_back(c_last);
  }
  g.Custom(rnn::kLstmCustomOp, operands, op_outputs, rnn::LstmOptionsBytes(o));
  return g.Finish(inputs, outputs);
}

}  // namespace tflstm::testing
