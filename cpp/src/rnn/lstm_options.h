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
//             every invoke and written at the end, as the builtin LSTM's states); version 2:
//             both absent (-1) when inputs 6 and 7 are present
//           6 (version 2, optional) initial h [batch, units], float32, and
//           7 (version 2, optional) initial c [batch, units], float32: tensors other ops compute
//             (not variables), every invoke starts from them, as Keras's LSTM called with
//             initial_state=[h, c]. Either inputs 4 and 5 or inputs 6 and 7 are present, never
//             a mix: an LSTM given its initial state keeps none of its own (a Stream carries
//             nothing for it; feed outputs 1 and 2 back to carry it yourself)
//           8 (version 3, optional) mask [batch, time] ([time, batch] when time_major), BOOL or
//             FLOAT32, as TFLSTM_GRU's input 7 (gru_options.h, checked by the same code): at a
//             masked step a row keeps its h and c (the final states keep them), and its output row
//             is Keras's: zeros with "zero_output_for_mask", else the row's previous output (zeros
//             before the first step from inputs 6 and 7, the carried h from the variables: an
//             invoke continues the sequence, as a Stream's steps do); inputs 6 and 7 absent (-1)
//             when the states are the variables
//   output  0 [batch, time, units] ([time, batch, units]): h after every step
//           1 (version 2, optional, -1 when absent) final h [batch, units], float32
//           2 (version 2, optional) final c [batch, units], float32: h and c after the last step
//             (Keras's return_state)
// Float16 weights are float16 constants a DEQUANTIZE makes float32 once.
// Options: the custom options bytes are a FlexBuffers map {"version": 1, 2 or 3, "time_major": bool,
// "activation": name, "recurrent_activation": name, "zero_output_for_mask": bool (version 3)},
// names as gru_options.h's ActName; version 1 takes inputs 0-5 and output 0 only, version 2
// inputs 0-7, version 3 inputs 0-8; a version this build does not know is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "activation.h"

namespace tflstm::rnn {

constexpr const char* kLstmCustomOp = "TFLSTM_LSTM";
constexpr int kLstmOptionsVersion = 3;  // the latest this build reads (it reads 1 and 2 too)
enum LstmOperand {
  kLstmInput = 0,
  kLstmInputWeights,
  kLstmRecurrentWeights,
  kLstmBias,
  kLstmHidden,
  kLstmCell,
  kLstmInitialHidden,
  kLstmInitialCell,
  kLstmMask
};
constexpr int kLstmOperands = 9;  // version 3; version 2 has the first 8, version 1 the first 6
enum LstmOutput { kLstmSequence = 0, kLstmFinalHidden, kLstmFinalCell };
constexpr int kLstmOutputs = 3;  // version 2; version 1 has the first

struct LstmOptions {
  int version = 1;  // 2: the state operands (inputs 6 and 7, outputs 1 and 2) may be present; 3: the mask too
  bool time_major = false;
  Act activation = Act::kTanh;
  Act recurrent_activation = Act::kHardSigmoid;
  bool zero_output_for_mask = false;  // version 3: a masked step outputs zeros (else the previous output)
};

// The options of a TFLSTM_LSTM node; false with a message saying what is wrong otherwise.
bool ParseLstmOptions(const uint8_t* data, size_t size, LstmOptions* options, std::string* error);
// The custom options bytes of `options` (for the tests and tools that write the op).
std::vector<uint8_t> LstmOptionsBytes(const LstmOptions& options);

}  // namespace tflstm::rnn
