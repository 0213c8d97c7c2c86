// Where a recurrent op's state starts and ends (the GRU's h, the LSTM's h and c):
// an explicit initial-state input (a tensor other ops compute) when the node has one, else the
// state's variable tensor; the last state back into the variable, and into a final-state output
// when the node has one. A node with an initial-state input has no variable for that state: it
// starts every invoke from the input, as Keras's layer called with initial_state does, and a
// caller carries the state across invokes by feeding the final-state output back.
#pragma once

#include <initializer_list>

#include "op_util.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::rnn {

struct StateOperands {
  const float* from = nullptr;   // the state at the start of an invoke
  float* variable = nullptr;     // the last state into it, when the node keeps the state (else null)
  float* final_state = nullptr;  // the last state into it, when the node outputs it (else null)
};

// The operands of one state: input `variable` (a variable tensor) or input `initial` (-1: none),
// output `final_output` (-1: none); an index past the node's operands, or -1 in the node, is absent.
inline StateOperands StateOperandsOf(TfLiteContext* context, const TfLiteNode* node, int variable, int initial,
                                     int final_output) {
  StateOperands s;
  const TfLiteTensor* given = initial >= 0 ? OptionalInput(context, node, initial) : nullptr;
  const TfLiteTensor* kept = OptionalInput(context, node, variable);
  if (given != nullptr) {
    s.from = given->data.f;
  } else if (kept != nullptr) {
    s.from = kept->data.f;
    s.variable = kept->data.f;
  }
  if (final_output >= 0 && final_output < node->outputs->size && node->outputs->data[final_output] >= 0) {
    s.final_state = context->tensors[node->outputs->data[final_output]].data.f;
  }
  return s;
}

// The node's final-state outputs at `outputs` that it has (an index past its outputs, or -1 in
// the node, is absent) resized to [batch, units].
inline TfLiteStatus ResizeStateOutputs(TfLiteContext* context, const TfLiteNode* node,
                                       std::initializer_list<int> outputs, int batch, int units) {
  for (const int i : outputs) {
    if (i >= node->outputs->size || node->outputs->data[i] < 0) continue;
    TfLiteIntArray* shape = TfLiteIntArrayCreate(2);
    shape->data[0] = batch;
    shape->data[1] = units;
    TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, &context->tensors[node->outputs->data[i]], shape));
  }
  return kTfLiteOk;
}

}  // namespace tflstm::rnn
