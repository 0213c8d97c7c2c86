// ADD, SUB and MUL of int8 (per-tensor) operands, broadcast as TFLite broadcasts, with no fused
// activation, on XNNPACK's elementwise operator. float32 stays on TFLite's kernel: XNNPACK's
// binary operator clamps nothing, where TFLite's turns an infinity into the largest finite float
// (and the float kernels are as fast); fused activations and int16 do too.
#include <cstdint>
#include <vector>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
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

template <xnn_binary_operator kOp>
TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t*) {
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
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

const OpKernel kAdd = {tflite::ops::builtin::Register_ADD, Create<xnn_binary_add>, Setup};
const OpKernel kSub = {tflite::ops::builtin::Register_SUB, Create<xnn_binary_subtract>, Setup};
const OpKernel kMul = {tflite::ops::builtin::Register_MUL, Create<xnn_binary_multiply>, Setup};

}  // namespace

const TfLiteRegistration* AddKernel() { return Registration<&kAdd>(); }
const TfLiteRegistration* SubKernel() { return Registration<&kSub>(); }
const TfLiteRegistration* MulKernel() { return Registration<&kMul>(); }

}  // namespace tflstm::xnn
