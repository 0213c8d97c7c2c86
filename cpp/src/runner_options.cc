// RunnerOptions::Validate: the one place where a runner's options are checked on their own.
#include <string>

#include "tflstm/runner.h"

namespace tflstm {

Status RunnerOptions::Validate() const {
  if (num_threads == 0 || num_threads < -1 || num_threads > Runner::MaxThreads()) {
    // Each thread costs a stack: an unbounded count exhausts memory or, under an address-space
    // limit, leaves TFLite's thread pool waiting for threads that could not start.
    return Status(ErrorCode::kInvalidArgument, "num_threads must be -1 (TFLite's choice) or 1 to " +
                                                   std::to_string(Runner::MaxThreads()) + ", got " +
                                                   std::to_string(num_threads));
  }
  if (lstm_kernel != LstmKernel::kTflstm && lstm_kernel != LstmKernel::kTflite) {
    // A value cast from an int would otherwise pick a kernel silently.
    return Status(ErrorCode::kInvalidArgument, "lstm_kernel must be LstmKernel::kTflstm or LstmKernel::kTflite, got " +
                                                   std::to_string(static_cast<int>(lstm_kernel)));
  }
  return Status::Ok();
}

}  // namespace tflstm
