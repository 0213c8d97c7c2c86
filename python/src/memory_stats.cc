// tflstm.MemoryStats: what a runner holds, or plans to (Runner.memory, Runner.memory_plan).
#include <pybind11/pybind11.h>

#include <string>

#include "args.h"
#include "tflstm/runner.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

// A MemoryStats field, read through a checked self.
template <typename T>
auto StatsField(T MemoryStats::*field) {
  return [field](py::handle self) { return Self<MemoryStats>(self).*field; };
}

}  // namespace

void bind_memory_stats(py::module_& m) {
  py::class_<MemoryStats>(m, "MemoryStats",
                          "Memory a runner holds (or plans to), in bytes: tflstm's arena, TFLite's own "
                          "allocations, what tflstm's kernels pack, and its streams' state.")
      .def_property_readonly("arena", StatsField(&MemoryStats::arena), "tflstm's arena (input and output tensors)")
      .def_property_readonly("arena_required", StatsField(&MemoryStats::arena_required),
                             "What the model's inputs and outputs need from the arena")
      .def_property_readonly("tflite_arena", StatsField(&MemoryStats::tflite_arena),
                             "TFLite's arena for intermediate tensors")
      .def_property_readonly("tflite_persistent", StatsField(&MemoryStats::tflite_persistent),
                             "TFLite's persistent arena (kernel state, LSTM state variables)")
      .def_property_readonly("tflite_dynamic", StatsField(&MemoryStats::tflite_dynamic),
                             "Dynamic tensors on TFLite's heap")
      .def_property_readonly("kernel_weights", StatsField(&MemoryStats::kernel_weights),
                             "Weights tflstm's kernels (LSTM, GRU, SimpleRNN, XNNPACK) packed, on the heap (the "
                             "LSTM's are shared by the runners of one model; each counts them)")
      .def_property_readonly("kernel_scratch", StatsField(&MemoryStats::kernel_scratch),
                             "Scratch tflstm's LSTM kernel keeps on the heap")
      .def_property_readonly("stream_state", StatsField(&MemoryStats::stream_state),
                             "The state the runner's live streams carry")
      .def_property_readonly("budget", StatsField(&MemoryStats::budget),
                             "What the plan is checked against: arena_bytes, or without it the memory the "
                             "process could still use when the runner was last built")
      .def_property_readonly(
          "total", [](py::handle self) { return Self<MemoryStats>(self).total(); },
          "Everything above: what the budget bounds")
      .def("as_dict",
           [](py::handle self) {
             const MemoryStats& s = Self<MemoryStats>(self);
             py::dict d;
             d["arena_used"] = s.arena.used;
             d["arena_high_water"] = s.arena.high_water;
             d["arena_budget"] = s.arena.budget;
             d["arena_required"] = s.arena_required;
             d["tflite_arena"] = s.tflite_arena;
             d["tflite_persistent"] = s.tflite_persistent;
             d["tflite_dynamic"] = s.tflite_dynamic;
             d["kernel_weights"] = s.kernel_weights;
             d["kernel_scratch"] = s.kernel_scratch;
             d["stream_state"] = s.stream_state;
             d["budget"] = s.budget;
             d["total"] = s.total();
             return d;
           })
      .def("__repr__", [](py::handle self) {
        const MemoryStats& s = Self<MemoryStats>(self);
        return "MemoryStats(arena=ArenaStats(used=" + std::to_string(s.arena.used) +
               ", high_water=" + std::to_string(s.arena.high_water) + ", budget=" + std::to_string(s.arena.budget) +
               "), arena_required=" + std::to_string(s.arena_required) +
               ", tflite_arena=" + std::to_string(s.tflite_arena) +
               ", tflite_persistent=" + std::to_string(s.tflite_persistent) +
               ", tflite_dynamic=" + std::to_string(s.tflite_dynamic) +
               ", kernel_weights=" + std::to_string(s.kernel_weights) +
               ", kernel_scratch=" + std::to_string(s.kernel_scratch) +
               ", stream_state=" + std::to_string(s.stream_state) + ", budget=" + std::to_string(s.budget) +
               ", total=" + std::to_string(s.total()) + ")";
      });
}

}  // namespace tflstm::python
