// The float recurrence shared by every layer (LSTM, GRU, SimpleRNN), written once over an
// instruction set's traits S (V, kLanes, kChains, kProjectRows and a few operations: see
// float_traits_*.h) and a gate layout (layout.h): the activations, the input projection of a
// chunk of steps as one product, one block's recurrent product. Include it only from the
// instruction sets' files.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "activation.h"
#include "layout.h"

namespace tflstm::rnn {

namespace {

// Traits with kOwnActivations give their own Sigmoid and Tanh (aarch64 NEON: a shorter
// polynomial whose constants are lanes of a few registers).
template <class S, class = void>
struct HasOwnActivations : std::false_type {};
template <class S>
struct HasOwnActivations<S, std::enable_if_t<S::kOwnActivations>> : std::true_type {};

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
    if constexpr (HasOwnActivations<S>::value) return S::Sigmoid(x);
    const V e = Exp(S::Sub(S::Set(0.0f), Clamp(x, -40.0f, 40.0f)));
    return S::Div(S::Set(1.0f), S::Add(S::Set(1.0f), e));
  }
  static V Tanh(V x) {
    if constexpr (HasOwnActivations<S>::value) return S::Tanh(x);
    const V e = Exp(S::Mul(S::Set(-2.0f), Clamp(x, -9.0f, 9.0f)));
    return S::Div(S::Sub(S::Set(1.0f), e), S::Add(S::Set(1.0f), e));
  }
  template <Act A>
  static V Activate(V x) {
    if constexpr (A == Act::kTanh) return Tanh(x);
    if constexpr (A == Act::kRelu) return S::Max(x, S::Set(0.0f));
    if constexpr (A == Act::kRelu6) return Clamp(x, 0.0f, 6.0f);
    if constexpr (A == Act::kReluN1To1) return Clamp(x, -1.0f, 1.0f);
    if constexpr (A == Act::kSigmoid) return Sigmoid(x);
    if constexpr (A == Act::kLinear) return x;
    if constexpr (A == Act::kHardSigmoid) return Clamp(S::Add(S::Mul(x, S::Set(0.2f)), S::Set(0.5f)), 0.0f, 1.0f);
    if constexpr (A == Act::kHardSigmoidRelu6) return S::Div(Clamp(S::Add(x, S::Set(3.0f)), 0.0f, 6.0f), S::Set(6.0f));
  }
  // Any activation, chosen at run time (one well-predicted branch a vector).
  static V Activate(Act a, V x) {
    switch (a) {
      case Act::kTanh: return Activate<Act::kTanh>(x);
      case Act::kRelu: return Activate<Act::kRelu>(x);
      case Act::kRelu6: return Activate<Act::kRelu6>(x);
      case Act::kReluN1To1: return Activate<Act::kReluN1To1>(x);
      case Act::kSigmoid: return Activate<Act::kSigmoid>(x);
      case Act::kLinear: return x;
      case Act::kHardSigmoid: return Activate<Act::kHardSigmoid>(x);
      case Act::kHardSigmoidRelu6: return Activate<Act::kHardSigmoidRelu6>(x);
    }
    return x;
  }
};

// kRows input rows against one block of packed input weights (W floats a row).
template <class S, int W, int kRows>
inline void ProjectRows(const float* x, int n_input, const float* w, const float* bias, float* gx, size_t gx_stride) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kVecs = W / L;
  static_assert(W % L == 0, "a packed row is whole vectors");
  V acc[kRows][kVecs];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) acc[r][v] = S::Load(bias + v * L);
  }
  for (int k = 0; k < n_input; ++k) {
    const float* wk = w + static_cast<size_t>(k) * W;
    for (int r = 0; r < kRows; ++r) {
      const V xk = S::Set(x[static_cast<size_t>(r) * n_input + k]);
      for (int v = 0; v < kVecs; ++v) acc[r][v] = S::Fma(xk, S::Load(wk + v * L), acc[r][v]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) S::Store(gx + r * gx_stride + v * L, acc[r][v]);
  }
}

// The input projection of a.rows rows in layout B.
template <class S, class B>
void Project(const ProjectArgs& a) {
  const int blocks = B::Blocks(a.n_cell);
  const size_t row_stride = B::Row(a.n_cell);
  constexpr int R = S::kProjectRows;
  constexpr int W = B::kWidth;
  for (int blk = 0; blk < blocks; ++blk) {  // one block's weights stay in L1 across all rows
    const float* w = a.weights + static_cast<size_t>(blk) * a.n_input * W;
    const float* bias = a.bias + static_cast<size_t>(blk) * W;
    int r = 0;
    for (; r + R <= a.rows; r += R) {
      ProjectRows<S, W, R>(a.x + static_cast<size_t>(r) * a.n_input, a.n_input, w, bias,
                           a.gx + r * row_stride + static_cast<size_t>(blk) * W, row_stride);
    }
    for (; r < a.rows; ++r) {
      ProjectRows<S, W, 1>(a.x + static_cast<size_t>(r) * a.n_input, a.n_input, w, bias,
                           a.gx + r * row_stride + static_cast<size_t>(blk) * W, row_stride);
    }
  }
}

template <class S, class = void>
struct HasFmaLane : std::false_type {};
template <class S>
struct HasFmaLane<S, std::enable_if_t<S::kFmaLane>> : std::true_type {};

// How many accumulators one pass over h may keep: S::kPassVecs where the traits set it (32-bit
// NEON, 16 registers), else all of a block's.
template <class S, class = void>
struct PassVecs {
  static constexpr int value = 1 << 16;
};
template <class S>
struct PassVecs<S, std::void_t<decltype(S::kPassVecs)>> {
  static constexpr int value = S::kPassVecs;
};

// Vectors [P0, P0 + P) of a block's product (one chain): one pass over h[0..n).
template <class S, int W, int P0, int P>
inline void ProductPass(const float* w, const float* h, int n, typename S::V (&r)[W / S::kLanes]) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  for (int k = 0; k < n; ++k) {
    const V hk = S::Set(h[k]);
    const float* wk = w + static_cast<size_t>(k) * W + P0 * L;
    for (int v = 0; v < P; ++v) r[P0 + v] = S::Fma(hk, S::Load(wk + v * L), r[P0 + v]);
  }
}
template <class S, int W, int P, size_t... I>
inline void ProductPasses(const float* w, const float* h, int n, typename S::V (&r)[W / S::kLanes],
                          std::index_sequence<I...>) {
  (ProductPass<S, W, static_cast<int>(I) * P, P>(w, h, n, r), ...);
}

// One block's recurrent product: acc[0] = init (W floats; zero when kFromInit is false) + the
// block's packed weights w (n rows of W floats) times h[0..n). r[1..kChains) are independent
// chains, to hide the FMA latency, summed into r[0] at the end. The sums live in a local array
// whose address is never taken, copied to acc once: the caller passes acc on (to the cell
// update), and while the loop wrote acc itself, GCC could not prove the weight loads did not
// read it and stored every accumulator to the stack each column (aarch64, armhf).
// Traits with kFmaLane (aarch64) load four h at once and multiply-accumulate by lane
// (S::FmaLane<i>(h4, w, acc) = acc + h4[i] * w): the same products in the same order.
template <class S, int W, bool kFromInit>
inline void Product(const float* w, const float* init, const float* h, int n,
                    typename S::V (&acc)[S::kChains][W / S::kLanes]) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kVecs = W / L;
  constexpr int C = S::kChains;
  V r[C][kVecs];
  for (int v = 0; v < kVecs; ++v) {
    if constexpr (kFromInit) {
      r[0][v] = S::Load(init + v * L);
    } else {
      r[0][v] = S::Set(0.0f);
    }
    for (int c = 1; c < C; ++c) r[c][v] = S::Set(0.0f);
  }
  int k = 0;
  if constexpr (HasFmaLane<S>::value) {
    static_assert(C == 1 && L == 4, "one chain, four h a load");
    if constexpr (kVecs == 8) {  // a block of 8 vectors: the traits' loop, in assembly
      if (n >= 4) S::Columns8(w, h, n / 4, r[0]);
      k = n / 4 * 4;
    }
    for (; k + 4 <= n; k += 4) {
      const V h4 = S::Load(h + k);
      const float* wk = w + static_cast<size_t>(k) * W;
      for (int v = 0; v < kVecs; ++v) r[0][v] = S::template FmaLane<0>(h4, S::Load(wk + v * L), r[0][v]);
      for (int v = 0; v < kVecs; ++v) r[0][v] = S::template FmaLane<1>(h4, S::Load(wk + W + v * L), r[0][v]);
      for (int v = 0; v < kVecs; ++v) r[0][v] = S::template FmaLane<2>(h4, S::Load(wk + 2 * W + v * L), r[0][v]);
      for (int v = 0; v < kVecs; ++v) r[0][v] = S::template FmaLane<3>(h4, S::Load(wk + 3 * W + v * L), r[0][v]);
    }
  } else if constexpr (C == 1 && kVecs > PassVecs<S>::value) {
    // More accumulators than registers (32-bit NEON's GRU block: 12 of 16 q registers, with 12
    // weight vectors that GCC loads ahead): equal passes that each fit, the same products in the
    // same order for every accumulator.
    constexpr int kPasses = (kVecs + PassVecs<S>::value - 1) / PassVecs<S>::value;
    static_assert(kVecs % kPasses == 0, "equal passes");
    ProductPasses<S, W, kVecs / kPasses>(w, h, n, r[0], std::make_index_sequence<kPasses>());
    k = n;
  } else {
    for (; k + C <= n; k += C) {
      for (int c = 0; c < C; ++c) {
        const V hk = S::Set(h[k + c]);
        const float* wk = w + static_cast<size_t>(k + c) * W;
        for (int v = 0; v < kVecs; ++v) r[c][v] = S::Fma(hk, S::Load(wk + v * L), r[c][v]);
      }
    }
  }
  for (; k < n; ++k) {
    const V hk = S::Set(h[k]);
    const float* wk = w + static_cast<size_t>(k) * W;
    for (int v = 0; v < kVecs; ++v) r[0][v] = S::Fma(hk, S::Load(wk + v * L), r[0][v]);
  }
  for (int c = 1; c < C; ++c) {
    for (int v = 0; v < kVecs; ++v) r[0][v] = S::Add(r[0][v], r[c][v]);
  }
  for (int v = 0; v < kVecs; ++v) acc[0][v] = r[0][v];
}

}  // namespace
}  // namespace tflstm::rnn
