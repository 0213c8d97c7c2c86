// Which kernel runs UNIDIRECTIONAL_SEQUENCE_LSTM (RunnerOptions::lstm_kernel, MakeOpResolver).
#pragma once

namespace tflstm {

// The kernel that runs UNIDIRECTIONAL_SEQUENCE_LSTM.
enum class LstmKernel {
  kTflstm,  // tflstm's fused kernel; configurations it does not cover run TFLite's
  kTflite,  // TFLite's builtin kernel, always
};

}  // namespace tflstm
