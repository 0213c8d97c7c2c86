#include "tflstm/runner.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>

#include "error_capture.h"
#include "op_resolver.h"
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

}  // namespace

Runner::Runner(Key, std::shared_ptr<const Model> model)
    : model_(std::move(model)), capture_(std::make_unique<internal::ErrorCapture>()) {}

Runner::~Runner() {
  interpreter_.reset();  // before the arena that backs its tensors and the reporter it holds
}

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
  auto runner = std::make_unique<Runner>(Key(), std::move(model));
  TFLSTM_RETURN_IF_ERROR(runner->Build(options));
  TFLSTM_RETURN_IF_ERROR(runner->BindToArena(options));
  return runner;
}

Status Runner::Build(const RunnerOptions& options) {
  internal::SilenceTfliteLogging();
  const auto resolver = internal::MakeOpResolver();
  const tflite::FlatBufferModel& fb = model_->flatbuffer();
  // This runner's own reporter, not the model's: one model serves runners on many threads.
  tflite::InterpreterBuilder builder(fb.GetModel(), *resolver, capture_.get(), nullptr, fb.allocation());
  if (builder.SetNumThreads(options.num_threads) != kTfLiteOk) {
    return Fail(ErrorCode::kInvalidArgument, "num_threads " + std::to_string(options.num_threads) + " refused");
  }
  if (builder(&interpreter_) != kTfLiteOk || !interpreter_) {
    interpreter_.reset();
    return Fail(ErrorCode::kInvalidModel, "cannot build an interpreter for " + model_->description());
  }
  inputs_ = interpreter_->inputs();
  outputs_ = interpreter_->outputs();
  if (inputs_.size() != model_->inputs().size() || outputs_.size() != model_->outputs().size()) {
    return Status(ErrorCode::kInvalidModel, "the interpreter for " + model_->description() +
                                                " does not have the model's inputs and outputs");
  }
  if (interpreter_->AllocateTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot allocate the tensors of " + model_->description());
  }
  return Status::Ok();
}

// Gives every input and output tensor that TFLite would place in its own arena a block of
// tflstm's arena instead, so their memory is bounded, accounted and stable across runs.
Status Runner::BindToArena(const RunnerOptions& options) {
  std::vector<int> bound;
  for (const std::vector<int>* list : {&inputs_, &outputs_}) {
    for (int t : *list) {
      const TfLiteTensor* tensor = interpreter_->tensor(t);
      if (tensor->allocation_type != kTfLiteArenaRw) continue;  // constants, variables, dynamic tensors
      if (std::find(bound.begin(), bound.end(), t) != bound.end()) continue;
      bound.push_back(t);
      arena_required_ += Arena::AlignUp(std::max<size_t>(tensor->bytes, 1));
    }
  }
  auto arena = Arena::Create(options.arena_bytes.value_or(arena_required_));
  if (!arena.ok()) return arena.status();
  arena_ = std::move(arena).value();

  for (int t : bound) {
    const TfLiteTensor* tensor = interpreter_->tensor(t);
    const std::string what = "tensor '" + std::string(tensor->name ? tensor->name : "") + "' (" +
                             std::to_string(tensor->bytes) + " bytes)";
    auto block = arena_->Allocate(tensor->bytes, what.c_str());
    if (!block.ok()) {
      return Status(ErrorCode::kArenaExhausted,
                    block.status().message() + "; " + model_->description() + " needs an arena of at least " +
                        std::to_string(arena_required_) + " bytes for its inputs and outputs");
    }
    const TfLiteCustomAllocation allocation{block.value(), tensor->bytes};
    if (interpreter_->SetCustomAllocationForTensor(t, allocation) != kTfLiteOk) {
      return Fail(ErrorCode::kRuntimeError, "cannot bind " + what + " to the arena");
    }
  }
  if (interpreter_->AllocateTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot allocate the tensors of " + model_->description());
  }
  return Status::Ok();
}

Result<size_t> Runner::InputIndex(std::string_view name) const {
  return FindByName(model_->inputs(), name, "input");
}

Result<size_t> Runner::OutputIndex(std::string_view name) const {
  return FindByName(model_->outputs(), name, "output");
}

TensorView Runner::View(int tensor_index, const TensorInfo& info) const {
  const TfLiteTensor* t = interpreter_->tensor(tensor_index);
  TensorView v;
  v.name = info.name.c_str();
  v.dtype = t->type;
  v.shape = t->dims ? t->dims->data : nullptr;
  v.rank = t->dims ? t->dims->size : 0;
  v.data = t->data.raw;
  v.bytes = t->bytes;
  return v;
}

TensorView Runner::input(size_t i) const {
  return i < inputs_.size() ? View(inputs_[i], model_->inputs()[i]) : TensorView{};
}
TensorView Runner::output(size_t i) const {
  return i < outputs_.size() ? View(outputs_[i], model_->outputs()[i]) : TensorView{};
}

Status Runner::SetInput(size_t i, const void* data, size_t bytes, TfLiteType dtype, const int* shape, size_t rank) {
  if (i >= inputs_.size()) {
    return Status(ErrorCode::kInvalidArgument, "input index " + std::to_string(i) + " is out of range: " +
                                                   model_->description() + " has " +
                                                   std::to_string(inputs_.size()) + " inputs");
  }
  const TensorView in = input(i);
  auto where = [&] { return "input " + std::to_string(i) + " ('" + std::string(in.name) + "')"; };
  if (dtype != in.dtype) {
    return Status(ErrorCode::kInvalidArgument, where() + " expects dtype " + DTypeName(in.dtype) + ", got " +
                                                   DTypeName(dtype));
  }
  if (rank != static_cast<size_t>(in.rank) || !std::equal(shape, shape + rank, in.shape)) {
    return Status(ErrorCode::kInvalidArgument, where() + " expects shape " +
                                                   ShapeString(in.shape, static_cast<size_t>(in.rank)) + ", got " +
                                                   ShapeString(shape, rank));
  }
  if (bytes != in.bytes || in.data == nullptr) {
    return Status(ErrorCode::kInvalidArgument, where() + " expects " + std::to_string(in.bytes) + " bytes, got " +
                                                   std::to_string(bytes));
  }
  std::memcpy(in.data, data, bytes);
  return Status::Ok();
}

Status Runner::Invoke() {
  capture_->Clear();
  // Fused LSTMs keep their state in variable tensors that persist across invokes: without a
  // reset the same input gives a different output each time. A run starts from zero state.
  if (interpreter_->ResetVariableTensors() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "cannot reset the state of " + model_->description());
  }
  if (interpreter_->Invoke() != kTfLiteOk) {
    return Fail(ErrorCode::kRuntimeError, "invoking " + model_->description() + " failed");
  }
  return Status::Ok();
}

MemoryStats Runner::memory() const {
  MemoryStats m;
  m.arena = arena_->stats();
  m.arena_required = arena_required_;
  for (size_t s = 0; s < interpreter_->subgraphs_size(); ++s) {
    tflite::Subgraph::SubgraphAllocInfo info{};
    interpreter_->subgraph(static_cast<int>(s))->GetMemoryAllocInfo(&info);
    m.tflite_arena += info.arena_size;
    m.tflite_persistent += info.arena_persist_size;
    m.tflite_dynamic += info.dynamic_size;
  }
  return m;
}

}  // namespace tflstm
