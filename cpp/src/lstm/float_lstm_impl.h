// The float LSTM kernels of float_lstm.h, written once over a vector type: each instruction
// set's file defines a traits struct S (V, kLanes, kChains, kProjectRows and a few operations)
// and instantiates KernelsFor<S>(). Include it only from those files. Traits whose vectors are
// wider than a gate's kBlockUnits (AVX-512: two gates a vector) give only the product's
// operations, a Half traits struct and Split(acc, halves); the cell update runs on Half.
#pragma once

#include "float_lstm.h"

namespace tflstm::lstm {
namespace {

template <class S>
struct Math {
  using V = typename S::V;

  // e^x for |x| <= 80 (Cephes' polynomial: about 1 ulp).
  static V Exp(V x) {
    const V n = S::Round(S::Mul(x, S::Set(1.44269504088896341f)));
    x = S::Fma(n, S::Set(-0.693359375f), x);  // x - n ln 2, in two parts for precision
    x = S::Fma(n, S::Set(2.12194440e-4f), x);
    V y = S::Set(1.9875691500e-4f);
    y = S::Fma(y, x, S::Set(1.3981999507e-3f));
    y = S::Fma(y, x, S::Set(8.3334519073e-3f));
    y = S::Fma(y, x, S::Set(4.1665795894e-2f));
    y = S::Fma(y, x, S::Set(1.6666665459e-1f));
    y = S::Fma(y, x, S::Set(5.0000001201e-1f));
    y = S::Fma(y, S::Mul(x, x), S::Add(x, S::Set(1.0f)));
    return S::Mul(y, S::Pow2(n));
  }
  static V Clamp(V x, float lo, float hi) { return S::Min(S::Max(x, S::Set(lo)), S::Set(hi)); }
  // Clamped so that every intermediate stays a normal float (a reciprocal estimate of a huge
  // value is 0 on 32-bit NEON); the results at the bounds round to 0 and 1.
  static V Sigmoid(V x) {
    const V e = Exp(S::Sub(S::Set(0.0f), Clamp(x, -40.0f, 40.0f)));
    return S::Div(S::Set(1.0f), S::Add(S::Set(1.0f), e));
  }
  static V Tanh(V x) {
    const V e = Exp(S::Mul(S::Set(-2.0f), Clamp(x, -9.0f, 9.0f)));
    return S::Div(S::Sub(S::Set(1.0f), e), S::Add(S::Set(1.0f), e));
  }
  template <Activation A>
  static V Activate(V x) {
    if constexpr (A == Activation::kTanh) return Tanh(x);
    if constexpr (A == Activation::kRelu) return S::Max(x, S::Set(0.0f));
    if constexpr (A == Activation::kRelu6) return Clamp(x, 0.0f, 6.0f);
    if constexpr (A == Activation::kReluN1To1) return Clamp(x, -1.0f, 1.0f);
  }
};

// kRows input rows against one block of packed input weights.
template <class S, int kRows>
inline void ProjectRows(const float* x, int n_input, const float* w, const float* bias, float* gx, size_t gx_stride) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kVecs = kBlockWidth / L;
  V acc[kRows][kVecs];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) acc[r][v] = S::Load(bias + v * L);
  }
  for (int k = 0; k < n_input; ++k) {
    const float* wk = w + static_cast<size_t>(k) * kBlockWidth;
    for (int r = 0; r < kRows; ++r) {
      const V xk = S::Set(x[static_cast<size_t>(r) * n_input + k]);
      for (int v = 0; v < kVecs; ++v) acc[r][v] = S::Fma(xk, S::Load(wk + v * L), acc[r][v]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) S::Store(gx + r * gx_stride + v * L, acc[r][v]);
  }
}

template <class S>
void Project(const ProjectArgs& a) {
  const int blocks = Blocks(a.n_cell);
  const size_t row_stride = static_cast<size_t>(blocks) * kBlockWidth;
  constexpr int R = S::kProjectRows;
  for (int blk = 0; blk < blocks; ++blk) {  // one block's weights stay in L1 across all rows
    const float* w = a.weights + static_cast<size_t>(blk) * a.n_input * kBlockWidth;
    const float* bias = a.bias + static_cast<size_t>(blk) * kBlockWidth;
    int r = 0;
    for (; r + R <= a.rows; r += R) {
      ProjectRows<S, R>(a.x + static_cast<size_t>(r) * a.n_input, a.n_input, w, bias,
                        a.gx + r * row_stride + static_cast<size_t>(blk) * kBlockWidth, row_stride);
    }
    for (; r < a.rows; ++r) {
      ProjectRows<S, 1>(a.x + static_cast<size_t>(r) * a.n_input, a.n_input, w, bias,
                        a.gx + r * row_stride + static_cast<size_t>(blk) * kBlockWidth, row_stride);
    }
  }
}

// The cell update of N vectors of consecutive units from their gates' pre-activations:
// pre[g][n] is gate g's of vector n. Stage by stage, so that the N vectors' activations, which
// are independent, overlap: a step is a chain of sigmoid, cell and tanh per unit, and one block
// of one vector a gate at a time left the core waiting on it.
template <class S, Activation A, int N>
inline void CellUpdateN(const typename S::V (&pre)[kGates][N], float* cell, float* out, float cell_clip) {
  using V = typename S::V;
  using M = Math<S>;
  constexpr int L = S::kLanes;
  V i_gate[N], f_gate[N], c_gate[N], o_gate[N], c_new[N];
  for (int n = 0; n < N; ++n) i_gate[n] = M::Sigmoid(pre[0][n]);
  for (int n = 0; n < N; ++n) f_gate[n] = M::Sigmoid(pre[1][n]);
  for (int n = 0; n < N; ++n) c_gate[n] = M::template Activate<A>(pre[2][n]);
  for (int n = 0; n < N; ++n) o_gate[n] = M::Sigmoid(pre[3][n]);
  for (int n = 0; n < N; ++n) {
    c_new[n] = S::Fma(f_gate[n], S::Load(cell + n * L), S::Mul(i_gate[n], c_gate[n]));
    if (cell_clip > 0.0f) c_new[n] = M::Clamp(c_new[n], -cell_clip, cell_clip);
    S::Store(cell + n * L, c_new[n]);
  }
  for (int n = 0; n < N; ++n) S::Store(out + n * L, S::Mul(o_gate[n], M::template Activate<A>(c_new[n])));
}

// One block's cell update from its packed pre-activations (kBlockWidth / kLanes vectors).
template <class S, Activation A>
inline void CellUpdate(const typename S::V* acc, float* cell, float* out, float cell_clip) {
  using V = typename S::V;
  using M = Math<S>;
  constexpr int L = S::kLanes;
  constexpr int kPerGate = kBlockUnits / L;
  for (int j = 0; j < kPerGate; ++j) {
    const V i_gate = M::Sigmoid(acc[0 * kPerGate + j]);
    const V f_gate = M::Sigmoid(acc[1 * kPerGate + j]);
    const V c_gate = M::template Activate<A>(acc[2 * kPerGate + j]);
    const V o_gate = M::Sigmoid(acc[3 * kPerGate + j]);
    V c_new = S::Fma(f_gate, S::Load(cell + j * L), S::Mul(i_gate, c_gate));
    if (cell_clip > 0.0f) c_new = M::Clamp(c_new, -cell_clip, cell_clip);
    S::Store(cell + j * L, c_new);
    S::Store(out + j * L, S::Mul(o_gate, M::template Activate<A>(c_new)));
  }
}

// The same for any traits: wide vectors split into halves first.
template <class S, Activation A>
inline void CellUpdateOf(const typename S::V* acc, float* cell, float* out, float cell_clip) {
  if constexpr (S::kLanes > kBlockUnits) {
    using H = typename S::Half;
    typename H::V halves[kBlockWidth / H::kLanes];
    S::Split(acc, halves);
    CellUpdate<H, A>(halves, cell, out, cell_clip);
  } else {
    CellUpdate<S, A>(acc, cell, out, cell_clip);
  }
}

// Whether the cell update runs two blocks at once (CellUpdatePair): where one block is one
// vector a gate (AVX2) or less (AVX-512). NEON and scalar code, two or more vectors a gate
// already, keep one block at a time: four would spill ARMv7's 16 registers (an ARM core was
// not measured: qemu's timings say nothing).
template <class S>
constexpr bool kPairs = S::kLanes >= kBlockUnits;

// Two consecutive blocks' cell updates at once (`cell` and `out` hold both blocks' units), for
// twice the independent work. Vectors as wide as two blocks' units of a gate (AVX-512: a packed
// vector holds two gates of one block) are regrouped as [block 0 | block 1] first, so that every
// activation runs once for 16 units; the same operations lane by lane either way.
template <class S, Activation A>
inline void CellUpdatePair(const typename S::V* acc0, const typename S::V* acc1, float* cell, float* out,
                           float cell_clip) {
  using V = typename S::V;
  static_assert(kPairs<S>, "one vector a gate or wider");
  if constexpr (S::kLanes == 2 * kBlockUnits) {
    static_assert(kBlockWidth == 2 * S::kLanes, "two gates a vector");
    const V pre[kGates][1] = {{S::Lows(acc0[0], acc1[0])},
                              {S::Highs(acc0[0], acc1[0])},
                              {S::Lows(acc0[1], acc1[1])},
                              {S::Highs(acc0[1], acc1[1])}};
    CellUpdateN<S, A, 1>(pre, cell, out, cell_clip);
  } else {
    static_assert(S::kLanes == kBlockUnits, "one gate a vector");
    const V pre[kGates][2] = {{acc0[0], acc1[0]}, {acc0[1], acc1[1]}, {acc0[2], acc1[2]}, {acc0[3], acc1[3]}};
    CellUpdateN<S, A, 2>(pre, cell, out, cell_clip);
  }
}

// Block `blk`'s gate pre-activations for batch row b, its input projection plus the recurrent
// product, summed into acc[0] (acc[1..kChains) are independent chains, to hide the FMA latency).
template <class S>
inline void BlockGates(const StepArgs& a, int blk, int b, typename S::V (&acc)[S::kChains][kBlockWidth / S::kLanes]) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kVecs = kBlockWidth / L;
  constexpr int C = S::kChains;
  const int n = a.n_cell;
  const float* w = a.recurrent + static_cast<size_t>(blk) * n * kBlockWidth;
  const float* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * kBlockWidth;
  const float* h = a.h_prev + b * a.state_stride;
  for (int v = 0; v < kVecs; ++v) {
    acc[0][v] = S::Load(gx + v * L);
    for (int c = 1; c < C; ++c) acc[c][v] = S::Set(0.0f);
  }
  int k = 0;
  for (; k + C <= n; k += C) {
    for (int c = 0; c < C; ++c) {
      const V hk = S::Set(h[k + c]);
      const float* wk = w + static_cast<size_t>(k + c) * kBlockWidth;
      for (int v = 0; v < kVecs; ++v) acc[c][v] = S::Fma(hk, S::Load(wk + v * L), acc[c][v]);
    }
  }
  for (; k < n; ++k) {
    const V hk = S::Set(h[k]);
    const float* wk = w + static_cast<size_t>(k) * kBlockWidth;
    for (int v = 0; v < kVecs; ++v) acc[0][v] = S::Fma(hk, S::Load(wk + v * L), acc[0][v]);
  }
  for (int c = 1; c < C; ++c) {
    for (int v = 0; v < kVecs; ++v) acc[0][v] = S::Add(acc[0][v], acc[c][v]);
  }
}

template <class S, Activation A>
void StepWith(const StepArgs& a) {
  using V = typename S::V;
  constexpr int kVecs = kBlockWidth / S::kLanes;
  const int blocks = Blocks(a.n_cell);
  int blk = 0;
  if constexpr (kPairs<S>) {
    for (; blk + 2 <= blocks; blk += 2) {
      for (int b = 0; b < a.batch; ++b) {  // the blocks' weights stay in cache across the batch
        V acc0[S::kChains][kVecs], acc1[S::kChains][kVecs];
        BlockGates<S>(a, blk, b, acc0);
        BlockGates<S>(a, blk + 1, b, acc1);
        const size_t at = b * a.state_stride + static_cast<size_t>(blk) * kBlockUnits;
        CellUpdatePair<S, A>(acc0[0], acc1[0], a.c + at, a.h_next + at, a.cell_clip);
      }
    }
  }
  for (; blk < blocks; ++blk) {          // every block, or an odd last one
    for (int b = 0; b < a.batch; ++b) {  // the block's weights stay in L1 across the batch
      V acc[S::kChains][kVecs];
      BlockGates<S>(a, blk, b, acc);
      const size_t at = b * a.state_stride + static_cast<size_t>(blk) * kBlockUnits;
      CellUpdateOf<S, A>(acc[0], a.c + at, a.h_next + at, a.cell_clip);
    }
  }
}

// Every batch row's gate pre-activations (already complete) through the cell update.
template <class S, Activation A>
void UpdateWith(const StepArgs& a) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kVecs = kBlockWidth / L;
  const int blocks = Blocks(a.n_cell);
  for (int b = 0; b < a.batch; ++b) {
    const float* gx = a.gx + b * a.gx_batch_stride;
    int blk = 0;
    if constexpr (kPairs<S>) {
      for (; blk + 2 <= blocks; blk += 2) {
        V acc0[kVecs], acc1[kVecs];
        for (int v = 0; v < kVecs; ++v) {
          acc0[v] = S::Load(gx + static_cast<size_t>(blk) * kBlockWidth + v * L);
          acc1[v] = S::Load(gx + static_cast<size_t>(blk + 1) * kBlockWidth + v * L);
        }
        const size_t at = b * a.state_stride + static_cast<size_t>(blk) * kBlockUnits;
        CellUpdatePair<S, A>(acc0, acc1, a.c + at, a.h_next + at, a.cell_clip);
      }
    }
    for (; blk < blocks; ++blk) {
      V acc[kVecs];
      for (int v = 0; v < kVecs; ++v) acc[v] = S::Load(gx + static_cast<size_t>(blk) * kBlockWidth + v * L);
      const size_t at = b * a.state_stride + static_cast<size_t>(blk) * kBlockUnits;
      CellUpdateOf<S, A>(acc, a.c + at, a.h_next + at, a.cell_clip);
    }
  }
}

// The whole step (kFused) or the cell update alone, for the node's activation.
template <class S, bool kFused>
void Run(const StepArgs& a) {
  switch (a.activation) {
    case Activation::kTanh: return kFused ? StepWith<S, Activation::kTanh>(a) : UpdateWith<S, Activation::kTanh>(a);
    case Activation::kRelu: return kFused ? StepWith<S, Activation::kRelu>(a) : UpdateWith<S, Activation::kRelu>(a);
    case Activation::kRelu6: return kFused ? StepWith<S, Activation::kRelu6>(a) : UpdateWith<S, Activation::kRelu6>(a);
    case Activation::kReluN1To1:
      return kFused ? StepWith<S, Activation::kReluN1To1>(a) : UpdateWith<S, Activation::kReluN1To1>(a);
  }
}

template <class S>
const Kernels& KernelsFor(const char* name) {
  static const Kernels kernels{name, &Project<S>, &Run<S, true>, &Run<S, false>};
  return kernels;
}

}  // namespace
}  // namespace tflstm::lstm
