// The TFLSTM_GRU op's operand checks (gru_options.h's contract), over a plain view of the
// operands so that the model validator (on the flatbuffer) and the op's Prepare (on TFLite's
// tensors) check the same things with the same messages.
#pragma once

#include <string>
#include <vector>

#include "gru_options.h"

namespace tflstm::rnn {

enum class GruType { kFloat32, kInt8, kBool, kOther };

struct GruOperandView {
  bool present = false;
  GruType type = GruType::kOther;
  bool variable = false;
  std::vector<int> shape;
  int scales = 1;  // quantization scales (int8: one per tensor)
  int zero_point = 0;
};

struct GruDims {
  int batch = 0;
  int time = 0;
  int n_input = 0;
  int units = 0;
};

// "[2, 3]" (for the messages of the custom ops' checks).
std::string ShapeText(const std::vector<int>& shape);

// "" when `mask`, the operand named `operand` ("input 7 (mask)"), fits an input `x` of `batch` rows
// and `time` steps as a Keras mask (TFLSTM_GRU's input 7, TFLSTM_LSTM's input 8): BOOL or FLOAT32,
// [batch, time] ([time, batch] when `time_major`); else what is wrong.
std::string MaskError(const GruOperandView& mask, const std::string& operand, bool time_major, int batch, int time,
                      const std::vector<int>& x);

// "" when the operands fit the contract (and `dims` their sizes); else what is wrong, naming the
// operand. Outputs are checked for their number and type (the op gives them their shapes).
std::string CheckGruOperands(const std::vector<GruOperandView>& inputs, const std::vector<GruOperandView>& outputs,
                             const GruOptions& options, GruDims* dims);

}  // namespace tflstm::rnn
