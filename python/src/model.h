// The Python-side handle of a model, shared with the runner binding.
#pragma once

#include <memory>

#include "tflstm/model.h"

namespace tflstm::python {

struct PyModel {
  std::shared_ptr<const Model> model;
};

}  // namespace tflstm::python
