#include <pybind11/pybind11.h>

#include <string>

#include "args.h"
#include "tflstm/arena.h"

namespace py = pybind11;

namespace tflstm::python {

void bind_arena(py::module_& m) {
  py::class_<ArenaStats>(m, "ArenaStats", "tflstm's arena, in bytes: in use now, the most ever in use, the budget.")
      .def_property_readonly(
          "used", [](py::handle self) { return Self<ArenaStats>(self).used; },
          "Bytes handed out now (alignment padding included)")
      .def_property_readonly(
          "high_water", [](py::handle self) { return Self<ArenaStats>(self).high_water; },
          "The most that was ever in use")
      .def_property_readonly(
          "budget", [](py::handle self) { return Self<ArenaStats>(self).budget; }, "The arena's size")
      .def("__repr__", [](py::handle self) {
        const ArenaStats& s = Self<ArenaStats>(self);
        return "ArenaStats(used=" + std::to_string(s.used) + ", high_water=" + std::to_string(s.high_water) +
               ", budget=" + std::to_string(s.budget) + ")";
      });
}

}  // namespace tflstm::python
