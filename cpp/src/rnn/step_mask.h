// A Keras mask over a recurrent op's steps (TFLSTM_GRU's input 7, TFLSTM_LSTM's input 8):
// at a masked step a row keeps its state, and its output row is Keras's (backend rnn's
// compute_masked_output): zeros with zero_output_for_mask, else the row's previous output, zeros
// before the first step of a sequence. A state carried from invoke to invoke (a Stream) continues
// the sequence: its previous output is then the carried state (a GRU's output after a kept step is
// its state, and a reset state is zeros). Applied after each step on the states the kernels wrote,
// so that every instruction set and the hybrid kernel get it alike.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "sequence.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::rnn {

// The output before an invoke's first step (n floats into y): the state h where it is `carried`
// from the last invoke (a variable: the invoke continues the sequence), else zeros.
inline void OutputBeforeStart(bool carried, const float* h, float* y, size_t n) {
  if (carried) {
    std::memcpy(y, h, n * sizeof(float));
  } else {
    std::fill(y, y + n, 0.0f);
  }
}

struct StepMask {
  const bool* keep_bool = nullptr;    // BOOL mask, in the input's row order (SequenceShape::Row)
  const float* keep_float = nullptr;  // or FLOAT32: a step is kept where it is not 0
  bool zero_output = false;

  bool Present() const { return keep_bool != nullptr || keep_float != nullptr; }
  bool Keeps(size_t row) const { return keep_bool != nullptr ? keep_bool[row] : keep_float[row] != 0.0f; }

  // The mask tensor `t` (null: no mask).
  static StepMask Of(const TfLiteTensor* t, bool zero_output) {
    StepMask m;
    m.zero_output = zero_output;
    if (t == nullptr) return m;
    if (t->type == kTfLiteBool) m.keep_bool = t->data.b;
    if (t->type == kTfLiteFloat32) m.keep_float = t->data.f;
    return m;
  }

  // After step t: for each masked row b of `shape`, restore(b) gives the row back its state,
  // and its output row in `out` (`n` elements a row, rows as shape.Row) becomes Keras's: zeros, or
  // the row's output at step t - 1; at step 0, first(b, y) writes the output before the invoke
  // (zeros where the invoke starts a sequence, the carried state where it continues one).
  template <class T, class Restore, class First>
  void Apply(const SequenceShape& shape, int t, T* out, size_t n, Restore&& restore, First&& first) const {
    if (!Present()) return;
    for (int b = 0; b < shape.batch; ++b) {
      const size_t row = shape.Row(t, b);
      if (Keeps(row)) continue;
      restore(b);
      T* y = out + row * n;
      if (zero_output) {
        std::fill(y, y + n, T(0));
      } else if (t == 0) {
        first(b, y);
      } else {
        std::memcpy(y, out + shape.Row(t - 1, b) * n, n * sizeof(T));
      }
    }
  }
};

}  // namespace tflstm::rnn
