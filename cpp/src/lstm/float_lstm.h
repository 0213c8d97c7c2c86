// tflstm's float LSTM: weights packed once with the four gates of each block of kBlockUnits
// hidden units interleaved, the input projection of every timestep as one product, then one
// fused pass per step over the recurrent weights (gates, cell update and output together).
// (The op computes the projection 32 steps at a time, so its scratch stays small.)
#pragma once

#include <cstddef>
#include <vector>

#include "rnn/activation.h"
#include "rnn/aligned_vector.h"
#include "rnn/layout.h"
#include "rnn/variants.h"

namespace tflstm::lstm {

using rnn::AlignedVector;

constexpr int kBlockUnits = 8;                     // hidden units per packed block
constexpr int kGates = 4;                          // i, f, c, o: TFLite's order
constexpr int kBlockWidth = kBlockUnits * kGates;  // floats per packed row of a block
using Layout = rnn::Blocked<kGates, kBlockUnits>;  // the recurrence's gate layout

// The cell-gate and output activation (TFLite's `activation` parameter) the fast path runs:
// tanh, relu, relu6 or relu_n1_to_1 for TFLite's op (a model's flatbuffer cannot say sigmoid);
// any rnn::Act for TFLSTM_LSTM, as is its gate function (StepArgs::gate).
using Activation = rnn::Act;

inline int Blocks(int units) { return Layout::Blocks(units); }

// Weights in the packed layout: for block b, row k, gate g, unit j of the block,
// w[((b * rows + k) * kGates + g) * kBlockUnits + j]; units past the last are zero.
struct PackedWeights {
  AlignedVector<float> input;      // [blocks][n_input][kGates][kBlockUnits]
  AlignedVector<float> recurrent;  // [blocks][n_cell][kGates][kBlockUnits]
  AlignedVector<float> bias;       // [blocks][kGates][kBlockUnits]
  void Resize(int n_input, int n_cell);
};

// gates[g] is a [units, cols] row-major matrix (TFLite's layout); fills `out` (packed).
void PackGates(const float* const gates[kGates], int units, int cols, float* out);

// One recurrent step for every batch row: gx rows hold the input projection (bias included)
// in the packed gate layout; h_prev/h_next/c are padded to Blocks(n_cell) * kBlockUnits
// per batch row.
struct StepArgs {
  const float* recurrent;  // PackedWeights::recurrent
  const float* gx;         // batch row 0's input projection for this step
  size_t gx_batch_stride;  // floats from one batch row's projection to the next
  const float* h_prev;
  float* h_next;
  float* c;
  size_t state_stride;  // floats per batch row in h_prev, h_next and c
  int batch;
  int n_cell;
  float cell_clip;  // 0: none
  Activation activation;
  // The i, f and o gates' function: sigmoid for TFLite's LSTM; tflstm's TFLSTM_LSTM also runs
  // Keras's hard_sigmoid (both definitions) and any other activation.
  Activation gate = Activation::kSigmoid;
};

// gx[r] = bias + W_input x[r] for `rows` input rows of n_input floats, in the packed layout
// (Blocks(n_cell) * kBlockWidth floats per row); weights and bias are PackedWeights'.
using ProjectArgs = rnn::ProjectArgs;

// One implementation per instruction set (a family of rnn/variants.h).
struct Kernels {
  static constexpr rnn::Family kFamily = rnn::Family::kLstmFloat;
  const char* name;
  void (*project)(const ProjectArgs&);
  void (*step)(const StepArgs&);
  // The cell update alone: gx holds complete pre-activations (the recurrent part included);
  // `recurrent` and h_prev are not read (the hybrid kernel's last stage).
  void (*update)(const StepArgs&);
};

const Kernels& PortableKernels();
#if defined(__x86_64__) || defined(_M_X64)
const Kernels& Avx2Kernels();    // only for a CPU with AVX2 and FMA
const Kernels& Avx512Kernels();  // only for a CPU with AVX-512F too
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
const Kernels& NeonKernels();
#endif

// The best implementation for this CPU (rnn::Best: AVX-512, AVX2, NEON or portable, as
// TFLSTM_LSTM_ISA allows).
inline const Kernels& BestKernels() { return rnn::Best<Kernels>(); }
// Every implementation this CPU can run, the portable one first (for the tests).
inline std::vector<const Kernels*> KernelsOnThisCpu() { return rnn::OnThisCpu<Kernels>(); }

}  // namespace tflstm::lstm
