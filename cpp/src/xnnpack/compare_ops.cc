// EQUAL and NOT_EQUAL of float32 or int32 operands of one shape, or one of them a single element,
// on tflstm's own loop (no XNNPACK operator). A Keras mask is computed so: Masking compares every
// feature with its mask_value, Embedding(mask_zero=True) every id with 0. TFLite's kernel takes
// its 4-D broadcast path for a single-element operand, some 9 ns an element: a [1, 100, 32]
// Masking cost a third of a GRU(64)'s time. The comparison is C++'s (a NaN is unequal to all),
// which is TFLite's. Other shapes and types stay on TFLite's kernel.
#include <cstdint>

#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

constexpr const char* kCompare = "compare-loop";

TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t, size_t*) {
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  const TfLiteTensor* output = Output(context, node, 0);
  if (a->type != b->type || (a->type != kTfLiteFloat32 && a->type != kTfLiteInt32) || output->type != kTfLiteBool ||
      output->allocation_type == kTfLiteDynamic) {
    return kTfLiteOk;
  }
  const int64_t na = tflite::NumElements(a), nb = tflite::NumElements(b), n = tflite::NumElements(output);
  const bool same = na == n && nb == n && tflite::HaveSameShapes(a, b);
  if (same || (na == 1 && nb == n) || (nb == 1 && na == n)) data.own = kCompare;
  return kTfLiteOk;
}

// out[i] = (x[i or 0] == y[i or 0]) == kEqual.
template <bool kEqual, class T>
void Compare(const T* x, size_t nx, const T* y, size_t ny, bool* out, size_t n) {
  if (nx != n) {
    const T x0 = x[0];
    for (size_t i = 0; i < n; ++i) out[i] = (x0 == y[i]) == kEqual;
  } else if (ny != n) {
    const T y0 = y[0];
    for (size_t i = 0; i < n; ++i) out[i] = (x[i] == y0) == kEqual;
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = (x[i] == y[i]) == kEqual;
  }
}

template <bool kEqual>
xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData&, pthreadpool_t) {
  const TfLiteTensor* a = Input(context, node, 0);
  const TfLiteTensor* b = Input(context, node, 1);
  TfLiteTensor* output = Output(context, node, 0);
  const size_t na = static_cast<size_t>(tflite::NumElements(a)), nb = static_cast<size_t>(tflite::NumElements(b));
  const size_t n = static_cast<size_t>(tflite::NumElements(output));
  if (a->type == kTfLiteFloat32) {
    Compare<kEqual>(a->data.f, na, b->data.f, nb, output->data.b, n);
  } else {
    Compare<kEqual>(a->data.i32, na, b->data.i32, nb, output->data.b, n);
  }
  return xnn_status_success;
}

const OpKernel kEqualOp = {tflite::ops::builtin::Register_EQUAL, Create, nullptr, Run<true>};
const OpKernel kNotEqualOp = {tflite::ops::builtin::Register_NOT_EQUAL, Create, nullptr, Run<false>};

}  // namespace

const TfLiteRegistration* EqualKernel() { return Registration<&kEqualOp>(); }
const TfLiteRegistration* NotEqualKernel() { return Registration<&kNotEqualOp>(); }

}  // namespace tflstm::xnn
