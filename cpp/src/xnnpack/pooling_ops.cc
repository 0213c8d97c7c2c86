// AVERAGE_POOL_2D (float32) and MAX_POOL_2D (float32, int8) on XNNPACK's NHWC pooling, SAME or
// VALID padding (SAME averages over the window's pixels inside the input, as TFLite does) and
// activation none/relu/relu6/relu_n1_to_1. int8 average pooling (XNNPACK has it for uint8
// only) and anything else runs on TFLite's kernel.
#include <cstdint>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

template <bool kMax>
TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  const auto* p = static_cast<const TfLitePoolParams*>(node->builtin_data);
  const TfLiteTensor* input = Input(context, node, 0);
  TfLiteTensor* output = Output(context, node, 0);
  if (input->dims->size != 4 || output->dims->size != 4 || input->type != output->type ||
      (p->padding != kTfLitePaddingSame && p->padding != kTfLitePaddingValid) || p->stride_height < 1 ||
      p->stride_width < 1 || p->filter_height < 1 || p->filter_width < 1) {
    return kTfLiteOk;
  }
  const uint32_t flags = p->padding == kTfLitePaddingSame ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0;
  const uint32_t fh = p->filter_height, fw = p->filter_width, sh = p->stride_height, sw = p->stride_width;
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_unsupported_parameter;
  if (input->type == kTfLiteFloat32) {
    float lo = 0.0f, hi = 0.0f;
    if (!FloatRange(p->activation, &lo, &hi)) return kTfLiteOk;
    status = kMax ? xnn_create_max_pooling2d_nhwc_f32(0, 0, 0, 0, fh, fw, sh, sw, 1, 1, lo, hi, flags, &op)
                  : xnn_create_average_pooling2d_nhwc_f32(0, 0, 0, 0, fh, fw, sh, sw, lo, hi, flags, &op);
  } else if (kMax && input->type == kTfLiteInt8) {
    Int8Params q;
    // TFLite's int8 max pooling passes values through: the output must share the input's scale.
    if (!Int8Io(input, output, p->activation, &q) || q.in_scale != q.out_scale || q.in_zero != q.out_zero) {
      return kTfLiteOk;
    }
    status = xnn_create_max_pooling2d_nhwc_s8(0, 0, 0, 0, fh, fw, sh, sw, 1, 1, q.lo, q.hi, flags, &op);
  }
  if (status != xnn_status_success) return kTfLiteOk;
  data.op.reset(op);
  const auto* d = input->dims->data;
  const size_t channels = d[3];
  size_t out_h = 0, out_w = 0, alignment = 0;
  if (kMax) {
    status = input->type == kTfLiteFloat32
                 ? xnn_reshape_max_pooling2d_nhwc_f32(op, d[0], d[1], d[2], channels, channels, channels, &out_h,
                                                      &out_w, pool)
                 : xnn_reshape_max_pooling2d_nhwc_s8(op, d[0], d[1], d[2], channels, channels, channels, &out_h, &out_w,
                                                     pool);
  } else {
    status = xnn_reshape_average_pooling2d_nhwc_f32(op, d[0], d[1], d[2], channels, channels, channels, workspace,
                                                    &alignment, &out_h, &out_w, pool);
  }
  if (status != xnn_status_success || alignment > 64 || static_cast<size_t>(output->dims->data[1]) != out_h ||
      static_cast<size_t>(output->dims->data[2]) != out_w) {
    data.op.reset();
  }
  return kTfLiteOk;
}

template <bool kMax>
xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace) {
  const TfLiteTensor* input = Input(context, node, 0);
  TfLiteTensor* output = Output(context, node, 0);
  if (!kMax) return xnn_setup_average_pooling2d_nhwc_f32(data.op.get(), workspace, input->data.f, output->data.f);
  if (input->type == kTfLiteFloat32) {
    return xnn_setup_max_pooling2d_nhwc_f32(data.op.get(), input->data.f, output->data.f);
  }
  return xnn_setup_max_pooling2d_nhwc_s8(data.op.get(), input->data.int8, output->data.int8);
}

const OpKernel kAveragePool2d = {tflite::ops::builtin::Register_AVERAGE_POOL_2D, Create<false>, Setup<false>};
const OpKernel kMaxPool2d = {tflite::ops::builtin::Register_MAX_POOL_2D, Create<true>, Setup<true>};

}  // namespace

const TfLiteRegistration* AveragePool2dKernel() { return Registration<&kAveragePool2d>(); }
const TfLiteRegistration* MaxPool2dKernel() { return Registration<&kMaxPool2d>(); }

}  // namespace tflstm::xnn
