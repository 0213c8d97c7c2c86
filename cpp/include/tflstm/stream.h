// Streaming: feeds a sequence to a Runner chunk by chunk, carrying the model's state from one
// call to the next. Two kinds of model stream:
//   - a model whose state is in variable tensors (a fused LSTM) runs one time step per invoke:
//     its input [1, time, ...] is set to [1, 1, ...] and a call feeds any number of steps;
//   - a model whose state is in resource variables (a chunk model exported from TensorFlow,
//     e.g. a wake-word model with a ring buffer) runs one chunk of its own input shape per
//     invoke, and a call feeds any number of chunks.
// Each Stream keeps its own copy of the whole state, so many independent streams (one per
// sensor or user) can share one model and one runner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tflstm/runner.h"
#include "tflstm/status.h"

namespace tflstm {

class Stream {
 public:
  // `runner` must outlive the stream. Its model takes one input; for a step stream of shape
  // [batch, time, ...], which is set to one sequence and one time step ([1, 1, ...]) when a
  // chunk is fed, whatever shape the runner ran before.
  // The stream's state counts against the runner's memory budget until the stream is destroyed.
  static Result<std::unique_ptr<Stream>> Create(Runner& runner);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Feeds `steps` time steps (or chunks) from `x` (steps * step_input_bytes(), the input's dtype)
  // and writes the output of every one to `out` (steps * step_output_bytes(), output 0). On an
  // error the stream's state is left as it was before the call.
  Status Feed(const void* x, size_t steps, void* out);
  // The same, but writes only the last step's output to `out` (step_output_bytes()): what a
  // last-step model's caller wants, without a buffer for every step (nothing for 0 steps).
  Status FeedLast(const void* x, size_t steps, void* out);

  // Back to the zero state of a fresh sequence.
  Status Reset();

  size_t step_input_bytes() const { return step_input_bytes_; }
  size_t step_output_bytes() const { return step_output_bytes_; }
  size_t steps() const { return steps_; }    // steps (or chunks) fed since creation or the last reset
  bool chunked() const { return chunked_; }  // one chunk of the model's input shape per invoke
  const std::vector<int>& step_shape() const { return step_shape_; }

  // The carried state, one buffer per state tensor of the runner (its shapes and dtypes are
  // those of runner.state(i)); writable, to restore a snapshot.
  size_t state_count() const { return state_.size(); }
  std::vector<char>& state(size_t i) {
    warm_ = false;  // a restored snapshot goes into the runner on the next call
    return state_[i];
  }
  const std::vector<char>& state(size_t i) const { return state_[i]; }

 private:
  class Key {
    friend class Stream;
    explicit Key() = default;
  };

 public:
  Stream(Key, Runner& runner) : runner_(runner) {}

 private:
  Status SetOneStep();
  Status Enter();
  // Feed, writing step t's output at out + t * out_stride (0: every step to the same place).
  Status Run(const void* x, size_t steps, void* out, size_t out_stride);

  Runner& runner_;
  std::vector<int> step_shape_;
  size_t step_input_bytes_ = 0;
  size_t step_output_bytes_ = 0;
  size_t steps_ = 0;
  bool chunked_ = false;
  size_t reserved_ = 0;  // state bytes counted against the runner's budget
  std::vector<std::vector<char>> state_;
  // Warm: the runner is as this stream's last call left it (its epoch unchanged since), so its
  // step shape, its state (this stream's) and these tensor addresses hold; a call then skips
  // the shape and state checks and the copy of the state in. Step streams only: a resource
  // variable's storage can move while the model runs.
  bool warm_ = false;
  uint64_t epoch_ = 0;
  void* input_data_ = nullptr;
  std::vector<void*> state_data_;
};

}  // namespace tflstm
