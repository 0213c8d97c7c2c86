// tflstm's DType <-> TFLite's TfLiteType, for code that also works on TFLite's tensors (tflstm's
// core, tests, tools). Programs that only run models need tflstm/dtype.h alone.
#pragma once

#include "tensorflow/lite/core/c/c_api_types.h"
#include "tflstm/dtype.h"

namespace tflstm {

// Every TfLiteType has its DType; a code this tflstm does not know becomes DType::kOther.
DType FromTfLite(TfLiteType type);
// The TfLiteType of `type`; kTfLiteNoType for DType::kOther, which names no TFLite type.
TfLiteType ToTfLite(DType type);

}  // namespace tflstm
