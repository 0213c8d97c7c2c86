// The full op set: every builtin op of TFLite (tflstm::all_ops).
#include "rnn/recurrent_ops.h"
#include "tensorflow/lite/kernels/register.h"
#include "tflstm/tflite/op_set.h"
#if TFLSTM_WITH_XNNPACK
#include "xnnpack/xnn_ops.h"
#endif

namespace tflstm {

std::unique_ptr<tflite::OpResolver> MakeOpResolver(LstmKernel lstm_kernel) {
  // No default delegates: TFLite's XNNPACK delegate is not built (tflstm's XNNPACK kernels below
  // run node by node instead, through this resolver).
  auto resolver = std::make_unique<tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates>();
  if (lstm_kernel == LstmKernel::kTflstm) AddTflstmLstmKernel(*resolver);
  rnn::AddRecurrentKernels(*resolver, /*simple_rnn=*/lstm_kernel == LstmKernel::kTflstm);
#if TFLSTM_WITH_XNNPACK
  xnn::AddAll(*resolver);  // CONV_2D, FULLY_CONNECTED, ... on XNNPACK where it covers the node
#endif
  CompleteOpSet(*resolver);
  return resolver;
}

const char* OpSetDescription() { return "TFLite " TFLSTM_TFLITE_VERSION; }  // the build defines it

}  // namespace tflstm
