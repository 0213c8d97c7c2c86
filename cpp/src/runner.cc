#include "tflstm/runner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <thread>

#include "empty_tensors.h"
#include "error_capture.h"
#include "finite.h"
#include "lstm/lstm_op.h"
#include "memory_limit.h"
#include "no_throw.h"
#include "ops/node_kernel.h"
#include "tensorflow/lite/builtin_ops.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/core/subgraph.h"
#include "tensorflow/lite/experimental/resource/initialization_status.h"
#include "tensorflow/lite/experimental/resource/resource_variable.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tflstm/dtype.h"
#include "tflstm/tflite/model.h"
#include "tflstm/tflite/op_set.h"
#include "tflstm/tflite/profiler.h"

namespace tflstm {

namespace {

std::string ShapeString(const int* dims, size_t rank) {
  std::string s = "[";
  for (size_t i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string ShapeString(const std::vector<int>& dims) { return ShapeString(dims.data(), dims.size()); }

// "input 0 ('x')": how errors name a tensor.
std::string Where(const char* kind, size_t i, const std::string& name) {
  return std::string(kind) + " " + std::to_string(i) + " ('" + name + "')";
}

std::string NameList(const std::vector<TensorInfo>& infos) {
  std::string s;
  for (size_t i = 0; i < infos.size(); ++i) s += (i ? ", '" : "'") + infos[i].name + "'";
  return s;
}

// Accepts the signature's name ("x") and the tensor's own name ("serving_default_x:0").
Result<size_t> FindByName(const std::vector<TensorInfo>& infos, std::string_view name, const char* kind) {
  for (size_t i = 0; i < infos.size(); ++i) {
    if (name == infos[i].name || name == infos[i].tensor_name) return i;
  }
  return Status(ErrorCode::kInvalidArgument, "the model has no " + std::string(kind) + " named '" + std::string(name) +
                                                 "'; its " + kind + "s are " + NameList(infos));
}

template <typename T>
void QuantizeInto(const float* in, size_t n, float scale, int32_t zero_point, void* out) {
  auto* q = static_cast<T*>(out);
  constexpr float lo = static_cast<float>(std::numeric_limits<T>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<T>::max());
  for (size_t k = 0; k < n; ++k) {
    // TFLite's QUANTIZE: round(x / scale) half away from zero, plus the zero point, clamped.
    const float v = std::round(in[k] / scale) + static_cast<float>(zero_point);
    q[k] = static_cast<T>(std::min(hi, std::max(lo, v)));
  }
}

template <typename T>
void DequantizeFrom(const void* in, size_t n, float scale, int32_t zero_point, float* out) {
  const auto* q = static_cast<const T*>(in);
  for (size_t k = 0; k < n; ++k) out[k] = scale * static_cast<float>(static_cast<int32_t>(q[k]) - zero_point);
}

}  // namespace

// One interpreter built for one set of input shapes, and the arena that holds its inputs and
// outputs. Shape changes build a new Engine, so a failure leaves the old one working.
struct Runner::Engine {
  // A resource variable and its value after initialisation, which every reset restores.
  struct Resource {
    int id = 0;
    std::string name;  // the variable's shared name
    std::vector<char> initial;
    std::unique_ptr<TfLiteIntArray, void (*)(TfLiteIntArray*)> dims{nullptr, TfLiteIntArrayFree};
    TfLiteType type = kTfLiteNoType;
    TfLiteQuantizationParams params{};
  };
  std::unique_ptr<Arena> arena;        // declared first: destroyed after the interpreter
  internal::EmptyTensorStorage empty;  // what the interpreter's tensors without elements point at
  std::unique_ptr<tflite::Interpreter> interpreter;
  tflite::Subgraph* subgraph = nullptr;
  std::vector<int> inputs;  // tensor indices, in input_info() order
  std::vector<int> outputs;
  size_t arena_required = 0;
  size_t budget = 0;  // the limit its plan was (or would be) checked against
  std::vector<Resource> resources;
};

struct Runner::Profiling {
  tflite::Profiler* profiler = nullptr;
};

Runner::Runner(Key, std::shared_ptr<const Model> model, RunnerOptions options)
    : model_(std::move(model)),
      options_(std::move(options)),
      capture_(std::make_unique<internal::ErrorCapture>()),
      profiling_(std::make_unique<Profiling>()) {}

Runner::~Runner() = default;

Status Runner::Fail(ErrorCode code, const std::string& what) const {
  const std::string detail = capture_->Take();
  return Status(code, what + (detail.empty() ? std::string() : ": " + detail));
}

Result<std::unique_ptr<Runner>> Runner::Create(std::shared_ptr<const Model> model, const RunnerOptions& options) {
  if (!model) return Status(ErrorCode::kInvalidArgument, "Runner needs a model");
  if (options.num_threads == 0 || options.num_threads < -1 || options.num_threads > MaxThreads()) {
    // Each thread costs a stack: an unbounded count exhausts memory or, under an address-space
    // limit, leaves TFLite's thread pool waiting for threads that could not start.
    return Status(ErrorCode::kInvalidArgument, "num_threads must be -1 (TFLite's choice) or 1 to " +
                                                   std::to_string(MaxThreads()) + ", got " +
                                                   std::to_string(options.num_threads));
  }
  // Refuse a model the runtime cannot run before building anything, naming what is missing.
  TFLSTM_RETURN_IF_ERROR(model->Check());
  auto runner = std::make_unique<Runner>(Key(), std::move(model), options);
  if (options.signature.empty()) {
    runner->input_info_ = &runner->model_->inputs();
    runner->output_info_ = &runner->model_->outputs();
  } else {
    auto sig = runner->model_->Signature(options.signature);
    if (!sig.ok()) return sig.status();
    runner->input_info_ = &sig.value()->inputs;
    runner->output_info_ = &sig.value()->outputs;
    runner->subgraph_ = sig.value()->subgraph;
  }
  const std::vector<std::vector<int>>* shapes = nullptr;
  if (!options.input_shapes.empty()) {
    TFLSTM_RETURN_IF_ERROR(runner->CheckInputCount(options.input_shapes.size()));
    for (size_t i = 0; i < options.input_shapes.size(); ++i) {
      const std::vector<int>& s = options.input_shapes[i];
      TFLSTM_RETURN_IF_ERROR(runner->CheckShape(i, s.data(), s.size()));
    }
    TFLSTM_RETURN_IF_ERROR(runner->CheckInputBytes(options.input_shapes));
    shapes = &options.input_shapes;
  }
  auto engine = internal::NoThrow([&] { return "building an interpreter for " + runner->model_->description(); },
                                  [&] { return runner->Build(shapes); });
  if (!engine.ok()) {
    // The stored shape of a free axis is only a placeholder (1): when the model cannot be
    // prepared at it, the first inputs set give the shapes to prepare at.
    const auto& inputs = *runner->input_info_;
    const bool free_axis = std::any_of(inputs.begin(), inputs.end(), [](const TensorInfo& t) {
      return std::find(t.shape_signature.begin(), t.shape_signature.end(), -1) != t.shape_signature.end();
    });
    if (shapes != nullptr || !free_axis || engine.status().code() != ErrorCode::kRuntimeError) return engine.status();
    runner->unprepared_ = engine.status();
    return runner;
  }
  runner->engine_ = std::move(engine).value();
  return runner;
}

int Runner::MaxThreads() { return std::max(64, static_cast<int>(std::thread::hardware_concurrency())); }

Result<std::unique_ptr<Runner::Engine>> Runner::Build(const std::vector<std::vector<int>>* shapes, bool check_budget) {
  internal::SilenceTfliteLogging();
  capture_->Clear();
  auto engine = std::make_unique<Engine>();
  // The limit is read before building. Without a budget it is what the process can still use,
  // plus what the engine being replaced holds (freed when the new one takes its place).
  internal::MemoryLimit limit{options_.arena_bytes.value_or(0), "arena_bytes"};
  if (!options_.arena_bytes) {
    limit = internal::AvailableMemory();
    const size_t old = engine_ ? MemoryOf(*engine_).total() : 0;
    limit.bytes = limit.bytes > std::numeric_limits<size_t>::max() - old ? limit.bytes : limit.bytes + old;
  }
  engine->budget = limit.bytes;
  const auto resolver = MakeOpResolver(options_.lstm_kernel);
  const tflite::FlatBufferModel& fb = FlatBuffer(*model_);
  // This runner's own reporter, not the model's: one model serves runners on many threads.
  tflite::InterpreterBuilder builder(fb.GetModel(), *resolver, capture_.get(), nullptr, fb.allocation());
  if (builder.SetNumThreads(options_.num_threads) != kTfLiteOk) {
    return Fail(ErrorCode::kInvalidArgument, "num_threads " + std::to_string(options_.num_threads) + " refused");
  }
  if (builder(&engine->interpreter) != kTfLiteOk || !engine->interpreter) {
    return Fail(ErrorCode::kInvalidModel, "cannot build an interpreter for " + model_->description());
  }
  tflite::Interpreter& interp = *engine->interpreter;
  if (subgraph_ >= static_cast<int>(interp.subgraphs_size())) {
    return Status(ErrorCode::kInvalidModel, model_->description() + " has no subgraph " + std::to_string(subgraph_));
  }
  engine->subgraph = interp.subgraph(subgraph_);
  for (const TensorInfo& t : *input_info_) engine->inputs.push_back(t.index);
  for (const TensorInfo& t : *output_info_) engine->outputs.push_back(t.index);
  interp.SetCancellationFunction(this, [](void* self) { return static_cast<Runner*>(self)->cancelled_.load(); });
  if (profiling_->profiler != nullptr) interp.SetProfiler(profiling_->profiler);

  if (shapes != nullptr && !shapes->empty()) {
    tflite::Subgraph& sg = *engine->subgraph;
    const TfLiteTensor* first = sg.tensor(engine->inputs.at(0));
    const int old_batch = first->dims->size > 0 ? first->dims->data[0] : 1;
    const int new_batch = (*shapes)[0].empty() ? 1 : (*shapes)[0][0];
    for (size_t i = 0; i < shapes->size(); ++i) {
      if (sg.ResizeInputTensor(engine->inputs[i], (*shapes)[i]) != kTfLiteOk) {
        return Fail(ErrorCode::kInvalidArgument,
                    "cannot resize input " + std::to_string(i) + " to " + ShapeString((*shapes)[i]));
      }
    }
    // The LSTM state is [batch, units]: a new batch size needs state tensors of that size.
    if (new_batch != old_batch) {
      for (int v : sg.variables()) {
        const TfLiteTensor* t = sg.tensor(v);
        if (t->dims->size == 2 && t->dims->data[0] == old_batch) {
          sg.ResizeInputTensor(v, {new_batch, t->dims->data[1]});
        }
      }
    }
  }
  // TFLite reserves its arenas with new[] while it plans: a plan the process cannot even
  // reserve throws std::bad_alloc, with every tensor's size known by then.
  try {
    if (engine->subgraph->AllocateTensors() != kTfLiteOk) {
      std::string what = "cannot prepare " + model_->description();
      if (shapes != nullptr) {
        what += " for input shapes";
        for (const auto& s : *shapes) what += " " + ShapeString(s);
      }
      return Fail(shapes ? ErrorCode::kInvalidArgument : ErrorCode::kRuntimeError, what);
    }
    TFLSTM_RETURN_IF_ERROR(internal::CheckEmptyOperands(*engine->subgraph, model_->description()));
    TFLSTM_RETURN_IF_ERROR(BindToArena(*engine));
    engine->empty.Give(interp);
  } catch (const std::bad_alloc&) {
    return Unreservable(*engine, limit.bytes, limit.source);
  }
  TFLSTM_RETURN_IF_ERROR(FillStringInputs(*engine));
  // TFLite has reserved its arenas by now, but nothing has touched them: a plan over the limit
  // is dropped here without the process growing by it.
  if (check_budget) TFLSTM_RETURN_IF_ERROR(CheckBudget(*engine, shapes, limit.bytes, limit.source));
  TFLSTM_RETURN_IF_ERROR(InitializeResources(*engine));
  state_changed_ = true;
  return engine;
}

// tflstm has no setter for string inputs, and TFLite leaves one without storage: RESHAPE then
// copies from null (found by model_fuzzer). Each gets a valid value instead, its shape's worth
// of empty strings in TFLite's packed layout (a count, then count + 1 offsets, all pointing at
// the end). The buffer is TFLite's own (freed with the tensor) and counts against the budget.
Status Runner::FillStringInputs(Engine& engine) const {
  tflite::Subgraph& sg = *engine.subgraph;
  uint64_t used = engine.arena_required;
  for (size_t i = 0; i < engine.inputs.size(); ++i) {
    TfLiteTensor* t = sg.tensor(engine.inputs[i]);
    if (t->type != kTfLiteString || t->data.raw != nullptr || t->dims == nullptr) continue;
    constexpr uint64_t kMaxCount = std::numeric_limits<int32_t>::max() / 4 - 2;  // the offsets are int32
    uint64_t count = 1;
    for (int k = 0; k < t->dims->size; ++k) {
      count = std::min(kMaxCount + 1, count * static_cast<uint64_t>(std::max(t->dims->data[k], 0)));
    }
    const uint64_t bytes = sizeof(int32_t) * (count + 2);
    if (count > kMaxCount) {
      return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " at " +
                                                     ShapeString(t->dims->data, static_cast<size_t>(t->dims->size)) +
                                                     " holds more strings than TFLite's string buffer can index");
    }
    used += bytes;
    if (options_.arena_bytes && used > *options_.arena_bytes) {
      return Status(ErrorCode::kArenaExhausted, InputLabel(i) + " needs " + std::to_string(bytes) +
                                                    " bytes for its empty strings; " + model_->description() +
                                                    " would use " + std::to_string(used) + " of the budget of " +
                                                    std::to_string(*options_.arena_bytes) + " bytes");
    }
    if (t->allocation_type != kTfLiteDynamic || TfLiteTensorRealloc(bytes, t) != kTfLiteOk || t->data.raw == nullptr) {
      return Fail(ErrorCode::kRuntimeError, "cannot give " + InputLabel(i) + " its empty strings");
    }
    auto* words = reinterpret_cast<int32_t*>(t->data.raw);
    words[0] = static_cast<int32_t>(count);
    std::fill(words + 1, words + count + 2, static_cast<int32_t>(bytes));
  }
  return Status::Ok();
}

// Runs each CALL_ONCE initialisation now, as the op itself would on the first invoke, and keeps
// the values it gives every resource variable: the initial state that resets restore.
Status Runner::InitializeResources(Engine& engine) {
  tflite::Interpreter& interp = *engine.interpreter;
  tflite::Subgraph& sg = *engine.subgraph;
  for (int node : sg.execution_plan()) {
    const auto* nr = sg.node_and_registration(node);
    if (nr == nullptr || nr->second.builtin_code != kTfLiteBuiltinCallOnce) continue;
    const int init = static_cast<const TfLiteCallOnceParams*>(nr->first.builtin_data)->init_subgraph_index;
    if (init < 0 || init >= static_cast<int>(interp.subgraphs_size())) {
      return Status(ErrorCode::kInvalidModel, model_->description() + ": CALL_ONCE names subgraph " +
                                                  std::to_string(init) + ", which does not exist");
    }
    auto* status = tflite::resource::GetInitializationStatus(&sg.initialization_status_map(), init);
    if (status->IsInitialized()) continue;
    tflite::Subgraph& init_sg = *interp.subgraph(init);
    if (init_sg.AllocateTensors() != kTfLiteOk || init_sg.Invoke() != kTfLiteOk) {
      return Fail(ErrorCode::kRuntimeError,
                  "cannot run the initialisation (subgraph " + std::to_string(init) + ") of " + model_->description());
    }
    init_sg.ReleaseNonPersistentMemory();
    status->MarkInitializationIsDone();
  }
  for (const auto& [key, id] : sg.resource_ids()) {
    tflite::resource::ResourceVariable* var = tflite::resource::GetResourceVariable(&sg.resources(), id);
    const TfLiteTensor* t = var != nullptr ? var->GetTensor() : nullptr;
    if (t == nullptr) continue;  // created by the main graph itself: a reset removes it again
    Engine::Resource r;
    r.id = id;
    r.name = key.second;
    r.initial.assign(t->data.raw, t->data.raw + t->bytes);
    r.dims.reset(TfLiteIntArrayCopy(t->dims));
    r.type = t->type;
    r.params = t->params;
    engine.resources.push_back(std::move(r));
  }
  return Status::Ok();
}

// Gives every input and output tensor that TFLite would place in its own arena a block of
// tflstm's arena instead, so their memory is bounded, accounted and stable across runs.
Status Runner::BindToArena(Engine& engine) const {
  tflite::Subgraph& sg = *engine.subgraph;
  std::vector<int> bound;
  for (const std::vector<int>* list : {&engine.inputs, &engine.outputs}) {
    for (int t : *list) {
      const TfLiteTensor* tensor = sg.tensor(t);
      if (tensor->allocation_type != kTfLiteArenaRw) continue;  // constants, variables, dynamic tensors
      if (std::find(bound.begin(), bound.end(), t) != bound.end()) continue;
      bound.push_back(t);
      engine.arena_required += Arena::AlignUp(std::max<size_t>(tensor->bytes, 1));
    }
  }
  // Exactly what the inputs and outputs need: the budget bounds the runner's whole plan, which
  // CheckBudget compares; a budget below even this fails on the first tensor that does not fit.
  auto arena = Arena::Create(std::min(options_.arena_bytes.value_or(engine.arena_required), engine.arena_required));
  if (!arena.ok()) return arena.status();
  engine.arena = std::move(arena).value();

  for (int t : bound) {
    const TfLiteTensor* tensor = sg.tensor(t);
    const std::string what =
        "tensor '" + std::string(tensor->name ? tensor->name : "") + "' (" + std::to_string(tensor->bytes) + " bytes)";
    auto block = engine.arena->Allocate(tensor->bytes, what.c_str());
    if (!block.ok()) {
      return Status(ErrorCode::kArenaExhausted,
                    block.status().message() + "; " + model_->description() + " needs an arena of at least " +
                        std::to_string(engine.arena_required) + " bytes for its inputs and outputs");
    }
    const TfLiteCustomAllocation allocation{block.value(), tensor->bytes};
    if (sg.SetCustomAllocationForTensor(t, allocation) != kTfLiteOk) {
      return Fail(ErrorCode::kRuntimeError, "cannot bind " + what + " to the arena");
    }
  }
  // TFLite's arena was planned with these tensors in it: release it, so that the plan made
  // again without them is the arena TFLite keeps (a committed arena never shrinks).
  if (!bound.empty() && sg.ReleaseNonPersistentMemory() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot release the first plan of " + model_->description());
  }
  if (sg.AllocateTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot allocate the tensors of " + model_->description());
  }
  return Status::Ok();
}

Result<size_t> Runner::InputIndex(std::string_view name) const { return FindByName(input_info(), name, "input"); }

Result<size_t> Runner::OutputIndex(std::string_view name) const { return FindByName(output_info(), name, "output"); }

Result<size_t> Runner::InputIndex(size_t i) const {
  if (i < input_count()) return i;
  return Status(ErrorCode::kInvalidArgument, "input index " + std::to_string(i) +
                                                 " is out of range: " + model_->description() + " has " +
                                                 std::to_string(input_count()) + " input(s)");
}

Result<size_t> Runner::OutputIndex(size_t i) const {
  if (i < output_count()) return i;
  return Status(ErrorCode::kInvalidArgument, "output index " + std::to_string(i) +
                                                 " is out of range: " + model_->description() + " has " +
                                                 std::to_string(output_count()) + " output(s)");
}

Status Runner::CheckInputCount(size_t n) const {
  if (n == input_count()) return Status::Ok();
  return Status(ErrorCode::kInvalidArgument, model_->description() + " takes " + std::to_string(input_count()) +
                                                 " input(s), got " + std::to_string(n));
}

std::string Runner::InputLabel(size_t i) const {
  return Where("input", i, i < input_count() ? input_info()[i].name : std::string());
}

std::string Runner::OutputLabel(size_t i) const {
  return Where("output", i, i < output_count() ? output_info()[i].name : std::string());
}

TensorView Runner::View(int tensor_index, const char* name) const {
  const TfLiteTensor* t = engine_->subgraph->tensor(tensor_index);
  TensorView v;
  v.name = name;
  v.dtype = t->type;
  v.shape = t->dims ? t->dims->data : nullptr;
  v.rank = t->dims ? t->dims->size : 0;
  v.data = t->data.raw;
  v.bytes = t->bytes;
  v.scale = t->params.scale;
  v.zero_point = t->params.zero_point;
  return v;
}

namespace {

// What an unprepared runner can tell of a tensor: the model's type, stored shape and
// quantization, and no storage.
TensorView Unprepared(const TensorInfo& info) {
  TensorView v;
  v.name = info.name.c_str();
  v.dtype = info.dtype;
  v.shape = info.shape.data();
  v.rank = static_cast<int>(info.shape.size());
  if (info.quantization.scales.size() == 1) {
    v.scale = info.quantization.scales[0];
    v.zero_point = info.quantization.zero_points.empty() ? 0 : static_cast<int32_t>(info.quantization.zero_points[0]);
  }
  return v;
}

}  // namespace

TensorView Runner::input(size_t i) const {
  if (i >= input_count()) return TensorView{};
  if (!engine_) return Unprepared(input_info()[i]);
  TensorView v = View(engine_->inputs[i], input_info()[i].name.c_str());
  if (v.dtype == kTfLiteString) {
    v.data = nullptr;  // TFLite's packed strings, not elements: tflstm keeps them valid (FillStringInputs)
    v.bytes = 0;
  }
  return v;
}

TensorView Runner::output(size_t i) const {
  if (i >= output_count()) return TensorView{};
  return engine_ ? View(engine_->outputs[i], output_info()[i].name.c_str()) : Unprepared(output_info()[i]);
}

Status Runner::CheckShape(size_t i, const int* shape, size_t rank) const {
  const TensorView in = input(i);
  if (in.HasShape(shape, rank)) return Status::Ok();
  const TensorInfo& info = input_info()[i];
  const std::vector<int>& sig = info.shape_signature;
  auto refuse = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " expects shape " +
                                                   ShapeString(in.shape, static_cast<size_t>(in.rank)) + ", got " +
                                                   ShapeString(shape, rank) + ": " + why);
  };
  if (rank != sig.size()) return refuse("the rank differs");
  for (size_t d = 0; d < rank; ++d) {
    if (shape[d] < 1) return refuse("dimensions must be at least 1");
    const bool free_axis = sig[d] == -1 || d == 0 || (rank == 3 && d == 1);  // batch, time, or left free
    if (!free_axis && shape[d] != sig[d]) return refuse("dimension " + std::to_string(d) + " is fixed");
  }
  return Status::Ok();
}

// Everything about one input that can be known before any shape is applied: its dtype, its
// shape against the model's, and its byte count against that shape.
Status Runner::CheckInput(size_t i, const InputData& in, bool quantize) const {
  if (in.data == nullptr) return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " was not given");
  const TfLiteType type = input(i).dtype;
  const bool quantizing = quantize && in.dtype == kTfLiteFloat32 && type != kTfLiteFloat32;
  if (quantizing && !DTypeIsQuantized(type)) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " is " + DTypeName(type) +
                      ": float data can only be quantized for int8, uint8 or int16 inputs");
  }
  if (!quantizing && in.dtype != type) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " expects dtype " + DTypeName(type) + ", got " + DTypeName(in.dtype));
  }
  if (DTypeSize(in.dtype) == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " is " + DTypeName(type) + ", which has no fixed element size: it cannot be set");
  }
  TFLSTM_RETURN_IF_ERROR(CheckShape(i, in.shape, in.rank));
  size_t count = 1;
  for (size_t d = 0; d < in.rank; ++d) {
    const auto dim = static_cast<size_t>(in.shape[d]);  // at least 1: CheckShape saw to it
    if (count > std::numeric_limits<size_t>::max() / DTypeSize(in.dtype) / dim) {
      return Status(ErrorCode::kInvalidArgument,
                    InputLabel(i) + " of shape " + ShapeString(in.shape, in.rank) + " would not fit in memory");
    }
    count *= dim;
  }
  if (in.bytes != count * DTypeSize(in.dtype)) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " expects " + std::to_string(count * DTypeSize(in.dtype)) + " bytes for shape " +
                      ShapeString(in.shape, in.rank) + ", got " + std::to_string(in.bytes));
  }
  if (quantizing && !(input(i).scale > 0.0f)) {
    return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " has no quantization scale to quantize with");
  }
  // Quantizing clamps NaN and Inf to finite integers: the float data is checked before.
  if (quantizing && options_.check_finite) return NonFinite(i, in.dtype, in.data, in.bytes, in.shape, in.rank);
  return Status::Ok();
}

// Writes checked data into input `i`, which has the data's shape by now.
void Runner::CopyInput(size_t i, const InputData& in) {
  const TensorView t = input(i);
  if (in.dtype == t.dtype) {
    std::memcpy(t.data, in.data, in.bytes);
    return;
  }
  const auto* f = static_cast<const float*>(in.data);
  const size_t n = in.bytes / sizeof(float);
  switch (t.dtype) {
    case kTfLiteInt8: QuantizeInto<int8_t>(f, n, t.scale, t.zero_point, t.data); break;
    case kTfLiteUInt8: QuantizeInto<uint8_t>(f, n, t.scale, t.zero_point, t.data); break;
    default: QuantizeInto<int16_t>(f, n, t.scale, t.zero_point, t.data); break;
  }
}

// New input shapes are sized here, in 64 bits and saturating, before TFLite sees them: a shape
// over the budget is refused before TFLite plans (and allocates) for it, and one too large for
// this platform's size_t (armhf) is refused by name rather than by TFLite's overflow message.
Status Runner::CheckInputBytes(const std::vector<std::vector<int>>& shapes) const {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> bytes(shapes.size());
  uint64_t total = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    uint64_t b = DTypeSize(input_info()[i].dtype);
    for (int d : shapes[i]) {
      const auto n = static_cast<uint64_t>(d);  // CheckShape refused negative sizes
      b = (n != 0 && b > kMax / n) ? kMax : b * n;
    }
    bytes[i] = b;
    const uint64_t aligned =
        b > kMax - Arena::kAlignment ? kMax : (b + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment;
    total = std::min(kMax - aligned, total) + aligned;
  }
  if (options_.arena_bytes && total > *options_.arena_bytes) {
    return Status(ErrorCode::kArenaExhausted, model_->description() + " needs an arena of at least " +
                                                  std::to_string(total) + " bytes for its inputs alone at " +
                                                  "these shapes; the budget is " +
                                                  std::to_string(*options_.arena_bytes) + " bytes");
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (bytes[i] > std::numeric_limits<size_t>::max() / 2) {
      return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " at " + ShapeString(shapes[i]) + " needs " +
                                                     std::to_string(bytes[i]) + " bytes, more than a " +
                                                     std::to_string(8 * sizeof(size_t)) + "-bit process can address");
    }
  }
  return Status::Ok();
}

Status Runner::ResizeInputs(const std::vector<std::vector<int>>& shapes) {
  TFLSTM_RETURN_IF_ERROR(CheckInputCount(shapes.size()));
  bool same = true;
  for (size_t i = 0; i < shapes.size(); ++i) {
    TFLSTM_RETURN_IF_ERROR(CheckShape(i, shapes[i].data(), shapes[i].size()));
    same = same && input(i).HasShape(shapes[i].data(), shapes[i].size());
  }
  if (same && engine_) return Status::Ok();
  TFLSTM_RETURN_IF_ERROR(CheckInputBytes(shapes));
  auto engine = internal::NoThrow([&] { return "resizing " + model_->description(); }, [&] { return Build(&shapes); });
  if (!engine.ok()) return engine.status();
  // An input whose shape stays keeps what was written into it.
  for (size_t i = 0; engine_ && i < shapes.size(); ++i) {
    const TfLiteTensor* from = engine_->subgraph->tensor(engine_->inputs[i]);
    const TfLiteTensor* to = engine.value()->subgraph->tensor(engine.value()->inputs[i]);
    if (from->bytes == to->bytes && from->data.raw != nullptr && to->data.raw != nullptr &&
        input(i).HasShape(shapes[i].data(), shapes[i].size())) {
      std::memcpy(to->data.raw, from->data.raw, to->bytes);
    }
  }
  engine_ = std::move(engine).value();
  ++rebuilds_;
  return Status::Ok();
}

Status Runner::SetInputs(const std::vector<InputData>& inputs, bool quantize) {
  TFLSTM_RETURN_IF_ERROR(CheckInputCount(inputs.size()));
  bool same = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TFLSTM_RETURN_IF_ERROR(CheckInput(i, inputs[i], quantize));
    same = same && input(i).HasShape(inputs[i].shape, inputs[i].rank);
  }
  if (!same || !engine_) {
    std::vector<std::vector<int>> shapes;
    for (const InputData& in : inputs) shapes.emplace_back(in.shape, in.shape + in.rank);
    TFLSTM_RETURN_IF_ERROR(ResizeInputs(shapes));
  }
  for (size_t i = 0; i < inputs.size(); ++i) CopyInput(i, inputs[i]);
  return Status::Ok();
}

// One input by itself: the others keep their shapes and their data.
Status Runner::SetOne(size_t i, const InputData& in, bool quantize) {
  TFLSTM_RETURN_IF_ERROR(InputIndex(i).status());
  TFLSTM_RETURN_IF_ERROR(CheckInput(i, in, quantize));
  if (!input(i).HasShape(in.shape, in.rank) || !engine_) {
    std::vector<std::vector<int>> shapes;
    for (size_t k = 0; k < input_count(); ++k) {
      const TensorView v = input(k);
      shapes.emplace_back(v.shape, v.shape + v.rank);
    }
    shapes[i].assign(in.shape, in.shape + in.rank);
    TFLSTM_RETURN_IF_ERROR(ResizeInputs(shapes));
  }
  CopyInput(i, in);
  return Status::Ok();
}

Status Runner::SetInput(size_t i, const void* data, size_t bytes, TfLiteType dtype, const int* shape, size_t rank) {
  return SetOne(i, InputData{data, bytes, dtype, shape, rank}, false);
}

Status Runner::SetInputFromFloat(size_t i, const float* data, size_t count, const int* shape, size_t rank) {
  return SetOne(i, InputData{data, count * sizeof(float), kTfLiteFloat32, shape, rank}, true);
}

Status Runner::OutputToFloat(size_t i, float* out, size_t count) const {
  TFLSTM_RETURN_IF_ERROR(OutputIndex(i).status());
  const TensorView v = output(i);
  const size_t n = DTypeSize(v.dtype) ? v.bytes / DTypeSize(v.dtype) : 0;
  if (count != n) {
    return Status(ErrorCode::kInvalidArgument,
                  OutputLabel(i) + " holds " + std::to_string(n) + " values, not " + std::to_string(count));
  }
  switch (v.dtype) {
    case kTfLiteFloat32:  // an empty output may have no storage, and `out` may be null then
      if (n) std::memcpy(out, v.data, v.bytes);
      return Status::Ok();
    case kTfLiteInt8: DequantizeFrom<int8_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    case kTfLiteUInt8: DequantizeFrom<uint8_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    case kTfLiteInt16: DequantizeFrom<int16_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    default:
      return Status(ErrorCode::kInvalidArgument,
                    OutputLabel(i) + " is " + DTypeName(v.dtype) + ", which has no float form");
  }
}

Status Runner::CheckPrepared() const {
  if (engine_) return Status::Ok();
  return Status(ErrorCode::kInvalidArgument, model_->description() +
                                                 " is not prepared yet: it cannot be prepared at its stored input "
                                                 "shapes, so it is prepared at the shapes of the first inputs set "
                                                 "(or of the input_shapes option): " +
                                                 unprepared_.message());
}

// The first NaN or Inf in a float input, as an error that names the input and the position.
Status Runner::CheckFinite() const {
  for (size_t i = 0; i < input_count(); ++i) {
    const TensorView in = input(i);
    if (in.data == nullptr) continue;  // an input TFLite gave no storage (e.g. one no op reads)
    TFLSTM_RETURN_IF_ERROR(NonFinite(i, in.dtype, in.data, in.bytes, in.shape, static_cast<size_t>(in.rank)));
  }
  return Status::Ok();
}

Status Runner::NonFinite(size_t i, TfLiteType dtype, const void* data, size_t bytes, const int* shape,
                         size_t rank) const {
  size_t n = 0, bad = 0;
  if (dtype == kTfLiteFloat32) {
    n = bytes / sizeof(float);
    bad = internal::FirstNonFinite(static_cast<const float*>(data), n);
  } else if (dtype == kTfLiteFloat16) {
    n = bytes / sizeof(uint16_t);
    bad = internal::FirstNonFiniteHalf(static_cast<const uint16_t*>(data), n);
  }
  if (bad == n) return Status::Ok();
  std::vector<int> at(rank);
  for (size_t d = at.size(), rest = bad; d-- > 0;) {
    at[d] = static_cast<int>(rest % static_cast<size_t>(shape[d]));
    rest /= static_cast<size_t>(shape[d]);
  }
  const bool nan = dtype == kTfLiteFloat32 && std::isnan(static_cast<const float*>(data)[bad]);
  return Status(ErrorCode::kInvalidArgument,
                InputLabel(i) + " holds " +
                    (dtype == kTfLiteFloat16 ? "NaN or Inf"
                     : nan                   ? "NaN"
                                             : "Inf") +
                    " at " + ShapeString(at) + " (element " + std::to_string(bad) +
                    "); the model would give a finite answer from it. Runner option check_finite=false skips "
                    "this check");
}

Status Runner::Run(bool reset_state) {
  capture_->Clear();
  cancelled_.store(false);
  TFLSTM_RETURN_IF_ERROR(CheckPrepared());
  if (options_.check_finite) TFLSTM_RETURN_IF_ERROR(CheckFinite());
  // Fused LSTMs keep their state in variable tensors that persist across invokes: without a
  // reset the same input gives a different output each time.
  if (reset_state) TFLSTM_RETURN_IF_ERROR(ResetState());
  state_changed_ = true;
  const TfLiteStatus status = engine_->subgraph->Invoke();
  // TFLite reports a cancellation through its check function as a plain error.
  if (status == kTfLiteCancelled || (status != kTfLiteOk && cancelled_.load())) {
    capture_->Clear();
    return Status(ErrorCode::kCancelled, "invoking " + model_->description() + " was cancelled");
  }
  if (status != kTfLiteOk) return Fail(ErrorCode::kRuntimeError, "invoking " + model_->description() + " failed");
  return Status::Ok();
}

Status Runner::Invoke() {
  return internal::NoThrow([&] { return "invoking " + model_->description(); }, [&] { return Run(true); });
}
Status Runner::InvokeWithState() {
  return internal::NoThrow([&] { return "invoking " + model_->description(); }, [&] { return Run(false); });
}

size_t Runner::state_count() const {
  return engine_ ? engine_->subgraph->variables().size() + engine_->resources.size() : 0;
}

size_t Runner::resource_state_count() const { return engine_ ? engine_->resources.size() : 0; }

TensorView Runner::state(size_t i) const {
  if (i >= state_count()) return TensorView{};
  state_changed_ = true;  // the view is writable
  const std::vector<int>& variables = engine_->subgraph->variables();
  if (i < variables.size()) {
    const char* name = engine_->subgraph->tensor(variables[i])->name;
    return View(variables[i], name ? name : "");
  }
  const Engine::Resource& r = engine_->resources[i - variables.size()];
  tflite::resource::ResourceVariable* var =
      tflite::resource::GetResourceVariable(&engine_->subgraph->resources(), r.id);
  const TfLiteTensor* t = var != nullptr ? var->GetTensor() : nullptr;
  if (t == nullptr) return TensorView{};
  TensorView v;
  v.name = r.name.c_str();
  v.dtype = t->type;
  v.shape = t->dims->data;
  v.rank = t->dims->size;
  v.data = t->data.raw;
  v.bytes = t->bytes;
  v.scale = t->params.scale;
  v.zero_point = t->params.zero_point;
  return v;
}

Status Runner::ResetState() {
  if (!engine_ || !state_changed_) return Status::Ok();  // the state is the initial one
  tflite::Subgraph& sg = *engine_->subgraph;
  if (sg.ResetVariableTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot reset the state of " + model_->description());
  }
  tflite::resource::ResourceMap& resources = sg.resources();
  for (Engine::Resource& r : engine_->resources) {
    tflite::resource::ResourceVariable* var = tflite::resource::GetResourceVariable(&resources, r.id);
    if (var == nullptr) {
      tflite::resource::CreateResourceVariableIfNotAvailable(&resources, r.id);
      var = tflite::resource::GetResourceVariable(&resources, r.id);
    }
    TfLiteTensor initial{};
    initial.type = r.type;
    initial.params = r.params;
    initial.dims = r.dims.get();
    initial.data.raw = r.initial.data();
    initial.bytes = r.initial.size();
    if (var == nullptr || var->AssignFrom(&initial) != kTfLiteOk) {  // same shape: a copy, no allocation
      return Fail(ErrorCode::kRuntimeError,
                  "cannot reset resource variable '" + r.name + "' of " + model_->description());
    }
  }
  // Variables the main graph created on its own did not exist initially.
  for (const auto& [key, id] : sg.resource_ids()) {
    const bool known = std::any_of(engine_->resources.begin(), engine_->resources.end(),
                                   [id = id](const Engine::Resource& r) { return r.id == id; });
    if (!known) resources.erase(id);
  }
  state_changed_ = false;
  return Status::Ok();
}

struct internal::RunnerAccess {
  static void SetProfiler(Runner& runner, tflite::Profiler* profiler) {
    runner.profiling_->profiler = profiler;
    if (runner.engine_) runner.engine_->interpreter->SetProfiler(profiler);
  }
};

void SetProfiler(Runner& runner, tflite::Profiler* profiler) { internal::RunnerAccess::SetProfiler(runner, profiler); }

std::vector<std::string> Runner::lstm_kernels() const {
  std::vector<std::string> kernels;
  for (NodeKernelName& k : node_kernels()) {
    if (k.op == "UNIDIRECTIONAL_SEQUENCE_LSTM") kernels.push_back(std::move(k.kernel));
  }
  return kernels;
}

std::vector<NodeKernelName> Runner::node_kernels() const {
  std::vector<NodeKernelName> kernels;
  if (!engine_) return kernels;
  const tflite::Interpreter& interp = *engine_->interpreter;
  for (size_t s = 0; s < interp.subgraphs_size(); ++s) {
    const tflite::Subgraph& sg = *interp.subgraph(static_cast<int>(s));
    for (int node : sg.execution_plan()) {
      const auto* nr = sg.node_and_registration(node);
      if (nr == nullptr) continue;
      const TfLiteRegistration& reg = nr->second;
      std::string op = reg.builtin_code == tflite::BuiltinOperator_CUSTOM
                           ? std::string(reg.custom_name != nullptr ? reg.custom_name : "CUSTOM")
                           : tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(reg.builtin_code));
      kernels.push_back({std::move(op), ops::NodeKernel(reg, nr->first)});
    }
  }
  return kernels;
}

MemoryStats Runner::MemoryOf(const Engine& engine) const {
  MemoryStats m;
  m.arena = engine.arena->stats();
  m.arena_required = engine.arena_required;
  m.budget = engine.budget;
  tflite::Interpreter& interp = *engine.interpreter;
  for (size_t s = 0; s < interp.subgraphs_size(); ++s) {
    tflite::Subgraph::SubgraphAllocInfo info{};
    interp.subgraph(static_cast<int>(s))->GetMemoryAllocInfo(&info);
    m.tflite_arena += info.arena_size;
    m.tflite_persistent += info.arena_persist_size;
    m.tflite_dynamic += info.dynamic_size;
    const tflite::Subgraph& sg = *interp.subgraph(static_cast<int>(s));
    for (int node : sg.execution_plan()) {
      if (const auto* nr = sg.node_and_registration(node)) {
        m.kernel_weights += ops::NodeKernelBytes(nr->second, nr->first);  // LSTM, GRU, XNNPACK
        m.kernel_scratch += lstm::NodeScratchBytes(nr->second, nr->first);
      }
    }
  }
  return m;
}

MemoryStats Runner::memory() const {
  if (!engine_) return MemoryStats{};
  MemoryStats m = MemoryOf(*engine_);
  m.stream_state = stream_state_;
  return m;
}

namespace {

std::string Part(const char* what, size_t bytes) {
  if (bytes == 0) return std::string();
  char mib[32];
  std::snprintf(mib, sizeof mib, "%.2f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return std::string(", ") + what + " " + mib;
}

}  // namespace

std::string Runner::InputShapes(const Engine& engine) const {
  std::string at;
  for (int t : engine.inputs) {
    const TfLiteTensor* in = engine.subgraph->tensor(t);
    if (in->dims != nullptr) {
      at += (at.empty() ? "" : " ") + ShapeString(in->dims->data, static_cast<size_t>(in->dims->size));
    }
  }
  return at;
}

std::string Runner::Allowed(size_t limit, const std::string& source) const {
  return options_.arena_bytes ? "the budget of " + internal::MiB(limit) + " (arena_bytes)"
                              : "the " + internal::MiB(limit) + " this process can still use (" + source + ")";
}

Status Runner::Unreservable(const Engine& engine, size_t limit, const std::string& source) const {
  const tflite::Subgraph& sg = *engine.subgraph;
  size_t largest = 0;
  std::string name;
  for (size_t t = 0; t < sg.tensors_size(); ++t) {
    const TfLiteTensor* tensor = sg.tensor(static_cast<int>(t));
    const bool planned =
        tensor->allocation_type == kTfLiteArenaRw || tensor->allocation_type == kTfLiteArenaRwPersistent;
    if (planned && tensor->bytes > largest) {
      largest = tensor->bytes;
      name = tensor->name ? tensor->name : "";
    }
  }
  capture_->Clear();
  return Status(ErrorCode::kArenaExhausted, model_->description() + " at input shapes " + InputShapes(engine) +
                                                " plans more memory than the process can reserve, at least " +
                                                internal::MiB(largest) + " (tensor '" + name + "' alone); " +
                                                Allowed(limit, source) + "; nothing ran");
}

Status Runner::CheckBudget(const Engine& engine, const std::vector<std::vector<int>>* shapes, size_t limit,
                           const std::string& source) const {
  MemoryStats m = MemoryOf(engine);
  m.stream_state = stream_state_;
  if (m.total() <= limit) return Status::Ok();
  const std::string at = InputShapes(engine);
  const std::string parts = Part("tflstm arena", m.arena.budget) + Part("TFLite arena", m.tflite_arena) +
                            Part("TFLite persistent", m.tflite_persistent) +
                            Part("TFLite heap tensors", m.tflite_dynamic) +
                            Part("packed kernel weights", m.kernel_weights) + Part("kernel scratch", m.kernel_scratch) +
                            Part("stream state", m.stream_state);
  return Status(ErrorCode::kArenaExhausted, model_->description() + " plans " + internal::MiB(m.total()) +
                                                " at input shapes " + at + " (MiB: " + parts.substr(2) +
                                                "), more than " + Allowed(limit, source) + "; nothing ran at " +
                                                (shapes ? "these shapes" : "them"));
}

Result<MemoryStats> Runner::PlanFor(const std::vector<std::vector<int>>& shapes) {
  TFLSTM_RETURN_IF_ERROR(CheckInputCount(shapes.size()));
  for (size_t i = 0; i < shapes.size(); ++i) TFLSTM_RETURN_IF_ERROR(CheckShape(i, shapes[i].data(), shapes[i].size()));
  TFLSTM_RETURN_IF_ERROR(CheckInputBytes(shapes));
  auto engine =
      internal::NoThrow([&] { return "planning " + model_->description(); }, [&] { return Build(&shapes, false); });
  if (!engine.ok()) return engine.status();
  MemoryStats m = MemoryOf(*engine.value());
  m.stream_state = stream_state_;
  return m;
}

Status Runner::ReserveStreamState(size_t bytes) {
  const size_t held = memory().total();
  const internal::MemoryLimit limit =
      options_.arena_bytes ? internal::MemoryLimit{*options_.arena_bytes, "arena_bytes"} : internal::AvailableMemory();
  const size_t room = options_.arena_bytes ? (limit.bytes > held ? limit.bytes - held : 0) : limit.bytes;
  if (bytes > room) {
    return Status(ErrorCode::kArenaExhausted,
                  "a stream of " + model_->description() + " carries " + internal::MiB(bytes) + " of state, but " +
                      (options_.arena_bytes
                           ? "the runner holds " + internal::MiB(held) + " of its budget of " +
                                 internal::MiB(limit.bytes) + " (arena_bytes)"
                           : "the process can still use only " + internal::MiB(room) + " (" + limit.source + ")"));
  }
  stream_state_ += bytes;
  return Status::Ok();
}

void Runner::ReleaseStreamState(size_t bytes) {
  stream_state_.fetch_sub(std::min<size_t>(bytes, stream_state_.load()));
}

}  // namespace tflstm
