// BATCH_MATMUL of float32 operands of one rank (the batch axes broadcast), the right-hand side
// transposed or not, on XNNPACK's batch matrix multiply. A transposed left-hand side, other
// types and ranks run on TFLite's kernel.
#include <cstdint>
#include <vector>

#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  const auto* p = static_cast<const TfLiteBatchMatMulParams*>(node->builtin_data);
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
  const int rank = a->dims->size;
  if (p->adj_x || a->type != kTfLiteFloat32 || b->type != kTfLiteFloat32 || output->type != kTfLiteFloat32 ||
      rank < 2 || b->dims->size != rank || rank > XNN_MAX_TENSOR_DIMS) {
    return kTfLiteOk;
  }
  const size_t m = a->dims->data[rank - 2], k = a->dims->data[rank - 1];
  const size_t n = b->dims->data[p->adj_y ? rank - 2 : rank - 1];
  if (static_cast<size_t>(b->dims->data[p->adj_y ? rank - 1 : rank - 2]) != k || m == 0 || k == 0 || n == 0) {
    return kTfLiteOk;
  }
  std::vector<size_t> batch_a(a->dims->data, a->dims->data + rank - 2);
  std::vector<size_t> batch_b(b->dims->data, b->dims->data + rank - 2);
  xnn_operator_t op = nullptr;
  if (xnn_create_batch_matrix_multiply_nc_f32(p->adj_y ? XNN_FLAG_TRANSPOSE_B : 0, &op) != xnn_status_success) {
    return kTfLiteOk;
  }
  data.op.reset(op);
  size_t alignment = 0;
  if (xnn_reshape_batch_matrix_multiply_nc_f32(op, batch_a.size(), batch_a.data(), batch_b.data(), m, k, n, workspace,
                                               &alignment, pool) != xnn_status_success ||
      alignment > 64) {
    data.op.reset();
  }
  return kTfLiteOk;
}

xnn_status Setup(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace) {
  return xnn_setup_batch_matrix_multiply_nc_f32(data.op.get(), workspace, Input(context, node, 0)->data.f,
                                                Input(context, node, 1)->data.f, Output(context, node, 0)->data.f);
}

const OpKernel kBatchMatMul = {tflite::ops::builtin::Register_BATCH_MATMUL, Create, Setup};

}  // namespace

const TfLiteRegistration* BatchMatMulKernel() { return Registration<&kBatchMatMul>(); }

}  // namespace tflstm::xnn
