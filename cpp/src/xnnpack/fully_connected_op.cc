// FULLY_CONNECTED on XNNPACK's fully connected operator: float32, and int8 with per-tensor input
// and output and per-tensor or per-channel symmetric weights; constant weights and bias in the
// default layout, activation none/relu/relu6/relu_n1_to_1. Hybrid, int16, sparse or shuffled
// weights and weights computed at run time run on TFLite's kernel. Where the CPU has DotProd,
// tflstm's own int8 kernel (int8_fc.h) runs the int8 nodes, bit-exact with TFLite's reference.
#include <cstdint>
#include <vector>

#include "f32_gemm.h"
#include "int8_fc.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

// The int8 node on tflstm's own kernel: its multipliers as TFLite's Prepare computes them
// (per tensor from the float product of the scales, per channel from their double product),
// the weights packed.
TfLiteStatus CreateOwn(TfLiteContext* context, TfLiteNode* node, const Int8Params& q, size_t batch, NodeData& data,
                       size_t* workspace) {
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* weights = Input(context, node, 1);
  const TfLiteTensor* bias = Input(context, node, 2);
  TfLiteTensor* output = Output(context, node, 0);
  Int8Fc& p = data.fc;
  p.rows = static_cast<int>(batch);
  p.cols = weights->dims->data[0];
  p.depth = weights->dims->data[1];
  p.out_zero = q.out_zero;
  p.lo = q.lo;
  p.hi = q.hi;
  std::vector<int32_t> multipliers(static_cast<size_t>(p.cols));
  std::vector<int> shifts(static_cast<size_t>(p.cols));
  const auto* affine = static_cast<const TfLiteAffineQuantization*>(weights->quantization.params);
  if (affine->scale->size > 1) {
    for (int c = 0; c < p.cols; ++c) {
      const double real = static_cast<double>(q.in_scale) * static_cast<double>(affine->scale->data[c]) /
                          static_cast<double>(q.out_scale);
      tflite::QuantizeMultiplier(real, &multipliers[static_cast<size_t>(c)], &shifts[static_cast<size_t>(c)]);
    }
  } else {
    double real = 0.0;
    if (tflite::GetQuantizedConvolutionMultipler(context, input, weights, bias, output, &real) != kTfLiteOk) {
      return kTfLiteOk;
    }
    tflite::QuantizeMultiplier(real, &multipliers[0], &shifts[0]);
    multipliers.assign(multipliers.size(), multipliers[0]);
    shifts.assign(shifts.size(), shifts[0]);
  }
  PackInt8Fc(p, weights->data.int8, bias ? bias->data.i32 : nullptr, q.in_zero, multipliers, shifts, &data.packed);
  data.heap_bytes = data.packed.size() * sizeof(int32_t);
  data.own = BestInt8Fc()->name;
  *workspace = Int8FcScratchBytes(p);
  return kTfLiteOk;
}

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  const auto* p = static_cast<const TfLiteFullyConnectedParams*>(node->builtin_data);
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* weights = Input(context, node, 1);
  const TfLiteTensor* bias = Input(context, node, 2);
  TfLiteTensor* output = Output(context, node, 0);
  if (p->weights_format != kTfLiteFullyConnectedWeightsFormatDefault || node->outputs->size != 1 ||
      weights->dims->size != 2 || weights->sparsity != nullptr || !IsConstant(weights) ||
      (bias != nullptr && !IsConstant(bias))) {
    return kTfLiteOk;
  }
  const size_t out_channels = weights->dims->data[0];
  const size_t in_channels = weights->dims->data[1];
  size_t elements = 1;
  for (int i = 0; i < input->dims->size; ++i) elements *= static_cast<size_t>(input->dims->data[i]);
  size_t out_elements = 1;
  for (int i = 0; i < output->dims->size; ++i) out_elements *= static_cast<size_t>(output->dims->data[i]);
  if (in_channels == 0 || elements % in_channels != 0 || out_elements != elements / in_channels * out_channels) {
    return kTfLiteOk;
  }
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_unsupported_parameter;
  const bool is_float = input->type == kTfLiteFloat32;
  if (is_float && weights->type == kTfLiteFloat32 && output->type == kTfLiteFloat32 &&
      (bias == nullptr || bias->type == kTfLiteFloat32)) {
    float lo = 0.0f, hi = 0.0f;
    if (!FloatRange(p->activation, &lo, &hi)) return kTfLiteOk;
    // Inputs of several rows run on tflstm's own GEMM where the CPU has one (single-threaded
    // runs: it runs on the calling thread); a row is a matrix-vector product XNNPACK's 1x16
    // kernel does as well.
    if (BestF32Gemm() != nullptr && pool == nullptr && elements / in_channels >= kF32GemmMinRows && out_channels > 0) {
      F32Gemm& g = data.gemm;
      g.rows = static_cast<int>(elements / in_channels);
      g.depth = static_cast<int>(in_channels);
      g.cols = static_cast<int>(out_channels);
      g.lo = lo;
      g.hi = hi;
      data.packed_f32.resize(F32GemmPackedFloats(g.depth, g.cols));
      PackF32Gemm(g, weights->data.f, in_channels, 1, bias ? bias->data.f : nullptr, data.packed_f32.data());
      data.heap_bytes = data.packed_f32.size() * sizeof(float);
      data.own = BestF32Gemm()->name;
      *workspace = 0;
      return kTfLiteOk;
    }
    status = xnn_create_fully_connected_nc_f32(in_channels, out_channels, in_channels, out_channels, weights->data.f,
                                               bias ? bias->data.f : nullptr, lo, hi, 0, nullptr, nullptr, &op);
  } else if (input->type == kTfLiteInt8 && weights->type == kTfLiteInt8 && output->type == kTfLiteInt8 &&
             (bias == nullptr || bias->type == kTfLiteInt32)) {
    Int8Params q;
    if (!Int8Io(input, output, p->activation, &q) ||
        !ChannelScales(weights, 0, static_cast<int>(out_channels), &data.scales)) {
      return kTfLiteOk;
    }
    if (BestInt8Fc() != nullptr && out_channels > 0)
      return CreateOwn(context, node, q, elements / in_channels, data, workspace);
    status = xnn_create_fully_connected_nc_qs8_qc8w(
        in_channels, out_channels, in_channels, out_channels, static_cast<int8_t>(q.in_zero), q.in_scale,
        data.scales.data(), weights->data.int8, bias ? bias->data.i32 : nullptr, static_cast<int8_t>(q.out_zero),
        q.out_scale, q.lo, q.hi, 0, nullptr, nullptr, &op);
  }
  if (status != xnn_status_success) return kTfLiteOk;
  data.op.reset(op);
  const size_t batch = elements / in_channels;
  status = is_float ? xnn_reshape_fully_connected_nc_f32(op, batch, pool)
                    : xnn_reshape_fully_connected_nc_qs8_qc8w(op, batch, pool);
  if (status != xnn_status_success) data.op.reset();
  *workspace = 0;
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void*) {
  const TfLiteTensor* input = Input(context, node, 0);
  TfLiteTensor* output = Output(context, node, 0);
  if (input->type == kTfLiteFloat32) {
    return xnn_setup_fully_connected_nc_f32(data.op.get(), input->data.f, output->data.f);
  }
  return xnn_setup_fully_connected_nc_qs8_qc8w(data.op.get(), input->data.int8, output->data.int8);
}

// tflstm's own float32 or int8 kernel; XNNPACK's operator otherwise.
xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) {
  if (data.own == nullptr) return xnn_run_operator(data.op.get(), pool);
  if (Input(context, node, 0)->type == kTfLiteFloat32) {
    BestF32Gemm()->run(data.gemm, data.packed_f32.data(), Input(context, node, 0)->data.f,
                       Output(context, node, 0)->data.f);
    return xnn_status_success;
  }
  auto* scratch = data.workspace_bytes > 0 ? context->tensors[data.workspace].data.int8 : nullptr;
  BestInt8Fc()->run(data.fc, data.packed.data(), Input(context, node, 0)->data.int8,
                    Output(context, node, 0)->data.int8, scratch);
  return xnn_status_success;
}

const OpKernel kFullyConnected = {tflite::ops::builtin::Register_FULLY_CONNECTED, Create, Setup, Run};

}  // namespace

const TfLiteRegistration* FullyConnectedKernel() { return Registration<&kFullyConnected>(); }

}  // namespace tflstm::xnn
