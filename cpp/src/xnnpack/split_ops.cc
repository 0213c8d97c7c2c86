// SPLIT and SPLIT_V along a constant axis, on tflstm's own copy loop (no XNNPACK operator):
// TFLite's kernel builds vectors of the outputs' shapes and pointers on the heap at every call,
// which costs more than the copy in an unrolled GRU (a [1, 192] gate row split in three, twice
// a step). The outputs' shapes are TFLite's, set by its Prepare; a split whose axis or sizes
// are computed at run time (dynamic outputs) stays on TFLite's kernel.
#include <cstdint>
#include <cstring>

#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "xnn_kernel.h"
#include "xnn_ops.h"

namespace tflstm::xnn {
namespace {

constexpr const char* kSplit = "split-copy";

template <int kInput, int kAxis>
TfLiteStatus Create(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t, size_t*) {
  const TfLiteTensor* input = Input(context, node, kInput);
  const TfLiteTensor* axis = Input(context, node, kAxis);
  const int element = input == nullptr || input->type == kTfLiteString ? 0 : tflite::TfLiteTypeGetSize(input->type);
  if (element <= 0 || !IsConstant(axis) || axis->type != kTfLiteInt32 || axis->bytes != sizeof(int32_t)) {
    return kTfLiteOk;
  }
  const int rank = input->dims->size;
  const int a = axis->data.i32[0] < 0 ? axis->data.i32[0] + rank : axis->data.i32[0];
  if (a < 0 || a >= rank) return kTfLiteOk;
  int along = 0;  // the outputs' extents along the axis cover the input's
  for (int k = 0; k < node->outputs->size; ++k) {
    const TfLiteTensor* out = Output(context, node, k);
    if (out->allocation_type == kTfLiteDynamic || out->type != input->type || out->dims->size != rank) return kTfLiteOk;
    for (int d = 0; d < rank; ++d) {
      if (d != a && out->dims->data[d] != input->dims->data[d]) return kTfLiteOk;
    }
    along += out->dims->data[a];
  }
  if (along != input->dims->data[a]) return kTfLiteOk;
  data.packed = {a, element};
  data.own = kSplit;
  return kTfLiteOk;
}

// Row by row of what precedes the axis: each output takes its extent along the axis times
// everything after it, in turn.
xnn_status Run(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t) {
  const int input_index = node->inputs->size == 2 ? 1 : 0;  // SPLIT: (axis, input); SPLIT_V: (input, sizes, axis)
  const TfLiteTensor* input = Input(context, node, input_index);
  const int axis = data.packed[0];
  size_t outer = 1, inner = static_cast<size_t>(data.packed[1]);
  for (int d = 0; d < axis; ++d) outer *= static_cast<size_t>(input->dims->data[d]);
  for (int d = axis + 1; d < input->dims->size; ++d) inner *= static_cast<size_t>(input->dims->data[d]);
  const char* from = input->data.raw_const;
  for (size_t o = 0; o < outer; ++o) {
    for (int k = 0; k < node->outputs->size; ++k) {
      TfLiteTensor* out = Output(context, node, k);
      const size_t bytes = inner * static_cast<size_t>(out->dims->data[axis]);
      if (bytes > 0) std::memcpy(out->data.raw + o * bytes, from, bytes);
      from += bytes;
    }
  }
  return xnn_status_success;
}

const OpKernel kSplitOp = {tflite::ops::builtin::Register_SPLIT, Create<1, 0>, nullptr, Run};
const OpKernel kSplitV = {tflite::ops::builtin::Register_SPLIT_V, Create<0, 2>, nullptr, Run};

}  // namespace

const TfLiteRegistration* SplitKernel() { return Registration<&kSplitOp>(); }
const TfLiteRegistration* SplitVKernel() { return Registration<&kSplitV>(); }

}  // namespace tflstm::xnn
