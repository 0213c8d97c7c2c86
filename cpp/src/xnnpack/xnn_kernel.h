// The frame of tflstm's XNNPACK kernels: one TfLiteRegistration per builtin op that runs the
// node on an XNNPACK operator when XNNPACK covers its configuration, and hands it to TFLite's
// own kernel otherwise (as the LSTM kernel does). TFLite's Prepare always runs first: it checks
// the node and sets the output shapes exactly as without XNNPACK, so every model TFLite refuses
// is still refused with TFLite's message. The operator's scratch is a temporary tensor in
// TFLite's arena; its packed weights are on the heap, counted per node.
#pragma once

#include <xnnpack.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "f32_gemm.h"
#include "int8_fc.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::xnn {

struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// A pthreadpool shared by the nodes of one interpreter (one per context and thread count).
class Threadpool;

// What a node keeps between Prepare and Invoke.
struct NodeData {
  void* builtin = nullptr;    // TFLite's kernel's own data, for the configurations it runs
  int workspace = -1;         // the temporary tensor that holds the operator's scratch
  Operator op;                // null: TFLite's kernel runs the node, unless `own` is set
  const char* own = nullptr;  // tflstm's own kernel (its name) runs the node, on no XNNPACK operator
  std::shared_ptr<Threadpool> pool;
  // What XNNPACK allocated for the operator (packed weights, indirection), or what tflstm's own
  // kernel packed.
  size_t heap_bytes = 0;

  size_t workspace_bytes = 0;
  std::vector<const void*> bound;  // the pointers of the last setup: set up again when one moves
  std::vector<const void*> now;    // (scratch for comparing them)
  std::vector<float> scales;       // per-channel weight scales an operator reads at creation
                                   // (float SUB on tflstm's own loop: its clamp range)
  std::vector<int32_t> packed;     // what tflstm's own kernel packed at prepare (int8_fc.h)
  Int8Fc fc;                       // and what it multiplies
  std::vector<float> packed_f32;   // the float32 GEMM's packed weights (f32_gemm.h)
  F32Gemm gemm;                    // and what it multiplies
};

// Whether XNNPACK runs on this CPU (initialised once; false where it cannot, e.g. Arm without
// NEON, and when the environment says TFLSTM_XNNPACK=off).
bool Available();

// One op's part: Create is called after TFLite's Prepare succeeded and leaves data.op null when
// XNNPACK does not cover the node; it creates the operator (inside a CountHeap scope) and
// reshapes it. Setup binds the tensors' current data (and the workspace) to the operator. A
// node that tflstm's own kernel runs (data.own) has no operator: Setup is not called, and `run`
// does the work with the workspace.
struct OpKernel {
  TfLiteRegistration* (*builtin)();  // TFLite's Register_<OP>
  TfLiteStatus (*create)(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool,
                         size_t* workspace_bytes);
  xnn_status (*setup)(TfLiteContext* context, TfLiteNode* node, NodeData& data, void* workspace);
  // Runs the operator when running it takes more than xnn_run_operator (null: that alone).
  xnn_status (*run)(TfLiteContext* context, TfLiteNode* node, NodeData& data, pthreadpool_t pool) = nullptr;
};

// The frame every op's registration runs (xnn_kernel.cc); `kernel` says what is the op's own.
void* InitNode(const OpKernel& kernel, TfLiteContext* context, const char* buffer, size_t length);
void FreeNode(const OpKernel& kernel, TfLiteContext* context, void* buffer);
TfLiteStatus PrepareNode(const OpKernel& kernel, TfLiteContext* context, TfLiteNode* node);
TfLiteStatus InvokeNode(const OpKernel& kernel, TfLiteContext* context, TfLiteNode* node);
// The node's kernel family ("xnnpack", the name of tflstm's own kernel such as
// "bmm-int8-avx2", or "tflite" where TFLite's kernel runs it): the
// registration's profiling_string, which also tells tflstm's registrations from others.
const char* KernelName(const TfLiteContext* context, const TfLiteNode* node);
// What XNNPACK holds for the node on the heap (packed weights, indirection buffers).
size_t HeapBytes(const TfLiteNode& node);
// Makes these kernels known to ops::NodeKernel (ops/node_kernel.h); idempotent.
void RegisterFamily();

// The registration of the op `K` points to (a static OpKernel).
template <const OpKernel* K>
const TfLiteRegistration* Registration() {
  static const TfLiteRegistration registration = [] {
    TfLiteRegistration r{};
    r.init = [](TfLiteContext* c, const char* b, size_t n) { return InitNode(*K, c, b, n); };
    r.free = [](TfLiteContext* c, void* b) { FreeNode(*K, c, b); };
    r.prepare = [](TfLiteContext* c, TfLiteNode* n) { return PrepareNode(*K, c, n); };
    r.invoke = [](TfLiteContext* c, TfLiteNode* n) { return InvokeNode(*K, c, n); };
    r.profiling_string = KernelName;
    RegisterFamily();
    return r;
  }();
  return &registration;
}

// Counts XNNPACK's heap allocations on this thread into `bytes` while it lives.
class CountHeap {
 public:
  explicit CountHeap(size_t* bytes);
  ~CountHeap();
  CountHeap(const CountHeap&) = delete;
  CountHeap& operator=(const CountHeap&) = delete;

 private:
  size_t* saved_;
};

// Helpers for the ops' Create.
const TfLiteTensor* Input(const TfLiteContext* context, const TfLiteNode* node, int i);  // null when absent
TfLiteTensor* Output(TfLiteContext* context, const TfLiteNode* node, int i);
bool IsConstant(const TfLiteTensor* t);  // in the model's bytes: weights XNNPACK may pack once
// The tensor's per-tensor scale and zero point (its first entries); false when it has none.
bool PerTensor(const TfLiteTensor* t, float* scale, int32_t* zero_point);
// Per-channel scales along `dim` (one entry broadcast to `channels`) with every zero point 0;
// false otherwise.
bool ChannelScales(const TfLiteTensor* t, int dim, int channels, std::vector<float>* scales);
// The output range a fused activation leaves (float), or false for one XNNPACK cannot clamp to.
bool FloatRange(TfLiteFusedActivation activation, float* lo, float* hi);
// The same for an int8 output, rounded as TFLite's CalculateActivationRangeQuantized rounds.
bool Int8Range(TfLiteFusedActivation activation, float scale, int32_t zero_point, int8_t* lo, int8_t* hi);
// An int8 input and output with per-tensor parameters XNNPACK takes, and the output's range.
struct Int8Params {
  float in_scale = 0.0f, out_scale = 0.0f;
  int32_t in_zero = 0, out_zero = 0;
  int8_t lo = 0, hi = 0;
};
bool Int8Io(const TfLiteTensor* input, const TfLiteTensor* output, TfLiteFusedActivation activation, Int8Params* p);

}  // namespace tflstm::xnn
