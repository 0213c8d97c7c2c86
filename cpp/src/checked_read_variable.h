// READ_VARIABLE copies as many bytes as its output declares from the resource variable, which
// holds what ASSIGN_VARIABLE last gave it: an output declared larger than the variable read past
// it (a mutated model, model_fuzzer: a memcpy past the buffer feeding a CONCATENATION). The
// model check compares the shapes it can see; this registration checks the sizes when the op
// runs (variables passed between subgraphs, shapes that vary), then runs TFLite's kernel.
#pragma once

#include "tensorflow/lite/core/c/common.h"

namespace tflstm::internal {

// `base` is TFLite's READ_VARIABLE registration (Register_READ_VARIABLE, one per process).
const TfLiteRegistration* CheckedReadVariable(const TfLiteRegistration& base);

}  // namespace tflstm::internal
