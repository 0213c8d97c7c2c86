// The model validator's check of tflstm's custom ops (TFLSTM_GRU, TFLSTM_LSTM) on the flatbuffer,
// before any interpreter exists: the same checks as the ops' Prepare (gru_check.h,
// lstm_custom_check.h).
#pragma once

#include <string>

#include "tensorflow/lite/schema/schema_generated.h"
#include "tflstm/status.h"

namespace tflstm::rnn {

// Ok for a custom op other than tflstm's, or one whose operands and options fit its contract;
// else kInvalidModel saying what is wrong after `where` (the model and the operator).
Status CheckTflstmCustomOp(const tflite::Model& model, const tflite::SubGraph& subgraph, const tflite::Operator& op,
                           const std::string& where);

}  // namespace tflstm::rnn
