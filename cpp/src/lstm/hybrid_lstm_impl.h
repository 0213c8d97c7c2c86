// The int8 dot kernel of hybrid_lstm.h over an instruction set's traits S: Acc (an
// accumulator), Zero(), Madd(acc, w, x) (kDotCols products added into acc) and Sum(acc).
// Sum4(acc[4], out) stores four sums. MinMaxLanes needs float lanes of S too. Include it only from the instruction
// sets' files.
#pragma once

#include <algorithm>
#include <utility>

#include "hybrid_lstm.h"

namespace tflstm::lstm {
namespace {

// o[r] for rows r0 .. r_end of w and one vector xv, R rows at once (xv is loaded once for them).
template <class S, int R>
void DotRows(const int8_t* w, int r0, int r_end, int cols, const int8_t* xv, int32_t* o) {
  static_assert(R == 4, "Sum4");
  int r = r0;
  for (; r + R <= r_end; r += R) {
    typename S::Acc acc[R] = {S::Zero(), S::Zero(), S::Zero(), S::Zero()};
    const int8_t* wr = w + static_cast<size_t>(r) * cols;
    for (int k = 0; k < cols; k += kDotCols) {
      for (int i = 0; i < R; ++i) acc[i] = S::Madd(acc[i], wr + static_cast<size_t>(i) * cols + k, xv + k);
    }
    S::Sum4(acc, o + r);
  }
  for (; r < r_end; ++r) {
    typename S::Acc acc = S::Zero();
    for (int k = 0; k < cols; k += kDotCols) acc = S::Madd(acc, w + static_cast<size_t>(r) * cols + k, xv + k);
    o[r] = S::Sum(acc);
  }
}

template <class S>
void Dot(const int8_t* w, int rows, int cols, const int8_t* x, int vectors, int32_t* out) {
  constexpr int kRows = 64;  // rows that take every vector in turn, so that a projection finds them in L1
  for (int r0 = 0; r0 < rows; r0 += kRows) {
    const int r_end = std::min(rows, r0 + kRows);
    for (int v = 0; v < vectors; ++v) {
      DotRows<S, 4>(w, r0, r_end, cols, x + static_cast<size_t>(v) * cols, out + static_cast<size_t>(v) * rows);
    }
  }
}

inline void AccumulateScalar(const int32_t* dot, const int32_t* sums, int32_t offset, float q_scale,
                             const float* w_scale, int rows, const float* in, float* out) {
  for (int p = 0; p < rows; ++p) {
    out[p] = in[p] + static_cast<float>(dot[p] - sums[p] * offset) * (q_scale * w_scale[p]);
  }
}

// min and max of x[k..n) folded into lo and hi: the scalar loop (and the vector ones' tail).
inline std::pair<float, float> MinMaxFrom(const float* x, int k, int n, float lo, float hi) {
  for (; k < n; ++k) lo = std::min(lo, x[k]), hi = std::max(hi, x[k]);
  return {lo, hi};
}

// clamp(std::round(f), lo, hi) (half away from zero) without a library call: f - trunc(f) is
// exact. f is clamped first, so that a non-finite value (an input the finite check let through)
// converts without undefined behaviour: +-Inf to a bound, NaN to 0. Branch-free.
inline int32_t RoundInRange(float f, float lo, float hi) {
  f = f > hi ? hi : f;
  f = f < lo ? lo : f;
  f = f == f ? f : 0.0f;
  const auto t = static_cast<int32_t>(f);
  const float d = f - static_cast<float>(t);
  return t + static_cast<int32_t>(d >= 0.5f) - static_cast<int32_t>(d <= -0.5f);
}

// HybridKernels::quantize in scalar code (and the vector ones' tail).
inline void QuantizeScalar(const float* x, int n, float inv, float zero, float lo, float hi, int8_t* q) {
  for (int k = 0; k < n; ++k) q[k] = static_cast<int8_t>(RoundInRange(zero + x[k] * inv, lo, hi));
}

inline std::pair<float, float> MinMaxScalar(const float* x, int n) { return MinMaxFrom(x, 1, n, x[0], x[0]); }

// The same in float lanes, for traits with Floats, kFloatLanes, LoadF, MinF, MaxF, ReduceMin
// and ReduceMax.
template <class S>
std::pair<float, float> MinMaxLanes(const float* x, int n) {
  constexpr int L = S::kFloatLanes;
  if (n < L) return MinMaxScalar(x, n);
  typename S::Floats lo = S::LoadF(x), hi = lo;
  int k = L;
  for (; k + L <= n; k += L) {
    const typename S::Floats v = S::LoadF(x + k);
    lo = S::MinF(lo, v);
    hi = S::MaxF(hi, v);
  }
  return MinMaxFrom(x, k, n, S::ReduceMin(lo), S::ReduceMax(hi));
}

template <class S>
const HybridKernels& HybridKernelsFor(rnn::Isa isa, decltype(HybridKernels::narrow_layout) narrow_layout = nullptr,
                                      DotFn dot_narrow = &Dot<S>,
                                      decltype(HybridKernels::accumulate) accumulate = &AccumulateScalar,
                                      decltype(HybridKernels::min_max) min_max = &MinMaxScalar,
                                      decltype(HybridKernels::quantize) quantize = &QuantizeScalar) {
  static const HybridKernels kernels{
      rnn::VariantName(HybridKernels::kFamily, isa), &Dot<S>, narrow_layout, dot_narrow, accumulate, min_max, quantize};
  return kernels;
}

}  // namespace
}  // namespace tflstm::lstm
