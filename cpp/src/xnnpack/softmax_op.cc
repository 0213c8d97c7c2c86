// SOFTMAX (beta 1, over the last axis) on XNNPACK's softmax: float32, and int8 through XNNPACK's
// uint8 softmax (a softmax does not see a shift of its input, and TFLite's int8 output, scale
// 1/256 and zero point -128, is XNNPACK's uint8 one with the sign bit flipped). Other betas and
// types run on TFLite's kernel.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

// x ^ 0x80 on every byte: int8 <-> uint8 with the zero point moved by 128.
void FlipSignBits(const int8_t* in, uint8_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, in + i, 8);
    w ^= 0x8080808080808080ull;
    std::memcpy(out + i, &w, 8);
  }
  for (; i < n; ++i) out[i] = static_cast<uint8_t>(in[i]) ^ 0x80u;
}

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  const auto* p = static_cast<const TfLiteSoftmaxParams*>(node->builtin_data);
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* output = Output(context, node, 0);
  const bool int8 = input->type == kTfLiteInt8 && output->type == kTfLiteInt8;
  if (p->beta != 1.0f || !(int8 || (input->type == kTfLiteFloat32 && output->type == kTfLiteFloat32)) ||
      input->dims->size < 1) {
    return kTfLiteOk;
  }
  float in_scale = 0.0f, out_scale = 0.0f;
  int32_t in_zero = 0, out_zero = 0;
  if (int8 && (!PerTensor(input, &in_scale, &in_zero) || !PerTensor(output, &out_scale, &out_zero) ||
               out_scale != 1.0f / 256 || out_zero != -128)) {
    return kTfLiteOk;
  }
  const size_t channels = input->dims->data[input->dims->size - 1];
  size_t batch = 1;
  for (int i = 0; i + 1 < input->dims->size; ++i) batch *= static_cast<size_t>(input->dims->data[i]);
  if (channels == 0 || batch == 0) return kTfLiteOk;
  xnn_operator_t op = nullptr;
  if ((int8 ? xnn_create_softmax_nc_qu8(in_scale, 0, out_scale, 0, &op) : xnn_create_softmax_nc_f32(0, &op)) !=
      xnn_status_success) {
    return kTfLiteOk;
  }
  data.op.reset(op);
  const xnn_status status = int8 ? xnn_reshape_softmax_nc_qu8(op, channels, channels, channels, batch, pool)
                                 : xnn_reshape_softmax_nc_f32(op, channels, channels, channels, batch, pool);
  if (status != xnn_status_success) data.op.reset();
  // int8: the input as uint8, and the bytes XNNPACK may read beyond it.
  if (int8) *workspace = input->bytes + XNN_EXTRA_BYTES;
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace) {
  TfLiteTensor* output = Output(context, node, 0);
  if (output->type == kTfLiteInt8) {
    return xnn_setup_softmax_nc_qu8(data.op.get(), static_cast<const uint8_t*>(workspace), output->data.uint8);
  }
  return xnn_setup_softmax_nc_f32(data.op.get(), Input(context, node, 0)->data.f, output->data.f);
}

xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) {
  const TfLiteTensor* input = Input(context, node, 0);
  TfLiteTensor* output = Output(context, node, 0);
  if (input->type != kTfLiteInt8) return xnn_run_operator(data.op.get(), pool);
  FlipSignBits(input->data.int8, context->tensors[data.workspace].data.uint8, input->bytes);
  const xnn_status status = xnn_run_operator(data.op.get(), pool);
  FlipSignBits(output->data.int8, output->data.uint8, output->bytes);
  return status;
}

const OpKernel kSoftmax = {tflite::ops::builtin::Register_SOFTMAX, Create, Setup, Run};

}  // namespace

const TfLiteRegistration* SoftmaxKernel() { return Registration<&kSoftmax>(); }

}  // namespace tflstm::xnn
