#include "fully_connected_per_channel.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/internal/portable_tensor_utils.h"
#include "tensorflow/lite/kernels/internal/tensor_ctypes.h"
#include "tensorflow/lite/kernels/kernel_util.h"

namespace tflstm::internal {
namespace {

// TFLite's own registration, copied when the first op set is completed: every op set finds the
// same one (its Register_ function's), and the resolver that hands it over may go before the
// interpreters built with it.
TfLiteRegistration g_base{};
std::once_flag g_copied;

struct NodeData {
  void* base = nullptr;           // the 2.14.1 kernel's own data
  bool compute_row_sums = false;  // the weights' row sums, for asymmetric input quantization
};

// Runs `f` with the node's data as the 2.14.1 kernel knows it.
template <typename F>
TfLiteStatus AsBase(TfLiteNode* node, F f) {
  auto* data = static_cast<NodeData*>(node->user_data);
  node->user_data = data->base;
  const TfLiteStatus status = f();
  node->user_data = data;
  return status;
}

void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  const TfLiteRegistration* base = &g_base;
  auto* data = new NodeData;  // freed in Free, as TFLite's own kernels do with their data
  data->base = base->init ? base->init(context, buffer, length) : nullptr;
  return data;
}

void Free(TfLiteContext* context, void* buffer) {
  auto* data = static_cast<NodeData*>(buffer);
  const TfLiteRegistration* base = &g_base;
  if (base->free) base->free(context, data->base);
  delete data;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  static_cast<NodeData*>(node->user_data)->compute_row_sums = true;
  return AsBase(node, [&] { return g_base.prepare(context, node); });
}

// The fused activation, as TFLite's ApplyActivationToVector (tanh and the logistic from libm,
// where TFLite's use Eigen's: they may differ in the last bit).
TfLiteStatus Activate(TfLiteContext* context, TfLiteFusedActivation activation, float* y, size_t n) {
  auto apply = [&](auto f) { std::transform(y, y + n, y, f); };
  switch (activation) {
    case kTfLiteActNone: return kTfLiteOk;
    case kTfLiteActRelu: apply([](float v) { return std::max(0.0f, v); }); return kTfLiteOk;
    case kTfLiteActReluN1To1: apply([](float v) { return std::min(1.0f, std::max(-1.0f, v)); }); return kTfLiteOk;
    case kTfLiteActRelu6: apply([](float v) { return std::min(6.0f, std::max(0.0f, v)); }); return kTfLiteOk;
    case kTfLiteActTanh: apply([](float v) { return std::tanh(v); }); return kTfLiteOk;
    case kTfLiteActSigmoid: apply([](float v) { return 1.0f / (1.0f + std::exp(-v)); }); return kTfLiteOk;
    default:
      TF_LITE_KERNEL_LOG(context, "FULLY_CONNECTED: fused activation %d is not supported", activation);
      return kTfLiteError;
  }
}

// Scales of a dynamic-range node's weights when they are per unit (more than one), else null.
const TfLiteAffineQuantization* PerUnitScales(const TfLiteTensor& input, const TfLiteTensor& filter) {
  if (input.type != kTfLiteFloat32 || filter.type != kTfLiteInt8 || filter.sparsity != nullptr ||
      filter.quantization.type != kTfLiteAffineQuantization || filter.quantization.params == nullptr) {
    return nullptr;
  }
  const auto* q = static_cast<const TfLiteAffineQuantization*>(filter.quantization.params);
  return q->scale && q->scale->size > 1 ? q : nullptr;
}

// TFLite's dynamic-range FULLY_CONNECTED (2.14.1's EvalHybridDense) with each unit's integer sum
// scaled by that unit's weight scale, as later TFLite computes version 12: the input quantized
// per batch row by 2.14.1's own functions, then int8 products.
TfLiteStatus EvalPerUnit(TfLiteContext* context, TfLiteNode* node, const TfLiteAffineQuantization& scales) {
  auto* data = static_cast<NodeData*>(node->user_data);
  const auto* params = static_cast<const TfLiteFullyConnectedParams*>(node->builtin_data);
  const TfLiteTensor* input = tflite::GetInput(context, node, 0);
  const TfLiteTensor* filter = tflite::GetInput(context, node, 1);
  const TfLiteTensor* bias = node->inputs->size == 3 ? tflite::GetOptionalInputTensor(context, node, 2) : nullptr;
  TfLiteTensor* output = tflite::GetOutput(context, node, 0);
  TF_LITE_ENSURE(context, input && filter && output && node->temporaries && node->temporaries->size >= 5);
  const int num_units = filter->dims->data[0];
  const int input_size = filter->dims->data[1];
  TF_LITE_ENSURE(context, input_size > 0 && scales.scale->size == num_units && scales.quantized_dimension == 0);
  const int batch_size = static_cast<int>(tflite::NumElements(input) / input_size);
  float* out = tflite::GetTensorData<float>(output);
  if (bias) {
    tflite::tensor_utils::VectorBatchVectorAssign(tflite::GetTensorData<float>(bias), num_units, batch_size, out);
  } else {
    std::fill_n(out, static_cast<size_t>(batch_size) * num_units, 0.0f);
  }
  const float* in = tflite::GetTensorData<float>(input);
  if (!tflite::tensor_utils::IsZeroVector(in, batch_size * input_size)) {
    TfLiteTensor* quantized = tflite::GetTemporary(context, node, 0);
    TfLiteTensor* scaling_factors = tflite::GetTemporary(context, node, 1);
    TfLiteTensor* input_offsets = tflite::GetTemporary(context, node, 3);
    TfLiteTensor* row_sums = tflite::GetTemporary(context, node, 4);
    const bool asymmetric = params->asymmetric_quantize_inputs;
    int32_t* offsets = asymmetric ? tflite::GetTensorData<int32_t>(input_offsets) : nullptr;
    float* factors = tflite::GetTensorData<float>(scaling_factors);
    int8_t* q = tflite::GetTensorData<int8_t>(quantized);
    tflite::tensor_utils::BatchQuantizeFloats(in, batch_size, input_size, q, factors, offsets, asymmetric);
    // The products as TFLite's portable and SSE kernels form them: an exact int32 sum per unit,
    // less the input's zero point times the unit's weight sum, times the row's scale times the
    // unit's (2.14.1's NEON kernel drops per-unit scales on one of its paths; this does not).
    const int8_t* w = tflite::GetTensorData<int8_t>(filter);
    int32_t* sums = tflite::GetTensorData<int32_t>(row_sums);
    if (asymmetric && data->compute_row_sums) {
      for (int u = 0; u < num_units; ++u) {
        sums[u] = std::accumulate(w + static_cast<size_t>(u) * input_size, w + static_cast<size_t>(u + 1) * input_size,
                                  int32_t{0});
      }
      data->compute_row_sums = false;
    }
    for (int b = 0; b < batch_size; ++b) {
      const int8_t* qb = q + static_cast<size_t>(b) * input_size;
      float* yb = out + static_cast<size_t>(b) * num_units;
      for (int u = 0; u < num_units; ++u) {
        const int8_t* wu = w + static_cast<size_t>(u) * input_size;
        int32_t dot = 0;
        for (int k = 0; k < input_size; ++k) dot += static_cast<int32_t>(wu[k]) * static_cast<int32_t>(qb[k]);
        if (asymmetric) dot -= sums[u] * offsets[b];
        yb[u] += static_cast<float>(dot) * (factors[b] * scales.scale->data[u]);
      }
    }
  }
  return Activate(context, params->activation, out, static_cast<size_t>(batch_size) * num_units);
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  const TfLiteTensor* input = tflite::GetInput(context, node, 0);
  const TfLiteTensor* filter = tflite::GetInput(context, node, 1);
  if (input && filter) {
    if (const TfLiteAffineQuantization* scales = PerUnitScales(*input, *filter)) {
      return EvalPerUnit(context, node, *scales);
    }
  }
  return AsBase(node, [&] { return g_base.invoke(context, node); });
}

}  // namespace

const TfLiteRegistration* PerChannelFullyConnected(const TfLiteRegistration& base) {
  std::call_once(g_copied, [&base] { g_base = base; });
  static const TfLiteRegistration registration = [] {
    TfLiteRegistration r{};
    r.init = Init;
    r.free = Free;
    r.prepare = Prepare;
    r.invoke = Eval;
    return r;
  }();
  return &registration;
}

}  // namespace tflstm::internal
