// Runner::Build and what it prepares: an interpreter at given input shapes, its inputs and
// outputs bound to tflstm's arena, string inputs given values.
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
#include "runner_engine.h"
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

namespace internal {

std::string ShapeString(const int* dims, size_t rank) {
  std::string s = "[";
  for (size_t i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string ShapeString(const std::vector<int>& dims) { return ShapeString(dims.data(), dims.size()); }

}  // namespace internal

using internal::ShapeString;

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
  ++epoch_;
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

namespace {

// The tensors whose size can change while the subgraph runs: dynamic tensors (sized by their
// op's Eval, e.g. a RESHAPE whose shape is computed), and every output of a node that reads one
// of them, since TFLite prepares those nodes again, resizing their outputs, once the dynamic
// tensor has its size. Such a tensor cannot live in a block sized at prepare time. A Dense on
// an LSTM's sequence of free length is one: its Tensordot reshapes by a computed shape.
std::vector<bool> ResizedWhenRun(const tflite::Subgraph& sg) {
  std::vector<bool> resized(sg.tensors_size(), false);
  for (size_t t = 0; t < resized.size(); ++t) {
    resized[t] = sg.tensor(static_cast<int>(t))->allocation_type == kTfLiteDynamic;
  }
  for (int n : sg.execution_plan()) {
    const TfLiteNode& node = sg.node_and_registration(n)->first;
    bool reads = false;
    for (int i = 0; i < node.inputs->size && !reads; ++i) {
      const int t = node.inputs->data[i];
      reads = t >= 0 && resized[static_cast<size_t>(t)];
    }
    for (int i = 0; reads && i < node.outputs->size; ++i) {
      if (node.outputs->data[i] >= 0) resized[static_cast<size_t>(node.outputs->data[i])] = true;
    }
  }
  return resized;
}

}  // namespace

// Gives every input and output tensor that TFLite would place in its own arena a block of
// tflstm's arena instead, so their memory is bounded, accounted and stable across runs.
Status Runner::BindToArena(Engine& engine) const {
  tflite::Subgraph& sg = *engine.subgraph;
  const std::vector<bool> resized_when_run = ResizedWhenRun(sg);
  std::vector<int> bound;
  for (const std::vector<int>* list : {&engine.inputs, &engine.outputs}) {
    for (int t : *list) {
      const TfLiteTensor* tensor = sg.tensor(t);
      if (tensor->allocation_type != kTfLiteArenaRw) continue;  // constants, variables, dynamic tensors
      if (resized_when_run[static_cast<size_t>(t)]) continue;   // its size is known only when it runs
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

}  // namespace tflstm
