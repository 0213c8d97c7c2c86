// Float32 CONV_2D with one input channel (a spectrogram's first layer) as one matrix product:
// the input unrolled into [batch * out_h * out_w, kernel_h * kernel_w] rows in the node's
// workspace (im2col), times the constant filter [out_channels, kernel_h * kernel_w] on XNNPACK's
// fully connected operator (weights packed once, bias and activation fused). XNNPACK's own
// convolution reads such an input one float per kernel tap through its indirection buffer; the
// product reads contiguous rows (DS-CNN's first layer: 13.9 -> 9.2 µs in tflstm_benchmark).
#pragma once

#include "xnn_kernel.h"

namespace tflstm::xnn {

// The unrolling of one convolution (TFLite's output shape and padding).
struct Im2col {
  int batch = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  // The padded image every window lies in.
  int padded_h() const { return (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h + 1; }
  int padded_w() const { return (out_w - 1) * stride_w + (kernel_w - 1) * dilation_w + 1; }
};

// Takes the node when it is a float32 CONV_2D over one input channel with constant weights
// (data.op: the fully connected operator, data.own: its name); leaves data untouched otherwise.
TfLiteStatus CreateIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool,
                              size_t* workspace);
xnn_status SetupIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace);
xnn_status RunIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool);

// The scratch: one padded image (rounded up to 64 bytes), then the rows; in floats.
size_t Im2colPaddedFloats(const Im2col& c);
size_t Im2colFloats(const Im2col& c);
// Writes the rows into `scratch` (Im2colFloats) and returns where they start.
float* FillIm2col(const Im2col& c, const float* input, float* scratch);

}  // namespace tflstm::xnn
