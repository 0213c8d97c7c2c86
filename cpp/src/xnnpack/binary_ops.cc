// ADD, SUB and MUL of int8 (per-tensor) operands, broadcast as TFLite broadcasts, with no fused
// activation, on XNNPACK's elementwise operator. float32 does not run on XNNPACK: its binary
// operator clamps nothing, where TFLite's turns an infinity into the largest finite float. Where
// both float operands have one shape, or one is a single element (a GRU's 1 - z), tflstm's own
// loop runs the node, computing exactly what TFLite's kernel computes (the op, then the clamp):
// TFLite's kernel spends some 800 instructions a call on shapes and dispatch, more than the
// work of a [1, 64] gate, and takes its slowest path for a broadcast SUB (BroadcastSubSlow, some
// 60 instructions an element). Other broadcasts, fused tanh/sign-bit activations and int16 stay
// on TFLite's kernel.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

template <xnn_binary_operator kOp>
TfLiteFusedActivation ActivationOf(const TfLiteNode* node) {
  if (kOp == xnn_binary_multiply) return static_cast<const TfLiteMulParams*>(node->builtin_data)->activation;
  if (kOp == xnn_binary_subtract) return static_cast<const TfLiteSubParams*>(node->builtin_data)->activation;
  return static_cast<const TfLiteAddParams*>(node->builtin_data)->activation;
}

std::vector<size_t> Shape(const TfLiteTensor* t) {
  return std::vector<size_t>(t->dims->data, t->dims->data + t->dims->size);
}

constexpr const char* kFloatLoop = "binary-f32";

// float32 operands of one shape, or one of them a single element broadcast onto the other
// (whose shape the output has, up to leading ones); the activation's range goes to data.scales.
bool FloatLoop(const TfLiteTensor* a, const TfLiteTensor* b, const TfLiteTensor* output, TfLiteFusedActivation act,
               NodeData& data) {
  if (a->type != kTfLiteFloat32 || b->type != kTfLiteFloat32 || output->type != kTfLiteFloat32) return false;
  const int64_t na = tflite::NumElements(a), nb = tflite::NumElements(b), n = tflite::NumElements(output);
  const bool same = na == n && nb == n && tflite::HaveSameShapes(a, b);
  if (!same && !(na == 1 && nb == n) && !(nb == 1 && na == n)) return false;
  float lo = 0.0f, hi = 0.0f;  // TFLite's CalculateActivationRange for float
  if (!FloatRange(act, &lo, &hi)) return false;
  data.scales = {lo, hi};
  return true;
}

// out[i] = f(x[i or 0], y[i or 0]) clamped to [lo, hi] as TFLite's kernels clamp: the min of
// the max (ActivationFunctionWithMinMax; a NaN stays a NaN, as in their vector code).
template <xnn_binary_operator kOp>
xnn_status RunFloatLoop(TfLiteContext* context, TfLiteNode* node, NodeData& data) {
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  TfLiteTensor* output = Output(context, node, 0);
  const float lo = data.scales[0], hi = data.scales[1];
  const size_t n = static_cast<size_t>(tflite::NumElements(output));
  float* out = output->data.f;
  const auto f = [lo, hi](float x, float y) {
    const float r = kOp == xnn_binary_add ? x + y : kOp == xnn_binary_subtract ? x - y : x * y;
    return std::min(std::max(r, lo), hi);
  };
  const float* x = a->data.f;
  const float* y = b->data.f;
  if (static_cast<size_t>(tflite::NumElements(a)) != n) {
    const float x0 = x[0];
    for (size_t i = 0; i < n; ++i) out[i] = f(x0, y[i]);
  } else if (static_cast<size_t>(tflite::NumElements(b)) != n) {
    const float y0 = y[0];
    for (size_t i = 0; i < n; ++i) out[i] = f(x[i], y0);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = f(x[i], y[i]);
  }
  return xnn_status_success;
}

template <xnn_binary_operator kOp>
TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t*) {
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
  if (node->builtin_data != nullptr && FloatLoop(a, b, output, ActivationOf<kOp>(node), data)) {
    data.own = kFloatLoop;
    return kTfLiteOk;
  }
  if (node->builtin_data == nullptr || ActivationOf<kOp>(node) != kTfLiteActNone || a->type != b->type ||
      a->type != output->type || a->dims->size > XNN_MAX_TENSOR_DIMS || b->dims->size > XNN_MAX_TENSOR_DIMS) {
    return kTfLiteOk;
  }
  Int8Params qa, qb;
  if (a->type != kTfLiteInt8 || !Int8Io(a, output, kTfLiteActNone, &qa) || !Int8Io(b, output, kTfLiteActNone, &qb)) {
    return kTfLiteOk;
  }
  const xnn_quantization_params pa{qa.in_zero, qa.in_scale}, pb{qb.in_zero, qb.in_scale}, po{qa.out_zero, qa.out_scale};
  xnn_operator_t op = nullptr;
  if (xnn_create_binary_elementwise_nd(kOp, xnn_datatype_qint8, &pa, &pb, &po, 0, &op) != xnn_status_success) {
    return kTfLiteOk;
  }
  data.op.reset(op);
  const std::vector<size_t> sa = Shape(a), sb = Shape(b);
  if (xnn_reshape_binary_elementwise_nd(op, sa.size(), sa.data(), sb.size(), sb.data(), pool) != xnn_status_success) {
    data.op.reset();
  }
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void*) {
  return xnn_setup_binary_elementwise_nd(data.op.get(), Input(context, node, 0)->data.raw,
                                         Input(context, node, 1)->data.raw, Output(context, node, 0)->data.raw);
}

template <xnn_binary_operator kOp>
xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) {
  return data.own == kFloatLoop ? RunFloatLoop<kOp>(context, node, data) : xnn_run_operator(data.op.get(), pool);
}

const OpKernel kAdd = {tflite::ops::builtin::Register_ADD, Create<xnn_binary_add>, Setup, Run<xnn_binary_add>};
const OpKernel kSub = {tflite::ops::builtin::Register_SUB, Create<xnn_binary_subtract>, Setup,
                       Run<xnn_binary_subtract>};
const OpKernel kMul = {tflite::ops::builtin::Register_MUL, Create<xnn_binary_multiply>, Setup,
                       Run<xnn_binary_multiply>};

}  // namespace

const TfLiteRegistration* AddKernel() { return Registration<&kAdd>(); }
const TfLiteRegistration* SubKernel() { return Registration<&kSub>(); }
const TfLiteRegistration* MulKernel() { return Registration<&kMul>(); }

}  // namespace tflstm::xnn
