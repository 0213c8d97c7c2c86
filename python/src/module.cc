// tflstm._core: the Python face of the C++ core. Each bind_<thing> lives in the file named
// after the core file or type it exposes.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace tflstm::python {
void bind_status(py::module_& m);
void bind_arena(py::module_& m);
void bind_model(py::module_& m);
void bind_memory_stats(py::module_& m);
void bind_runner_options(py::module_& m);
void bind_runner(py::module_& m);
void bind_stream(py::module_& m);
}  // namespace tflstm::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "tflstm native core: TensorFlow Lite " TFLSTM_TFLITE_VERSION " with a bounded arena and typed errors";
  tflstm::python::bind_status(m);
  tflstm::python::bind_arena(m);
  tflstm::python::bind_model(m);
  tflstm::python::bind_memory_stats(m);
  tflstm::python::bind_runner_options(m);
  tflstm::python::bind_runner(m);
  tflstm::python::bind_stream(m);
}
