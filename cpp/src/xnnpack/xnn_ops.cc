#include "xnn_ops.h"

namespace tflstm::xnn {

void AddOver(tflite::MutableOpResolver& resolver, tflite::BuiltinOperator op, const TfLiteRegistration* kernel) {
  // TFLite's kernels number their versions from 1 without gaps; 64 is far above any of them.
  for (int version = 1; version < 64; ++version) {
    if (resolver.FindOp(op, version) != nullptr) resolver.AddBuiltin(op, kernel, version);
  }
}

void AddAll(tflite::MutableOpResolver& resolver) {
  AddOver(resolver, tflite::BuiltinOperator_CONV_2D, Conv2dKernel());
  AddOver(resolver, tflite::BuiltinOperator_DEPTHWISE_CONV_2D, DepthwiseConv2dKernel());
  AddOver(resolver, tflite::BuiltinOperator_FULLY_CONNECTED, FullyConnectedKernel());
  AddOver(resolver, tflite::BuiltinOperator_AVERAGE_POOL_2D, AveragePool2dKernel());
  AddOver(resolver, tflite::BuiltinOperator_MAX_POOL_2D, MaxPool2dKernel());
  AddOver(resolver, tflite::BuiltinOperator_SOFTMAX, SoftmaxKernel());
  AddOver(resolver, tflite::BuiltinOperator_MEAN, MeanKernel());
  AddOver(resolver, tflite::BuiltinOperator_BATCH_MATMUL, BatchMatMulKernel());
  AddOver(resolver, tflite::BuiltinOperator_TRANSPOSE, TransposeKernel());
  AddOver(resolver, tflite::BuiltinOperator_ADD, AddKernel());
  AddOver(resolver, tflite::BuiltinOperator_SUB, SubKernel());
  AddOver(resolver, tflite::BuiltinOperator_MUL, MulKernel());
  AddOver(resolver, tflite::BuiltinOperator_SPLIT, SplitKernel());
  AddOver(resolver, tflite::BuiltinOperator_SPLIT_V, SplitVKernel());
  AddOver(resolver, tflite::BuiltinOperator_EQUAL, EqualKernel());
  AddOver(resolver, tflite::BuiltinOperator_NOT_EQUAL, NotEqualKernel());
}

}  // namespace tflstm::xnn
