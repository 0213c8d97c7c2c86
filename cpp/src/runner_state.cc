// Runner's state between invokes: variable tensors and resource variables, their initial
// values and resets.
#include "tflstm/runner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "empty_tensors.h"
#include "error_capture.h"
#include "finite.h"
#include "lstm/lstm_op.h"
#include "memory_limit.h"
#include "no_throw.h"
#include "ops/node_kernel.h"
#include "runner_engine.h"
#include "tensorflow/lite/builtin_ops.h"
#include "tensorflow/lite/core/api/tensor_utils.h"
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

size_t Runner::state_count() const {
  return engine_ ? engine_->subgraph->variables().size() + engine_->resources.size() : 0;
}

size_t Runner::resource_state_count() const { return engine_ ? engine_->resources.size() : 0; }

TensorView Runner::state(size_t i) const {
  if (i >= state_count()) return TensorView{};
  state_changed_ = true;  // the view is writable
  ++epoch_;
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
  v.dtype = FromTfLite(t->type);
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
  ++epoch_;
  tflite::Subgraph& sg = *engine_->subgraph;
  // A variable that is also a graph input (TensorFlow's conversion of an LSTM given its initial
  // [h, c] as inputs) holds what the caller set for this call: only the others start from zero.
  const std::vector<int>& inputs = sg.inputs();
  for (int v : sg.variables()) {
    if (std::find(inputs.begin(), inputs.end(), v) != inputs.end()) continue;
    if (tflite::ResetVariableTensor(sg.tensor(v)) != kTfLiteOk) {
      return Fail(ErrorCode::kRuntimeError, "cannot reset the state of " + model_->description());
    }
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

}  // namespace tflstm
