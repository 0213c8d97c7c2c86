// The integer LSTM kernels of int8_lstm.h, written once over vector types: each instruction
// set's file defines a traits struct S and instantiates Int8KernelsFor<S>(). Include it only
// from those files.
//
// S provides V16 (kLanes16 int16 lanes) and V32 (kLanes32 int32 lanes), kGroup (columns per
// packed weight group) and:
//   int16: Set16 Load16 Store16 Add16 Sub16 SatAdd16 Mul16 (gemmlowp's
//     SaturatingRoundingDoublingHighMul) Mullo16 (the low 16 bits of the product) And16 Min16
//     Max16 CmpGt16 CmpLt16 CmpEq16 (a mask: all-ones lanes, or a mask register)
//     Select16(mask, then, else) Sra16<n> Shl16<n> DivPot16<n> (gemmlowp's RoundingDivideByPOT)
//     HalfSumNonneg16 (gemmlowp's RoundingHalfSum for a + b >= 0), MulRound16(a, b, shift) =
//     (int16) RoundingDivideByPOT(a * b, shift) (the low 16 bits, as TFLite's cast),
//     HiddenOut(o, t, qm, zp) = clamp(MBQM(o * t) + zp, -128, 127);
//   int32: Load32 Add32 Widen16(p) (kLanes32 int16 -> int32) StoreSat16(p, v) Mbqm(v, qm) (TFLite's
//     MultiplyByQuantizedMultiplier), XV LoadX(x) (x[0..kGroup) in the form Mac takes, prepared
//     once for every block that uses it), Mac(acc, w, xv) (acc[v] += the products of one packed
//     weight group with those columns), kBlocksAtOnce (1, 2, 4 or 8: blocks whose products share
//     each prepared x).
// Optionally (kLookupInPlace = true) LookupInPlace(table, p, n): p[i] = table[p[i]] over memory;
// (kMac2 = true) XV2 LoadX2(x) (x[0..2 kGroup)) and Mac2(acc, w, xv2): Mac of two
// consecutive groups (the second's weights kBlockWidth * kGroup bytes after the first's) at once;
// and (kMulIfBit = true) MulIfBit16(x, bits, bit, m) = lanes where bits & bit != 0:
// Mul16(x, m), others x (AVX-512: one test into a mask register and a masked multiply); and
// (kStoreSat16x2 = true) StoreSat16x2(p, a, b): two vectors saturated to int16 in one store;
// (kStoreSat16x4 = true, with 8 int32 lanes) StoreSat16x4(p, a, b, c, d): four vectors
// saturated to 32 int16 in one store; Requant and MakeRequant(qm) (what Mbqm takes in place of
// qm: its constants, made once per call); kInterleave (the cell's activations on that many
// vectors at once, see Interleaved); kLookup16 and Lookup16(table, v) (table[v] per lane: the
// activations from tables, see TableOf).
// The fixed-point functions (int8_fixed_point.h) are gemmlowp's for 16-bit raw values, the same
// operations in the same order, so every lane gets the scalar code's bits.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "int8_fixed_point.h"
#include "int8_lstm.h"

namespace tflstm::lstm {
namespace {

// For NB consecutive blocks (their packed weights `block_stride` apart, their biases next to
// each other): acc[n] = block n's bias + its packed weights x the int16 columns of x. Each group
// of x is prepared once for all NB blocks, and the NB blocks' sums are independent chains.
template <class S, int NB>
inline void Accumulate(const int8_t* w, size_t block_stride, int groups, const int16_t* x, const int32_t* bias,
                       typename S::V32 (&acc)[NB][kBlockWidth / S::kLanes32]) {
  constexpr int kVecs = kBlockWidth / S::kLanes32;
  for (int n = 0; n < NB; ++n) {
    for (int v = 0; v < kVecs; ++v) acc[n][v] = S::Load32(bias + n * kBlockWidth + v * S::kLanes32);
  }
  int k = 0;
  if constexpr (HasMac2<S>::value) {
    for (; k + 2 <= groups; k += 2) {
      const typename S::XV2 xk = S::LoadX2(x + k * S::kGroup);
      const int8_t* wk = w + static_cast<size_t>(k) * kBlockWidth * S::kGroup;
      for (int n = 0; n < NB; ++n) S::Mac2(acc[n], wk + n * block_stride, xk);
    }
  }
  for (; k < groups; ++k) {
    const typename S::XV xk = S::LoadX(x + k * S::kGroup);
    const int8_t* wk = w + static_cast<size_t>(k) * kBlockWidth * S::kGroup;
    for (int n = 0; n < NB; ++n) S::Mac(acc[n], wk + n * block_stride, xk);
  }
}

// Blocks `blk` .. blk + NB of the input projection, for every row.
template <class S, int NB>
void ProjectBlocks(const Int8ProjectArgs& a, int blk, int groups) {
  using V32 = typename S::V32;
  constexpr int L = S::kLanes32;
  constexpr int kVecs = kBlockWidth / L;
  const size_t block_stride = static_cast<size_t>(groups) * kBlockWidth * S::kGroup;
  const size_t x_stride = static_cast<size_t>(Int8Columns(a.n_input));
  const size_t row_stride = static_cast<size_t>(Blocks(a.n_cell)) * kBlockWidth;
  const int8_t* w = a.weights + blk * block_stride;
  const int32_t* bias = a.bias + static_cast<size_t>(blk) * kBlockWidth;
  typename RequantOf<S>::type scale[kVecs];
  for (int v = 0; v < kVecs; ++v) scale[v] = RequantOf<S>::Make(a.params->input[v * L / kBlockUnits]);
  for (int r = 0; r < a.rows; ++r) {
    V32 acc[NB][kVecs];
    Accumulate<S, NB>(w, block_stride, groups, a.x + r * x_stride, bias, acc);
    for (int n = 0; n < NB; ++n) {
      int16_t* gx = a.gx + r * row_stride + static_cast<size_t>(blk + n) * kBlockWidth;
      if constexpr (kVecs % 2 == 0 && HasStoreSat16x2<S>::value) {
        for (int v = 0; v < kVecs; ++v) acc[n][v] = S::Mbqm(acc[n][v], scale[v]);
        for (int v = 0; v < kVecs; v += 2) S::StoreSat16x2(gx + v * L, acc[n][v], acc[n][v + 1]);
      } else {
        for (int v = 0; v < kVecs; ++v) S::StoreSat16(gx + v * L, S::Mbqm(acc[n][v], scale[v]));
      }
    }
  }
}

// Blocks blk.. of the input projection, NB at a time, then the rest by halves (NB a power of two).
template <class S, int NB>
void ProjectFrom(const Int8ProjectArgs& a, int blk, int groups) {
  const int blocks = Blocks(a.n_cell);
  for (; blk + NB <= blocks; blk += NB) ProjectBlocks<S, NB>(a, blk, groups);
  if constexpr (NB > 1) ProjectFrom<S, NB / 2>(a, blk, groups);
}

template <class S>
void Int8Project(const Int8ProjectArgs& a) {
  ProjectFrom<S, S::kBlocksAtOnce>(a, 0, (a.n_input + S::kGroup - 1) / S::kGroup);
}

// The gates of NB blocks (kVecs == kGates) in S's wide stores.
template <class S, int NB>
TFLSTM_INT8_INLINE void StoreGates(int16_t* gates, size_t padded, typename S::V32 (&acc)[NB][kGates]) {
  if constexpr (NB == 4 && HasStoreSat16x4<S>::value) {
    // Each gate's 32 units in one store, which the cell's 32-lane load of them can forward from
    // (a wide load over several narrow stores waits until they reach the cache).
    for (int g = 0; g < kGates; ++g) S::StoreSat16x4(gates + g * padded, acc[0][g], acc[1][g], acc[2][g], acc[3][g]);
  } else {
    static_assert(NB % 2 == 0, "pairs of blocks");
    for (int n = 0; n < NB; n += 2) {
      for (int g = 0; g < kGates; ++g) S::StoreSat16x2(gates + g * padded + n * kBlockUnits, acc[n][g], acc[n + 1][g]);
    }
  }
}

// Blocks `blk` .. blk + NB of one step's gates, for every batch row.
template <class S, int NB>
TFLSTM_INT8_INLINE void GatesOfBlock(const Int8StepArgs& a, int blk, int groups, size_t padded, size_t block_stride,
                                     const typename RequantOf<S>::type (&scale)[kBlockWidth / S::kLanes32]) {
  using V32 = typename S::V32;
  constexpr int L = S::kLanes32;
  constexpr int kVecs = kBlockWidth / L;
  const int8_t* w = a.recurrent + blk * block_stride;
  const int32_t* bias = a.bias + static_cast<size_t>(blk) * kBlockWidth;
  for (int b = 0; b < a.batch; ++b) {
    V32 acc[NB][kVecs];
    Accumulate<S, NB>(w, block_stride, groups, a.h_prev + b * padded, bias, acc);
    const int16_t* gx = a.gx + b * a.gx_batch_stride + static_cast<size_t>(blk) * kBlockWidth;
    int16_t* gates = a.gates + b * kGates * padded + static_cast<size_t>(blk) * kBlockUnits;
    constexpr bool kWide = (NB == 4 && HasStoreSat16x4<S>::value) || (NB % 2 == 0 && HasStoreSat16x2<S>::value);
    if constexpr (kVecs != kGates || !kWide) {
      // Each vector rescaled and stored in turn: computing all of them before the first store
      // (which the loads of gx may not pass) holds 2 NB kVecs vectors and spills them (NEON).
      for (int n = 0; n < NB; ++n) {
        for (int v = 0; v < kVecs; ++v) {
          const V32 sum = S::Add32(S::Mbqm(acc[n][v], scale[v]), S::Widen16(gx + n * kBlockWidth + v * L));
          S::StoreSat16(gates + n * kBlockUnits + v * L / kBlockUnits * padded + v * L % kBlockUnits, sum);
        }
      }
    } else {
      for (int n = 0; n < NB; ++n) {
        for (int v = 0; v < kVecs; ++v) {
          acc[n][v] = S::Add32(S::Mbqm(acc[n][v], scale[v]), S::Widen16(gx + n * kBlockWidth + v * L));
        }
      }
      StoreGates<S, NB>(gates, padded, acc);
    }
  }
}

// Blocks `begin` .. `end` of one step's gates, NB at a time, for every batch row (the blocks'
// weights stay in L1 across the batch): input half + rescaled recurrent product, saturated. The
// rescaling's constants are made once for all the blocks.
template <class S, int NB>
void GatesOfBlocks(const Int8StepArgs& a, int begin, int end, int groups) {
  constexpr int L = S::kLanes32;
  constexpr int kVecs = kBlockWidth / L;
  const size_t padded = static_cast<size_t>(Int8Padded(a.n_cell));
  const size_t block_stride = static_cast<size_t>(groups) * kBlockWidth * S::kGroup;
  typename RequantOf<S>::type scale[kVecs];
  for (int v = 0; v < kVecs; ++v) scale[v] = RequantOf<S>::Make(a.params->recurrent[v * L / kBlockUnits]);
  for (int blk = begin; blk < end; blk += NB) {
    GatesOfBlock<S, NB>(a, blk, groups, padded, block_stride, scale);
  }
}

// Blocks blk.. of one step's gates, NB at a time, then the rest by halves (NB a power of two).
template <class S, int NB>
void GatesFrom(const Int8StepArgs& a, int blk, int groups) {
  const int end = blk + (Blocks(a.n_cell) - blk) / NB * NB;
  if (end > blk) GatesOfBlocks<S, NB>(a, blk, end, groups);
  if constexpr (NB > 1) GatesFrom<S, NB / 2>(a, end, groups);
}

template <class S>
void Int8Gates(const Int8StepArgs& a) {
  GatesFrom<S, S::kBlocksAtOnce>(a, 0, (a.n_cell + S::kGroup - 1) / S::kGroup);
}

// K vectors of S as one vector type (kLanes16 = K * S's), each operation applied to the K in
// turn. gemmlowp's activations are long chains of dependent operations: one chain at a time
// leaves the CPU waiting on each result (an out-of-order window holds about two of them), K
// chains written interleaved keep its units busy. Load16 and Store16 take K consecutive vectors.
template <class S, int K>
struct Interleaved {
  using One = typename S::V16;
  using OneMask = decltype(S::CmpEq16(S::Set16(0), S::Set16(0)));
  struct V16 {
    One v[K];
    One& operator[](int k) { return v[k]; }
    const One& operator[](int k) const { return v[k]; }
  };
  struct Mask {
    OneMask v[K];
  };
  static constexpr int kLanes16 = K * S::kLanes16;
  static constexpr bool kMulIfBit = HasMulIfBit<S>::value;

  template <class R, class F>
  TFLSTM_INT8_INLINE static R Each(F f) {
    R r;
    for (int k = 0; k < K; ++k) r.v[k] = f(k);
    return r;
  }
  TFLSTM_INT8_INLINE static V16 Set16(int16_t x) {
    const One v = S::Set16(x);
    return Each<V16>([&](int) { return v; });
  }
  TFLSTM_INT8_INLINE static V16 Load16(const int16_t* p) {
    return Each<V16>([&](int k) { return S::Load16(p + k * S::kLanes16); });
  }
  TFLSTM_INT8_INLINE static void Store16(int16_t* p, const V16& a) {
    for (int k = 0; k < K; ++k) S::Store16(p + k * S::kLanes16, a[k]);
  }
  TFLSTM_INT8_INLINE static V16 Add16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Add16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Sub16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Sub16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 SatAdd16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::SatAdd16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Mul16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Mul16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Mullo16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Mullo16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 And16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::And16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Min16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Min16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Max16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Max16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static Mask CmpGt16(const V16& a, const V16& b) {
    return Each<Mask>([&](int k) { return S::CmpGt16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static Mask CmpLt16(const V16& a, const V16& b) {
    return Each<Mask>([&](int k) { return S::CmpLt16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static Mask CmpEq16(const V16& a, const V16& b) {
    return Each<Mask>([&](int k) { return S::CmpEq16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Select16(const Mask& m, const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::Select16(m.v[k], a[k], b[k]); });
  }
  template <int N>
  TFLSTM_INT8_INLINE static V16 Shl16(const V16& a) {
    return Each<V16>([&](int k) { return S::template Shl16<N>(a[k]); });
  }
  template <int E>
  TFLSTM_INT8_INLINE static V16 DivPot16(const V16& a) {
    return Each<V16>([&](int k) { return S::template DivPot16<E>(a[k]); });
  }
  TFLSTM_INT8_INLINE static V16 HalfSumNonneg16(const V16& a, const V16& b) {
    return Each<V16>([&](int k) { return S::HalfSumNonneg16(a[k], b[k]); });
  }
  TFLSTM_INT8_INLINE static V16 MulIfBit16(const V16& x, const V16& bits, const V16& bit, const V16& m) {
    return Each<V16>([&](int k) { return S::MulIfBit16(x[k], bits[k], bit[k], m[k]); });
  }
  TFLSTM_INT8_INLINE static V16 Lookup16(const int16_t* table, const V16& a) {
    return Each<V16>([&](int k) { return S::Lookup16(table, a[k]); });
  }
  TFLSTM_INT8_INLINE static V16 MulRound16(const V16& a, const V16& b, int shift) {
    return Each<V16>([&](int k) { return S::MulRound16(a[k], b[k], shift); });
  }
  TFLSTM_INT8_INLINE static V16 HiddenOut(const V16& o, const V16& t, QuantizedMultiplier q, int32_t zp) {
    return Each<V16>([&](int k) { return S::HiddenOut(o[k], t[k], q, zp); });
  }
};

// How many vectors S's cell interleaves (S::kInterleave, a power of two; 1 where S does not say).
template <class S, class = void>
struct InterleaveOf : std::integral_constant<int, 1> {};
template <class S>
struct InterleaveOf<S, std::enable_if_t<(S::kInterleave > 1)>> : std::integral_constant<int, S::kInterleave> {};

// body(T) for values i.. of n, T::kLanes16 at a time: T = Interleaved<S, K> while K vectors
// remain, then by halves (K a power of two).
template <class S, int K, class Body>
void InChunks(size_t n, Body body, size_t i = 0) {
  for (; i + K * S::kLanes16 <= n; i += K * S::kLanes16) body(Interleaved<S, K>(), i);
  if constexpr (K > 1) InChunks<S, K / 2>(n, body, i);
}

struct LogisticQ3 {
  template <class T>
  typename T::V16 operator()(T, const typename T::V16& v) const {
    return Fixed<T>::template Logistic<3>(v);
  }
};
template <int N>
struct TanhQ {
  template <class T>
  typename T::V16 operator()(T, const typename T::V16& v) const {
    return Fixed<T>::template Tanh<N>(v);
  }
};

template <class S, class = void>
struct HasLookup16 : std::false_type {};
template <class S>
struct HasLookup16<S, std::enable_if_t<S::kLookup16>> : std::true_type {};

// fn(T) (a Fixed<T> activation) in place over n int16 values, computed.
template <class S, class Fn>
void Compute(int16_t* p, size_t n, Fn fn) {
  InChunks<S, InterleaveOf<S>::value>(n, [&](auto t, size_t i) {
    using T = decltype(t);
    T::Store16(p + i, fn(t, T::Load16(p + i)));
  });
}

// Fn of every int16 input, computed once by S's vector code on first use (a function-local
// static: thread-safe, no heap), indexed from -32768 to 32767; one entry past the end for
// lookups that read two entries at once.
template <class S, class Fn>
const int16_t* TableOf() {
  alignas(64) static int16_t table[65536 + S::kLanes16];
  static const bool kBuilt = [] {
    for (int i = 0; i < 65536; ++i) table[i] = static_cast<int16_t>(i - 32768);
    Compute<S>(table, 65536, Fn());
    return true;
  }();
  static_cast<void>(kBuilt);
  return table + 32768;
}

// Fn's table where S looks values up (kLookup16), which costs less than computing gemmlowp's
// fixed-point activations; else null. Taken once before a loop: each call checks the static's
// guard, and S's loop would reload it every vector.
template <class S, class Fn>
const int16_t* TableIfLookup() {
  if constexpr (HasLookup16<S>::value) {
    return TableOf<S, Fn>();
  } else {
    return nullptr;
  }
}

// fn of v (T: S or Interleaved<S, K>): from `table` (TableIfLookup<S, Fn>()) or computed.
template <class S, class T, class Fn>
TFLSTM_INT8_INLINE typename T::V16 Apply(Fn fn, const int16_t* table, const typename T::V16& v) {
  if constexpr (HasLookup16<S>::value) {
    return T::Lookup16(table, v);
  } else {
    static_cast<void>(table);
    return fn(T(), v);
  }
}

// fn in place over n int16 values: looked up a vector at a time (the gathers overlap without
// help), or computed K vectors interleaved.
template <class S, class Fn>
void Activate(int16_t* p, size_t n, Fn fn) {
  if constexpr (HasLookupInPlace<S>::value) {
    S::LookupInPlace(TableOf<S, Fn>(), p, n);
  } else if constexpr (HasLookup16<S>::value) {
    const int16_t* table = TableOf<S, Fn>();
    for (size_t i = 0; i < n; i += S::kLanes16) S::Store16(p + i, S::Lookup16(table, S::Load16(p + i)));
  } else {
    InChunks<S, InterleaveOf<S>::value>(n, [&](auto t, size_t i) {
      using T = decltype(t);
      T::Store16(p + i, fn(t, T::Load16(p + i)));
    });
  }
}

// The activations, cell update and hidden state (kCellBits = 15 + the cell state's scale
// exponent: tanh's input format): first each gate's activation in place, then the cell, in
// passes short enough that a CPU overlaps the chains of consecutive vectors. For kCellBits
// outside 0..6 TFLite's ApplyTanh writes nothing, and its output stage reads the buffer it
// reuses, which holds the input gate: kCellBits = -1 does the same.
template <class S, int kCellBits>
void Int8Cell(const Int8StepArgs& a) {
  const Int8Params& p = *a.params;
  const size_t padded = static_cast<size_t>(Int8Padded(a.n_cell));
  const int ic_shift = 30 + p.cell_scale;
  // In locals: the loop's int16 stores could alias p.cell_clip, which would reload every
  // parameter and remake its constants each vector.
  const int16_t cell_clip = p.cell_clip;
  const QuantizedMultiplier hidden = p.hidden;
  const int32_t hidden_zp = p.hidden_zp;
  [[maybe_unused]] const int16_t* cell_table = nullptr;
  if constexpr (kCellBits >= 0) cell_table = TableIfLookup<S, TanhQ<kCellBits>>();
  for (int b = 0; b < a.batch; ++b) {
    int16_t* gates = a.gates + b * kGates * padded;
    int16_t* c = a.c + b * padded;
    int16_t* h = a.h_next + b * padded;
    Activate<S>(gates, 2 * padded, LogisticQ3());  // i and f
    Activate<S>(gates + 2 * padded, padded, TanhQ<3>());
    Activate<S>(gates + 3 * padded, padded, LogisticQ3());
    InChunks<S, InterleaveOf<S>::value>(padded, [&](auto t, size_t u) {
      using T = decltype(t);
      using V = typename T::V16;
      const V i_gate = T::Load16(gates + u);
      const V f_gate = T::Load16(gates + padded + u);
      const V c_gate = T::Load16(gates + 2 * padded + u);
      const V o_gate = T::Load16(gates + 3 * padded + u);
      V cell = T::SatAdd16(Fixed<T>::MulRoundQ15(f_gate, T::Load16(c + u)), T::MulRound16(i_gate, c_gate, ic_shift));
      if (cell_clip > 0) {
        cell = T::Max16(T::Min16(cell, T::Set16(cell_clip)), T::Set16(static_cast<int16_t>(-cell_clip)));
      }
      T::Store16(c + u, cell);
      V cell_tanh = i_gate;
      if constexpr (kCellBits >= 0) cell_tanh = Apply<S, T>(TanhQ<kCellBits>(), cell_table, cell);
      T::Store16(h + u, T::HiddenOut(o_gate, cell_tanh, hidden, hidden_zp));
    });
  }
}

template <class S>
void Int8CellOf(const Int8StepArgs& a) {
  switch (15 + a.params->cell_scale) {
    case 0: return Int8Cell<S, 0>(a);
    case 1: return Int8Cell<S, 1>(a);
    case 2: return Int8Cell<S, 2>(a);
    case 3: return Int8Cell<S, 3>(a);
    case 4: return Int8Cell<S, 4>(a);
    case 5: return Int8Cell<S, 5>(a);
    case 6: return Int8Cell<S, 6>(a);
    default: return Int8Cell<S, -1>(a);
  }
}

// Whole vectors over buffers of n values (n a multiple of kLanes16), for the tests: the cell's code.
template <class S>
void Int8Sigmoid(const int16_t* in, int16_t* out, int n) {
  std::copy(in, in + n, out);
  Activate<S>(out, static_cast<size_t>(n), LogisticQ3());
}
template <class S>
void Int8Tanh(int integer_bits, const int16_t* in, int16_t* out, int n) {
  std::copy(in, in + n, out);
  const auto size = static_cast<size_t>(n);
  switch (integer_bits) {
    case 0: return Activate<S>(out, size, TanhQ<0>());
    case 1: return Activate<S>(out, size, TanhQ<1>());
    case 2: return Activate<S>(out, size, TanhQ<2>());
    case 3: return Activate<S>(out, size, TanhQ<3>());
    case 4: return Activate<S>(out, size, TanhQ<4>());
    case 5: return Activate<S>(out, size, TanhQ<5>());
    default: return Activate<S>(out, size, TanhQ<6>());
  }
}

template <class S>
void Int8MulQ15(const int16_t* a, const int16_t* b, int16_t* out, int n) {
  for (int i = 0; i < n; i += S::kLanes16) {
    S::Store16(out + i, Fixed<S>::MulRoundQ15(S::Load16(a + i), S::Load16(b + i)));
  }
}

template <class S>
const Int8Kernels& Int8KernelsFor(rnn::Isa isa) {
  static_assert(kInt8UnitPad % S::kLanes16 == 0 && kBlockUnits % S::kLanes32 == 0, "vector width");
  static const Int8Kernels kernels{rnn::VariantName(Int8Kernels::kFamily, isa),
                                   S::kGroup,
                                   0,
                                   &Int8Project<S>,
                                   &Int8Gates<S>,
                                   &Int8CellOf<S>,
                                   &Int8Sigmoid<S>,
                                   &Int8Tanh<S>,
                                   &Int8MulQ15<S>};
  return kernels;
}

}  // namespace
}  // namespace tflstm::lstm
