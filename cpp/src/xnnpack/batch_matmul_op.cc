// BATCH_MATMUL. Float32 operands of one rank (the batch axes broadcast), the right-hand side
// transposed or not, on XNNPACK's batch matrix multiply, or, single-threaded where the CPU has
// AVX2 and FMA, on tflstm's float32 GEMM (f32_gemm.h: "bmm-f32-avx2") with the right-hand side
// packed per call into the workspace, once per distinct right-hand matrix. Int8 operands and output with per-tensor
// parameters, any adj_x / adj_y and broadcast batch axes, on tflstm's int8 matrix multiply
// (int8_matmul.h: XNNPACK has none whose operands are both activations), bit-exact with
// TFLite's reference kernel. Other types and configurations run on TFLite's kernel.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "f32_gemm.h"
#include "int8_matmul.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

constexpr const char* kF32Name = "bmm-f32-avx2";
constexpr float kInfinity = std::numeric_limits<float>::infinity();  // no clamp: TFLite's has none

// A node's batch axes (at most three, as TFLite's ranks 2..5 give), right-aligned; a stride
// of 0 broadcasts the operand along the axis.
struct Batches {
  int batches[3] = {1, 1, 1};
  size_t a_stride[3] = {}, b_stride[3] = {};
};

// The batch axes of operands a (m x k matrices) and b (k x n), false beyond rank 5.
bool DescribeBatches(const TfLiteTensor* a, const TfLiteTensor* b, int m, int k, int n, Batches* d) {
  const int ra = a->dims->size, rb = b->dims->size;
  const int rank = std::max(ra, rb);
  if (ra < 2 || rb < 2 || rank > 5) return false;
  // From the innermost axis out; an operand's stride is its matrix size times the axes inside,
  // 0 where its extent is 1 (or it has no such axis).
  size_t a_size = static_cast<size_t>(m) * k, b_size = static_cast<size_t>(k) * n;
  for (int i = 0; i < 3; ++i) {
    const int axis = rank - 3 - i;  // in the output's (extended) shape
    const int da = axis - (rank - ra) >= 0 ? a->dims->data[axis - (rank - ra)] : 1;
    const int db = axis - (rank - rb) >= 0 ? b->dims->data[axis - (rank - rb)] : 1;
    d->batches[2 - i] = std::max(da, db);
    d->a_stride[2 - i] = da == 1 ? 0 : a_size;
    d->b_stride[2 - i] = db == 1 ? 0 : b_size;
    a_size *= static_cast<size_t>(da);
    b_size *= static_cast<size_t>(db);
  }
  return true;
}

// Calls f(a offset, b offset) for each output matrix in order.
template <class F>
void ForEachBatch(const Batches& d, F f) {
  for (int i0 = 0; i0 < d.batches[0]; ++i0) {
    for (int i1 = 0; i1 < d.batches[1]; ++i1) {
      for (int i2 = 0; i2 < d.batches[2]; ++i2) {
        f(i0 * d.a_stride[0] + i1 * d.a_stride[1] + i2 * d.a_stride[2],
          i0 * d.b_stride[0] + i1 * d.b_stride[1] + i2 * d.b_stride[2]);
      }
    }
  }
}

// An int8 node's matrices and its batch axes.
struct Int8Node : Batches {
  Int8MatMul p;
};

// Whether the int8 kernel covers the node (TFLite's Prepare has checked the shapes).
bool DescribeInt8(TfLiteContext* context, const TfLiteNode* node, Int8Node* d) {
  const auto* params = static_cast<const TfLiteBatchMatMulParams*>(node->builtin_data);
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  TfLiteTensor* out = Output(context, node, 0);
  if (a->type != kTfLiteInt8 || b->type != kTfLiteInt8 || out->type != kTfLiteInt8) return false;
  float scale = 0.0f;
  int32_t zero[3] = {};
  const TfLiteTensor* tensors[3] = {a, b, out};
  for (int i = 0; i < 3; ++i) {
    if (!PerTensor(tensors[i], &scale, &zero[i]) || zero[i] < -128 || zero[i] > 127) return false;
  }
  const int ra = a->dims->size, rb = b->dims->size;
  if (ra < 2 || rb < 2) return false;
  Int8MatMul& p = d->p;
  p.adj_a = params->adj_x;
  p.adj_b = params->adj_y;
  p.m = a->dims->data[ra - (p.adj_a ? 1 : 2)];
  p.k = a->dims->data[ra - (p.adj_a ? 2 : 1)];
  p.n = b->dims->data[rb - (p.adj_b ? 2 : 1)];
  if (p.m <= 0 || p.n <= 0 || p.k <= 0 || p.k > kInt8MatMulMaxDepth) return false;
  p.a_zero = zero[0];
  p.b_zero = zero[1];
  p.out_zero = zero[2];
  double real = 0.0;
  if (tflite::GetQuantizedConvolutionMultipler(context, a, b, out, &real) != kTfLiteOk) return false;
  tflite::QuantizeMultiplier(real, &p.multiplier, &p.shift);
  return DescribeBatches(a, b, p.m, p.k, p.n, d);
}

TfLiteStatus CreateInt8(TfLiteContext* context, TfLiteNode* node, NodeData& data, size_t* workspace) {
  Int8Node d;
  if (!DescribeInt8(context, node, &d)) return kTfLiteOk;
  data.own = BestInt8MatMul().name;
  *workspace = BestInt8MatMul().scratch(d.p);
  return kTfLiteOk;
}

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool, size_t* workspace) {
  const auto* p = static_cast<const TfLiteBatchMatMulParams*>(node->builtin_data);
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
  if (a->type == kTfLiteInt8) return CreateInt8(context, node, data, workspace);
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
  if (BestF32Gemm() != nullptr && pool == nullptr) {
    // tflstm's GEMM (f32_gemm.h) with the right-hand side packed per call into the workspace.
    Batches d;
    if (DescribeBatches(a, b, static_cast<int>(m), static_cast<int>(k), static_cast<int>(n), &d)) {
      data.gemm = {static_cast<int>(m), static_cast<int>(k), static_cast<int>(n), -kInfinity, kInfinity, 0};
      data.own = kF32Name;
      *workspace = F32GemmPackedFloats(data.gemm.depth, data.gemm.cols) * sizeof(float);
      return kTfLiteOk;
    }
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

// The float32 GEMM over the batch axes, each right-hand side packed once.
xnn_status RunFloat(TfLiteContext* context, TfLiteNode* node, NodeData& data) {
  const auto* params = static_cast<const TfLiteBatchMatMulParams*>(node->builtin_data);
  const TfLiteTensor* ta = Input(context, node, 0);
  const TfLiteTensor* tb = Input(context, node, 1);
  const F32Gemm& g = data.gemm;
  Batches d;
  if (!DescribeBatches(ta, tb, g.rows, g.depth, g.cols, &d)) return xnn_status_invalid_state;
  const float* a = ta->data.f;
  const float* b = tb->data.f;
  float* out = Output(context, node, 0)->data.f;
  auto* packed = static_cast<float*>(context->tensors[data.workspace].data.data);
  // b is [k][n], or [n][k] with adj_y.
  const size_t col_stride = params->adj_y ? static_cast<size_t>(g.depth) : 1;
  const size_t depth_stride = params->adj_y ? 1 : static_cast<size_t>(g.cols);
  const size_t out_size = static_cast<size_t>(g.rows) * g.cols;
  const float* packed_b = nullptr;
  ForEachBatch(d, [&](size_t a_offset, size_t b_offset) {
    if (b + b_offset != packed_b) PackF32Gemm(g, b + b_offset, col_stride, depth_stride, nullptr, packed);
    packed_b = b + b_offset;
    BestF32Gemm()->run(g, packed, a + a_offset, out);
    out += out_size;
  });
  return xnn_status_success;
}

// The own kernels over the batch axes (a right-hand side that the previous entry packed is
// packed once); XNNPACK's operator otherwise.
xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) {
  if (data.own == nullptr) return xnn_run_operator(data.op.get(), pool);
  if (data.own == kF32Name) return RunFloat(context, node, data);
  Int8Node d;
  if (!DescribeInt8(context, node, &d)) return xnn_status_invalid_state;
  const Int8MatMulKernel& kernel = BestInt8MatMul();
  const int8_t* a = Input(context, node, 0)->data.int8;
  const int8_t* b = Input(context, node, 1)->data.int8;
  int8_t* out = Output(context, node, 0)->data.int8;
  auto* scratch = static_cast<int16_t*>(context->tensors[data.workspace].data.data);
  const size_t out_size = static_cast<size_t>(d.p.m) * d.p.n;
  const int8_t* packed_b = nullptr;
  ForEachBatch(d, [&](size_t a_offset, size_t b_offset) {
    kernel.run(d.p, a + a_offset, b + b_offset, out, scratch, b + b_offset != packed_b);
    packed_b = b + b_offset;
    out += out_size;
  });
  return xnn_status_success;
}

const OpKernel kBatchMatMul = {tflite::ops::builtin::Register_BATCH_MATMUL, Create, Setup, Run};

}  // namespace

const TfLiteRegistration* BatchMatMulKernel() { return Registration<&kBatchMatMul>(); }

}  // namespace tflstm::xnn
