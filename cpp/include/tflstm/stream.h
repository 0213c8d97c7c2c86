// Streaming: feeds a sequence to a Runner in chunks of any length, one time step per invoke,
// carrying the LSTM state from chunk to chunk. Each Stream keeps its own copy of the state, so
// many independent streams (one per sensor or user) can share one model and one runner.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "tflstm/runner.h"
#include "tflstm/status.h"

namespace tflstm {

class Stream {
 public:
  // `runner` must outlive the stream. Its model takes one input of shape [1, time, ...]; the
  // runner is set to one time step ([1, 1, ...]) when a chunk is fed.
  static Result<std::unique_ptr<Stream>> Create(Runner& runner);

  // Feeds `steps` time steps from `x` (steps * step_input_bytes(), the input's dtype) and
  // writes the output of every step to `out` (steps * step_output_bytes(), output 0). On an
  // error the stream's state is left as it was before the call.
  Status Feed(const void* x, size_t steps, void* out);

  // Back to the zero state of a fresh sequence.
  Status Reset();

  size_t step_input_bytes() const { return step_input_bytes_; }
  size_t step_output_bytes() const { return step_output_bytes_; }
  size_t steps() const { return steps_; }  // steps fed since creation or the last reset

  // The carried state, one buffer per state tensor of the runner (its shapes and dtypes are
  // those of runner.state(i)); writable, to restore a snapshot.
  size_t state_count() const { return state_.size(); }
  std::vector<char>& state(size_t i) { return state_[i]; }
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

  Runner& runner_;
  std::vector<int> step_shape_;
  size_t step_input_bytes_ = 0;
  size_t step_output_bytes_ = 0;
  size_t steps_ = 0;
  std::vector<std::vector<char>> state_;
};

}  // namespace tflstm
