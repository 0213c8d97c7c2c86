// The step loop every recurrent kernel runs (LSTM, GRU, SimpleRNN; float, hybrid, int8): the
// input projection of a chunk of steps at once, then one step per time step, over inputs laid
// out [time][batch] (time-major) or [batch][time]. The projection of a chunk is laid out the
// same way, so that its scratch stays small (and in cache) however long the sequence.
#pragma once

#include <algorithm>
#include <cstddef>

namespace tflstm::rnn {

// Steps whose input projection is computed at once.
constexpr int kChunkSteps = 32;

struct SequenceShape {
  int batch = 0;
  int time = 0;
  bool time_major = false;
  size_t row = 0;  // elements of one projected row

  int Chunk() const { return std::min(time, kChunkSteps); }
  // Rows of the projection scratch.
  size_t ChunkRows() const { return static_cast<size_t>(batch) * Chunk(); }
  // The input (and output) row of batch row b at step t.
  size_t Row(int t, int b) const {
    return time_major ? static_cast<size_t>(t) * batch + b : static_cast<size_t>(b) * time + t;
  }
};

// For each chunk, project(first, count, out): the projection of `count` consecutive input rows
// from row `first` into `out` (rows `row` elements apart); then for each step,
// step(t, gx, gx_batch_stride): gx holds batch row 0's projection of step t, the next batch
// row's gx_batch_stride elements further.
template <class T, class Project, class Step>
void RunSequence(const SequenceShape& s, T* gx, Project&& project, Step&& step) {
  const int chunk = s.Chunk();
  const size_t time_stride = s.time_major ? s.batch * s.row : s.row;
  const size_t batch_stride = s.time_major ? s.row : chunk * s.row;
  for (int t = 0; t < s.time; ++t) {
    if (t % chunk == 0) {
      const int steps = std::min(chunk, s.time - t);
      if (s.time_major) {
        project(static_cast<size_t>(t) * s.batch, steps * s.batch, gx);
      } else {
        for (int b = 0; b < s.batch; ++b) project(s.Row(t, b), steps, gx + b * batch_stride);
      }
    }
    step(t, gx + (t % chunk) * time_stride, batch_stride);
  }
}

// rows x n elements from src (src_stride apart) to dst (dst_stride apart): a state in and out of
// its padded copy.
template <class From, class To>
void CopyRows(const From* src, size_t src_stride, To* dst, size_t dst_stride, int rows, size_t n) {
  for (int r = 0; r < rows; ++r) std::copy_n(src + r * src_stride, n, dst + r * dst_stride);
}

}  // namespace tflstm::rnn
