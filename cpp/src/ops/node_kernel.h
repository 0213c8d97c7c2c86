// Which kernel family runs a prepared node, and what it holds on the heap, for every op: the
// generalisation of lstm::NodeKernel to tflstm's other kernels (cpp/src/xnnpack). A family
// registers itself when its registrations are made, so the core needs none of them linked.
#pragma once

#include <cstddef>

#include "tensorflow/lite/core/c/common.h"

namespace tflstm::ops {

struct KernelFamily {
  bool (*owns)(const TfLiteRegistration& registration);  // the node runs one of its kernels
  const char* (*name)(const TfLiteNode& node);           // e.g. "xnnpack", or "tflite"
  size_t (*heap_bytes)(const TfLiteNode& node);          // packed weights and the like
};

// Called once per family (the XNNPACK kernels register on first use); `family` must be static.
void RegisterKernelFamily(const KernelFamily* family);

// The node's kernel: tflstm's LSTM kernel names ("avx2", "int8-avx512vnni", ...), "xnnpack",
// or "tflite" where TFLite's own kernel runs the node.
const char* NodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node);

// Bytes the node's tflstm kernel holds on the heap (0 for TFLite's kernels).
size_t NodeKernelBytes(const TfLiteRegistration& registration, const TfLiteNode& node);

}  // namespace tflstm::ops
