// The float LSTM kernels of float_lstm.h: the LSTM's gate functions (its cell update) on the
// shared float recurrence (rnn/float_recurrence.h: activations, projection, recurrent product) in
// the LSTM's gate layout. Each instruction set's file instantiates KernelsFor<S>() with its
// traits (rnn/float_traits_*.h). Traits whose vectors are wider than a gate's kBlockUnits
// (AVX-512: two gates a vector) give a Half traits struct and Split<N>(acc, halves); the cell
// update runs on Half.
#pragma once

#include "float_lstm.h"
#include "rnn/float_recurrence.h"

namespace tflstm::lstm {
namespace {

using rnn::Math;

// The gate function G (i, f, o) and the cell activation A known at compile time, inlined:
// TFLite's sigmoid gates with its four cell activations, and Keras 2's default LSTM
// (hard_sigmoid gates, tanh).
template <Activation G, Activation A>
struct FixedActs {
  template <class S>
  typename S::V Gate(typename S::V x) const {
    return Math<S>::template Activate<G>(x);
  }
  template <class S>
  typename S::V Cell(typename S::V x) const {
    return Math<S>::template Activate<A>(x);
  }
};

// Any activation chosen at run time, out of line: one copy per instruction set, where inlined
// every call site took all eight.
template <class S>
[[gnu::noinline]] typename S::V AnyActivation(Activation a, typename S::V x) {
  return Math<S>::Activate(a, x);
}

// Any other pair, chosen at run time (TFLSTM_LSTM's rarer activations: slower, and small).
struct ChosenActs {
  Activation gate, cell;
  template <class S>
  typename S::V Gate(typename S::V x) const {
    return AnyActivation<S>(gate, x);
  }
  template <class S>
  typename S::V Cell(typename S::V x) const {
    return AnyActivation<S>(cell, x);
  }
};

// The cell update of N vectors of consecutive units from their gates' pre-activations:
// pre[g][n] is gate g's of vector n. Stage by stage, so that the N vectors' activations, which
// are independent, overlap: a step is a chain of sigmoid, cell and tanh per unit, and one block
// of one vector a gate at a time left the core waiting on it.
template <class S, class F, int N>
inline void CellUpdateN(const F& f, const typename S::V (&pre)[kGates][N], float* cell, float* out, float cell_clip) {
  using V = typename S::V;
  using M = Math<S>;
  constexpr int L = S::kLanes;
  V i_gate[N], f_gate[N], c_gate[N], o_gate[N], c_new[N];
  for (int n = 0; n < N; ++n) i_gate[n] = f.template Gate<S>(pre[0][n]);
  for (int n = 0; n < N; ++n) f_gate[n] = f.template Gate<S>(pre[1][n]);
  for (int n = 0; n < N; ++n) c_gate[n] = f.template Cell<S>(pre[2][n]);
  for (int n = 0; n < N; ++n) o_gate[n] = f.template Gate<S>(pre[3][n]);
  for (int n = 0; n < N; ++n) {
    c_new[n] = S::Fma(f_gate[n], S::Load(cell + n * L), S::Mul(i_gate[n], c_gate[n]));
    if (cell_clip > 0.0f) c_new[n] = M::Clamp(c_new[n], -cell_clip, cell_clip);
    S::Store(cell + n * L, c_new[n]);
  }
  for (int n = 0; n < N; ++n) S::Store(out + n * L, S::Mul(o_gate[n], f.template Cell<S>(c_new[n])));
}

// One block's cell update from its packed pre-activations (kBlockWidth / kLanes vectors).
template <class S, class F>
inline void CellUpdate(const F& f, const typename S::V* acc, float* cell, float* out, float cell_clip) {
  using V = typename S::V;
  using M = Math<S>;
  constexpr int L = S::kLanes;
  constexpr int kPerGate = kBlockUnits / L;
  for (int j = 0; j < kPerGate; ++j) {
    const V i_gate = f.template Gate<S>(acc[0 * kPerGate + j]);
    const V f_gate = f.template Gate<S>(acc[1 * kPerGate + j]);
    const V c_gate = f.template Cell<S>(acc[2 * kPerGate + j]);
    const V o_gate = f.template Gate<S>(acc[3 * kPerGate + j]);
    V c_new = S::Fma(f_gate, S::Load(cell + j * L), S::Mul(i_gate, c_gate));
    if (cell_clip > 0.0f) c_new = M::Clamp(c_new, -cell_clip, cell_clip);
    S::Store(cell + j * L, c_new);
    S::Store(out + j * L, S::Mul(o_gate, f.template Cell<S>(c_new)));
  }
}

// The same for any traits: wide vectors split into halves first.
template <class S, class F>
inline void CellUpdateOf(const F& f, const typename S::V* acc, float* cell, float* out, float cell_clip) {
  if constexpr (S::kLanes > kBlockUnits) {
    using H = typename S::Half;
    typename H::V halves[kBlockWidth / H::kLanes];
    S::template Split<kBlockWidth / S::kLanes>(acc, halves);
    CellUpdate<H>(f, halves, cell, out, cell_clip);
  } else {
    CellUpdate<S>(f, acc, cell, out, cell_clip);
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
template <class S, class F>
inline void CellUpdatePair(const F& f, const typename S::V* acc0, const typename S::V* acc1, float* cell, float* out,
                           float cell_clip) {
  using V = typename S::V;
  static_assert(kPairs<S>, "one vector a gate or wider");
  if constexpr (S::kLanes == 2 * kBlockUnits) {
    static_assert(kBlockWidth == 2 * S::kLanes, "two gates a vector");
    const V pre[kGates][1] = {{S::Lows(acc0[0], acc1[0])},
                              {S::Highs(acc0[0], acc1[0])},
                              {S::Lows(acc0[1], acc1[1])},
                              {S::Highs(acc0[1], acc1[1])}};
    CellUpdateN<S, F, 1>(f, pre, cell, out, cell_clip);
  } else {
    static_assert(S::kLanes == kBlockUnits, "one gate a vector");
    const V pre[kGates][2] = {{acc0[0], acc1[0]}, {acc0[1], acc1[1]}, {acc0[2], acc1[2]}, {acc0[3], acc1[3]}};
    CellUpdateN<S, F, 2>(f, pre, cell, out, cell_clip);
  }
}

// Block `blk`'s gate pre-activations for batch row b, its input projection plus the recurrent
// product, summed into acc[0].
template <class S>
inline void BlockGates(const StepArgs& a, int blk, int b, typename S::V (&acc)[S::kChains][kBlockWidth / S::kLanes]) {
  const int n = a.n_cell;
  rnn::Product<S, kBlockWidth, true>(a.recurrent + static_cast<size_t>(blk) * n * kBlockWidth,
                                     a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * kBlockWidth,
                                     a.h_prev + b * a.state_stride, n, acc);
}

template <class S, class F>
void StepWith(const StepArgs& a, const F& f) {
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
        CellUpdatePair<S>(f, acc0[0], acc1[0], a.c + at, a.h_next + at, a.cell_clip);
      }
    }
  }
  for (; blk < blocks; ++blk) {          // every block, or an odd last one
    for (int b = 0; b < a.batch; ++b) {  // the block's weights stay in L1 across the batch
      V acc[S::kChains][kVecs];
      BlockGates<S>(a, blk, b, acc);
      const size_t at = b * a.state_stride + static_cast<size_t>(blk) * kBlockUnits;
      CellUpdateOf<S>(f, acc[0], a.c + at, a.h_next + at, a.cell_clip);
    }
  }
}

// Every batch row's gate pre-activations (already complete) through the cell update.
template <class S, class F>
void UpdateWith(const StepArgs& a, const F& f) {
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
        CellUpdatePair<S>(f, acc0, acc1, a.c + at, a.h_next + at, a.cell_clip);
      }
    }
    for (; blk < blocks; ++blk) {
      V acc[kVecs];
      for (int v = 0; v < kVecs; ++v) acc[v] = S::Load(gx + static_cast<size_t>(blk) * kBlockWidth + v * L);
      const size_t at = b * a.state_stride + static_cast<size_t>(blk) * kBlockUnits;
      CellUpdateOf<S>(f, acc, a.c + at, a.h_next + at, a.cell_clip);
    }
  }
}

// The whole step (kFused) or the cell update alone with the activations F.
template <class S, bool kFused, class F>
void RunWith(const StepArgs& a, const F& f) {
  kFused ? StepWith<S>(a, f) : UpdateWith<S>(a, f);
}

// The whole step or the cell update for the node's gate function and activation.
template <class S, bool kFused>
void Run(const StepArgs& a) {
  if (a.gate == Activation::kSigmoid) {
    switch (a.activation) {
      case Activation::kTanh: return RunWith<S, kFused>(a, FixedActs<Activation::kSigmoid, Activation::kTanh>());
      case Activation::kRelu: return RunWith<S, kFused>(a, FixedActs<Activation::kSigmoid, Activation::kRelu>());
      case Activation::kRelu6: return RunWith<S, kFused>(a, FixedActs<Activation::kSigmoid, Activation::kRelu6>());
      case Activation::kReluN1To1:
        return RunWith<S, kFused>(a, FixedActs<Activation::kSigmoid, Activation::kReluN1To1>());
      default: break;
    }
  } else if (a.activation == Activation::kTanh && a.gate == Activation::kHardSigmoid) {
    return RunWith<S, kFused>(a, FixedActs<Activation::kHardSigmoid, Activation::kTanh>());  // Keras 2's default
  }
  RunWith<S, kFused>(a, ChosenActs{a.gate, a.activation});
}

template <class S>
const Kernels& KernelsFor(rnn::Isa isa) {
  static const Kernels kernels{rnn::VariantName(Kernels::kFamily, isa), &rnn::Project<S, Layout>, &Run<S, true>,
                               &Run<S, false>};
  return kernels;
}

}  // namespace
}  // namespace tflstm::lstm
