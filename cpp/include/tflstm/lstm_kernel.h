// Which kernel runs UNIDIRECTIONAL_SEQUENCE_LSTM (RunnerOptions::lstm_kernel, MakeOpResolver).
#pragma once

#include <string_view>

#include "tflstm/status.h"

namespace tflstm {

// The kernel that runs UNIDIRECTIONAL_SEQUENCE_LSTM.
enum class LstmKernel {
  kTflstm,  // tflstm's fused kernel; configurations it does not cover run TFLite's
  kTflite,  // TFLite's builtin kernel, always
};

// "tflstm" or "tflite": the name command lines and the Python API give a kernel.
const char* LstmKernelName(LstmKernel kernel);
// The kernel called `name`, or kInvalidArgument naming the ones there are.
Result<LstmKernel> LstmKernelFromName(std::string_view name);

}  // namespace tflstm
