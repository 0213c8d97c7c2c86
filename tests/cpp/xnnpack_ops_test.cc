// tflstm's XNNPACK kernels (cpp/src/xnnpack) against TFLite's own kernels of the same ops, in
// the same process: one-op models built here with random weights over a sweep of shapes,
// strides, paddings, dilations, activations and quantizations. Float32 must agree within 1e-5
// relative (XNNPACK sums in another order); int8 within one quantization step (XNNPACK
// requantizes in float, TFLite in fixed point: a value on a rounding edge can land one step
// apart), and almost every element exactly; tflstm's own int8 FULLY_CONNECTED kernel (DotProd)
// exactly as TFLite's reference kernel. Each case also checks which kernel ran the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ops/node_kernel.h"
#include "tensorflow/lite/core/interpreter.h"
#include "tensorflow/lite/core/interpreter_builder.h"
#include "tensorflow/lite/kernels/register.h"
#include "tensorflow/lite/model_builder.h"
#include "tensorflow/lite/mutable_op_resolver.h"
#include "test_models.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"
#include "tflstm/tflite/op_set.h"
#include "xnnpack/f32_gemm.h"
#include "xnnpack/int8_fc.h"

namespace tflite::ops::builtin {
TfLiteRegistration* Register_FULLY_CONNECTED_REF();  // fully_connected.cc, not in a header
}

namespace tflstm::testing {
namespace {

using tflite::ActivationFunctionType;
using tflite::BuiltinOperator;
using tflite::Padding;
using tflite::TensorType;

// A model of one op: tensor 0 is the input, the last tensor the output; constants as given.
struct OneOp {
  BuiltinOperator op = tflite::BuiltinOperator_ADD;
  int version = 1;
  tflite::ModelT model;
  tflite::SubGraphT* sg = nullptr;
  std::vector<int32_t> op_inputs;

  OneOp(BuiltinOperator o, int v) : op(o), version(v) {
    model.version = 3;
    model.operator_codes.push_back(OpCode(op, version));
    model.buffers.push_back(std::make_unique<tflite::BufferT>());
    model.subgraphs.push_back(std::make_unique<tflite::SubGraphT>());
    sg = model.subgraphs[0].get();
  }
  int AddTensor(const std::string& name, std::vector<int> shape, TensorType type, float scale = 0.0f,
                int64_t zero_point = 0) {
    auto t = Tensor(name, std::move(shape), type);
    if (scale > 0.0f) {
      t->quantization = std::make_unique<tflite::QuantizationParametersT>();
      t->quantization->scale = {scale};
      t->quantization->zero_point = {zero_point};
    }
    sg->tensors.push_back(std::move(t));
    return static_cast<int>(sg->tensors.size()) - 1;
  }
  template <typename T>
  int AddConstant(const std::string& name, std::vector<int> shape, TensorType type, const std::vector<T>& values) {
    model.buffers.push_back(Buffer(values));
    const int t = AddTensor(name, std::move(shape), type);
    sg->tensors[t]->buffer = static_cast<uint32_t>(model.buffers.size()) - 1;
    return t;
  }
  void PerChannel(int tensor, const std::vector<float>& scales, int dim) {
    auto& q = sg->tensors[tensor]->quantization;
    q = std::make_unique<tflite::QuantizationParametersT>();
    q->scale = scales;
    q->zero_point.assign(scales.size(), 0);
    q->quantized_dimension = dim;
  }
  template <typename Options>
  std::vector<char> Finish(int output, Options options) {
    sg->inputs = {0};
    sg->outputs = {output};
    auto o = std::make_unique<tflite::OperatorT>();
    o->opcode_index = 0;
    o->inputs = op_inputs;
    o->outputs = {output};
    o->builtin_options.Set(std::move(options));
    sg->operators.push_back(std::move(o));
    return Serialize(model);
  }
};

struct Outcome {
  std::vector<float> values;  // dequantized for int8 outputs
  std::vector<int8_t> raw;    // the int8 output as it is
  std::string kernel;         // what ran the op
  size_t heap_bytes = 0;      // what its kernel holds on the heap (XNNPACK's packed weights)
};

// Runs `data` on `resolver` with input `x` (quantized with the input's parameters when int8).
Outcome Invoke(const std::vector<char>& data, const tflite::OpResolver& resolver, const std::vector<float>& x) {
  auto fb = tflite::FlatBufferModel::BuildFromBuffer(data.data(), data.size());
  EXPECT_NE(fb, nullptr);
  std::unique_ptr<tflite::Interpreter> interp;
  tflite::InterpreterBuilder builder(*fb, resolver);
  builder.SetNumThreads(1);
  EXPECT_EQ(builder(&interp), kTfLiteOk);
  EXPECT_EQ(interp->AllocateTensors(), kTfLiteOk);
  TfLiteTensor* in = interp->input_tensor(0);
  EXPECT_EQ(static_cast<size_t>(in->bytes / (in->type == kTfLiteInt8 ? 1 : 4)), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (in->type == kTfLiteInt8) {
      const float q = std::round(x[i] / in->params.scale) + static_cast<float>(in->params.zero_point);
      in->data.int8[i] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
    } else {
      in->data.f[i] = x[i];
    }
  }
  EXPECT_EQ(interp->Invoke(), kTfLiteOk);
  Outcome r;
  const TfLiteTensor* out = interp->output_tensor(0);
  const size_t n = out->bytes / (out->type == kTfLiteInt8 ? 1 : 4);
  for (size_t i = 0; i < n; ++i) {
    if (out->type == kTfLiteInt8) {
      r.raw.push_back(out->data.int8[i]);
      r.values.push_back((out->data.int8[i] - out->params.zero_point) * out->params.scale);
    } else {
      r.values.push_back(out->data.f[i]);
    }
  }
  const auto* nr = interp->node_and_registration(interp->execution_plan()[0]);
  r.kernel = ops::NodeKernel(nr->second, nr->first);
  r.heap_bytes = ops::NodeKernelBytes(nr->second, nr->first);
  return r;
}

// tflstm's op set (XNNPACK where it covers the node) against TFLite's kernels.
// Returns the heap bytes of tflstm's kernel. int8: at most `off_share` of the elements one step
// apart.
size_t ExpectParity(const std::vector<char>& model, const std::vector<float>& x, const std::string& kernel,
                    const std::string& what, double off_share = 0.02) {
  SCOPED_TRACE(what);
  const auto tflstm = MakeOpResolver();
  const tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates tflite_resolver;
  const Outcome ours = Invoke(model, *tflstm, x);
  const Outcome ref = Invoke(model, tflite_resolver, x);
  EXPECT_EQ(ours.kernel, kernel);
  EXPECT_EQ(ours.values.size(), ref.values.size());
  EXPECT_FALSE(ref.values.empty());
  if (ours.values.size() != ref.values.size()) return 0;
  if (!ref.raw.empty()) {
    size_t off = 0;
    for (size_t i = 0; i < ref.raw.size(); ++i) {
      EXPECT_LE(std::abs(ours.raw[i] - ref.raw[i]), 1) << "element " << i;
      off += ours.raw[i] != ref.raw[i];
    }
    EXPECT_LE(static_cast<double>(off), off_share * static_cast<double>(ref.raw.size()))
        << off << " of " << ref.raw.size() << " elements one step apart";
    return ours.heap_bytes;
  }
  float scale = 0.0f;
  for (float v : ref.values) scale = std::max(scale, std::abs(v));
  size_t bad = 0;
  for (size_t i = 0; i < ref.values.size() && bad < 5; ++i) {
    const bool ok = std::abs(ours.values[i] - ref.values[i]) <= 1e-5f * std::max(scale, 1e-3f);
    EXPECT_TRUE(ok) << "element " << i << ": " << ours.values[i] << " against TFLite's " << ref.values[i];
    bad += !ok;
  }
  return ours.heap_bytes;
}

std::vector<float> Random(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

int OutSize(int in, int k, int stride, int dilation, Padding padding) {
  const int effective = (k - 1) * dilation + 1;
  return padding == tflite::Padding_SAME ? (in + stride - 1) / stride : (in - effective + stride) / stride;
}

// --- CONV_2D and DEPTHWISE_CONV_2D ---------------------------------------------------------------

struct ConvCase {
  int h, w, in, out, kh, kw, stride, dilation;
  Padding padding;
  ActivationFunctionType act;
  bool depthwise;
  int batch = 1;
  int stride_w = 0;  // 0: `stride`
};

std::vector<char> ConvModel(const ConvCase& c, bool int8, std::mt19937& rng) {
  OneOp m(c.depthwise ? tflite::BuiltinOperator_DEPTHWISE_CONV_2D : tflite::BuiltinOperator_CONV_2D,
          int8 ? (c.depthwise ? 3 : 3) : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  const float in_scale = 2.0f / 255, out_scale = 0.05f;
  const int stride_w = c.stride_w > 0 ? c.stride_w : c.stride;
  m.AddTensor("x", {c.batch, c.h, c.w, c.in}, type, int8 ? in_scale : 0.0f, int8 ? 3 : 0);
  const std::vector<int> wshape =
      c.depthwise ? std::vector<int>{1, c.kh, c.kw, c.out} : std::vector<int>{c.out, c.kh, c.kw, c.in};
  int w, b;
  if (int8) {
    w = m.AddConstant("w", wshape, tflite::TensorType_INT8, RandomInt8(Count(wshape), rng));
    std::vector<float> scales = Random(static_cast<size_t>(c.out), rng, 0.002f, 0.01f);
    m.PerChannel(w, scales, c.depthwise ? 3 : 0);
    std::vector<int32_t> bias(static_cast<size_t>(c.out));
    std::uniform_int_distribution<int> d(-2000, 2000);
    for (int32_t& v : bias) v = d(rng);
    b = m.AddConstant("b", {c.out}, tflite::TensorType_INT32, bias);
    for (float& s : scales) s *= in_scale;
    m.PerChannel(b, scales, 0);
  } else {
    w = m.AddConstant("w", wshape, type, Random(Count(wshape), rng));
    b = m.AddConstant("b", {c.out}, type, Random(static_cast<size_t>(c.out), rng));
  }
  const int oh = OutSize(c.h, c.kh, c.stride, c.dilation, c.padding);
  const int ow = OutSize(c.w, c.kw, stride_w, c.dilation, c.padding);
  const int y = m.AddTensor("y", {c.batch, oh, ow, c.out}, type, int8 ? out_scale : 0.0f, int8 ? -5 : 0);
  m.op_inputs = {0, w, b};
  if (c.depthwise) {
    tflite::DepthwiseConv2DOptionsT o;
    o.padding = c.padding;
    o.stride_h = o.stride_w = c.stride;
    o.dilation_h_factor = o.dilation_w_factor = c.dilation;
    o.depth_multiplier = c.out / c.in;
    o.fused_activation_function = c.act;
    return m.Finish(y, o);
  }
  tflite::Conv2DOptionsT o;
  o.padding = c.padding;
  o.stride_h = c.stride;
  o.stride_w = stride_w;
  o.dilation_h_factor = o.dilation_w_factor = c.dilation;
  o.fused_activation_function = c.act;
  return m.Finish(y, o);
}

// A float32 CONV_2D runs as one matrix product (conv_im2col.h): on tflstm's GEMM where the CPU
// has one, else over one input channel on XNNPACK's fully connected operator.
std::string ConvKernel(const ConvCase& c, bool int8) {
  if (int8 || c.depthwise) return "xnnpack";
  if (xnn::BestF32Gemm() != nullptr) return "conv-f32-avx2";
  return c.in == 1 ? "xnnpack-im2col" : "xnnpack";
}

const ConvCase kConvCases[] = {
    // DS-CNN's first layer, its pointwise and depthwise layers, a Conv1D as TFLite runs it.
    {49, 10, 1, 64, 10, 4, 2, 1, tflite::Padding_SAME, tflite::ActivationFunctionType_RELU, false},
    {25, 5, 64, 64, 1, 1, 1, 1, tflite::Padding_VALID, tflite::ActivationFunctionType_RELU, false},
    {25, 5, 64, 64, 3, 3, 1, 1, tflite::Padding_SAME, tflite::ActivationFunctionType_RELU, true},
    {1, 100, 40, 32, 1, 5, 1, 1, tflite::Padding_SAME, tflite::ActivationFunctionType_NONE, false},
    {1, 50, 16, 24, 1, 3, 2, 1, tflite::Padding_SAME, tflite::ActivationFunctionType_RELU6, false},
    {9, 7, 5, 7, 3, 3, 2, 1, tflite::Padding_VALID, tflite::ActivationFunctionType_RELU_N1_TO_1, false},
    {9, 9, 3, 6, 3, 3, 1, 2, tflite::Padding_SAME, tflite::ActivationFunctionType_NONE, false},
    {8, 6, 3, 6, 3, 3, 1, 1, tflite::Padding_VALID, tflite::ActivationFunctionType_RELU6, true},  // multiplier 2
    {10, 10, 8, 8, 5, 5, 2, 1, tflite::Padding_SAME, tflite::ActivationFunctionType_NONE, true},
    {12, 12, 4, 4, 3, 3, 1, 2, tflite::Padding_SAME, tflite::ActivationFunctionType_RELU, true},
};

TEST(XnnpackParity, Conv) {
  std::mt19937 rng(1);
  int n = 0;
  for (const ConvCase& c : kConvCases) {
    for (bool int8 : {false, true}) {
      const std::vector<char> model = ConvModel(c, int8, rng);
      const std::string what = std::string(c.depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D") +
                               (int8 ? " int8" : " float32") + " case " + std::to_string(n);
      ExpectParity(model, Random(Count({1, c.h, c.w, c.in}), rng), ConvKernel(c, int8), what);
    }
    ++n;
  }
}

// One input channel, then several, on random shapes: SAME and VALID, strides apart along y and
// x, dilation, every activation, batch > 1, kernels wider than any unrolled copy.
TEST(XnnpackParity, ConvOneChannel) {
  std::mt19937 rng(13);
  const ActivationFunctionType acts[] = {tflite::ActivationFunctionType_NONE, tflite::ActivationFunctionType_RELU,
                                         tflite::ActivationFunctionType_RELU6,
                                         tflite::ActivationFunctionType_RELU_N1_TO_1};
  const auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < 70; ++i) {
    ConvCase c{};
    c.in = i < 40 ? 1 : pick(2, 9);  // then several channels (the own GEMM's unrolling)
    c.out = pick(1, 40);
    c.kh = i >= 40 && i < 48 ? 1 : pick(1, 7);  // one kernel row: the product reads the windows in place
    c.kw = pick(1, 11);
    c.stride = pick(1, 3);
    c.stride_w = pick(1, 3);
    c.dilation = i % 5 == 4 ? 2 : 1;
    c.padding = i % 2 == 0 ? tflite::Padding_SAME : tflite::Padding_VALID;
    c.h = pick((c.kh - 1) * c.dilation + 1, 40);
    c.w = pick((c.kw - 1) * c.dilation + 1, 40);
    c.act = acts[i % 4];
    c.batch = pick(1, 3);
    const std::string what = "CONV_2D im2col case " + std::to_string(i) + ": " + std::to_string(c.batch) + "x" +
                             std::to_string(c.h) + "x" + std::to_string(c.w) + "x" + std::to_string(c.in) +
                             ", kernel " + std::to_string(c.kh) + "x" + std::to_string(c.kw) + ", stride " +
                             std::to_string(c.stride) + "," + std::to_string(c.stride_w) + ", dilation " +
                             std::to_string(c.dilation);
    ExpectParity(ConvModel(c, false, rng), Random(Count({c.batch, c.h, c.w, c.in}), rng, -4.0f, 4.0f),
                 ConvKernel(c, false), what);
  }
}

// --- FULLY_CONNECTED -------------------------------------------------------------------------------

// The int8 quantization of a Dense op's input and output.
struct DenseQuant {
  int in_zero = -7, out_zero = 2;
  float out_scale = 0.04f;
};

std::vector<char> DenseOp(int batch, int in, int out, bool int8, bool per_channel, ActivationFunctionType act,
                          bool with_bias, std::mt19937& rng, const DenseQuant& dq = {}) {
  OneOp m(tflite::BuiltinOperator_FULLY_CONNECTED, int8 ? 4 : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  const float in_scale = 2.0f / 255;
  m.AddTensor("x", {batch, in}, type, int8 ? in_scale : 0.0f, int8 ? dq.in_zero : 0);
  int w, b = -1;
  if (int8) {
    w = m.AddConstant("w", {out, in}, tflite::TensorType_INT8, RandomInt8(static_cast<size_t>(out) * in, rng));
    std::vector<float> scales = Random(per_channel ? static_cast<size_t>(out) : 1, rng, 0.002f, 0.01f);
    m.PerChannel(w, scales, 0);
    if (with_bias) {
      std::vector<int32_t> bias(static_cast<size_t>(out));
      std::uniform_int_distribution<int> d(-3000, 3000);
      for (int32_t& v : bias) v = d(rng);
      b = m.AddConstant("b", {out}, tflite::TensorType_INT32, bias);
      for (float& s : scales) s *= in_scale;
      m.PerChannel(b, scales, 0);
    }
  } else {
    w = m.AddConstant("w", {out, in}, type, Random(static_cast<size_t>(out) * in, rng));
    if (with_bias) b = m.AddConstant("b", {out}, type, Random(static_cast<size_t>(out), rng));
  }
  const int y = m.AddTensor("y", {batch, out}, type, int8 ? dq.out_scale : 0.0f, int8 ? dq.out_zero : 0);
  m.op_inputs = {0, w, b};
  tflite::FullyConnectedOptionsT o;
  o.fused_activation_function = act;
  return m.Finish(y, o);
}

TEST(XnnpackParity, FullyConnected) {
  std::mt19937 rng(2);
  struct Case {
    int batch, in, out;
    ActivationFunctionType act;
    bool bias;
  };
  const Case cases[] = {{1, 256, 512, tflite::ActivationFunctionType_RELU, true},
                        {1, 64, 10, tflite::ActivationFunctionType_NONE, true},
                        {3, 33, 17, tflite::ActivationFunctionType_RELU6, false},
                        {32, 64, 48, tflite::ActivationFunctionType_NONE, true}};
  for (const Case& c : cases) {
    for (int variant = 0; variant < 3; ++variant) {  // float32, int8 per tensor, int8 per channel
      const bool int8 = variant > 0;
      if (int8 && !c.bias) continue;  // TFLite's int8 kernel then reads a null bias as zero too
      const std::string what = "FULLY_CONNECTED " + std::to_string(c.batch) + "x" + std::to_string(c.in) + "->" +
                               std::to_string(c.out) + " variant " + std::to_string(variant);
      // int8 runs on tflstm's own kernel where the CPU has one (DotProd), float32 of several
      // rows where it has AVX2 and FMA; XNNPACK runs the rest.
      std::string kernel = int8 && xnn::BestInt8Fc() != nullptr ? xnn::BestInt8Fc()->name : "xnnpack";
      if (!int8 && c.batch >= xnn::kF32GemmMinRows && xnn::BestF32Gemm() != nullptr) kernel = xnn::BestF32Gemm()->name;
      const size_t heap = ExpectParity(DenseOp(c.batch, c.in, c.out, int8, variant == 2, c.act, c.bias, rng),
                                       Random(static_cast<size_t>(c.batch) * c.in, rng), kernel, what);
      // The packed weights are counted (Runner::memory adds them up).
      EXPECT_GE(heap, static_cast<size_t>(c.in) * c.out * (int8 ? 1 : 4)) << what;
    }
  }
}

// tflstm's own int8 kernel against TFLite's reference int8 kernel, bit for bit: random shapes
// (depths on and off multiples of 16, batches over and under a tile of 4 rows, channels over
// and under a block of 16), zero points, output scales (multipliers below and above 1), per
// tensor and per channel, each activation.
TEST(XnnpackParity, Int8FullyConnectedOwnKernelIsBitExact) {
  if (xnn::BestInt8Fc() == nullptr) GTEST_SKIP() << "no own int8 FULLY_CONNECTED kernel on this CPU: XNNPACK runs it";
  tflite::MutableOpResolver reference;
  reference.AddBuiltin(tflite::BuiltinOperator_FULLY_CONNECTED, tflite::ops::builtin::Register_FULLY_CONNECTED_REF(), 1,
                       12);
  const auto tflstm = MakeOpResolver();
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> batch(1, 7), depth(1, 70), cols(1, 40), zero(-128, 127), coin(0, 1), act(0, 3);
  std::uniform_real_distribution<float> log_scale(-5.0f, -0.5f);
  const ActivationFunctionType acts[] = {tflite::ActivationFunctionType_NONE, tflite::ActivationFunctionType_RELU,
                                         tflite::ActivationFunctionType_RELU6,
                                         tflite::ActivationFunctionType_RELU_N1_TO_1};
  for (int n = 0; n < 60; ++n) {
    const int b = batch(rng), k = n % 10 == 0 ? 256 + depth(rng) : depth(rng), c = cols(rng);
    const DenseQuant dq{zero(rng), zero(rng), std::pow(10.0f, log_scale(rng))};
    const bool per_channel = coin(rng) != 0;
    const ActivationFunctionType a = acts[act(rng)];
    const std::string what = "FULLY_CONNECTED " + std::to_string(b) + "x" + std::to_string(k) + "->" +
                             std::to_string(c) + (per_channel ? " per channel" : " per tensor") + " zero points " +
                             std::to_string(dq.in_zero) + "," + std::to_string(dq.out_zero) + " output scale " +
                             std::to_string(dq.out_scale) + " activation " + std::to_string(static_cast<int>(a));
    SCOPED_TRACE(what);
    const std::vector<char> model = DenseOp(b, k, c, true, per_channel, a, true, rng, dq);
    const std::vector<float> x = Random(static_cast<size_t>(b) * k, rng, -1.5f, 1.5f);
    const Outcome ours = Invoke(model, *tflstm, x);
    const Outcome ref = Invoke(model, reference, x);
    EXPECT_EQ(ours.kernel, xnn::BestInt8Fc()->name);
    ASSERT_FALSE(ref.raw.empty());
    ASSERT_EQ(ours.raw, ref.raw);
  }
}

// tflstm's own float32 kernel against TFLite's: random shapes (rows over and under its tiles
// of 6, including the two-tile ends of 7 to 10 rows; channels over and under a block of 16;
// odd depths), each activation, with and without bias, within 1e-5 of the output's scale.
TEST(XnnpackParity, FloatFullyConnectedOwnKernel) {
  if (xnn::BestF32Gemm() == nullptr) GTEST_SKIP() << "no own float32 FULLY_CONNECTED kernel on this CPU";
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> batch(xnn::kF32GemmMinRows, 40), depth(1, 150), cols(1, 70), coin(0, 1), act(0, 3);
  const ActivationFunctionType acts[] = {tflite::ActivationFunctionType_NONE, tflite::ActivationFunctionType_RELU,
                                         tflite::ActivationFunctionType_RELU6,
                                         tflite::ActivationFunctionType_RELU_N1_TO_1};
  for (int n = 0; n < 40; ++n) {
    const int b = n < 12 ? xnn::kF32GemmMinRows + n : batch(rng), k = depth(rng), c = cols(rng);
    const bool bias = coin(rng) != 0;
    const ActivationFunctionType a = acts[act(rng)];
    const std::string what = "FULLY_CONNECTED float32 " + std::to_string(b) + "x" + std::to_string(k) + "->" +
                             std::to_string(c) + (bias ? " bias" : "") + " activation " +
                             std::to_string(static_cast<int>(a));
    ExpectParity(DenseOp(b, k, c, false, false, a, bias, rng), Random(static_cast<size_t>(b) * k, rng),
                 xnn::BestF32Gemm()->name, what);
  }
  // An infinite input comes out as the largest finite float (no activation), as TFLite's does.
  std::vector<float> x = Random(4 * 16, rng);
  x[19] = std::numeric_limits<float>::infinity();
  ExpectParity(DenseOp(4, 16, 8, false, false, tflite::ActivationFunctionType_NONE, true, rng), x,
               xnn::BestF32Gemm()->name, "FULLY_CONNECTED float32 with an infinite input");
}

// --- Pooling and SOFTMAX -------------------------------------------------------------------------------

std::vector<char> PoolModel(BuiltinOperator op, int h, int w, int c, int f, int stride, Padding padding,
                            ActivationFunctionType act, bool int8) {
  OneOp m(op, int8 ? 2 : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  m.AddTensor("x", {1, h, w, c}, type, int8 ? 0.02f : 0.0f, int8 ? 1 : 0);
  const int y = m.AddTensor("y", {1, OutSize(h, f, stride, 1, padding), OutSize(w, f, stride, 1, padding), c}, type,
                            int8 ? 0.02f : 0.0f, int8 ? 1 : 0);
  m.op_inputs = {0};
  tflite::Pool2DOptionsT o;
  o.padding = padding;
  o.stride_h = o.stride_w = stride;
  o.filter_height = o.filter_width = f;
  o.fused_activation_function = act;
  return m.Finish(y, o);
}

TEST(XnnpackParity, Pooling) {
  std::mt19937 rng(3);
  for (BuiltinOperator op : {tflite::BuiltinOperator_AVERAGE_POOL_2D, tflite::BuiltinOperator_MAX_POOL_2D}) {
    for (Padding padding : {tflite::Padding_SAME, tflite::Padding_VALID}) {
      for (bool int8 : {false, true}) {
        const bool average = op == tflite::BuiltinOperator_AVERAGE_POOL_2D;
        // XNNPACK averages uint8 only: TFLite's kernel runs int8 average pooling.
        const std::string kernel = average && int8 ? "tflite" : "xnnpack";
        const std::string what = std::string(average ? "AVERAGE" : "MAX") + (int8 ? " int8" : " float32") +
                                 (padding == tflite::Padding_SAME ? " same" : " valid");
        ExpectParity(PoolModel(op, 11, 7, 5, 3, 2, padding, tflite::ActivationFunctionType_RELU, int8),
                     Random(11 * 7 * 5, rng), kernel, what);
      }
    }
  }
}

std::vector<char> SoftmaxModel(std::vector<int> shape, float beta, bool int8 = false) {
  OneOp m(tflite::BuiltinOperator_SOFTMAX, int8 ? 2 : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  m.AddTensor("x", shape, type, int8 ? 0.1f : 0.0f, int8 ? 7 : 0);
  const int y = m.AddTensor("y", shape, type, int8 ? 1.0f / 256 : 0.0f, int8 ? -128 : 0);
  m.op_inputs = {0};
  tflite::SoftmaxOptionsT o;
  o.beta = beta;
  return m.Finish(y, o);
}

TEST(XnnpackParity, Softmax) {
  std::mt19937 rng(4);
  ExpectParity(SoftmaxModel({1, 12}, 1.0f), Random(12, rng, -8.0f, 8.0f), "xnnpack", "softmax [1, 12]");
  ExpectParity(SoftmaxModel({4, 32, 32}, 1.0f), Random(4 * 32 * 32, rng, -8.0f, 8.0f), "xnnpack",
               "softmax [4, 32, 32]");
  // int8 through XNNPACK's uint8 softmax.
  ExpectParity(SoftmaxModel({1, 12}, 1.0f, true), Random(12, rng, -8.0f, 8.0f), "xnnpack", "softmax int8 [1, 12]");
  ExpectParity(SoftmaxModel({4, 32, 32}, 1.0f, true), Random(4 * 32 * 32, rng, -8.0f, 8.0f), "xnnpack",
               "softmax int8 [4, 32, 32]");
  // A beta other than 1 is not XNNPACK's softmax: TFLite's kernel runs it.
  ExpectParity(SoftmaxModel({2, 7}, 0.5f), Random(14, rng), "tflite", "softmax beta 0.5");
}

// --- MEAN, TRANSPOSE, BATCH_MATMUL ------------------------------------------------------------------

std::vector<char> MeanModel(std::vector<int> shape, std::vector<int32_t> axes, bool keep_dims, bool int8) {
  OneOp m(tflite::BuiltinOperator_MEAN, int8 ? 2 : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  m.AddTensor("x", shape, type, int8 ? 0.03f : 0.0f, int8 ? 4 : 0);
  const int axis = m.AddConstant("axis", {static_cast<int>(axes.size())}, tflite::TensorType_INT32, axes);
  std::vector<int> out;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end() ||
                         std::find(axes.begin(), axes.end(), d - static_cast<int>(shape.size())) != axes.end();
    if (!reduced) out.push_back(shape[d]);
    if (reduced && keep_dims) out.push_back(1);
  }
  const int y = m.AddTensor("y", out, type, int8 ? 0.01f : 0.0f, int8 ? -3 : 0);
  m.op_inputs = {0, axis};
  tflite::ReducerOptionsT o;
  o.keep_dims = keep_dims;
  return m.Finish(y, o);
}

// XNNPACK's int8 mean rescales the sum in float, TFLite's in fixed point: the averages of
// integers land on rounding edges often, and 5-15% of the elements come out one step apart
// (as with tf.lite's own XNNPACK delegate); never more than one.
TEST(XnnpackParity, Mean) {
  std::mt19937 rng(8);
  for (bool int8 : {false, true}) {
    const std::string t = int8 ? " int8" : " float32";
    ExpectParity(MeanModel({1, 25, 128}, {1}, false, int8), Random(25 * 128, rng), "xnnpack", "mean over time" + t,
                 1.0);
    ExpectParity(MeanModel({1, 32, 64}, {-2}, true, int8), Random(32 * 64, rng), "xnnpack", "mean axis -2" + t, 1.0);
    ExpectParity(MeanModel({2, 5, 7, 3}, {1, 2}, true, int8), Random(2 * 5 * 7 * 3, rng), "xnnpack", "mean HW" + t,
                 1.0);
  }
}

std::vector<char> TransposeModel(std::vector<int> shape, std::vector<int32_t> perm, bool int8) {
  OneOp m(tflite::BuiltinOperator_TRANSPOSE, int8 ? 2 : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  m.AddTensor("x", shape, type, int8 ? 0.02f : 0.0f, 0);
  const int p = m.AddConstant("perm", {static_cast<int>(perm.size())}, tflite::TensorType_INT32, perm);
  std::vector<int> out;
  for (int32_t a : perm) out.push_back(shape[static_cast<size_t>(a)]);
  const int y = m.AddTensor("y", out, type, int8 ? 0.02f : 0.0f, 0);
  m.op_inputs = {0, p};
  return m.Finish(y, tflite::TransposeOptionsT());
}

TEST(XnnpackParity, Transpose) {
  std::mt19937 rng(9);
  for (bool int8 : {false, true}) {
    ExpectParity(TransposeModel({1, 32, 4, 16}, {0, 2, 1, 3}, int8), Random(32 * 64, rng), "xnnpack",
                 std::string("transpose heads") + (int8 ? " int8" : " float32"));
    ExpectParity(TransposeModel({3, 5, 7}, {2, 0, 1}, int8), Random(105, rng), "xnnpack",
                 std::string("transpose 3d") + (int8 ? " int8" : " float32"));
  }
}

std::vector<char> BatchMatMulModel(std::vector<int> a, std::vector<int> b, bool adj_y, const std::vector<float>& rhs) {
  OneOp m(tflite::BuiltinOperator_BATCH_MATMUL, 1);
  m.AddTensor("a", a, tflite::TensorType_FLOAT32);
  const int tb = m.AddConstant("b", b, tflite::TensorType_FLOAT32, rhs);
  std::vector<int> out;
  for (size_t i = 0; i + 2 < a.size(); ++i) out.push_back(std::max(a[i], b[i]));
  out.push_back(a[a.size() - 2]);
  out.push_back(adj_y ? b[b.size() - 2] : b[b.size() - 1]);
  const int y = m.AddTensor("y", out, tflite::TensorType_FLOAT32);
  m.op_inputs = {0, tb};
  tflite::BatchMatMulOptionsT o;
  o.adj_y = adj_y;
  return m.Finish(y, o);
}

TEST(XnnpackParity, BatchMatMul) {
  std::mt19937 rng(10);
  // Attention's Q K^T and P V over 4 heads of 32 steps x 16, and a broadcast right-hand side.
  // Single-threaded on a CPU with AVX2 and FMA, tflstm's float32 GEMM runs them.
  const std::string kernel = xnn::BestF32Gemm() != nullptr ? "bmm-f32-avx2" : "xnnpack";
  ExpectParity(BatchMatMulModel({1, 4, 32, 16}, {1, 4, 32, 16}, true, Random(4 * 32 * 16, rng)),
               Random(4 * 32 * 16, rng), kernel, "Q K^T");
  ExpectParity(BatchMatMulModel({1, 4, 32, 32}, {1, 4, 32, 16}, false, Random(4 * 32 * 16, rng)),
               Random(4 * 32 * 32, rng), kernel, "P V");
  ExpectParity(BatchMatMulModel({3, 5, 6}, {1, 6, 4}, false, Random(24, rng)), Random(90, rng), kernel,
               "broadcast rhs");
  ExpectParity(BatchMatMulModel({2, 1, 7, 19}, {2, 3, 19, 37}, false, Random(2 * 3 * 19 * 37, rng)),
               Random(2 * 7 * 19, rng), kernel, "broadcast lhs, columns beyond a block of 16");
  ExpectParity(BatchMatMulModel({2, 9, 21}, {2, 35, 21}, true, Random(2 * 35 * 21, rng)), Random(2 * 9 * 21, rng),
               kernel, "transposed rhs, columns beyond a block of 16");
}

// --- ADD, SUB, MUL -----------------------------------------------------------------------------------

std::vector<char> BinaryModel(BuiltinOperator op, std::vector<int> a, std::vector<int> b, std::vector<int> out,
                              bool int8, ActivationFunctionType act, const std::vector<float>& constant,
                              std::mt19937& rng, bool constant_first = false) {
  OneOp m(op, int8 ? 2 : 1);
  const TensorType type = int8 ? tflite::TensorType_INT8 : tflite::TensorType_FLOAT32;
  m.AddTensor("a", a, type, int8 ? 0.02f : 0.0f, int8 ? 5 : 0);
  int tb;
  if (int8) {  // the second operand quantized as a constant
    tb = m.AddConstant("b", b, type, RandomInt8(Count(b), rng));
    auto& q = m.sg->tensors[tb]->quantization;
    q = std::make_unique<tflite::QuantizationParametersT>();
    q->scale = {0.03f};
    q->zero_point = {-4};
  } else {
    tb = m.AddConstant("b", b, type, constant);
  }
  const int y = m.AddTensor("y", out, type, int8 ? 0.05f : 0.0f, int8 ? -2 : 0);
  m.op_inputs = constant_first ? std::vector<int32_t>{tb, 0} : std::vector<int32_t>{0, tb};
  if (op == tflite::BuiltinOperator_MUL) {
    tflite::MulOptionsT o;
    o.fused_activation_function = act;
    return m.Finish(y, o);
  }
  if (op == tflite::BuiltinOperator_SUB) {
    tflite::SubOptionsT o;
    o.fused_activation_function = act;
    return m.Finish(y, o);
  }
  tflite::AddOptionsT o;
  o.fused_activation_function = act;
  return m.Finish(y, o);
}

TEST(XnnpackParity, Binary) {
  std::mt19937 rng(13);
  const auto none = tflite::ActivationFunctionType_NONE;
  for (BuiltinOperator op : {tflite::BuiltinOperator_ADD, tflite::BuiltinOperator_SUB, tflite::BuiltinOperator_MUL}) {
    for (bool int8 : {false, true}) {
      const std::string what = std::string(tflite::EnumNameBuiltinOperator(op)) + (int8 ? " int8" : " float32");
      // The same shapes (a residual connection) and a broadcast row (a bias, a scale). float32
      // runs on tflstm's own loop where no row is broadcast, and a broadcast row on TFLite's kernel.
      const std::string kernel = int8 ? "xnnpack" : "binary-f32";
      ExpectParity(BinaryModel(op, {1, 32, 64}, {1, 32, 64}, {1, 32, 64}, int8, none, Random(32 * 64, rng), rng),
                   Random(32 * 64, rng), kernel, what + " same shape");
      ExpectParity(BinaryModel(op, {2, 5, 8}, {8}, {2, 5, 8}, int8, none, Random(8, rng), rng), Random(80, rng),
                   int8 ? "xnnpack" : "tflite", what + " broadcast");
      // A one-element operand on either side (a GRU's 1 - z), of rank 0 and of rank 2.
      ExpectParity(BinaryModel(op, {1, 64}, {}, {1, 64}, int8, none, Random(1, rng), rng, true), Random(64, rng),
                   kernel, what + " scalar first");
      // (XNNPACK's int8 MUL by one element rounds some 3% of these one step from TFLite's.)
      ExpectParity(BinaryModel(op, {6, 35}, {1, 1}, {6, 35}, int8, none, Random(1, rng), rng), Random(210, rng), kernel,
                   what + " one element second", 0.05);
    }
    // A fused clamp is part of the loop; a fused tanh is not.
    ExpectParity(BinaryModel(op, {1, 9}, {1, 9}, {1, 9}, false, tflite::ActivationFunctionType_RELU6,
                             Random(9, rng, -4.0f, 4.0f), rng),
                 Random(9, rng, -8.0f, 8.0f), "binary-f32", "float32 relu6");
    ExpectParity(
        BinaryModel(op, {1, 9}, {1, 9}, {1, 9}, false, tflite::ActivationFunctionType_TANH, Random(9, rng), rng),
        Random(9, rng), "tflite", "float32 tanh");
  }
  // A fused activation is no part of XNNPACK's binary operator: TFLite's kernel runs it.
  ExpectParity(BinaryModel(tflite::BuiltinOperator_ADD, {1, 8}, {1, 8}, {1, 8}, true,
                           tflite::ActivationFunctionType_RELU, Random(8, rng), rng),
               Random(8, rng), "tflite", "ADD int8 relu");
}

// tflstm's float loop gives TFLite's bits for what is not finite too: an infinity clamps to the
// largest finite float (or overflows into it), a NaN stays a NaN, as in TFLite's vector code.
TEST(XnnpackParity, BinaryFloatLoopIsBitExactOnNonFiniteValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float big = std::numeric_limits<float>::max();
  const std::vector<float> x = {inf, -inf, nan, big, -big, 0.0f, -0.0f, 1.5f, 3e38f, -3e38f, 1e-45f, -2.0f};
  const std::vector<float> c = {2.0f, -inf, 1.0f, big, big, -0.0f, 0.0f, nan, 3e38f, 3e38f, 1e-45f, inf};
  std::mt19937 rng(15);
  const auto tflstm = MakeOpResolver();
  const tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates tflite_resolver;
  for (BuiltinOperator op : {tflite::BuiltinOperator_ADD, tflite::BuiltinOperator_SUB, tflite::BuiltinOperator_MUL}) {
    for (int variant = 0; variant < 3; ++variant) {  // same shape, scalar second, scalar first
      const bool scalar = variant > 0;
      const std::vector<float> constant = scalar ? std::vector<float>{variant == 1 ? 2.0f : -inf} : c;
      const std::vector<char> model =
          BinaryModel(op, {12}, scalar ? std::vector<int>{} : std::vector<int>{12}, {12}, false,
                      tflite::ActivationFunctionType_NONE, constant, rng, variant == 2);
      const Outcome ours = Invoke(model, *tflstm, x);
      const Outcome ref = Invoke(model, tflite_resolver, x);
      EXPECT_EQ(ours.kernel, "binary-f32");
      ASSERT_EQ(ours.values.size(), ref.values.size());
      for (size_t i = 0; i < ref.values.size(); ++i) {
        const bool same = std::isnan(ref.values[i]) ? std::isnan(ours.values[i])
                                                    : std::memcmp(&ours.values[i], &ref.values[i], sizeof(float)) == 0;
        EXPECT_TRUE(same) << tflite::EnumNameBuiltinOperator(op) << " variant " << variant << " element " << i << ": "
                          << ours.values[i] << " against TFLite's " << ref.values[i];
      }
    }
  }
}

// --- SPLIT, SPLIT_V -------------------------------------------------------------------------------

// SPLIT (axis, input) or SPLIT_V (input, sizes, axis) of `shape` into `sizes` along `axis`.
std::vector<char> SplitModel(bool v, std::vector<int> shape, int axis, const std::vector<int>& sizes, TensorType type) {
  OneOp m(v ? tflite::BuiltinOperator_SPLIT_V : tflite::BuiltinOperator_SPLIT, 1);
  m.AddTensor("x", shape, type);
  const int ta = m.AddConstant("axis", {}, tflite::TensorType_INT32, std::vector<int32_t>{axis});
  const int rank = static_cast<int>(shape.size());
  std::vector<int32_t> outputs;
  for (int size : sizes) {
    std::vector<int> s = shape;
    s[static_cast<size_t>(axis < 0 ? axis + rank : axis)] = size;
    outputs.push_back(m.AddTensor("y" + std::to_string(outputs.size()), s, type));
  }
  auto o = std::make_unique<tflite::OperatorT>();
  o->opcode_index = 0;
  o->outputs = outputs;
  if (v) {
    const int ts = m.AddConstant("sizes", {static_cast<int>(sizes.size())}, tflite::TensorType_INT32,
                                 std::vector<int32_t>(sizes.begin(), sizes.end()));
    o->inputs = {0, ts, ta};
    tflite::SplitVOptionsT options;
    options.num_splits = static_cast<int>(sizes.size());
    o->builtin_options.Set(options);
  } else {
    o->inputs = {ta, 0};
    tflite::SplitOptionsT options;
    options.num_splits = static_cast<int>(sizes.size());
    o->builtin_options.Set(options);
  }
  m.sg->inputs = {0};
  m.sg->outputs = outputs;
  m.sg->operators.push_back(std::move(o));
  return Serialize(m.model);
}

// Every output's bytes, and the node's kernel.
std::pair<std::vector<std::vector<char>>, std::string> RunSplit(const std::vector<char>& data,
                                                                const tflite::OpResolver& resolver) {
  auto fb = tflite::FlatBufferModel::BuildFromBuffer(data.data(), data.size());
  std::unique_ptr<tflite::Interpreter> interp;
  EXPECT_EQ(tflite::InterpreterBuilder(*fb, resolver)(&interp), kTfLiteOk);
  EXPECT_EQ(interp->AllocateTensors(), kTfLiteOk);
  TfLiteTensor* in = interp->input_tensor(0);
  for (size_t i = 0; i < in->bytes; ++i) in->data.raw[i] = static_cast<char>(i * 7 + 3);
  EXPECT_EQ(interp->Invoke(), kTfLiteOk);
  std::vector<std::vector<char>> outs;
  for (size_t k = 0; k < interp->outputs().size(); ++k) {
    const TfLiteTensor* t = interp->output_tensor(k);
    outs.emplace_back(t->data.raw, t->data.raw + t->bytes);
  }
  const auto* nr = interp->node_and_registration(interp->execution_plan()[0]);
  return {outs, ops::NodeKernel(nr->second, nr->first)};
}

TEST(XnnpackParity, SplitCopiesWhatTflitesKernelCopies) {
  const auto tflstm = MakeOpResolver();
  const tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates tflite_resolver;
  struct Case {
    bool v;
    std::vector<int> shape;
    int axis;
    std::vector<int> sizes;
  };
  const Case cases[] = {{false, {1, 192}, 1, {64, 64, 64}}, {true, {1, 192}, -1, {64, 64, 64}},
                        {false, {2, 6, 5}, 1, {2, 2, 2}},   {true, {2, 6, 5}, 1, {1, 4, 1}},
                        {true, {3, 4, 10}, -1, {7, 0, 3}},  {false, {4, 3}, 0, {2, 2}},
                        {true, {2, 3, 4, 5}, 2, {1, 3}}};
  for (const Case& c : cases) {
    for (TensorType type : {tflite::TensorType_FLOAT32, tflite::TensorType_INT8, tflite::TensorType_INT32}) {
      SCOPED_TRACE(std::string(c.v ? "SPLIT_V" : "SPLIT") + " axis " + std::to_string(c.axis) + " " +
                   tflite::EnumNameTensorType(type));
      const std::vector<char> model = SplitModel(c.v, c.shape, c.axis, c.sizes, type);
      const auto ours = RunSplit(model, *tflstm);
      const auto ref = RunSplit(model, tflite_resolver);
      EXPECT_EQ(ours.second, "split-copy");
      EXPECT_EQ(ours.first, ref.first);
    }
  }
}

// --- What stays on TFLite's kernels, and the runner around the kernels ------------------------------

TEST(XnnpackKernels, ConfigurationsXnnpackDoesNotCoverRunOnTflite) {
  // Weights that are an input, not a constant.
  OneOp m(tflite::BuiltinOperator_FULLY_CONNECTED, 1);
  m.AddTensor("x", {1, 8}, tflite::TensorType_FLOAT32);
  const int w = m.AddTensor("w", {4, 8}, tflite::TensorType_FLOAT32);
  const int y = m.AddTensor("y", {1, 4}, tflite::TensorType_FLOAT32);
  m.op_inputs = {0, w, -1};
  m.sg->inputs = {0, w};
  tflite::FullyConnectedOptionsT o;
  auto o_ptr = std::make_unique<tflite::OperatorT>();
  o_ptr->opcode_index = 0;
  o_ptr->inputs = m.op_inputs;
  o_ptr->outputs = {y};
  o_ptr->builtin_options.Set(o);
  m.sg->operators.push_back(std::move(o_ptr));
  m.sg->outputs = {y};
  const std::vector<char> data = Serialize(m.model);
  auto fb = tflite::FlatBufferModel::BuildFromBuffer(data.data(), data.size());
  std::unique_ptr<tflite::Interpreter> interp;
  const auto resolver = MakeOpResolver();
  ASSERT_EQ(tflite::InterpreterBuilder(*fb, *resolver)(&interp), kTfLiteOk);
  ASSERT_EQ(interp->AllocateTensors(), kTfLiteOk);
  const auto* nr = interp->node_and_registration(interp->execution_plan()[0]);
  EXPECT_STREQ(ops::NodeKernel(nr->second, nr->first), "tflite");
  EXPECT_EQ(ops::NodeKernelBytes(nr->second, nr->first), 0u);
}

TEST(XnnpackKernels, RunnerRunsThem) {
  std::mt19937 rng(6);
  const std::vector<char> data = DenseOp(1, 256, 512, false, false, tflite::ActivationFunctionType_RELU, true, rng);
  auto model = Model::FromBytes(data.data(), data.size());
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto runner = Runner::Create(std::move(model).value());
  ASSERT_TRUE(runner.ok()) << runner.status().message();
  const std::vector<float> x = Random(256, rng);
  const int shape[] = {1, 256};
  ASSERT_TRUE(runner.value()->SetInput(0, x.data(), x.size() * 4, DType::kFloat32, shape, 2).ok());
  ASSERT_TRUE(runner.value()->Invoke().ok());
  const tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates tflite_resolver;
  const Outcome ref = Invoke(data, tflite_resolver, x);
  const auto* y = static_cast<const float*>(runner.value()->output(0).data);
  for (size_t i = 0; i < ref.values.size(); ++i) ASSERT_NEAR(y[i], ref.values[i], 1e-4f) << i;
}

// With no activation TFLite still clamps to the finite floats: an infinite input gives the
// largest finite value, on XNNPACK too (the runner's finite check is what refuses such inputs).
TEST(XnnpackKernels, NoActivationClampsToTheFiniteFloatsAsTfliteDoes) {
  std::mt19937 rng(14);
  std::vector<float> x = Random(16, rng);
  x[3] = std::numeric_limits<float>::infinity();
  ExpectParity(DenseOp(1, 16, 8, false, false, tflite::ActivationFunctionType_NONE, true, rng), x, "xnnpack",
               "FULLY_CONNECTED with an infinite input");
}

// A shape change prepares the node again (the operator is reshaped, its pointers set up anew).
TEST(XnnpackKernels, ResizedInputsRunAtTheNewShape) {
  std::mt19937 rng(7);
  const std::vector<char> data = SoftmaxModel({1, 10}, 1.0f);
  const auto resolver = MakeOpResolver();
  auto fb = tflite::FlatBufferModel::BuildFromBuffer(data.data(), data.size());
  std::unique_ptr<tflite::Interpreter> interp;
  ASSERT_EQ(tflite::InterpreterBuilder(*fb, *resolver)(&interp), kTfLiteOk);
  ASSERT_EQ(interp->ResizeInputTensor(0, {3, 10}), kTfLiteOk);
  ASSERT_EQ(interp->AllocateTensors(), kTfLiteOk);
  const std::vector<float> x = Random(30, rng, -5.0f, 5.0f);
  std::copy(x.begin(), x.end(), interp->typed_input_tensor<float>(0));
  ASSERT_EQ(interp->Invoke(), kTfLiteOk);
  for (int row = 0; row < 3; ++row) {
    float m = -1e30f, sum = 0.0f;
    for (int i = 0; i < 10; ++i) m = std::max(m, x[row * 10 + i]);
    for (int i = 0; i < 10; ++i) sum += std::exp(x[row * 10 + i] - m);
    for (int i = 0; i < 10; ++i) {
      EXPECT_NEAR(interp->typed_output_tensor<float>(0)[row * 10 + i], std::exp(x[row * 10 + i] - m) / sum, 1e-6f);
    }
  }
}

// --- EQUAL, NOT_EQUAL -----------------------------------------------------------------------------

// `op` of input x (`shape`) and a constant y (`y_shape`, first when `y_first`), as a mask is computed.
template <typename T>
std::vector<char> CompareModel(BuiltinOperator op, TensorType type, const std::vector<int>& shape,
                               const std::vector<int>& y_shape, const std::vector<T>& y, bool y_first) {
  OneOp m(op, 1);
  m.AddTensor("x", shape, type);
  const int c = m.AddConstant("y", y_shape, type, y);
  std::vector<int> out = shape.size() >= y_shape.size() ? shape : y_shape;
  const int mask = m.AddTensor("mask", out, tflite::TensorType_BOOL);
  m.op_inputs = y_first ? std::vector<int32_t>{c, 0} : std::vector<int32_t>{0, c};
  if (op == tflite::BuiltinOperator_EQUAL) return m.Finish(mask, tflite::EqualOptionsT());
  return m.Finish(mask, tflite::NotEqualOptionsT());
}

template <typename T>
std::pair<std::vector<bool>, std::string> RunCompare(const std::vector<char>& data, const tflite::OpResolver& resolver,
                                                     const std::vector<T>& x) {
  auto fb = tflite::FlatBufferModel::BuildFromBuffer(data.data(), data.size());
  std::unique_ptr<tflite::Interpreter> interp;
  EXPECT_EQ(tflite::InterpreterBuilder(*fb, resolver)(&interp), kTfLiteOk);
  EXPECT_EQ(interp->AllocateTensors(), kTfLiteOk);
  std::copy(x.begin(), x.end(), interp->typed_input_tensor<T>(0));
  EXPECT_EQ(interp->Invoke(), kTfLiteOk);
  const TfLiteTensor* out = interp->output_tensor(0);
  const auto* nr = interp->node_and_registration(interp->execution_plan()[0]);
  return {std::vector<bool>(out->data.b, out->data.b + out->bytes), ops::NodeKernel(nr->second, nr->first)};
}

// tflstm's loop answers as TFLite's kernel does, NaN, infinities and signed zeros included; a
// broadcast row stays on TFLite's kernel.
TEST(XnnpackParity, EqualAndNotEqualAnswerAsTflitesKernel) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xf = {0.0f, -0.0f, nan, inf, -inf, 1.0f, 2.5f, 0.0f, -1.0f, 1e-45f, 0.0f, 3.0f};
  std::vector<int32_t> xi = {0, 1, 0, -1, 7, 0, 0, 2147483647, -2147483647 - 1, 0, 5, 0};
  std::mt19937 rng(21);
  for (int i = 0; i < 48; ++i) {  // a padded stretch of features and of ids
    xf.push_back(i % 3 == 0 ? 0.0f : Random(1, rng)[0]);
    xi.push_back(i % 3 == 0 ? 0 : i);
  }
  const int n = static_cast<int>(xf.size());
  const auto tflstm = MakeOpResolver();
  const tflite::ops::builtin::BuiltinOpResolverWithoutDefaultDelegates tflite_resolver;
  for (BuiltinOperator op : {tflite::BuiltinOperator_EQUAL, tflite::BuiltinOperator_NOT_EQUAL}) {
    for (int variant = 0; variant < 4; ++variant) {  // scalar second, scalar first, same shape, a broadcast row
      const std::string what = std::string(tflite::EnumNameBuiltinOperator(op)) + " variant " + std::to_string(variant);
      const std::vector<int> shape = {1, n / 6, 6};
      const std::vector<int> y_shape = variant < 2 ? std::vector<int>{} : variant == 2 ? shape : std::vector<int>{6};
      const size_t ny = variant < 2 ? 1 : variant == 2 ? static_cast<size_t>(n) : 6;
      std::vector<float> yf(xf.rbegin(), xf.rbegin() + static_cast<long>(ny));
      std::vector<int32_t> yi(xi.rbegin(), xi.rbegin() + static_cast<long>(ny));
      if (variant < 2) yf = {variant == 0 ? 0.0f : nan}, yi = {0};
      const std::string kernel = variant == 3 ? "tflite" : "compare-loop";
      const auto model_f = CompareModel(op, tflite::TensorType_FLOAT32, shape, y_shape, yf, variant == 1);
      const auto ours_f = RunCompare(model_f, *tflstm, xf);
      EXPECT_EQ(ours_f.second, kernel) << what;
      EXPECT_EQ(ours_f.first, RunCompare(model_f, tflite_resolver, xf).first) << what << " float32";
      const auto model_i = CompareModel(op, tflite::TensorType_INT32, shape, y_shape, yi, variant == 1);
      const auto ours_i = RunCompare(model_i, *tflstm, xi);
      EXPECT_EQ(ours_i.second, kernel) << what;
      EXPECT_EQ(ours_i.first, RunCompare(model_i, tflite_resolver, xi).first) << what << " int32";
    }
  }
}

// Run by ctest with TFLSTM_XNNPACK=off (xnnpack_ops.off); skipped otherwise.
TEST(XnnpackOff, EveryNodeRunsOnTflite) {
  const char* env = std::getenv("TFLSTM_XNNPACK");
  if (env == nullptr || std::string(env) != "off") GTEST_SKIP() << "TFLSTM_XNNPACK=off is not set";
  std::mt19937 rng(12);
  const ConvCase c = kConvCases[0];
  ExpectParity(ConvModel(c, false, rng), Random(Count({1, c.h, c.w, c.in}), rng), "tflite", "CONV_2D off");
  ExpectParity(DenseOp(1, 16, 8, true, true, tflite::ActivationFunctionType_RELU, true, rng), Random(16, rng), "tflite",
               "FULLY_CONNECTED int8 off", 0.0);
}

}  // namespace
}  // namespace tflstm::testing
