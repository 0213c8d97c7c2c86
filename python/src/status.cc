#include "status.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

const char* ClassName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidModel: return "ModelError";
    case ErrorCode::kUnsupportedOp: return "UnsupportedOpError";
    case ErrorCode::kInvalidArgument: return "InputError";
    case ErrorCode::kArenaExhausted: return "ArenaExhaustedError";
    case ErrorCode::kRuntimeError: return "InvokeError";
    case ErrorCode::kCancelled: return "CancelledError";
    case ErrorCode::kOk: break;
  }
  return "Error";
}

py::object NewClass(py::module_& m, const char* name, const char* doc, py::tuple bases) {
  const std::string qualified = std::string("tflstm.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  auto obj = py::reinterpret_steal<py::object>(cls);
  m.attr(name) = obj;
  return obj;
}

}  // namespace

void Raise(const Status& status, const py::dict& extra) {
  // Looked up on the module, not cached in a static: no Python object outlives the interpreter.
  py::object cls = py::module_::import("tflstm._core").attr(ClassName(status.code()));
  // Messages quote tensor names and paths, which need not be UTF-8: shown escaped, never refused.
  const std::string& msg = status.message();
  PyObject* text = PyUnicode_DecodeUTF8(msg.data(), static_cast<Py_ssize_t>(msg.size()), "backslashreplace");
  if (text == nullptr) throw py::error_already_set();
  py::object exc = cls(py::reinterpret_steal<py::str>(text));
  for (auto item : extra) py::setattr(exc, item.first, item.second);
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw py::error_already_set();
}

void bind_status(py::module_& m) {
  py::object base =
      NewClass(m, "Error", "Root of every error tflstm raises.", py::make_tuple(py::handle(PyExc_Exception)));
  NewClass(m, "ModelError", "The model is missing, unreadable, truncated or malformed.",
           py::make_tuple(base, py::handle(PyExc_ValueError)));
  NewClass(m, "UnsupportedOpError",
           "The model uses an (op, version) that the linked TFLite runtime cannot run; `ops` lists them.",
           py::make_tuple(base));
  NewClass(m, "InputError", "An input has the wrong shape or dtype, or a name or option is unknown.",
           py::make_tuple(base, py::handle(PyExc_ValueError)));
  NewClass(m, "ArenaExhaustedError", "The arena budget is too small for what was asked of it.",
           py::make_tuple(base, py::handle(PyExc_MemoryError)));
  py::object invoke = NewClass(m, "InvokeError", "TFLite failed while preparing or running the model.",
                               py::make_tuple(base, py::handle(PyExc_RuntimeError)));
  NewClass(m, "CancelledError", "Runner.cancel() stopped a run from another thread.", py::make_tuple(invoke));
}

}  // namespace tflstm::python
