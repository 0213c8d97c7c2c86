// tflstm's XNNPACK kernels of the ops around the LSTM, each registered over TFLite's builtin
// kernel of the op (which still runs the configurations XNNPACK does not cover).
#pragma once

#include "tensorflow/lite/core/c/common.h"
#include "tensorflow/lite/mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace tflstm::xnn {

const TfLiteRegistration* Conv2dKernel();
const TfLiteRegistration* DepthwiseConv2dKernel();
const TfLiteRegistration* FullyConnectedKernel();
const TfLiteRegistration* AveragePool2dKernel();
const TfLiteRegistration* MaxPool2dKernel();
const TfLiteRegistration* SoftmaxKernel();
const TfLiteRegistration* MeanKernel();
const TfLiteRegistration* BatchMatMulKernel();
const TfLiteRegistration* TransposeKernel();
const TfLiteRegistration* AddKernel();
const TfLiteRegistration* SubKernel();
const TfLiteRegistration* MulKernel();
const TfLiteRegistration* SplitKernel();  // tflstm's own copy loop, no XNNPACK operator
const TfLiteRegistration* SplitVKernel();
const TfLiteRegistration* EqualKernel();  // tflstm's own loop, no XNNPACK operator
const TfLiteRegistration* NotEqualKernel();

// (cmake/SelectOps.cmake declares these for a selective build's generated op set.)
// Registers `kernel` for `op` in place of every version of it that `resolver` has.
void AddOver(tflite::MutableOpResolver& resolver, tflite::BuiltinOperator op, const TfLiteRegistration* kernel);

// AddOver for every op above (what the full op set runs).
void AddAll(tflite::MutableOpResolver& resolver);

}  // namespace tflstm::xnn
