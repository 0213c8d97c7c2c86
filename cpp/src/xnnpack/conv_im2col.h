// Float32 CONV_2D as one matrix product: the input unrolled into [batch * out_h * out_w,
// kernel_h * kernel_w * channels] rows in the node's workspace (im2col; a 1x1 stride-1
// convolution reads its input as it is), times the constant filter [out_channels, kernel_h *
// kernel_w * channels]. Single-threaded on a CPU with AVX2 and FMA the product is tflstm's
// float32 GEMM (f32_gemm.h, "conv-f32-avx2"): XNNPACK 2024-11's indirect GEMM, as GCC builds
// it, takes 1.4x the instructions of tf.lite 2.21's on the Conv1D front end, its direct GEMM
// 1.3x on DS-CNN's pointwise layers. Elsewhere only a one-channel input (a spectrogram's first
// layer) is unrolled, onto XNNPACK's fully connected operator ("xnnpack-im2col"): XNNPACK's own
// convolution reads such an input one float per kernel tap through its indirection buffer
// (DS-CNN's first layer: 13.9 -> 9.2 µs in tflstm_benchmark).
#pragma once

#include "xnn_kernel.h"

namespace tflstm::xnn {

// The unrolling of one convolution (TFLite's output shape and padding).
struct Im2col {
  int batch = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  int channels = 1;  // of the input (and of the filter)
  // The padded image every window lies in.
  int padded_h() const { return (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h + 1; }
  int padded_w() const { return (out_w - 1) * stride_w + (kernel_w - 1) * dilation_w + 1; }
};

// Takes the node when it is a float32 CONV_2D with constant weights that runs as one product
// (data.own: the kernel's name; data.op: XNNPACK's fully connected operator, when it runs the
// product); leaves data untouched otherwise.
TfLiteStatus CreateIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool,
                              size_t* workspace);
xnn_status SetupIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace);
xnn_status RunIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool);
// Whether the node's own kernel is tflstm's GEMM (else XNNPACK's fully connected operator).
bool Im2colOnOwnGemm(const NodeData& data);

// The scratch: one padded image (rounded up to 64 bytes), then the rows; in floats.
size_t Im2colPaddedFloats(const Im2col& c);
size_t Im2colFloats(const Im2col& c);
// Writes the rows into `scratch` (Im2colFloats) and returns where they start.
float* FillIm2col(const Im2col& c, const float* input, float* scratch);

}  // namespace tflstm::xnn
