// CONV_2D and DEPTHWISE_CONV_2D on XNNPACK's NHWC convolution: float32, and int8 with per-tensor
// input and output and per-channel (or per-tensor) symmetric weights, constant weights and
// bias, SAME or VALID padding, any stride and dilation, activation none/relu/relu6/relu_n1_to_1.
// Anything else (hybrid, int16, grouped convolution, weights computed at run time) runs on
// TFLite's kernel. A float32 CONV_2D over one input channel, and single-threaded on a CPU with
// AVX2 and FMA any float32 CONV_2D, is one matrix product instead (conv_im2col.h).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "conv_im2col.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

// The shape of one convolution, TFLite's parameters in XNNPACK's terms.
struct Conv {
  uint32_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  uint32_t groups = 1;
  size_t group_in = 0, group_out = 0, in_channels = 0, out_channels = 0;
  uint32_t flags = 0;
  uint32_t pad_top = 0, pad_right = 0, pad_bottom = 0, pad_left = 0;
  TfLiteFusedActivation activation = kTfLiteActNone;
};

// TFLite's SAME padding as explicit padding: XNNPACK's XNN_FLAG_TENSORFLOW_SAME_PADDING computes
// the total padding in unsigned arithmetic, which wraps where a stride above the kernel leaves
// it negative (TFLite pads nothing there; e.g. kernel 1x4, stride 3 over 20 rows).
void ExplicitSamePadding(const TfLiteTensor* input, const TfLiteTensor* output, Conv* c) {
  if ((c->flags & XNN_FLAG_TENSORFLOW_SAME_PADDING) == 0) return;
  c->flags &= ~static_cast<uint32_t>(XNN_FLAG_TENSORFLOW_SAME_PADDING);
  const auto total = [](int in, int out, uint32_t stride, uint32_t kernel, uint32_t dilation) {
    const int64_t t = (static_cast<int64_t>(out) - 1) * stride + (static_cast<int64_t>(kernel) - 1) * dilation + 1 - in;
    return static_cast<uint32_t>(std::max<int64_t>(t, 0));
  };
  const uint32_t h = total(input->dims->data[1], output->dims->data[1], c->stride_h, c->kernel_h, c->dilation_h);
  const uint32_t w = total(input->dims->data[2], output->dims->data[2], c->stride_w, c->kernel_w, c->dilation_w);
  c->pad_top = h / 2;
  c->pad_bottom = h - h / 2;
  c->pad_left = w / 2;
  c->pad_right = w - w / 2;
}

bool Padding(TfLitePadding padding, Conv* c) {
  if (padding == kTfLitePaddingSame) {
    c->flags |= XNN_FLAG_TENSORFLOW_SAME_PADDING;
    return true;
  }
  return padding == kTfLitePaddingValid;
}

// The window of either op's parameters (the same fields in both) and its [.., KH, KW, ..] filter.
template <class Params>
bool Window(const Params* p, const TfLiteTensor* filter, Conv* c) {
  c->kernel_h = filter->dims->data[1];
  c->kernel_w = filter->dims->data[2];
  c->stride_h = p->stride_height;
  c->stride_w = p->stride_width;
  c->dilation_h = p->dilation_height_factor;
  c->dilation_w = p->dilation_width_factor;
  c->activation = p->activation;
  return Padding(p->padding, c);
}

// Fills `c` from a CONV_2D node, or false when XNNPACK does not run it.
bool Conv2d(const TfLiteNode* node, const TfLiteTensor* input, const TfLiteTensor* filter, Conv* c) {
  if (filter->dims->size != 4 || input->dims->size != 4) return false;
  const int in = input->dims->data[3];
  if (filter->dims->data[3] != in) return false;  // a grouped convolution: TFLite's kernel
  c->group_in = c->in_channels = in;
  c->group_out = c->out_channels = filter->dims->data[0];
  return Window(static_cast<const TfLiteConvParams*>(node->builtin_data), filter, c);
}

bool DepthwiseConv2d(const TfLiteNode* node, const TfLiteTensor* input, const TfLiteTensor* filter, Conv* c) {
  if (filter->dims->size != 4 || input->dims->size != 4 || filter->dims->data[0] != 1) return false;
  const int in = input->dims->data[3];
  const int out = filter->dims->data[3];
  if (in <= 0 || out % in != 0) return false;
  c->groups = in;
  c->group_in = 1;
  c->group_out = out / in;
  c->in_channels = in;
  c->out_channels = out;
  c->flags |= XNN_FLAG_DEPTHWISE_CONVOLUTION;
  return Window(static_cast<const TfLiteDepthwiseConvParams*>(node->builtin_data), filter, c);
}

template <bool kDepthwise>
TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  if (!kDepthwise) {
    TF_LITE_ENSURE_OK(context, CreateIm2colConv(context, node, data, pool, workspace));
    if (data.op || data.own != nullptr) return kTfLiteOk;
  }
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* filter = Input(context, node, 1);
  const TfLiteTensor* bias = Input(context, node, 2);
  TfLiteTensor* output = Output(context, node, 0);
  Conv c;
  if (!(kDepthwise ? DepthwiseConv2d(node, input, filter, &c) : Conv2d(node, input, filter, &c))) return kTfLiteOk;
  if (!IsConstant(filter) || (bias != nullptr && !IsConstant(bias))) return kTfLiteOk;
  if (c.stride_h < 1 || c.stride_w < 1 || c.dilation_h < 1 || c.dilation_w < 1) return kTfLiteOk;
  if (output->dims->size != 4) return kTfLiteOk;
  ExplicitSamePadding(input, output, &c);
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_unsupported_parameter;
  if (input->type == kTfLiteFloat32 && filter->type == kTfLiteFloat32 && output->type == kTfLiteFloat32 &&
      (bias == nullptr || bias->type == kTfLiteFloat32)) {
    float lo = 0.0f, hi = 0.0f;
    if (!FloatRange(c.activation, &lo, &hi)) return kTfLiteOk;
    status = xnn_create_convolution2d_nhwc_f32(c.pad_top, c.pad_right, c.pad_bottom, c.pad_left, c.kernel_h, c.kernel_w,
                                               c.stride_h, c.stride_w, c.dilation_h, c.dilation_w, c.groups, c.group_in,
                                               c.group_out, c.in_channels, c.out_channels, filter->data.f,
                                               bias ? bias->data.f : nullptr, lo, hi, c.flags, nullptr, nullptr, &op);
  } else if (input->type == kTfLiteInt8 && filter->type == kTfLiteInt8 && output->type == kTfLiteInt8 &&
             (bias == nullptr || bias->type == kTfLiteInt32)) {
    Int8Params q;
    if (!Int8Io(input, output, c.activation, &q) ||
        !ChannelScales(filter, kDepthwise ? 3 : 0, static_cast<int>(c.out_channels), &data.scales)) {
      return kTfLiteOk;
    }
    status = xnn_create_convolution2d_nhwc_qs8_qc8w(
        c.pad_top, c.pad_right, c.pad_bottom, c.pad_left, c.kernel_h, c.kernel_w, c.stride_h, c.stride_w, c.dilation_h,
        c.dilation_w, c.groups, c.group_in, c.group_out, c.in_channels, c.out_channels, static_cast<int8_t>(q.in_zero),
        q.in_scale, data.scales.data(), filter->data.int8, bias ? bias->data.i32 : nullptr,
        static_cast<int8_t>(q.out_zero), q.out_scale, q.lo, q.hi, c.flags, nullptr, nullptr, &op);
  }
  if (status != xnn_status_success) return kTfLiteOk;  // e.g. a requantization scale XNNPACK refuses
  data.op.reset(op);
  size_t alignment = 0, out_h = 0, out_w = 0;
  const auto* d = input->dims->data;
  status =
      input->type == kTfLiteFloat32
          ? xnn_reshape_convolution2d_nhwc_f32(op, d[0], d[1], d[2], workspace, &alignment, &out_h, &out_w, pool)
          : xnn_reshape_convolution2d_nhwc_qs8_qc8w(op, d[0], d[1], d[2], workspace, &alignment, &out_h, &out_w, pool);
  // XNNPACK must agree with the output shape TFLite's Prepare gave (else TFLite's kernel runs).
  if (status != xnn_status_success || alignment > 64 || output->dims->size != 4 ||
      static_cast<size_t>(output->dims->data[1]) != out_h || static_cast<size_t>(output->dims->data[2]) != out_w) {
    data.op.reset();
  }
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace) {
  if (data.own != nullptr) return SetupIm2colConv(context, node, data, workspace);
  const TfLiteTensor* input = Input(context, node, 0);
  TfLiteTensor* output = Output(context, node, 0);
  if (input->type == kTfLiteFloat32) {
    return xnn_setup_convolution2d_nhwc_f32(data.op.get(), workspace, input->data.f, output->data.f);
  }
  return xnn_setup_convolution2d_nhwc_qs8_qc8w(data.op.get(), workspace, input->data.int8, output->data.int8);
}

xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) {
  return data.own != nullptr ? RunIm2colConv(context, node, data, pool) : xnn_run_operator(data.op.get(), pool);
}

const OpKernel kConv2d = {tflite::ops::builtin::Register_CONV_2D, Create<false>, Setup, Run};
const OpKernel kDepthwiseConv2d = {tflite::ops::builtin::Register_DEPTHWISE_CONV_2D, Create<true>, Setup};

}  // namespace

const TfLiteRegistration* Conv2dKernel() { return Registration<&kConv2d>(); }
const TfLiteRegistration* DepthwiseConv2dKernel() { return Registration<&kDepthwiseConv2d>(); }

}  // namespace tflstm::xnn
