// SOFTMAX (float32, beta 1, over the last axis) on XNNPACK's softmax; other betas and int8 (XNNPACK
// has a uint8 softmax only) run on TFLite's kernel.
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t*) {
  const auto* p = static_cast<const TfLiteSoftmaxParams*>(node->builtin_data);
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* output = Output(context, node, 0);
  if (p->beta != 1.0f || input->type != kTfLiteFloat32 || output->type != kTfLiteFloat32 || input->dims->size < 1) {
    return kTfLiteOk;
  }
  const size_t channels = input->dims->data[input->dims->size - 1];
  size_t batch = 1;
  for (int i = 0; i + 1 < input->dims->size; ++i) batch *= static_cast<size_t>(input->dims->data[i]);
  if (channels == 0 || batch == 0) return kTfLiteOk;
  xnn_operator_t op = nullptr;
  if (xnn_create_softmax_nc_f32(0, &op) != xnn_status_success) return kTfLiteOk;
  data.op.reset(op);
  if (xnn_reshape_softmax_nc_f32(op, channels, channels, channels, batch, pool) != xnn_status_success) data.op.reset();
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void*) {
  return xnn_setup_softmax_nc_f32(data.op.get(), Input(context, node, 0)->data.f, Output(context, node, 0)->data.f);
}

const OpKernel kSoftmax = {tflite::ops::builtin::Register_SOFTMAX, Create, Setup};

}  // namespace

const TfLiteRegistration* SoftmaxKernel() { return Registration<&kSoftmax>(); }

}  // namespace tflstm::xnn
