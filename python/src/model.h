// The Python-side handle of a model, shared with the runner binding.
#pragma once

#include <memory>

#include "tflstm/model.h"

namespace tflstm::python {

struct PyModel {
  std::shared_ptr<const Model> model;
};

// Raises `status` as its exception; an UnsupportedOpError carries the model's missing
// (op, version) pairs in its `ops` attribute.
[[noreturn]] void RaiseForModel(const Status& status, const Model& model);

}  // namespace tflstm::python
