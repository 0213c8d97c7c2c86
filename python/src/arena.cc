#include <pybind11/pybind11.h>

#include "tflstm/arena.h"
#include "tflstm/runner.h"

namespace py = pybind11;

namespace tflstm::python {

void bind_arena(py::module_& m) {
  py::class_<MemoryStats>(m, "ArenaStats",
                          "Memory of a runner in bytes: tflstm's arena (used, high-water mark, budget) "
                          "and TFLite's own allocations.")
      .def_property_readonly("used", [](const MemoryStats& s) { return s.arena.used; })
      .def_property_readonly("high_water", [](const MemoryStats& s) { return s.arena.high_water; })
      .def_property_readonly("budget", [](const MemoryStats& s) { return s.arena.budget; })
      .def_readonly("required", &MemoryStats::arena_required,
                    "What the model's inputs and outputs need from the arena")
      .def_readonly("tflite_arena", &MemoryStats::tflite_arena, "TFLite's arena for intermediate tensors")
      .def_readonly("tflite_persistent", &MemoryStats::tflite_persistent,
                    "TFLite's persistent arena (kernel state, LSTM state variables)")
      .def_readonly("tflite_dynamic", &MemoryStats::tflite_dynamic, "Dynamic tensors on TFLite's heap")
      .def_property_readonly("total", &MemoryStats::total, "Arena budget plus everything TFLite holds")
      .def("as_dict", [](const MemoryStats& s) {
        py::dict d;
        d["used"] = s.arena.used;
        d["high_water"] = s.arena.high_water;
        d["budget"] = s.arena.budget;
        d["required"] = s.arena_required;
        d["tflite_arena"] = s.tflite_arena;
        d["tflite_persistent"] = s.tflite_persistent;
        d["tflite_dynamic"] = s.tflite_dynamic;
        d["total"] = s.total();
        return d;
      })
      .def("__repr__", [](const MemoryStats& s) {
        return "ArenaStats(used=" + std::to_string(s.arena.used) + ", high_water=" + std::to_string(s.arena.high_water) +
               ", budget=" + std::to_string(s.arena.budget) + ", tflite_arena=" + std::to_string(s.tflite_arena) +
               ", tflite_persistent=" + std::to_string(s.tflite_persistent) + ", total=" + std::to_string(s.total()) + ")";
      });
}

}  // namespace tflstm::python
