#include "xnn_kernel.h"

#include "ops/lend_user_data.h"
#include "ops/node_kernel.h"

#include <pthreadpool.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

namespace tflstm::xnn {
namespace {

using ops::LendUserData;

// XNNPACK's heap, with the size of each block in front of it so that the allocations made while
// a node creates its operator can be counted (Runner::memory).
thread_local size_t* heap_counter = nullptr;

constexpr size_t kHeader = 64;  // keeps XNNPACK's 64-byte alignment; holds the block's size

void* CountedAlloc(size_t alignment, size_t size) {
  if (alignment < kHeader) alignment = kHeader;
  if (size > std::numeric_limits<size_t>::max() - 2 * alignment) return nullptr;
  const size_t total = (size + alignment + alignment - 1) / alignment * alignment;
  char* base = static_cast<char*>(std::aligned_alloc(alignment, total));
  if (base == nullptr) return nullptr;
  char* p = base + alignment;
  std::memcpy(p - sizeof(size_t), &size, sizeof(size_t));
  std::memcpy(p - 2 * sizeof(size_t), &alignment, sizeof(size_t));
  if (heap_counter != nullptr) *heap_counter += size;
  return p;
}

void CountedFree(void* pointer) {
  if (pointer == nullptr) return;
  char* p = static_cast<char*>(pointer);
  size_t size = 0, alignment = 0;
  std::memcpy(&size, p - sizeof(size_t), sizeof(size_t));
  std::memcpy(&alignment, p - 2 * sizeof(size_t), sizeof(size_t));
  if (heap_counter != nullptr) *heap_counter -= std::min(*heap_counter, size);
  std::free(p - alignment);
}

void* Allocate(void*, size_t size) { return CountedAlloc(kHeader, size); }
void* AlignedAllocate(void*, size_t alignment, size_t size) { return CountedAlloc(alignment, size); }
void Deallocate(void*, void* pointer) { CountedFree(pointer); }
void* Reallocate(void*, void* pointer, size_t size) {
  void* fresh = CountedAlloc(kHeader, size);
  if (fresh == nullptr || pointer == nullptr) {
    if (fresh == nullptr && size == 0) CountedFree(pointer);
    return fresh;
  }
  size_t old = 0;
  std::memcpy(&old, static_cast<char*>(pointer) - sizeof(size_t), sizeof(size_t));
  std::memcpy(fresh, pointer, std::min(old, size));
  CountedFree(pointer);
  return fresh;
}

const xnn_allocator kAllocator = {nullptr, Allocate, Reallocate, Deallocate, AlignedAllocate, Deallocate};

}  // namespace

CountHeap::CountHeap(size_t* bytes) : saved_(heap_counter) { heap_counter = bytes; }
CountHeap::~CountHeap() { heap_counter = saved_; }

bool Available() {
  // TFLSTM_XNNPACK=off: TFLite's kernels run every op (to compare the two; read once).
  static const bool available = [] {
    const char* env = std::getenv("TFLSTM_XNNPACK");
    if (env != nullptr && std::strcmp(env, "off") == 0) return false;
    return xnn_initialize(&kAllocator) == xnn_status_success;
  }();
  return available;
}

// --- Thread pools: one per interpreter (its context) and thread count, shared by its nodes ---

class Threadpool {
 public:
  explicit Threadpool(size_t threads) : pool_(pthreadpool_create(threads)) {}
  ~Threadpool() {
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
  }
  Threadpool(const Threadpool&) = delete;
  Threadpool& operator=(const Threadpool&) = delete;
  pthreadpool_t get() const { return pool_; }

 private:
  pthreadpool_t pool_;
};

namespace {

std::shared_ptr<Threadpool> PoolFor(const TfLiteContext* context) {
  const int threads = context->recommended_num_threads;
  if (threads == 1) return nullptr;  // XNNPACK runs on the calling thread
  static std::mutex mutex;
  static std::map<std::pair<const TfLiteContext*, int>, std::weak_ptr<Threadpool>> pools;
  const std::lock_guard<std::mutex> lock(mutex);
  for (auto it = pools.begin(); it != pools.end();) {  // forget the pools of gone interpreters
    it = it->second.expired() ? pools.erase(it) : std::next(it);
  }
  std::weak_ptr<Threadpool>& slot = pools[{context, threads}];
  std::shared_ptr<Threadpool> pool = slot.lock();
  if (!pool) {
    // -1 (TFLite decides): pthreadpool's choice, one thread per core.
    pool = std::make_shared<Threadpool>(threads > 0 ? static_cast<size_t>(threads) : 0);
    if (pool->get() == nullptr) return nullptr;
    slot = pool;
  }
  return pool;
}

}  // namespace

void* InitNode(const OpKernel& k, TfLiteContext* context, const char* buffer, size_t length) {
  auto data = std::make_unique<NodeData>();
  data->builtin = k.builtin()->init ? k.builtin()->init(context, buffer, length) : nullptr;
  if (context->AddTensors(context, 1, &data->workspace) != kTfLiteOk) data->workspace = -1;
  return data.release();  // TFLite owns it until Free
}

void FreeNode(const OpKernel& k, TfLiteContext* context, void* buffer) {
  const std::unique_ptr<NodeData> data(static_cast<NodeData*>(buffer));
  if (k.builtin()->free) k.builtin()->free(context, data->builtin);
}

TfLiteStatus PrepareNode(const OpKernel& k, TfLiteContext* context, TfLiteNode* node) {
  NodeData& data = *static_cast<NodeData*>(node->user_data);
  {
    LendUserData lend(node, data.builtin);
    TF_LITE_ENSURE_OK(context, k.builtin()->prepare(context, node));
  }
  data.op.reset();
  data.own = nullptr;
  data.bound.clear();
  // A run allocates nothing: the pointer lists get their room now.
  const size_t pointers = static_cast<size_t>(node->inputs->size + node->outputs->size) + 1;
  data.bound.reserve(pointers);
  data.now.reserve(pointers);
  data.heap_bytes = 0;
  data.workspace_bytes = 0;
  if (data.workspace < 0 || !Available()) return kTfLiteOk;
  data.pool = PoolFor(context);
  size_t workspace = 0;
  TfLiteStatus status;
  {
    const CountHeap count(&data.heap_bytes);
    status = k.create(context, node, data, data.pool ? data.pool->get() : nullptr, &workspace);
  }
  if (status != kTfLiteOk || (!data.op && data.own == nullptr)) {  // not covered: TFLite's kernel runs it
    data.op.reset();
    data.own = nullptr;
    data.heap_bytes = 0;
    return status;
  }
  // TFLite's kernel asked for its own scratch; the operator needs only its workspace.
  TfLiteIntArrayFree(node->temporaries);
  node->temporaries = TfLiteIntArrayCreate(workspace > 0 ? 1 : 0);
  if (workspace > 0) {
    if (workspace > static_cast<size_t>(std::numeric_limits<int>::max())) {
      context->ReportError(context, "XNNPACK: a workspace of %zu bytes is too large", workspace);
      return kTfLiteError;
    }
    node->temporaries->data[0] = data.workspace;
    TfLiteTensor* t = &context->tensors[data.workspace];
    t->type = kTfLiteInt8;
    t->allocation_type = kTfLiteArenaRw;
    TfLiteIntArray* shape = TfLiteIntArrayCreate(1);
    shape->data[0] = static_cast<int>(workspace);
    TF_LITE_ENSURE_OK(context, context->ResizeTensor(context, t, shape));
    data.workspace_bytes = workspace;
  }
  return kTfLiteOk;
}

namespace {

// The data pointers of the node's tensors and its workspace, in a fixed order.
void Pointers(const TfLiteContext* context, const TfLiteNode* node, void* workspace, std::vector<const void*>* out) {
  out->clear();
  for (const TfLiteIntArray* list : {node->inputs, node->outputs}) {
    for (int i = 0; i < list->size; ++i) {
      out->push_back(list->data[i] >= 0 ? context->tensors[list->data[i]].data.raw : nullptr);
    }
  }
  out->push_back(workspace);
}

// Whether Pointers would give `bound` (checked in place: this runs for every node at every call).
bool StillBound(const TfLiteContext* context, const TfLiteNode* node, const void* workspace,
                const std::vector<const void*>& bound) {
  size_t k = 0;
  for (const TfLiteIntArray* list : {node->inputs, node->outputs}) {
    for (int i = 0; i < list->size; ++i, ++k) {
      const void* p = list->data[i] >= 0 ? context->tensors[list->data[i]].data.raw : nullptr;
      if (k >= bound.size() || bound[k] != p) return false;
    }
  }
  return k + 1 == bound.size() && bound[k] == workspace;
}

}  // namespace

TfLiteStatus InvokeNode(const OpKernel& k, TfLiteContext* context, TfLiteNode* node) {
  NodeData& data = *static_cast<NodeData*>(node->user_data);
  if (!data.op && data.own == nullptr) {
    LendUserData lend(node, data.builtin);
    return k.builtin()->invoke(context, node);
  }
  void* workspace = data.workspace_bytes > 0 ? context->tensors[data.workspace].data.raw : nullptr;
  // Set up again only when a tensor moved (setting up can rebuild indirection buffers).
  if (data.op && !StillBound(context, node, workspace, data.bound)) {
    Pointers(context, node, workspace, &data.now);
    if (k.setup(context, node, data, workspace) != xnn_status_success) {
      context->ReportError(context, "XNNPACK: cannot bind the node's tensors to its operator");
      return kTfLiteError;
    }
    data.bound = data.now;  // both hold the capacity reserved at Prepare: no allocation
  }
  pthreadpool_t pool = data.pool ? data.pool->get() : nullptr;
  if ((k.run ? k.run(context, node, data, pool) : xnn_run_operator(data.op.get(), pool)) != xnn_status_success) {
    context->ReportError(context, "XNNPACK: the operator failed");
    return kTfLiteError;
  }
  return kTfLiteOk;
}

const char* KernelName(const TfLiteContext*, const TfLiteNode* node) {
  const auto* data = static_cast<const NodeData*>(node->user_data);
  if (data != nullptr && data->own != nullptr) return data->own;
  return data != nullptr && data->op ? "xnnpack" : "tflite";
}

size_t HeapBytes(const TfLiteNode& node) {
  const auto* data = static_cast<const NodeData*>(node.user_data);
  return data != nullptr && (data->op || data->own != nullptr) ? data->heap_bytes : 0;
}

void RegisterFamily() {
  static const ops::KernelFamily family = {
      [](const TfLiteRegistration& r) { return r.profiling_string == &KernelName; },
      [](const TfLiteNode& node) { return KernelName(nullptr, &node); }, HeapBytes};
  ops::RegisterKernelFamily(&family);
}

// --- Helpers ------------------------------------------------------------------------------------

const TfLiteTensor* Input(const TfLiteContext* context, const TfLiteNode* node, int i) {
  if (i >= node->inputs->size || node->inputs->data[i] < 0) return nullptr;
  return &context->tensors[node->inputs->data[i]];
}

TfLiteTensor* Output(TfLiteContext* context, const TfLiteNode* node, int i) {
  return &context->tensors[node->outputs->data[i]];
}

bool IsConstant(const TfLiteTensor* t) {
  return t != nullptr && t->allocation_type == kTfLiteMmapRo && t->data.raw != nullptr;
}

bool PerTensor(const TfLiteTensor* t, float* scale, int32_t* zero_point) {
  if (t->quantization.type != kTfLiteAffineQuantization || t->quantization.params == nullptr) return false;
  const auto* q = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
  if (q->scale == nullptr || q->scale->size != 1 || q->zero_point == nullptr || q->zero_point->size != 1) return false;
  *scale = q->scale->data[0];
  *zero_point = q->zero_point->data[0];
  return std::isnormal(*scale) && *scale > 0;
}

bool ChannelScales(const TfLiteTensor* t, int dim, int channels, std::vector<float>* scales) {
  if (t->quantization.type != kTfLiteAffineQuantization || t->quantization.params == nullptr) return false;
  const auto* q = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
  if (q->scale == nullptr || q->zero_point == nullptr || q->scale->size != q->zero_point->size) return false;
  const int n = q->scale->size;
  if (n != 1 && (n != channels || q->quantized_dimension != dim)) return false;
  scales->assign(static_cast<size_t>(channels), 0.0f);
  for (int c = 0; c < channels; ++c) {
    const int k = n == 1 ? 0 : c;
    if (q->zero_point->data[k] != 0 || !std::isnormal(q->scale->data[k]) || q->scale->data[k] <= 0) return false;
    (*scales)[static_cast<size_t>(c)] = q->scale->data[k];
  }
  return true;
}

bool FloatRange(TfLiteFusedActivation activation, float* lo, float* hi) {
  // No activation still clamps to the finite floats in TFLite (CalculateActivationRange): an
  // overflow or an infinite input comes out as the largest finite value, here too.
  *lo = std::numeric_limits<float>::lowest();
  *hi = std::numeric_limits<float>::max();
  switch (activation) {
    case kTfLiteActNone: return true;
    case kTfLiteActRelu: *lo = 0.0f; return true;
    case kTfLiteActRelu6: *lo = 0.0f, *hi = 6.0f; return true;
    case kTfLiteActReluN1To1: *lo = -1.0f, *hi = 1.0f; return true;
    default: return false;  // tanh, sign bit, sigmoid: not a clamp
  }
}

bool Int8Io(const TfLiteTensor* input, const TfLiteTensor* output, TfLiteFusedActivation activation, Int8Params* p) {
  return PerTensor(input, &p->in_scale, &p->in_zero) && PerTensor(output, &p->out_scale, &p->out_zero) &&
         p->in_zero >= -128 && p->in_zero <= 127 && p->out_zero >= -128 && p->out_zero <= 127 &&
         Int8Range(activation, p->out_scale, p->out_zero, &p->lo, &p->hi);
}

bool Int8Range(TfLiteFusedActivation activation, float scale, int32_t zero_point, int8_t* lo, int8_t* hi) {
  float flo = 0.0f, fhi = 0.0f;
  if (!FloatRange(activation, &flo, &fhi)) return false;
  int32_t qlo = -128, qhi = 127;
  const auto quantize = [&](float f) { return zero_point + static_cast<int32_t>(std::round(f / scale)); };
  if (activation != kTfLiteActNone) {
    if (flo > std::numeric_limits<float>::lowest()) qlo = std::max(qlo, quantize(flo));
    if (fhi < std::numeric_limits<float>::max()) qhi = std::min(qhi, quantize(fhi));
  }
  if (qlo > qhi) return false;
  *lo = static_cast<int8_t>(qlo);
  *hi = static_cast<int8_t>(qhi);
  return true;
}

}  // namespace tflstm::xnn
