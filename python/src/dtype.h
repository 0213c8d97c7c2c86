// The numpy face of tflstm/dtype.h: TFLite tensor types <-> numpy dtypes.
#pragma once

#include <pybind11/numpy.h>

#include "tensorflow/lite/core/c/c_api_types.h"
#include "tflstm/dtype.h"

namespace tflstm::python {

inline pybind11::dtype ToNumpy(TfLiteType type) {
  switch (type) {
    case kTfLiteString: return pybind11::dtype("O");
    case kTfLiteNoType: return pybind11::dtype("V");
    default: return pybind11::dtype(DTypeName(type));
  }
}

// Whether a numpy dtype's values are in this machine's byte order ('=' native, '|' bytes).
inline bool IsNative(const pybind11::dtype& dt) {
  const char order = dt.byteorder();
  constexpr char kNative = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? '<' : '>';
  return order == '=' || order == '|' || order == kNative;
}

// The TFLite type with the same layout as a numpy dtype, or kTfLiteNoType (also for a dtype
// in the other byte order: its bytes are not the values TFLite would read).
inline TfLiteType FromNumpy(const pybind11::dtype& dt) {
  if (!IsNative(dt)) return kTfLiteNoType;
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f')
    return size == 4 ? kTfLiteFloat32 : size == 2 ? kTfLiteFloat16 : size == 8 ? kTfLiteFloat64 : kTfLiteNoType;
  if (kind == 'i')
    return size == 1   ? kTfLiteInt8
           : size == 2 ? kTfLiteInt16
           : size == 4 ? kTfLiteInt32
           : size == 8 ? kTfLiteInt64
                       : kTfLiteNoType;
  if (kind == 'u')
    return size == 1   ? kTfLiteUInt8
           : size == 2 ? kTfLiteUInt16
           : size == 4 ? kTfLiteUInt32
           : size == 8 ? kTfLiteUInt64
                       : kTfLiteNoType;
  if (kind == 'b') return kTfLiteBool;
  if (kind == 'c') return size == 8 ? kTfLiteComplex64 : size == 16 ? kTfLiteComplex128 : kTfLiteNoType;
  return kTfLiteNoType;
}

}  // namespace tflstm::python
