// The TFLSTM_GRU custom op's contract (stock TFLite has no fused GRU):
//   inputs  0 input [batch, time, n_input] ([time, batch, n_input] when time_major), float32
//           1 input weights [3 * units, n_input], rows z, r, h (Keras's gate order), float32
//           2 recurrent weights [3 * units, units], rows z, r, h, float32
//           3 input bias [3 * units], float32, or absent (-1)
//           4 recurrent bias [3 * units], float32, or absent (-1)
//           5 hidden state [batch, units], float32, a variable tensor (read at the start of every
//             invoke, written at the end, as the LSTM's states); version 2: absent (-1) when
//             input 6 is present
//           6 (version 2, optional) initial state [batch, units], float32, a tensor other ops
//             compute (not a variable): every invoke starts from it, as Keras's GRU called with
//             initial_state. Exactly one of inputs 5 and 6 is present: a GRU given its initial
//             state keeps none of its own (a Stream carries nothing for it; feed output 1 back to
//             carry it yourself)
//   output  0 [batch, time, units] ([time, batch, units]): h after every step
//           1 (version 2, optional) final state [batch, units], float32: h after the last step
//             (Keras's return_state; with go_backwards, after the last step of the reversed
//             sequence the op is given, as Keras)
// Options: the custom options bytes are a FlexBuffers map {"version": 1 or 2, "reset_after": bool,
// "time_major": bool, "activation": name, "recurrent_activation": name}, names as activation.h's
// ActName; version 1 takes inputs 0-5 and output 0 only; a version this build does not know is
// refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "activation.h"

namespace tflstm::rnn {

constexpr const char* kGruCustomOp = "TFLSTM_GRU";
constexpr int kGruOptionsVersion = 2;  // the latest this build reads (it reads 1 too)
enum GruOperand {
  kGruInput = 0,
  kGruInputWeights,
  kGruRecurrentWeights,
  kGruInputBias,
  kGruRecurrentBias,
  kGruHidden,
  kGruInitialState
};
constexpr int kGruOperands = 7;  // version 2; version 1 has the first 6
enum GruOutput { kGruSequence = 0, kGruFinalState };

struct GruOptions {
  int version = 1;  // 2: the state operands (input 6, output 1) may be present
  bool reset_after = true;
  bool time_major = false;
  Act activation = Act::kTanh;
  Act recurrent_activation = Act::kSigmoid;
};

// "tanh", "relu", "relu6", "relu_n1_to_1", "sigmoid", "linear", "hard_sigmoid" (Keras 2:
// clip(0.2 x + 0.5, 0, 1)) and "hard_sigmoid_relu6" (Keras 3: relu6(x + 3) / 6).
const char* ActName(Act a);
bool ActFromName(const std::string& name, Act* a);

// The options of a TFLSTM_GRU node; false with a message saying what is wrong otherwise.
bool ParseGruOptions(const uint8_t* data, size_t size, GruOptions* options, std::string* error);
// The custom options bytes of `options` (for the tests and tools that write the op).
std::vector<uint8_t> GruOptionsBytes(const GruOptions& options);

}  // namespace tflstm::rnn
