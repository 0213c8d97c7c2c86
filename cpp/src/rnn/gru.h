// tflstm's float GRU and SimpleRNN kernels: gate layouts and gate functions on the shared
// recurrence (float_recurrence.h), as the LSTM's. GRU (Keras's: gates z, r, h in that order):
//   z = f(x Wz + bz + h Uz + rz), r = f(x Wr + br + h Ur + rr)
//   reset_after:  h~ = g(x Wh + bh + r * (h Uh + rh))
//   otherwise:    h~ = g(x Wh + bh + (r * h) Uh + rh)
//   h' = z * h + (1 - z) * h~
// with f the recurrent (gate) activation and g the activation. The recurrent biases of z and r
// (and of h without reset_after) are folded into the input projection's at packing. SimpleRNN:
// h' = g(x W + b + h U).
#pragma once

#include <cstddef>
#include <vector>

#include "activation.h"
#include "aligned_vector.h"
#include "layout.h"
#include "variants.h"

namespace tflstm::rnn {

constexpr int kGruGates = 3;   // z, r, h
constexpr int kGruUnits = 16;  // units per packed block: one AVX-512 vector a gate
using GruLayout = Blocked<kGruGates, kGruUnits>;
using GruZrLayout = Blocked<2, kGruUnits>;  // reset_after false: z and r first, ...
using GruHLayout = Blocked<1, kGruUnits>;   // ... then h from r * h
constexpr int kRnnUnits = 32;               // SimpleRNN: one gate, 32 units a block
using RnnLayout = Blocked<1, kRnnUnits>;

// A GRU's weights, packed.
struct GruWeights {
  bool reset_after = true;
  AlignedVector<float> input;             // GruLayout [blocks][n_input][3][16]
  AlignedVector<float> bias;              // GruLayout [blocks][3][16]: input biases, + folded recurrent ones
  AlignedVector<float> recurrent;         // reset_after: GruLayout; otherwise GruZrLayout (z, r)
  AlignedVector<float> recurrent_h;       // reset_after false: GruHLayout (h)
  AlignedVector<float> recurrent_bias_h;  // reset_after: h's recurrent bias, [blocks][16]
  size_t Bytes() const;
};

// Keras's matrices in TFLite's layout: w_input [3 * units, n_input] and w_recurrent
// [3 * units, units], rows z, r, h; biases [3 * units] or null.
GruWeights PackGru(const float* w_input, const float* w_recurrent, const float* b_input, const float* b_recurrent,
                   int n_input, int units, bool reset_after);

// One step for every batch row. gx rows hold the input projection (GruLayout); h_prev/h_next are
// padded to GruLayout::Blocks(n_cell) * kGruUnits floats per batch row (state_stride); `scratch`
// holds 2 * state_stride floats per batch row (reset_after false: z and r * h).
struct GruStepArgs {
  const GruWeights* weights;
  const float* gx;
  size_t gx_batch_stride;
  const float* h_prev;
  float* h_next;
  float* scratch;
  size_t state_stride;
  int batch;
  int n_cell;
  Act gate;  // recurrent_activation
  Act cell;  // activation
};

// The gates and the new h from complete products (the hybrid kernel's last stage, reset_after):
// gx the input projection, rec the recurrent products (h's with its recurrent bias), GruLayout rows.
struct GruUpdateArgs {
  const float* gx;
  size_t gx_batch_stride;
  const float* rec;
  size_t rec_batch_stride;
  const float* h_prev;
  float* h_next;
  size_t state_stride;
  int batch;
  int n_cell;
  Act gate;
  Act cell;
};

struct GruKernels {
  static constexpr Family kFamily = Family::kGruFloat;
  const char* name;
  void (*project)(const ProjectArgs&);  // GruLayout
  void (*step)(const GruStepArgs&);
  void (*update)(const GruUpdateArgs&);
};

// A SimpleRNN's weights, packed in RnnLayout.
struct RnnWeights {
  AlignedVector<float> input;      // [blocks][n_input][32]
  AlignedVector<float> recurrent;  // [blocks][units][32]
  AlignedVector<float> bias;       // [blocks][32]
  size_t Bytes() const { return (input.capacity() + recurrent.capacity() + bias.capacity()) * sizeof(float); }
};

// w_input [units, n_input], w_recurrent [units, units], bias [units] (TFLite's layout).
RnnWeights PackRnn(const float* w_input, const float* w_recurrent, const float* bias, int n_input, int units);

struct RnnStepArgs {
  const float* recurrent;
  const float* gx;
  size_t gx_batch_stride;
  const float* h_prev;
  float* h_next;
  size_t state_stride;  // RnnLayout::Blocks(n_cell) * kRnnUnits
  int batch;
  int n_cell;
  Act activation;
};

struct RnnKernels {
  static constexpr Family kFamily = Family::kRnnFloat;
  const char* name;
  void (*project)(const ProjectArgs&);  // RnnLayout
  void (*step)(const RnnStepArgs&);
};

const GruKernels& PortableGruKernels();
const RnnKernels& PortableRnnKernels();
#if defined(__x86_64__) || defined(_M_X64)
const GruKernels& Avx2GruKernels();    // only for a CPU with AVX2 and FMA
const GruKernels& Avx512GruKernels();  // only for a CPU with AVX-512F too
const RnnKernels& Avx2RnnKernels();
const RnnKernels& Avx512RnnKernels();
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
const GruKernels& NeonGruKernels();
const RnnKernels& NeonRnnKernels();
#endif

}  // namespace tflstm::rnn
