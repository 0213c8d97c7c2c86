// Which kernel a prepared UNIDIRECTIONAL_SEQUENCE_LSTM node runs (see lstm_op.cc).
#pragma once

#include <cstddef>

#include "tensorflow/lite/core/c/common.h"

namespace tflstm::lstm {

// "avx2", "neon" or "portable" for tflstm's fused float kernel, "int8" for its integer one, "tflite" when tflstm's
// registration hands the node to TFLite's kernel, nullptr when the node is not registered by tflstm.
const char* NodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node);

// Bytes of weights the node's kernel packed for itself (on the heap, per runner); 0 for others.
size_t NodeKernelBytes(const TfLiteRegistration& registration, const TfLiteNode& node);

}  // namespace tflstm::lstm
