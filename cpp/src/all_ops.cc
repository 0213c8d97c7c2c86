// The full op set: every builtin op of TFLite (tflstm::all_ops).
#include "rnn/recurrent_ops.h"
#include "tensorflow/lite/kernels/register.h"
#include "tflstm/op_set.h"

namespace tflstm {

std::unique_ptr<tflite::OpResolver> MakeOpResolver(LstmKernel lstm_kernel) {
  // No default delegates: XNNPACK is not built, and results must come from TFLite's kernels.
  auto resolver = std::make_unique<tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates>();
  if (lstm_kernel == LstmKernel::kTflstm) AddTflstmLstmKernel(*resolver);
  rnn::AddRecurrentKernels(*resolver, /*simple_rnn=*/lstm_kernel == LstmKernel::kTflstm);
  CompleteOpSet(*resolver);
  return resolver;
}

const char* OpSetDescription() { return "TFLite " TFLSTM_TFLITE_VERSION; }  // the build defines it

}  // namespace tflstm
