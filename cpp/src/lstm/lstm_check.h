// Checks an UNIDIRECTIONAL_SEQUENCE_LSTM node against the op's contract before any kernel,
// tflstm's or TFLite's, reads a tensor: counts, types, shapes against each other, byte sizes
// and the quantization parameters the integer kernel dereferences. TFLite's own Prepare
// trusts some of these (a changed weight shape made its integer path read out of bounds).
#pragma once

#include "rnn/op_util.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::lstm {

// What the LSTM's tensors say about its sizes.
struct LstmDims {
  int batch = 0;
  int time = 0;
  int n_input = 0;
  int n_cell = 0;
  int n_output = 0;
};

using rnn::OptionalInput;

// kTfLiteError, reported through context->ReportError, for a node that breaks the contract.
TfLiteStatus CheckLstmNode(TfLiteContext* context, const TfLiteNode* node, LstmDims* dims);

}  // namespace tflstm::lstm
