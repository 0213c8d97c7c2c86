// The float GRU and SimpleRNN kernels of gru.h: their gate functions on the shared recurrence
// (float_recurrence.h). Each instruction set's file instantiates GruKernelsFor<S>() and
// RnnKernelsFor<S>() with its traits (float_traits_*.h); a block's units are whole vectors a
// gate for every traits (16 and 32 units: 16 lanes at most).
#pragma once

#include "float_recurrence.h"
#include "gru.h"

namespace tflstm::rnn {
namespace {

// The activations of a step: sigmoid and tanh inlined (kDefault, Keras's defaults), any other
// pair chosen at run time.
template <class S, bool kDefault>
struct Acts {
  using V = typename S::V;
  static V Gate(Act a, V x) {
    if constexpr (kDefault) return Math<S>::Sigmoid(x);
    return Math<S>::Activate(a, x);
  }
  static V Cell(Act a, V x) {
    if constexpr (kDefault) return Math<S>::Tanh(x);
    return Math<S>::Activate(a, x);
  }
};

// z * h + (1 - z) * h~, as h~ + z (h - h~).
template <class S>
inline typename S::V Blend(typename S::V z, typename S::V h, typename S::V candidate) {
  return S::Fma(z, S::Sub(h, candidate), candidate);
}

// One vector of units: z and r from their pre-activations' two parts, h~ from its input part and
// its recurrent product (bias included), then the new h.
template <class S, class F>
inline typename S::V GruUnit(Act gate, Act cell, typename S::V gx_z, typename S::V rec_z, typename S::V gx_r,
                             typename S::V rec_r, typename S::V gx_h, typename S::V rec_h, typename S::V h) {
  const typename S::V z = F::Gate(gate, S::Add(gx_z, rec_z));
  const typename S::V r = F::Gate(gate, S::Add(gx_r, rec_r));
  return Blend<S>(z, h, F::Cell(cell, S::Fma(r, rec_h, gx_h)));
}

// reset_after: one pass over the block's recurrent weights gives all three gates' products.
template <class S, bool kDefault>
void GruStepResetAfter(const GruStepArgs& a) {
  using V = typename S::V;
  using F = Acts<S, kDefault>;
  constexpr int U = kGruUnits, W = GruLayout::kWidth, L = S::kLanes, kPer = U / L;
  static_assert(U % L == 0, "a gate is whole vectors");
  const GruWeights& w = *a.weights;
  const int n = a.n_cell;
  for (int blk = 0; blk < GruLayout::Blocks(n); ++blk) {
    for (int b = 0; b < a.batch; ++b) {  // the block's weights stay in L1 across the batch
      const float* h = a.h_prev + b * a.state_stride;
      V acc[S::kChains][W / L];
      Product<S, W, false>(w.recurrent.data() + static_cast<size_t>(blk) * n * W, nullptr, h, n, acc);
      const float* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * W;
      const float* hp = h + static_cast<size_t>(blk) * U;
      const float* rb = w.recurrent_bias_h.data() + static_cast<size_t>(blk) * U;
      float* out = a.h_next + b * a.state_stride + static_cast<size_t>(blk) * U;
      for (int j = 0; j < kPer; ++j) {
        S::Store(out + j * L, GruUnit<S, F>(a.gate, a.cell, S::Load(gx + j * L), acc[0][j], S::Load(gx + U + j * L),
                                            acc[0][kPer + j], S::Load(gx + 2 * U + j * L),
                                            S::Add(acc[0][2 * kPer + j], S::Load(rb + j * L)), S::Load(hp + j * L)));
      }
    }
  }
}

// reset_after false: z and r of every unit first (h's product needs all of r * h), then h.
template <class S, bool kDefault>
void GruStepResetBefore(const GruStepArgs& a) {
  using V = typename S::V;
  using F = Acts<S, kDefault>;
  constexpr int U = kGruUnits, W = GruLayout::kWidth, L = S::kLanes, kPer = U / L;
  constexpr int WZr = GruZrLayout::kWidth, WH = GruHLayout::kWidth;
  static_assert(U % L == 0, "a gate is whole vectors");
  const GruWeights& w = *a.weights;
  const int n = a.n_cell;
  const int blocks = GruLayout::Blocks(n);
  for (int blk = 0; blk < blocks; ++blk) {
    for (int b = 0; b < a.batch; ++b) {
      const float* h = a.h_prev + b * a.state_stride;
      V acc[S::kChains][WZr / L];
      Product<S, WZr, false>(w.recurrent.data() + static_cast<size_t>(blk) * n * WZr, nullptr, h, n, acc);
      const float* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * W;
      const size_t at = static_cast<size_t>(blk) * U;
      float* z_out = a.scratch + 2 * b * a.state_stride + at;
      float* rh_out = z_out + a.state_stride;
      for (int j = 0; j < kPer; ++j) {
        S::Store(z_out + j * L, F::Gate(a.gate, S::Add(S::Load(gx + j * L), acc[0][j])));
        const V r = F::Gate(a.gate, S::Add(S::Load(gx + U + j * L), acc[0][kPer + j]));
        S::Store(rh_out + j * L, S::Mul(r, S::Load(h + at + j * L)));
      }
    }
  }
  for (int blk = 0; blk < blocks; ++blk) {
    for (int b = 0; b < a.batch; ++b) {
      const float* z = a.scratch + 2 * b * a.state_stride;
      const float* rh = z + a.state_stride;
      V acc[S::kChains][WH / L];
      Product<S, WH, false>(w.recurrent_h.data() + static_cast<size_t>(blk) * n * WH, nullptr, rh, n, acc);
      const float* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * W + 2 * U;
      const size_t at = static_cast<size_t>(blk) * U;
      const float* hp = a.h_prev + b * a.state_stride + at;
      float* out = a.h_next + b * a.state_stride + at;
      for (int j = 0; j < kPer; ++j) {
        const V candidate = F::Cell(a.cell, S::Add(S::Load(gx + j * L), acc[0][j]));
        S::Store(out + j * L, Blend<S>(S::Load(z + at + j * L), S::Load(hp + j * L), candidate));
      }
    }
  }
}

// The hybrid kernel's last stage (reset_after): the gates from complete products.
template <class S, bool kDefault>
void GruUpdateWith(const GruUpdateArgs& a) {
  using F = Acts<S, kDefault>;
  constexpr int U = kGruUnits, W = GruLayout::kWidth, L = S::kLanes;
  for (int b = 0; b < a.batch; ++b) {
    for (int blk = 0; blk < GruLayout::Blocks(a.n_cell); ++blk) {
      const float* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * W;
      const float* rec = a.rec + b * a.rec_batch_stride + static_cast<size_t>(blk) * W;
      const size_t at = b * a.state_stride + static_cast<size_t>(blk) * U;
      for (int j = 0; j < U; j += L) {
        S::Store(a.h_next + at + j, GruUnit<S, F>(a.gate, a.cell, S::Load(gx + j), S::Load(rec + j),
                                                  S::Load(gx + U + j), S::Load(rec + U + j), S::Load(gx + 2 * U + j),
                                                  S::Load(rec + 2 * U + j), S::Load(a.h_prev + at + j)));
      }
    }
  }
}

template <class S>
void GruUpdate(const GruUpdateArgs& a) {
  a.gate == Act::kSigmoid&& a.cell == Act::kTanh ? GruUpdateWith<S, true>(a) : GruUpdateWith<S, false>(a);
}

template <class S>
void GruStep(const GruStepArgs& a) {
  const bool defaults = a.gate == Act::kSigmoid && a.cell == Act::kTanh;
  if (a.weights->reset_after) {
    defaults ? GruStepResetAfter<S, true>(a) : GruStepResetAfter<S, false>(a);
  } else {
    defaults ? GruStepResetBefore<S, true>(a) : GruStepResetBefore<S, false>(a);
  }
}

template <class S, bool kTanh>
void RnnStepWith(const RnnStepArgs& a) {
  using V = typename S::V;
  constexpr int W = RnnLayout::kWidth, L = S::kLanes;
  static_assert(W % L == 0, "a block is whole vectors");
  const int n = a.n_cell;
  for (int blk = 0; blk < RnnLayout::Blocks(n); ++blk) {
    for (int b = 0; b < a.batch; ++b) {
      V acc[S::kChains][W / L];
      Product<S, W, true>(a.recurrent + static_cast<size_t>(blk) * n * W,
                          a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * W, a.h_prev + b * a.state_stride, n,
                          acc);
      float* out = a.h_next + b * a.state_stride + static_cast<size_t>(blk) * W;
      for (int v = 0; v < W / L; ++v) {
        S::Store(out + v * L, kTanh ? Math<S>::Tanh(acc[0][v]) : Math<S>::Activate(a.activation, acc[0][v]));
      }
    }
  }
}

template <class S>
void RnnStep(const RnnStepArgs& a) {
  a.activation == Act::kTanh ? RnnStepWith<S, true>(a) : RnnStepWith<S, false>(a);
}

template <class S>
const GruKernels& GruKernelsFor(Isa isa) {
  static const GruKernels kernels{VariantName(GruKernels::kFamily, isa), &Project<S, GruLayout>, &GruStep<S>,
                                  &GruUpdate<S>};
  return kernels;
}

template <class S>
const RnnKernels& RnnKernelsFor(Isa isa) {
  static const RnnKernels kernels{VariantName(RnnKernels::kFamily, isa), &Project<S, RnnLayout>, &RnnStep<S>};
  return kernels;
}

}  // namespace
}  // namespace tflstm::rnn
