// tflstm::Runner: creation, the lookups of inputs and outputs, invoking, and which kernels run.
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
#include "tflstm/tflite/dtype.h"
#include "tflstm/tflite/model.h"
#include "tflstm/tflite/op_set.h"
#include "tflstm/tflite/profiler.h"

namespace tflstm {

namespace {

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

}  // namespace

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
  TFLSTM_RETURN_IF_ERROR(options.Validate());
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
  v.dtype = FromTfLite(t->type);
  v.shape = t->dims ? t->dims->data : nullptr;
  v.rank = t->dims ? t->dims->size : 0;
  v.data = t->data.raw;
  v.bytes = t->bytes;
  v.scale = t->params.scale;
  v.zero_point = t->params.zero_point;
  // Every input and output TFLite sizes before running is in tflstm's arena (BindToArena).
  v.fixed = t->allocation_type != kTfLiteDynamic && t->allocation_type != kTfLiteArenaRw;
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
  if (v.dtype == DType::kString) {
    v.data = nullptr;  // TFLite's packed strings, not elements: tflstm keeps them valid (FillStringInputs)
    v.bytes = 0;
  }
  return v;
}

TensorView Runner::output(size_t i) const {
  if (i >= output_count()) return TensorView{};
  return engine_ ? View(engine_->outputs[i], output_info()[i].name.c_str()) : Unprepared(output_info()[i]);
}

Status Runner::CheckPrepared() const {
  if (engine_) return Status::Ok();
  return Status(ErrorCode::kInvalidArgument, model_->description() +
                                                 " is not prepared yet: it cannot be prepared at its stored input "
                                                 "shapes, so it is prepared at the shapes of the first inputs set "
                                                 "(or of the input_shapes option): " +
                                                 unprepared_.message());
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
  ++epoch_;
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

}  // namespace tflstm
