// Turns core Status values into tflstm's Python exceptions.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>

#include "tflstm/status.h"

namespace tflstm::python {

// Raises the exception class that matches status.code(); `extra` attributes are set on it.
[[noreturn]] void Raise(const Status& status, const pybind11::dict& extra = pybind11::dict());

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) Raise(status);
}

template <typename T>
T Unwrap(Result<T>&& result) {
  if (!result.ok()) Raise(result.status());
  return std::move(result).value();
}

}  // namespace tflstm::python
