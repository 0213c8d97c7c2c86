#include "conv_im2col.h"

#include <algorithm>
#include <limits>

#include "f32_gemm.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"

namespace tflstm::xnn {
namespace {

// TFLite's padding before the first row or column (ComputePadding; 0 for VALID).
int Padding(int stride, int dilation, int in, int kernel, int out) {
  const int effective = (kernel - 1) * dilation + 1;
  return std::max(((out - 1) * stride + effective - in) / 2, 0);
}

// Whether the node is a float32 CONV_2D (not grouped) whose output shape TFLite's Prepare set;
// fills `c`.
bool Describe(const TfLiteContext* context, const TfLiteNode* node, Im2col* c) {
  const auto* p = static_cast<const TfLiteConvParams*>(node->builtin_data);
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* filter = Input(context, node, 1);
  const TfLiteTensor* bias = Input(context, node, 2);
  const TfLiteTensor* output = &context->tensors[node->outputs->data[0]];
  if (input->type != kTfLiteFloat32 || filter->type != kTfLiteFloat32 || output->type != kTfLiteFloat32 ||
      (bias != nullptr && bias->type != kTfLiteFloat32)) {
    return false;
  }
  if (input->dims->size != 4 || filter->dims->size != 4 || output->dims->size != 4) return false;
  if (input->dims->data[3] < 1 || filter->dims->data[3] != input->dims->data[3]) return false;
  if (p->stride_height < 1 || p->stride_width < 1 || p->dilation_height_factor < 1 || p->dilation_width_factor < 1) {
    return false;
  }
  c->batch = input->dims->data[0];
  c->channels = input->dims->data[3];
  c->in_h = input->dims->data[1];
  c->in_w = input->dims->data[2];
  c->kernel_h = filter->dims->data[1];
  c->kernel_w = filter->dims->data[2];
  c->out_h = output->dims->data[1];
  c->out_w = output->dims->data[2];
  c->stride_h = p->stride_height;
  c->stride_w = p->stride_width;
  c->dilation_h = p->dilation_height_factor;
  c->dilation_w = p->dilation_width_factor;
  c->pad_top = Padding(c->stride_h, c->dilation_h, c->in_h, c->kernel_h, c->out_h);
  c->pad_left = Padding(c->stride_w, c->dilation_w, c->in_w, c->kernel_w, c->out_w);
  return c->batch > 0 && c->out_h > 0 && c->out_w > 0 && c->kernel_h > 0 && c->kernel_w > 0 &&
         output->dims->data[0] == c->batch && output->dims->data[3] == filter->dims->data[0];
}

}  // namespace

namespace {

// `count` windows of one kernel row, `stride` apart in `src`, each to its row of `dst`.
template <int kWidth>
void CopyTaps(const float* src, int stride, int count, size_t taps, float* dst) {
  for (int i = 0; i < count; ++i, src += stride, dst += taps) {
    for (int k = 0; k < kWidth; ++k) dst[k] = src[k];
  }
}

void CopyDilatedTaps(const float* src, int stride, int count, int width, int dilation, size_t taps, float* dst) {
  for (int i = 0; i < count; ++i, src += stride, dst += taps) {
    for (int k = 0; k < width; ++k) dst[k] = src[k * dilation];
  }
}

constexpr const char* kOwnName = "conv-f32-avx2";
// The largest workspace an unrolled input may take (beyond it XNNPACK's convolution runs).
constexpr size_t kMaxIm2colBytes = size_t{4} << 20;

// A 1x1 convolution of stride 1 without padding: the input is the product's left-hand side.
bool Direct(const Im2col& c) {
  return c.kernel_h == 1 && c.kernel_w == 1 && c.stride_h == 1 && c.stride_w == 1 && c.pad_top == 0 &&
         c.pad_left == 0 && c.out_h == c.in_h && c.out_w == c.in_w;
}

// `count` windows of `width` floats each, `stride` apart in `src`, each to its row of `dst`.
void CopyWindows(const float* src, size_t stride, int count, size_t width, size_t taps, float* dst) {
  for (int i = 0; i < count; ++i, src += stride, dst += taps) std::copy(src, src + width, dst);
}

}  // namespace

size_t Im2colPaddedFloats(const Im2col& c) {
  const size_t floats = static_cast<size_t>(c.padded_h()) * c.padded_w() * c.channels;
  return (floats + 15) / 16 * 16;  // the rows start 64-byte aligned
}

size_t Im2colFloats(const Im2col& c) {
  const size_t rows = static_cast<size_t>(c.batch) * c.out_h * c.out_w;
  return Im2colPaddedFloats(c) + rows * c.kernel_h * c.kernel_w * c.channels;
}

namespace {

// Batch entry n's image into `padded` with its padding zeroed, so that no window needs a
// bounds check.
void FillPadded(const Im2col& c, const float* input, int n, float* padded) {
  const int ph = c.padded_h(), pw = c.padded_w();
  const size_t ch = static_cast<size_t>(c.channels);
  const int width = std::max(std::min(c.in_w, pw - c.pad_left), 0);
  const int height = std::max(std::min(c.in_h, ph - c.pad_top), 0);
  const size_t line = static_cast<size_t>(pw) * ch;  // floats per padded image row
  std::fill(padded, padded + static_cast<size_t>(ph) * line, 0.0f);
  const float* image = input + static_cast<size_t>(n) * c.in_h * c.in_w * ch;
  for (int y = 0; y < height; ++y) {
    const float* from = image + static_cast<size_t>(y) * c.in_w * ch;
    std::copy(from, from + width * ch, padded + static_cast<size_t>(y + c.pad_top) * line + c.pad_left * ch);
  }
}

// A convolution of one kernel row, undilated along x: the windows of an output row overlap in
// the padded image, rows stride_w * channels apart, and the product reads them there.
bool InPlaceWindows(const Im2col& c) { return c.kernel_h == 1 && c.dilation_w == 1; }

}  // namespace

float* FillIm2col(const Im2col& c, const float* input, float* scratch) {
  float* padded = scratch;
  float* rows = scratch + Im2colPaddedFloats(c);
  const size_t ch = static_cast<size_t>(c.channels);
  const size_t taps = static_cast<size_t>(c.kernel_h) * c.kernel_w * ch;
  const size_t line = static_cast<size_t>(c.padded_w()) * ch;  // floats per padded image row
  float* dst = rows;
  for (int n = 0; n < c.batch; ++n) {
    FillPadded(c, input, n, padded);
    for (int oy = 0; oy < c.out_h; ++oy, dst += c.out_w * taps) {
      for (int ky = 0; ky < c.kernel_h; ++ky) {
        const float* src = padded + static_cast<size_t>(oy * c.stride_h + ky * c.dilation_h) * line;
        float* to = dst + static_cast<size_t>(ky) * c.kernel_w * ch;
        if (ch > 1) {  // a window row: kernel_w pixels of all channels, contiguous undilated
          const size_t stride = static_cast<size_t>(c.stride_w) * ch;
          if (c.dilation_w == 1) {
            CopyWindows(src, stride, c.out_w, c.kernel_w * ch, taps, to);
          } else {
            for (int kx = 0; kx < c.kernel_w; ++kx) {
              CopyWindows(src + static_cast<size_t>(kx) * c.dilation_w * ch, stride, c.out_w, ch, taps, to + kx * ch);
            }
          }
          continue;
        }
        switch (c.dilation_w == 1 ? c.kernel_w : 0) {  // a kernel row of a few taps: unrolled
          case 1: CopyTaps<1>(src, c.stride_w, c.out_w, taps, to); break;
          case 2: CopyTaps<2>(src, c.stride_w, c.out_w, taps, to); break;
          case 3: CopyTaps<3>(src, c.stride_w, c.out_w, taps, to); break;
          case 4: CopyTaps<4>(src, c.stride_w, c.out_w, taps, to); break;
          case 5: CopyTaps<5>(src, c.stride_w, c.out_w, taps, to); break;
          case 8: CopyTaps<8>(src, c.stride_w, c.out_w, taps, to); break;
          default: CopyDilatedTaps(src, c.stride_w, c.out_w, c.kernel_w, c.dilation_w, taps, to); break;
        }
      }
    }
  }
  return rows;
}

TfLiteStatus CreateIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool,
                              size_t* workspace) {
  Im2col c;
  if (!Describe(context, node, &c)) return kTfLiteOk;
  const TfLiteTensor* filter = Input(context, node, 1);
  const TfLiteTensor* bias = Input(context, node, 2);
  if (!IsConstant(filter) || (bias != nullptr && !IsConstant(bias))) return kTfLiteOk;
  float lo = 0.0f, hi = 0.0f;
  if (!FloatRange(static_cast<const TfLiteConvParams*>(node->builtin_data)->activation, &lo, &hi)) return kTfLiteOk;
  // The filter [out, kh, kw, channels] is the product's weights [out, kh * kw * channels] as it is.
  const size_t taps = static_cast<size_t>(c.kernel_h) * c.kernel_w * c.channels;
  const size_t out_channels = filter->dims->data[0];
  const size_t rows = static_cast<size_t>(c.batch) * c.out_h * c.out_w;
  if (BestF32Gemm() != nullptr && pool == nullptr) {
    const size_t bytes = Direct(c)           ? 0
                         : InPlaceWindows(c) ? Im2colPaddedFloats(c) * sizeof(float)
                                             : Im2colFloats(c) * sizeof(float);
    if (bytes > kMaxIm2colBytes || rows > static_cast<size_t>(std::numeric_limits<int>::max()) ||
        taps > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return kTfLiteOk;
    }
    F32Gemm& g = data.gemm;
    g = {static_cast<int>(rows), static_cast<int>(taps), static_cast<int>(out_channels), lo, hi, 0};
    data.packed_f32.resize(F32GemmPackedFloats(g.depth, g.cols));
    PackF32Gemm(g, filter->data.f, taps, 1, bias ? bias->data.f : nullptr, data.packed_f32.data());
    data.heap_bytes = data.packed_f32.size() * sizeof(float);
    data.own = kOwnName;
    *workspace = bytes;
    return kTfLiteOk;
  }
  if (c.channels != 1) return kTfLiteOk;  // XNNPACK's convolution runs it
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_f32(taps, out_channels, taps, out_channels, filter->data.f,
                                        bias ? bias->data.f : nullptr, lo, hi, 0, nullptr, nullptr,
                                        &op) != xnn_status_success) {
    return kTfLiteOk;
  }
  data.op.reset(op);
  if (xnn_reshape_fully_connected_nc_f32(op, rows, pool) != xnn_status_success) {
    data.op.reset();
    return kTfLiteOk;
  }
  data.own = "xnnpack-im2col";
  *workspace = Im2colFloats(c) * sizeof(float);
  return kTfLiteOk;
}

xnn_status SetupIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace) {
  Im2col c;
  if (!Describe(context, node, &c)) return xnn_status_invalid_state;
  return xnn_setup_fully_connected_nc_f32(data.op.get(), static_cast<const float*>(workspace) + Im2colPaddedFloats(c),
                                          Output(context, node, 0)->data.f);
}

xnn_status RunIm2colConv(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) {
  Im2col c;
  if (!Describe(context, node, &c)) return xnn_status_invalid_state;
  const float* input = Input(context, node, 0)->data.f;
  if (!Im2colOnOwnGemm(data)) {
    FillIm2col(c, input, static_cast<float*>(context->tensors[data.workspace].data.data));
    return xnn_run_operator(data.op.get(), pool);
  }
  float* out = Output(context, node, 0)->data.f;
  if (Direct(c)) {
    BestF32Gemm()->run(data.gemm, data.packed_f32.data(), input, out);
    return xnn_status_success;
  }
  auto* scratch = static_cast<float*>(context->tensors[data.workspace].data.data);
  if (!InPlaceWindows(c)) {
    BestF32Gemm()->run(data.gemm, data.packed_f32.data(), FillIm2col(c, input, scratch), out);
    return xnn_status_success;
  }
  // One product per output row, over the windows where they lie in the padded image.
  F32Gemm g = data.gemm;
  g.rows = c.out_w;
  g.x_stride = static_cast<size_t>(c.stride_w) * c.channels;
  const size_t line = static_cast<size_t>(c.padded_w()) * c.channels;
  for (int n = 0; n < c.batch; ++n) {
    FillPadded(c, input, n, scratch);
    for (int oy = 0; oy < c.out_h; ++oy, out += static_cast<size_t>(c.out_w) * g.cols) {
      BestF32Gemm()->run(g, data.packed_f32.data(), scratch + static_cast<size_t>(oy) * c.stride_h * line, out);
    }
  }
  return xnn_status_success;
}

bool Im2colOnOwnGemm(const NodeData& data) { return data.own == kOwnName; }

}  // namespace tflstm::xnn
