// The int8 dot kernel of hybrid_lstm.h over an instruction set's traits S: Acc (an
// accumulator), Zero(), Madd(acc, w, x) (kDotCols products added into acc) and Sum(acc).
// Sum4(acc[4], out) stores four sums. Include it only from the instruction sets' files.
#pragma once

#include "hybrid_lstm.h"

namespace tflstm::lstm {
namespace {

template <class S>
void Dot(const int8_t* w, int rows, int cols, const int8_t* x, int vectors, int32_t* out) {
  constexpr int R = 4;  // rows at once: x is loaded once for four weight rows
  for (int v = 0; v < vectors; ++v) {
    const int8_t* xv = x + static_cast<size_t>(v) * cols;
    int32_t* o = out + static_cast<size_t>(v) * rows;
    int r = 0;
    for (; r + R <= rows; r += R) {
      typename S::Acc acc[R] = {S::Zero(), S::Zero(), S::Zero(), S::Zero()};
      const int8_t* wr = w + static_cast<size_t>(r) * cols;
      for (int k = 0; k < cols; k += kDotCols) {
        for (int i = 0; i < R; ++i) acc[i] = S::Madd(acc[i], wr + static_cast<size_t>(i) * cols + k, xv + k);
      }
      S::Sum4(acc, o + r);
    }
    for (; r < rows; ++r) {
      typename S::Acc acc = S::Zero();
      for (int k = 0; k < cols; k += kDotCols) acc = S::Madd(acc, w + static_cast<size_t>(r) * cols + k, xv + k);
      o[r] = S::Sum(acc);
    }
  }
}

inline void AccumulateScalar(const int32_t* dot, const int32_t* sums, int32_t offset, float q_scale,
                             const float* w_scale, int rows, const float* in, float* out) {
  for (int p = 0; p < rows; ++p) {
    out[p] = in[p] + static_cast<float>(dot[p] - sums[p] * offset) * (q_scale * w_scale[p]);
  }
}

template <class S>
const HybridKernels& HybridKernelsFor(const char* name, decltype(HybridKernels::narrow_layout) narrow_layout = nullptr,
                                      DotFn dot_narrow = &Dot<S>,
                                      decltype(HybridKernels::accumulate) accumulate = &AccumulateScalar) {
  static const HybridKernels kernels{name, &Dot<S>, narrow_layout, dot_narrow, accumulate};
  return kernels;
}

}  // namespace
}  // namespace tflstm::lstm
