// FULLY_CONNECTED version 12 (TensorFlow 2.17): a dynamic-range node whose int8 weights have a
// scale per output unit, which TFLite 2.14.1's kernel computes with one scale (the first
// channel's legacy scale: 0). The registration returned wraps 2.14.1's: its Init, Free and Prepare
// as they are, its Eval for every other node, and the per-unit evaluation for these.
#pragma once

#include "tensorflow/lite/core/c/common.h"

namespace tflstm::internal {

// `base` is TFLite's FULLY_CONNECTED registration (one per process: Register_FULLY_CONNECTED).
const TfLiteRegistration* PerChannelFullyConnected(const TfLiteRegistration& base);

}  // namespace tflstm::internal
