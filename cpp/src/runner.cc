#include "tflstm/runner.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "error_capture.h"
#include "no_throw.h"
#include "tflstm/op_set.h"
#include "tensorflow/lite/core/subgraph.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"

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
  return Status(ErrorCode::kInvalidArgument, "the model has no " + std::string(kind) + " named '" +
                                                 std::string(name) + "'; its " + kind + "s are " + NameList(infos));
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
  std::unique_ptr<Arena> arena;                     // declared first: destroyed after the interpreter
  std::unique_ptr<tflite::Interpreter> interpreter;
  tflite::Subgraph* subgraph = nullptr;
  std::vector<int> inputs;                          // tensor indices, in input_info() order
  std::vector<int> outputs;
  size_t arena_required = 0;
};

Runner::Runner(Key, std::shared_ptr<const Model> model, RunnerOptions options)
    : model_(std::move(model)), options_(std::move(options)), capture_(std::make_unique<internal::ErrorCapture>()) {}

Runner::~Runner() = default;

Status Runner::Fail(ErrorCode code, const std::string& what) const {
  const std::string detail = capture_->Take();
  return Status(code, what + (detail.empty() ? std::string() : ": " + detail));
}

Result<std::unique_ptr<Runner>> Runner::Create(std::shared_ptr<const Model> model, const RunnerOptions& options) {
  if (!model) return Status(ErrorCode::kInvalidArgument, "Runner needs a model");
  if (options.num_threads == 0 || options.num_threads < -1) {
    return Status(ErrorCode::kInvalidArgument,
                  "num_threads must be -1 (TFLite's choice) or at least 1, got " + std::to_string(options.num_threads));
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
  auto engine = internal::NoThrow([&] { return "building an interpreter for " + runner->model_->description(); },
                                  [&] { return runner->Build(nullptr); });
  if (!engine.ok()) return engine.status();
  runner->engine_ = std::move(engine).value();
  return runner;
}

Result<std::unique_ptr<Runner::Engine>> Runner::Build(const std::vector<std::vector<int>>* shapes) {
  internal::SilenceTfliteLogging();
  capture_->Clear();
  auto engine = std::make_unique<Engine>();
  const auto resolver = MakeOpResolver(options_.lstm_kernel);
  const tflite::FlatBufferModel& fb = model_->flatbuffer();
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
  if (profiler_ != nullptr) interp.SetProfiler(profiler_);

  if (shapes != nullptr) {
    tflite::Subgraph& sg = *engine->subgraph;
    const TfLiteTensor* first = sg.tensor(engine->inputs.at(0));
    const int old_batch = first->dims->size > 0 ? first->dims->data[0] : 1;
    const int new_batch = (*shapes)[0].empty() ? 1 : (*shapes)[0][0];
    for (size_t i = 0; i < shapes->size(); ++i) {
      if (sg.ResizeInputTensor(engine->inputs[i], (*shapes)[i]) != kTfLiteOk) {
        return Fail(ErrorCode::kInvalidArgument, "cannot resize input " + std::to_string(i) + " to " +
                                                     ShapeString((*shapes)[i]));
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
  if (engine->subgraph->AllocateTensors() != kTfLiteOk) {
    std::string what = "cannot prepare " + model_->description();
    if (shapes != nullptr) {
      what += " for input shapes";
      for (const auto& s : *shapes) what += " " + ShapeString(s);
    }
    return Fail(shapes ? ErrorCode::kInvalidArgument : ErrorCode::kRuntimeError, what);
  }
  TFLSTM_RETURN_IF_ERROR(BindToArena(*engine));
  return engine;
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
  auto arena = Arena::Create(options_.arena_bytes.value_or(engine.arena_required));
  if (!arena.ok()) return arena.status();
  engine.arena = std::move(arena).value();

  for (int t : bound) {
    const TfLiteTensor* tensor = sg.tensor(t);
    const std::string what = "tensor '" + std::string(tensor->name ? tensor->name : "") + "' (" +
                             std::to_string(tensor->bytes) + " bytes)";
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
  if (sg.AllocateTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot allocate the tensors of " + model_->description());
  }
  return Status::Ok();
}

Result<size_t> Runner::InputIndex(std::string_view name) const { return FindByName(input_info(), name, "input"); }

Result<size_t> Runner::OutputIndex(std::string_view name) const { return FindByName(output_info(), name, "output"); }

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

TensorView Runner::input(size_t i) const {
  return i < input_count() ? View(engine_->inputs[i], input_info()[i].name.c_str()) : TensorView{};
}

TensorView Runner::output(size_t i) const {
  return i < output_count() ? View(engine_->outputs[i], output_info()[i].name.c_str()) : TensorView{};
}

Status Runner::CheckShape(size_t i, const int* shape, size_t rank) const {
  const TensorView in = input(i);
  if (in.HasShape(shape, rank)) return Status::Ok();
  const TensorInfo& info = input_info()[i];
  const std::vector<int>& sig = info.shape_signature;
  auto refuse = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, Where("input", i, info.name) + " expects shape " +
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

Status Runner::ResizeInputs(const std::vector<std::vector<int>>& shapes) {
  if (shapes.size() != input_count()) {
    return Status(ErrorCode::kInvalidArgument, model_->description() + " takes " + std::to_string(input_count()) +
                                                   " input(s), got " + std::to_string(shapes.size()) + " shapes");
  }
  bool same = true;
  for (size_t i = 0; i < shapes.size(); ++i) {
    TFLSTM_RETURN_IF_ERROR(CheckShape(i, shapes[i].data(), shapes[i].size()));
    same = same && input(i).HasShape(shapes[i].data(), shapes[i].size());
  }
  if (same) return Status::Ok();
  auto engine = internal::NoThrow([&] { return "resizing " + model_->description(); }, [&] { return Build(&shapes); });
  if (!engine.ok()) return engine.status();
  engine_ = std::move(engine).value();
  ++rebuilds_;
  return Status::Ok();
}

// Input `i` gets `shape`, resizing the runner when it has another one.
Status Runner::EnsureShape(size_t i, const int* shape, size_t rank) {
  if (input(i).HasShape(shape, rank)) return Status::Ok();
  std::vector<std::vector<int>> shapes;
  for (size_t k = 0; k < input_count(); ++k) {
    const TensorView v = input(k);
    shapes.emplace_back(v.shape, v.shape + v.rank);
  }
  shapes[i].assign(shape, shape + rank);
  return ResizeInputs(shapes);
}

Status Runner::SetInput(size_t i, const void* data, size_t bytes, TfLiteType dtype, const int* shape, size_t rank) {
  if (i >= input_count()) {
    return Status(ErrorCode::kInvalidArgument, "input index " + std::to_string(i) + " is out of range: " +
                                                   model_->description() + " has " + std::to_string(input_count()) +
                                                   " inputs");
  }
  const TensorView before = input(i);
  if (dtype != before.dtype) {
    return Status(ErrorCode::kInvalidArgument, Where("input", i, before.name) + " expects dtype " +
                                                   DTypeName(before.dtype) + ", got " + DTypeName(dtype));
  }
  TFLSTM_RETURN_IF_ERROR(EnsureShape(i, shape, rank));
  const TensorView in = input(i);
  if (bytes != in.bytes || in.data == nullptr) {
    return Status(ErrorCode::kInvalidArgument, Where("input", i, in.name) + " expects " + std::to_string(in.bytes) +
                                                   " bytes, got " + std::to_string(bytes));
  }
  std::memcpy(in.data, data, bytes);
  return Status::Ok();
}

Status Runner::SetInputFromFloat(size_t i, const float* data, size_t count, const int* shape, size_t rank) {
  if (i >= input_count()) return SetInput(i, nullptr, 0, kTfLiteFloat32, shape, rank);  // the range error
  const TfLiteType type = input(i).dtype;
  if (type == kTfLiteFloat32) return SetInput(i, data, count * sizeof(float), kTfLiteFloat32, shape, rank);
  if (!DTypeIsQuantized(type)) {
    return Status(ErrorCode::kInvalidArgument,
                  Where("input", i, input(i).name) + " is " + DTypeName(type) +
                      ": float data can only be quantized for int8, uint8 or int16 inputs");
  }
  TFLSTM_RETURN_IF_ERROR(EnsureShape(i, shape, rank));
  const TensorView in = input(i);
  if (count * DTypeSize(type) != in.bytes) {
    return Status(ErrorCode::kInvalidArgument, Where("input", i, in.name) + " holds " +
                                                   std::to_string(in.bytes / DTypeSize(type)) + " values, got " +
                                                   std::to_string(count));
  }
  if (!(in.scale > 0.0f)) {
    return Status(ErrorCode::kInvalidArgument,
                  Where("input", i, in.name) + " has no quantization scale to quantize with");
  }
  switch (type) {
    case kTfLiteInt8: QuantizeInto<int8_t>(data, count, in.scale, in.zero_point, in.data); break;
    case kTfLiteUInt8: QuantizeInto<uint8_t>(data, count, in.scale, in.zero_point, in.data); break;
    default: QuantizeInto<int16_t>(data, count, in.scale, in.zero_point, in.data); break;
  }
  return Status::Ok();
}

Status Runner::OutputToFloat(size_t i, float* out, size_t count) const {
  if (i >= output_count()) {
    return Status(ErrorCode::kInvalidArgument, "output index " + std::to_string(i) + " is out of range");
  }
  const TensorView v = output(i);
  const size_t n = DTypeSize(v.dtype) ? v.bytes / DTypeSize(v.dtype) : 0;
  if (count != n) {
    return Status(ErrorCode::kInvalidArgument, Where("output", i, v.name) + " holds " + std::to_string(n) +
                                                   " values, not " + std::to_string(count));
  }
  switch (v.dtype) {
    case kTfLiteFloat32: std::memcpy(out, v.data, v.bytes); return Status::Ok();
    case kTfLiteInt8: DequantizeFrom<int8_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    case kTfLiteUInt8: DequantizeFrom<uint8_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    case kTfLiteInt16: DequantizeFrom<int16_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    default:
      return Status(ErrorCode::kInvalidArgument, Where("output", i, v.name) + " is " + DTypeName(v.dtype) +
                                                     ", which has no float form");
  }
}

Status Runner::Run(bool reset_state) {
  capture_->Clear();
  cancelled_.store(false);
  // Fused LSTMs keep their state in variable tensors that persist across invokes: without a
  // reset the same input gives a different output each time.
  if (reset_state) TFLSTM_RETURN_IF_ERROR(ResetState());
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

size_t Runner::state_count() const { return engine_->subgraph->variables().size(); }

TensorView Runner::state(size_t i) const {
  if (i >= state_count()) return TensorView{};
  const int index = engine_->subgraph->variables()[i];
  const char* name = engine_->subgraph->tensor(index)->name;
  return View(index, name ? name : "");
}

Status Runner::ResetState() {
  if (engine_->subgraph->ResetVariableTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot reset the state of " + model_->description());
  }
  return Status::Ok();
}

void Runner::SetProfiler(tflite::Profiler* profiler) {
  profiler_ = profiler;
  engine_->interpreter->SetProfiler(profiler);
}

MemoryStats Runner::memory() const {
  MemoryStats m;
  m.arena = engine_->arena->stats();
  m.arena_required = engine_->arena_required;
  tflite::Interpreter& interp = *engine_->interpreter;
  for (size_t s = 0; s < interp.subgraphs_size(); ++s) {
    tflite::Subgraph::SubgraphAllocInfo info{};
    interp.subgraph(static_cast<int>(s))->GetMemoryAllocInfo(&info);
    m.tflite_arena += info.arena_size;
    m.tflite_persistent += info.arena_persist_size;
    m.tflite_dynamic += info.dynamic_size;
  }
  return m;
}

}  // namespace tflstm
