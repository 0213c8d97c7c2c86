// The TFLSTM_LSTM custom op's contract: a Keras LSTM whose gate function or activation TFLite's
// UNIDIRECTIONAL_SEQUENCE_LSTM cannot compute (its gates are sigmoid; Keras 2's default gate is
// hard_sigmoid). No cell clip (Keras never clips), no peephole, projection or layer norm.
//   inputs  0 input [batch, time, n_input] ([time, batch, n_input] when time_major), float32
//           1 input weights [4 * units, n_input], rows i, f, c, o (Keras's gate order, which is
//             TFLite's too), float32, or int8 with one scale a tensor and zero point 0 (hybrid)
//           2 recurrent weights [4 * units, units], rows i, f, c, o, the same type as input 1
//           3 bias [4 * units], float32, or absent (-1)
//           4 output state h [batch, units], float32, a variable tensor
//           5 cell state c [batch, units], float32, a variable tensor (both read at the start of
//             every invoke and written at the end, as the builtin LSTM's states)
//   output  0 [batch, time, units] ([time, batch, units]): h after every step
// Float16 weights are float16 constants a DEQUANTIZE makes float32 once.
// Options: the custom options bytes are a FlexBuffers map {"version": 1, "time_major": bool,
// "activation": name, "recurrent_activation": name}, names as gru_options.h's ActName; a version
// this build does not know is refused (a later version can add operands, e.g. explicit states).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "activation.h"

namespace tflstm::rnn {

constexpr const char* kLstmCustomOp = "TFLSTM_LSTM";
constexpr int kLstmOptionsVersion = 1;
enum LstmOperand { kLstmInput = 0, kLstmInputWeights, kLstmRecurrentWeights, kLstmBias, kLstmHidden, kLstmCell };
constexpr int kLstmOperands = 6;

struct LstmOptions {
  bool time_major = false;
  Act activation = Act::kTanh;
  Act recurrent_activation = Act::kHardSigmoid;
};

// The options of a TFLSTM_LSTM node; false with a message saying what is wrong otherwise.
bool ParseLstmOptions(const uint8_t* data, size_t size, LstmOptions* options, std::string* error);
// The custom options bytes of `options` (for the tests and tools that write the op).
std::vector<uint8_t> LstmOptionsBytes(const LstmOptions& options);

}  // namespace tflstm::rnn
