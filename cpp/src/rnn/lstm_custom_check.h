// The TFLSTM_LSTM op's operand checks (lstm_options.h's contract) over the plain operand views
// of gru_check.h, so that the model validator and the op's Prepare say the same.
#pragma once

#include <string>
#include <vector>

#include "gru_check.h"
#include "lstm_options.h"

namespace tflstm::rnn {

struct LstmCustomDims {
  int batch = 0;
  int time = 0;
  int n_input = 0;
  int units = 0;
};

// "" when the operands fit the contract (and `dims` their sizes); else what is wrong, naming the
// operand. Outputs are checked for their number and type (the op gives them their shapes).
std::string CheckLstmOperands(const std::vector<GruOperandView>& inputs, const std::vector<GruOperandView>& outputs,
                              const LstmOptions& options, LstmCustomDims* dims);

}  // namespace tflstm::rnn
