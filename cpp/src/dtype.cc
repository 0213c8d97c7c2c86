#include "tflstm/dtype.h"

#include "tensorflow/lite/core/c/common.h"

namespace tflstm {

const char* DTypeName(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return "float32";
    case kTfLiteFloat16: return "float16";
    case kTfLiteFloat64: return "float64";
    case kTfLiteInt8: return "int8";
    case kTfLiteUInt8: return "uint8";
    case kTfLiteInt16: return "int16";
    case kTfLiteUInt16: return "uint16";
    case kTfLiteInt32: return "int32";
    case kTfLiteUInt32: return "uint32";
    case kTfLiteInt64: return "int64";
    case kTfLiteUInt64: return "uint64";
    case kTfLiteBool: return "bool";
    case kTfLiteComplex64: return "complex64";
    case kTfLiteComplex128: return "complex128";
    case kTfLiteString: return "string";
    default: return TfLiteTypeGetName(type);
  }
}

bool DTypeIsQuantized(TfLiteType type) { return type == kTfLiteInt8 || type == kTfLiteUInt8 || type == kTfLiteInt16; }

size_t DTypeSize(TfLiteType type) {
  switch (type) {
    case kTfLiteInt8:
    case kTfLiteUInt8:
    case kTfLiteBool: return 1;
    case kTfLiteInt16:
    case kTfLiteUInt16:
    case kTfLiteFloat16: return 2;
    case kTfLiteFloat32:
    case kTfLiteInt32:
    case kTfLiteUInt32: return 4;
    case kTfLiteFloat64:
    case kTfLiteInt64:
    case kTfLiteUInt64:
    case kTfLiteComplex64: return 8;
    case kTfLiteComplex128: return 16;
    default: return 0;
  }
}

}  // namespace tflstm
