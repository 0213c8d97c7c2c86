// The numpy face of tflstm/dtype.h: tflstm's DType <-> numpy dtypes.
#pragma once

#include <pybind11/numpy.h>

#include "tflstm/dtype.h"

namespace tflstm::python {

inline pybind11::dtype ToNumpy(DType type) {
  switch (type) {
    case DType::kString: return pybind11::dtype("O");
    case DType::kNone: return pybind11::dtype("V");
    default: return pybind11::dtype(DTypeName(type));
  }
}

// Whether a numpy dtype's values are in this machine's byte order ('=' native, '|' bytes).
inline bool IsNative(const pybind11::dtype& dt) {
  const char order = dt.byteorder();
  constexpr char kNative = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? '<' : '>';
  return order == '=' || order == '|' || order == kNative;
}

// The DType with the same layout as a numpy dtype, or DType::kNone (also for a dtype in the
// other byte order: its bytes are not the values TFLite would read).
inline DType FromNumpy(const pybind11::dtype& dt) {
  if (!IsNative(dt)) return DType::kNone;
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f')
    return size == 4 ? DType::kFloat32 : size == 2 ? DType::kFloat16 : size == 8 ? DType::kFloat64 : DType::kNone;
  if (kind == 'i')
    return size == 1   ? DType::kInt8
           : size == 2 ? DType::kInt16
           : size == 4 ? DType::kInt32
           : size == 8 ? DType::kInt64
                       : DType::kNone;
  if (kind == 'u')
    return size == 1   ? DType::kUInt8
           : size == 2 ? DType::kUInt16
           : size == 4 ? DType::kUInt32
           : size == 8 ? DType::kUInt64
                       : DType::kNone;
  if (kind == 'b') return DType::kBool;
  if (kind == 'c') return size == 8 ? DType::kComplex64 : size == 16 ? DType::kComplex128 : DType::kNone;
  return DType::kNone;
}

}  // namespace tflstm::python
