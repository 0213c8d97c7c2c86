// MEAN (float32; int8 with per-tensor parameters) over constant axes, on XNNPACK's reduction.
// Other types, axes computed at run time and empty reductions run on TFLite's kernel.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  const TfLiteTensor* input = Input(context, node, 0);
  const TfLiteTensor* axis = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
  const int rank = input->dims->size;
  if (!IsConstant(axis) || axis->type != kTfLiteInt32 || rank < 1 || rank > XNN_MAX_TENSOR_DIMS ||
      input->type != output->type) {
    return kTfLiteOk;
  }
  std::vector<int64_t> axes;
  const size_t n_axes = axis->bytes / sizeof(int32_t);
  for (size_t i = 0; i < n_axes; ++i) {
    const int a = axis->data.i32[i];
    if (a < -rank || a >= rank) return kTfLiteOk;
    axes.push_back(a < 0 ? a + rank : a);
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  std::vector<size_t> shape(input->dims->data, input->dims->data + rank);
  for (size_t d : shape) {
    if (d == 0) return kTfLiteOk;
  }
  if (axes.empty()) return kTfLiteOk;
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_unsupported_parameter;
  if (input->type == kTfLiteFloat32) {
    status = xnn_create_reduce_nd(xnn_reduce_mean, xnn_datatype_fp32, nullptr, nullptr, 0, &op);
  } else if (input->type == kTfLiteInt8) {
    Int8Params q;
    if (!Int8Io(input, output, kTfLiteActNone, &q)) return kTfLiteOk;
    const xnn_quantization_params in{q.in_zero, q.in_scale}, out{q.out_zero, q.out_scale};
    status = xnn_create_reduce_nd(xnn_reduce_mean, xnn_datatype_qint8, &in, &out, 0, &op);
  }
  if (status != xnn_status_success) return kTfLiteOk;
  data.op.reset(op);
  size_t alignment = 0;
  if (xnn_reshape_reduce_nd(op, axes.size(), axes.data(), shape.size(), shape.data(), workspace, &alignment, pool) !=
          xnn_status_success ||
      alignment > 64) {
    data.op.reset();
  }
  // A float mean accumulates in its output: given a workspace, XNNPACK would convert from it
  // with a conversion kernel that float has none of.
  if (input->type == kTfLiteFloat32) *workspace = 0;
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace) {
  return xnn_setup_reduce_nd(data.op.get(), workspace, Input(context, node, 0)->data.raw,
                             Output(context, node, 0)->data.raw);
}

const OpKernel kMean = {tflite::ops::builtin::Register_MEAN, Create, Setup};

}  // namespace

const TfLiteRegistration* MeanKernel() { return Registration<&kMean>(); }

}  // namespace tflstm::xnn
