#include "args.h"

#include "dtype.h"

#include <limits>

namespace py = pybind11;

namespace tflstm::python {

namespace {

std::string TypeName(py::handle obj) { return py::str(py::type::of(obj).attr("__name__")); }

[[noreturn]] void Refuse(const std::string& what, const std::string& want, py::handle got) {
  Raise(Status(ErrorCode::kInvalidArgument,
               what + " must be " + want + ", got " + std::string(py::str(py::repr(got))).substr(0, 200)));
}

}  // namespace

void RaiseUninitialized(py::handle self) {
  const std::string name = TypeName(self);
  Raise(Status(ErrorCode::kInvalidArgument, "this tflstm." + name + " was never initialised (made with " + name +
                                                ".__new__ or a copy, without __init__): make one with tflstm." + name +
                                                "(...)"));
}

void RaiseNotA(py::handle self, const char* cpp_type) {
  Raise(Status(ErrorCode::kInvalidArgument, "a method of a tflstm class was called on a " + TypeName(self) +
                                                " object (" + std::string(cpp_type) + " expected)"));
}

py::str Text(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "surrogateescape");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

py::list TextList(const std::vector<std::string>& items) {
  py::list out;
  for (const std::string& item : items) out.append(Text(item));
  return out;
}

std::string Name(py::handle obj, const std::string& what) {
  if (!py::isinstance<py::str>(obj)) Refuse(what, "a str", obj);
  PyObject* b = PyUnicode_AsEncodedString(obj.ptr(), "utf-8", "surrogateescape");
  if (b == nullptr) {  // a surrogate that no byte escapes (e.g. a lone '\ud800')
    PyErr_Clear();
    Refuse(what, "text that UTF-8 can encode", obj);
  }
  const auto bytes = py::reinterpret_steal<py::bytes>(b);
  return std::string(bytes);
}

int64_t Integer(py::handle obj, const std::string& what, int64_t lo, int64_t hi) {
  const std::string range = "an int from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (py::isinstance<py::bool_>(obj) || !PyIndex_Check(obj.ptr())) Refuse(what, range, obj);
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!index) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0 || v < lo || v > hi) Refuse(what, range, obj);
  return v;
}

size_t ByteCount(py::handle obj, const std::string& what) {
  const std::string want = "None or a byte count from 0 to " + std::to_string(std::numeric_limits<size_t>::max());
  if (py::isinstance<py::bool_>(obj) || !PyIndex_Check(obj.ptr())) Refuse(what, want, obj);
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!index) throw py::error_already_set();
  if (index < py::int_(0) || index > py::int_(std::numeric_limits<size_t>::max())) Refuse(what, want, obj);
  return index.cast<size_t>();
}

bool Flag(py::handle obj, const std::string& what) {
  if (py::isinstance<py::bool_>(obj)) return obj.cast<bool>();
  if (py::isinstance(obj, py::module_::import("numpy").attr("bool_"))) return PyObject_IsTrue(obj.ptr()) == 1;
  Refuse(what, "True or False", obj);
}

std::vector<int> Shape(py::handle obj, const std::string& what) {
  if (py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj) || !py::isinstance<py::sequence>(obj)) {
    Refuse(what, "a sequence of ints", obj);
  }
  std::vector<int> shape;
  const auto items = py::reinterpret_borrow<py::sequence>(obj);
  for (size_t d = 0; d < items.size(); ++d) {
    shape.push_back(static_cast<int>(Integer(items[d], what + "[" + std::to_string(d) + "]",
                                             std::numeric_limits<int>::min(), std::numeric_limits<int>::max())));
  }
  return shape;
}

py::array NativeArray(py::handle obj, const std::string& what) {
  // Already one (the common case, and the hot path of streaming): no conversion call.
  auto& api = py::detail::npy_api::get();
  if (Py_TYPE(obj.ptr()) == api.PyArray_Type_ &&
      (py::detail::array_proxy(obj.ptr())->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0) {
    auto arr = py::reinterpret_borrow<py::array>(obj);
    if (IsNative(arr.dtype())) return arr;
  }
  py::array arr = py::array::ensure(obj, py::array::c_style);
  if (!arr) {
    PyErr_Clear();
    Raise(Status(ErrorCode::kInvalidArgument, what + " is not array-like: " + TypeName(obj)));
  }
  if (!IsNative(arr.dtype())) {
    // '>f4' on a little-endian machine: the same values in this machine's byte order.
    arr = py::array::ensure(arr.attr("astype")(arr.dtype().attr("newbyteorder")("=")), py::array::c_style);
  }
  return arr;
}

}  // namespace tflstm::python
