// LstmKernel's names, the one place they are spelled.
#include <string>

#include "tflstm/lstm_kernel.h"

namespace tflstm {

const char* LstmKernelName(LstmKernel kernel) {
  switch (kernel) {
    case LstmKernel::kTflstm: return "tflstm";
    case LstmKernel::kTflite: return "tflite";
  }
  return "unknown";  // a value cast from an int (RunnerOptions::Validate refuses it)
}

Result<LstmKernel> LstmKernelFromName(std::string_view name) {
  for (const LstmKernel k : {LstmKernel::kTflstm, LstmKernel::kTflite}) {
    if (name == LstmKernelName(k)) return k;
  }
  return Status(ErrorCode::kInvalidArgument,
                "lstm_kernel must be 'tflstm' or 'tflite', got '" + std::string(name) + "'");
}

}  // namespace tflstm
