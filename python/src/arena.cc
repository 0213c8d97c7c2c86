#include <pybind11/pybind11.h>

#include <string>

#include "tflstm/arena.h"

namespace py = pybind11;

namespace tflstm::python {

void bind_arena(py::module_& m) {
  py::class_<ArenaStats>(m, "ArenaStats", "tflstm's arena, in bytes: in use now, the most ever in use, the budget.")
      .def_readonly("used", &ArenaStats::used, "Bytes handed out now (alignment padding included)")
      .def_readonly("high_water", &ArenaStats::high_water, "The most that was ever in use")
      .def_readonly("budget", &ArenaStats::budget, "The hard limit")
      .def("__repr__", [](const ArenaStats& s) {
        return "ArenaStats(used=" + std::to_string(s.used) + ", high_water=" + std::to_string(s.high_water) +
               ", budget=" + std::to_string(s.budget) + ")";
      });
}

}  // namespace tflstm::python
