// Runner's memory: what an engine holds, the plan against the budget and its refusals, and
// the stream state reserved against it.
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

using internal::ShapeString;

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
