// TRANSPOSE of 1- and 4-byte elements (int8, float32, int32) by a constant permutation, on
// XNNPACK's transpose. Other element sizes run on TFLite's kernel.
#include <cstdint>
#include <vector>

#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t*) {
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* perm = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
  const int rank = input->dims->size;
  const bool bytes4 = input->type == kTfLiteFloat32 || input->type == kTfLiteInt32;
  if (!(bytes4 || input->type == kTfLiteInt8) || output->type != input->type || !IsConstant(perm) ||
      perm->type != kTfLiteInt32 || rank < 1 || rank > XNN_MAX_TENSOR_DIMS ||
      perm->bytes != static_cast<size_t>(rank) * sizeof(int32_t)) {
    return kTfLiteOk;
  }
  std::vector<size_t> shape(input->dims->data, input->dims->data + rank), order(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    const int a = perm->data.i32[i];
    if (a < -rank || a >= rank) return kTfLiteOk;
    order[static_cast<size_t>(i)] = static_cast<size_t>(a < 0 ? a + rank : a);
  }
  xnn_operator_t op = nullptr;
  if ((bytes4 ? xnn_create_transpose_nd_x32(0, &op) : xnn_create_transpose_nd_x8(0, &op)) != xnn_status_success) {
    return kTfLiteOk;
  }
  data.op.reset(op);
  const xnn_status status = bytes4 ? xnn_reshape_transpose_nd_x32(op, shape.size(), shape.data(), order.data(), pool)
                                   : xnn_reshape_transpose_nd_x8(op, shape.size(), shape.data(), order.data(), pool);
  if (status != xnn_status_success) data.op.reset();
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void*) {
  const TfLiteTensor* input = Input(context, node, 0);
  void* out = Output(context, node, 0)->data.raw;
  return input->type == kTfLiteInt8 ? xnn_setup_transpose_nd_x8(data.op.get(), input->data.raw, out)
                                    : xnn_setup_transpose_nd_x32(data.op.get(), input->data.raw, out);
}

const OpKernel kTranspose = {tflite::ops::builtin::Register_TRANSPOSE, Create, Setup};

}  // namespace

const TfLiteRegistration* TransposeKernel() { return Registration<&kTranspose>(); }

}  // namespace tflstm::xnn
