// A Model's TFLite flatbuffer, for code that builds its own TFLite interpreter over it (tests,
// tools). Programs that only run models need tflstm/model.h alone.
#pragma once

#include "tensorflow/lite/model_builder.h"
#include "tflstm/model.h"

namespace tflstm {

// The verified flatbuffer `model` was built from; it lives as long as `model`.
const tflite::FlatBufferModel& FlatBuffer(const Model& model);

}  // namespace tflstm
