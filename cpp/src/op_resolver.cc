#include "op_resolver.h"

#include "tensorflow/lite/kernels/register.h"

namespace tflstm::internal {

std::unique_ptr<tflite::OpResolver> MakeOpResolver() {
  // No default delegates: XNNPACK is not built, and results must come from TFLite's kernels.
  return std::make_unique<tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates>();
}

}  // namespace tflstm::internal
