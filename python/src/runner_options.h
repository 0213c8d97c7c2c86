// tflstm.RunnerOptions: the core's RunnerOptions bound as it is (as sherpa-onnx binds its config
// structs). Each field converts a Python value or raises InputError naming it; whether the value
// is in range is the core's to say (RunnerOptions::Validate, which Runner::Create calls).
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "tflstm/runner.h"

namespace tflstm::python {

// One field of RunnerOptions as Python sees it: its name, and how it is set and read.
struct OptionField {
  const char* name;
  void (*set)(RunnerOptions& options, pybind11::handle value);
  pybind11::object (*get)(const RunnerOptions& options);
  const char* doc;
};

// The field called `name`. input_shapes takes the list form only ([shape, ...], one per input);
// {name: shape} needs the model's input names (Runner's keyword takes it).
const OptionField& Field(const char* name);

// [shape, ...], each a sequence of ints; InputError naming `what` for anything else.
std::vector<std::vector<int>> ShapeList(pybind11::handle given, const std::string& what);

// What a keyword left out is given: Python's Ellipsis, shown as the default's value.
inline bool Unset(pybind11::handle value) { return value.is(pybind11::ellipsis()); }

}  // namespace tflstm::python
