// Validation of a verified flatbuffer against what TFLite's interpreter builder and kernels
// take on trust: indices, buffer bounds, tensor sizes, quantization parameters, and the operand
// counts and shapes of the ops whose Prepare reads memory before (or without) checking them.
#pragma once

#include <cstddef>
#include <string>

#include "tensorflow/lite/schema/schema_generated.h"
#include "tflstm/status.h"

namespace tflstm::internal {

// `file_bytes` is the size of the whole file (buffers of models over 2 GB sit after the
// flatbuffer, at offsets from its start); `where` names the model in messages.
// Returns kInvalidModel naming the subgraph, operator and tensor at fault.
Status ValidateModel(const tflite::Model& model, size_t file_bytes, const std::string& where);

// An operator code's name for messages and OpInfo: "FULLY_CONNECTED", or a custom op's name.
std::string OpCodeName(const tflite::OperatorCode& code);

}  // namespace tflstm::internal
