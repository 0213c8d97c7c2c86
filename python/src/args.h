// Arguments from Python, checked: every value a caller can pass either converts or raises
// tflstm's typed error naming the argument (never pybind11's generic "Unable to cast"), and
// every object is initialised before a method touches it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace tflstm::python {

// An instance made by T.__new__ (or copy.copy) without __init__ holds no C++ object; a method
// taken from the class can also be called on another object entirely.
[[noreturn]] void RaiseUninitialized(pybind11::handle self);
[[noreturn]] void RaiseNotA(pybind11::handle self, const char* cpp_type);

// The C++ object behind `self`, or InputError when it is not a T or was never initialised.
// (pybind11's own caster would allocate raw memory for an uninitialised value instead.)
template <typename T>
T& Self(pybind11::handle self) {
  namespace detail = pybind11::detail;
  const detail::type_info* type = detail::get_type_info(typeid(T));
  if (type == nullptr || !PyObject_TypeCheck(self.ptr(), type->type)) {
    RaiseNotA(self, type != nullptr ? type->type->tp_name : typeid(T).name());
  }
  auto* inst = reinterpret_cast<detail::instance*>(self.ptr());
  const detail::value_and_holder v_h = inst->get_value_and_holder(type, false);
  if (!v_h || !v_h.holder_constructed() || v_h.value_ptr() == nullptr) RaiseUninitialized(self);
  return *static_cast<T*>(v_h.value_ptr());
}

// Text from the model (tensor and op names, which need not be UTF-8) as str: invalid bytes
// become lone surrogates (surrogateescape), so the name given back finds the same tensor.
pybind11::str Text(const std::string& bytes);
pybind11::list TextList(const std::vector<std::string>& items);
// A str given as a name, encoded back the same way; InputError naming `what` for a non-str.
std::string Name(pybind11::handle obj, const std::string& what);

// An int in [lo, hi] (bool refused, anything with __index__ taken); InputError naming `what`.
int64_t Integer(pybind11::handle obj, const std::string& what, int64_t lo, int64_t hi);
// The same for byte counts up to SIZE_MAX.
size_t ByteCount(pybind11::handle obj, const std::string& what);
// True or False (numpy's bool too); InputError naming `what` for anything else.
bool Flag(pybind11::handle obj, const std::string& what);
// A sequence of shapes, each a sequence of ints that fit an int.
std::vector<int> Shape(pybind11::handle obj, const std::string& what);

// The caller's data as a C-contiguous array in the machine's byte order: a big-endian or
// strided array is converted (a copy), so its values are what the model sees.
pybind11::array NativeArray(pybind11::handle obj, const std::string& what);

}  // namespace tflstm::python
