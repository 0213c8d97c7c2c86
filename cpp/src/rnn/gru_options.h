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
//   7 (version 3, optional) mask [batch, time] ([time, batch] when time_major), BOOL or
//             FLOAT32 (a step is kept where it is true / not 0), as a Keras mask (Masking,
//             Embedding(mask_zero=True)) reaches the layer: at a masked step a row keeps its h
//             (and the final state keeps it), and its output row is Keras's: zeros with
//             "zero_output_for_mask", else the row's previous output: zeros before the first step
//             from an initial state (input 6), the carried h from a variable (input 5: an invoke
//             continues the sequence, as a Stream's steps do; h is zeros after a reset); with
//             go_backwards the mask comes reversed with the sequence, as Keras reverses it
//   output  0 [batch, time, units] ([time, batch, units]): h after every step
//           1 (version 2, optional) final state [batch, units], float32: h after the last step
//             (Keras's return_state; with go_backwards, after the last step of the reversed
//             sequence the op is given, as Keras)
// Options: the custom options bytes are a FlexBuffers map {"version": 1, 2 or 3, "reset_after": bool,
// "time_major": bool, "activation": name, "recurrent_activation": name, "zero_output_for_mask":
// bool (version 3)}, names as activation.h's ActName; version 1 takes inputs 0-5 and output 0
// only, version 2 inputs 0-6, version 3 inputs 0-7; a version this build does not know is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "activation.h"

namespace tflstm::rnn {

constexpr const char* kGruCustomOp = "TFLSTM_GRU";
constexpr int kGruOptionsVersion = 3;  // the latest this build reads (it reads 1 and 2 too)
enum GruOperand {
  kGruInput = 0,
  kGruInputWeights,
  kGruRecurrentWeights,
  kGruInputBias,
  kGruRecurrentBias,
  kGruHidden,
  kGruInitialState,
  kGruMask
};
constexpr int kGruOperands = 8;  // version 3; version 2 has the first 7, version 1 the first 6
enum GruOutput { kGruSequence = 0, kGruFinalState };

struct GruOptions {
  int version = 1;  // 2: the state operands (input 6, output 1) may be present; 3: the mask (input 7) too
  bool reset_after = true;
  bool time_major = false;
  Act activation = Act::kTanh;
  Act recurrent_activation = Act::kSigmoid;
  bool zero_output_for_mask = false;  // version 3: a masked step outputs zeros (else the previous output)
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
