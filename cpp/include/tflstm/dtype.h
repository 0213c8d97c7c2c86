// Element types of tensors, as tflstm's API reports them (tensor infos, views, inputs), with
// numpy's names. tflstm's own enum: no TFLite header behind it (tflstm/tflite/dtype.h converts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tflstm {

enum class DType : uint8_t {
  kNone,  // no type: a tensor the model leaves untyped
  kFloat32,
  kFloat16,
  kFloat64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kBool,
  kComplex64,
  kComplex128,
  kString,    // TFLite's packed strings
  kResource,  // a resource handle (VAR_HANDLE's output)
  kVariant,
  kInt4,
  kOther,  // a type this tflstm does not know, so that none is mistaken for another
};

// numpy-style names: "float32", "int8", ...; TFLite's for the types numpy lacks ("RESOURCE").
const char* DTypeName(DType type);
// Size of one element in bytes, 0 for types without a fixed size (strings).
size_t DTypeSize(DType type);
// The integer types a tensor can be quantized to with a scale and zero point: int8, uint8, int16.
bool DTypeIsQuantized(DType type);

}  // namespace tflstm
