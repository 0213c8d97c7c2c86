// The op resolver every Runner and Model::Check use: the one place that decides which
// kernels are linked in.
#pragma once

#include <memory>

#include "tensorflow/lite/core/api/op_resolver.h"

namespace tflstm::internal {

std::unique_ptr<tflite::OpResolver> MakeOpResolver();

}  // namespace tflstm::internal
