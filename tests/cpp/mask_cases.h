// Keras masks for the recurrent ops' mask tests (gru_mask_test.cc, lstm_mask_test.cc): random
// keep patterns, the mask input set from them, and Keras's outputs at masked steps (backend
// rnn's compute_masked_output) around the outputs of a row's kept steps.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "tensorflow/lite/core/c/common.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace tflstm::testing {

// The row of step t of batch row b in a [batch, time] (time_major: [time, batch]) layout.
inline size_t MaskRow(int batch, int time, bool time_major, int t, int b) {
  return time_major ? static_cast<size_t>(t) * batch + b : static_cast<size_t>(b) * time + t;
}

// keep[MaskRow(...)]: one time in three random steps, else right-padded rows of random lengths
// (the last of several rows masked throughout).
inline std::vector<uint8_t> RandomKeep(int batch, int time, bool time_major, std::mt19937& rng) {
  std::vector<uint8_t> keep(static_cast<size_t>(batch) * time);
  const int style = static_cast<int>(rng() % 3);
  for (int b = 0; b < batch; ++b) {
    const int length = b == batch - 1 && batch > 1 ? 0 : static_cast<int>(rng() % (time + 1));
    for (int t = 0; t < time; ++t)
      keep[MaskRow(batch, time, time_major, t, b)] = style == 0 ? rng() % 3 != 0 : t < length;
  }
  return keep;
}

// The mask input `mask` (FLOAT32: 1 or 0, else BOOL) set to `keep`.
inline void SetMask(TfLiteTensor* mask, const std::vector<uint8_t>& keep) {
  for (size_t r = 0; r < keep.size(); ++r) {
    if (mask->type == kTfLiteFloat32) {
      mask->data.f[r] = keep[r] ? 1.0f : 0.0f;
    } else {
      mask->data.b[r] = keep[r] != 0;
    }
  }
}

// Batch row b of the masked op's output y (`units` floats a step, rows as MaskRow) from `kept`,
// the outputs of its kept steps in order: at a masked step zeros with `zero_output`, else the
// previous output, `before` (units floats) ahead of the first step.
inline void MaskedRowOutputs(int batch, int time, bool time_major, int b, int units, const std::vector<uint8_t>& keep,
                             const std::vector<float>& kept, std::vector<float> before, bool zero_output,
                             std::vector<float>& y) {
  const size_t U = units;
  size_t k = 0;
  for (int t = 0; t < time; ++t) {
    const size_t row = MaskRow(batch, time, time_major, t, b);
    float* out = y.data() + row * U;
    if (keep[row]) {
      std::copy_n(kept.data() + k++ * U, U, out);
      std::copy_n(out, U, before.begin());
    } else if (zero_output) {
      std::fill(out, out + U, 0.0f);
    } else {
      std::copy(before.begin(), before.end(), out);
    }
  }
}

// The model's tensor named "mask" (its first tensor if it has none).
inline tflite::TensorT& MaskTensor(tflite::ModelT& m) {
  for (auto& t : m.subgraphs[0]->tensors) {
    if (t->name == "mask") return *t;
  }
  return *m.subgraphs[0]->tensors[0];
}

}  // namespace tflstm::testing
