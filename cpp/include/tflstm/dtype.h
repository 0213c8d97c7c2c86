// Element types of tensors. tflstm names them with TFLite's C enum (a plain C header, no
// TFLite C++ types) and numpy's names.
#pragma once

#include <cstddef>

#include "tensorflow/lite/core/c/c_api_types.h"

namespace tflstm {

// numpy-style names: "float32", "int8", ...
const char* DTypeName(TfLiteType type);
// Size of one element in bytes, 0 for types without a fixed size (strings).
size_t DTypeSize(TfLiteType type);
// The integer types a tensor can be quantized to with a scale and zero point: int8, uint8, int16.
bool DTypeIsQuantized(TfLiteType type);

}  // namespace tflstm
