// A float or hybrid LSTM layer run over a whole sequence on tflstm's kernels: h and c from their
// state operands into padded scratch, the chunked projection and step loop of rnn/sequence.h,
// each step's h into the output, the last h and c back. Shared by TFLite's
// UNIDIRECTIONAL_SEQUENCE_LSTM (lstm_op.cc) and tflstm's TFLSTM_LSTM (rnn/lstm_custom_op.cc).
#pragma once

#include <cstddef>
#include <memory>

#include "float_lstm.h"
#include "hybrid_lstm.h"
#include "rnn/state_operands.h"
#include "rnn/step_mask.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::lstm {

struct LstmSequence {
  int batch = 0;
  int time = 0;
  int n_input = 0;
  int n_cell = 0;
  bool time_major = false;
  size_t state_stride = 0;  // floats per batch row of the padded h and c
  const Kernels* kernels = nullptr;
  const PackedWeights* weights = nullptr;  // float weights, or null when `hybrid` runs the products
  HybridLstm* hybrid = nullptr;
  float cell_clip = 0.0f;
  Activation activation = Activation::kTanh;
  Activation gate = Activation::kSigmoid;
};

// The float weights of an LSTM, packed (shared by the nodes of a model's runners when
// `in_model`): gates[k][g] is gate g's (i, f, c, o) input weights (k 0, [n_cell, n_input]),
// recurrent weights (1, [n_cell, n_cell]) or bias (2, [n_cell]).
std::shared_ptr<const PackedWeights> PackLstm(const float* const (&gates)[3][kGates], int n_input, int n_cell,
                                              bool in_model);

// The int8 weights of a hybrid LSTM packed into `layer` (Configure'd): gates[0] the input
// weights, gates[1] the recurrent ones, bias[g] each gate's float bias.
void PackHybridLstm(HybridLstm& layer, const HybridLstm::Gates (&gates)[2], const float* const (&bias)[kGates],
                    int n_input, int n_cell, bool in_model);

// x [batch, time, n_input] (or time-major) into y; h and c [batch, n_cell] from their `from`,
// the last ones into their variable and final-state output where present (rnn/state_operands.h).
// gx holds the projection of a chunk of steps, state 3 * batch * state_stride floats (4 * with a
// `mask`: a masked step keeps a row's h and c, rnn/step_mask.h).
TfLiteStatus RunLstmSequence(TfLiteContext* context, const LstmSequence& s, const float* x, float* y,
                             const rnn::StateOperands& h, const rnn::StateOperands& c, float* gx, float* state,
                             const rnn::StepMask& mask = {});

// A variable state tensor's operands: read at the start, written at the end.
inline rnn::StateOperands VariableState(float* data) { return {data, data, nullptr}; }

}  // namespace tflstm::lstm
