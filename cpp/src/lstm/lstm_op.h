// Which kernel a prepared UNIDIRECTIONAL_SEQUENCE_LSTM node runs (see lstm_op.cc).
#pragma once

#include <cstddef>

#include "tensorflow/lite/core/c/common.h"

namespace tflstm::lstm {

// The kernel's name: "avx512", "avx2", "neon" or "portable" for tflstm's float kernel,
// "hybrid-..." for its hybrid one, "int8-..." for its integer one; "tflite" when tflstm's
// registration hands the node to TFLite's kernel; nullptr when tflstm did not register the node.
const char* NodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node);

// Bytes of the weights the node's kernel packed (on the heap; the nodes of the runners of one
// model share them when the weights are in the model); 0 for others.
size_t NodeKernelBytes(const TfLiteRegistration& registration, const TfLiteNode& node);
// The scratch the node's kernel keeps on the heap (its arena temporaries are TFLite's), 0 for others.
size_t NodeScratchBytes(const TfLiteRegistration& registration, const TfLiteNode& node);

// The packed weights the node runs with, to tell whether two nodes share them; nullptr when
// it packed none.
const void* NodePackedWeights(const TfLiteRegistration& registration, const TfLiteNode& node);

}  // namespace tflstm::lstm
