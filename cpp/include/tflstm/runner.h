// Runs a Model: builds the TFLite interpreter, binds the input and output tensors to
// tflstm's arena, takes inputs, invokes and exposes outputs. After the first run, a run
// with unchanged shapes makes no heap allocation.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tensorflow/lite/core/c/c_api_types.h"
#include "tensorflow/lite/interpreter.h"
#include "tflstm/arena.h"
#include "tflstm/model.h"
#include "tflstm/status.h"

namespace tflstm {

namespace internal {
class ErrorCapture;
}

struct RunnerOptions {
  int num_threads = 1;                // TFLite's thread count; -1 lets TFLite decide
  std::optional<size_t> arena_bytes;  // the arena budget; unset: exactly what the model needs
};

// Memory a runner holds: tflstm's arena and TFLite's own allocations, in bytes.
struct MemoryStats {
  ArenaStats arena;                   // tflstm's arena (input and output tensors)
  size_t arena_required = 0;          // what this model's inputs and outputs need from the arena
  size_t tflite_arena = 0;            // TFLite's arena for intermediate tensors
  size_t tflite_persistent = 0;       // TFLite's persistent arena (kernel state, LSTM variables)
  size_t tflite_dynamic = 0;          // dynamic tensors allocated on the heap by TFLite
  size_t total() const { return arena.budget + tflite_arena + tflite_persistent + tflite_dynamic; }
};

// A tensor's current type, shape and storage. `data` stays valid until the runner is
// destroyed or its tensors are re-allocated.
struct TensorView {
  const char* name = "";
  TfLiteType dtype = kTfLiteNoType;
  const int* shape = nullptr;
  int rank = 0;
  void* data = nullptr;
  size_t bytes = 0;
};

class Runner {
 public:
  static Result<std::unique_ptr<Runner>> Create(std::shared_ptr<const Model> model,
                                                const RunnerOptions& options = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  const Model& model() const { return *model_; }
  size_t input_count() const { return inputs_.size(); }
  size_t output_count() const { return outputs_.size(); }

  // Position of the input or output called `name`, or kInvalidArgument listing the names.
  Result<size_t> InputIndex(std::string_view name) const;
  Result<size_t> OutputIndex(std::string_view name) const;

  TensorView input(size_t i) const;   // writable in place: zero-copy input
  TensorView output(size_t i) const;

  // Copies `bytes` of `dtype` data with the given shape into input `i`, after checking that
  // the dtype, shape and size are the ones the tensor has.
  Status SetInput(size_t i, const void* data, size_t bytes, TfLiteType dtype, const int* shape, size_t rank);
  Status Invoke();

  MemoryStats memory() const;

 private:
  class Key {  // only Create() can name it
    friend class Runner;
    explicit Key() = default;
  };

 public:
  Runner(Key, std::shared_ptr<const Model> model);

 private:
  Status Build(const RunnerOptions& options);
  Status BindToArena(const RunnerOptions& options);
  TensorView View(int tensor_index, const TensorInfo& info) const;
  Status Fail(ErrorCode code, const std::string& what) const;

  std::shared_ptr<const Model> model_;
  std::unique_ptr<internal::ErrorCapture> capture_;  // outlives interpreter_, which reports to it
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<tflite::Interpreter> interpreter_;
  std::vector<int> inputs_;   // tensor indices
  std::vector<int> outputs_;
  size_t arena_required_ = 0;
};

}  // namespace tflstm
