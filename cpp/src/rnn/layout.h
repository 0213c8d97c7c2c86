// The packed gate layout of the recurrent kernels: the G gates of each block of U hidden units
// interleaved, so that one pass over a block's rows of recurrent weights computes every gate of
// its units (LSTM: 4 gates of 8 units; GRU: 3 of 16; SimpleRNN: 1 of 32).
#pragma once

#include <cstddef>

namespace tflstm::rnn {

// A packed layout: G gates of U units per block.
template <int G, int U>
struct Blocked {
  static constexpr int kGates = G;
  static constexpr int kUnits = U;
  static constexpr int kWidth = G * U;  // floats per packed row of a block
  static int Blocks(int units) { return (units + U - 1) / U; }
  static size_t Row(int units) { return static_cast<size_t>(Blocks(units)) * kWidth; }  // one projected row
};

// gates[g] is a [units, cols] row-major matrix (TFLite's layout); fills `out`: for block b, row k,
// gate g, unit j of the block, out[((b * cols + k) * G + g) * U + j]; units past the last are zero.
template <int G, int U, class T>
void PackBlocked(const T* const gates[G], int units, int cols, T* out) {
  const int blocks = Blocked<G, U>::Blocks(units);
  for (int blk = 0; blk < blocks; ++blk) {
    for (int k = 0; k < cols; ++k) {
      T* row = out + (static_cast<size_t>(blk) * cols + k) * (G * U);
      for (int g = 0; g < G; ++g) {
        for (int j = 0; j < U; ++j) {
          const int unit = blk * U + j;
          row[g * U + j] = unit < units ? gates[g][static_cast<size_t>(unit) * cols + k] : T{0};
        }
      }
    }
  }
}

// gx[r] = bias + W x[r] for `rows` input rows of n_input floats, in a packed layout
// (Blocked::Row(n_cell) floats per row).
struct ProjectArgs {
  const float* x;
  int rows;
  int n_input;
  int n_cell;
  const float* weights;  // packed input weights
  const float* bias;     // packed bias
  float* gx;
};

}  // namespace tflstm::rnn
