// tflstm's full-integer LSTM (int8 activations and weights, int16 cell state: TFLite's
// "8x8_16" kernel, what the converter makes of a model with a representative dataset and int8
// input and output), bit-exact with TFLite 2.14.1's lstm_eval.cc EvalInteger8x8_16.
//
// The arithmetic is TFLite's, step for step: each gate is the input product rescaled and
// saturated to int16, plus the recurrent product rescaled, saturated again (two
// MultiplyByQuantizedMultiplier, double rounding); gemmlowp's fixed-point logistic and tanh on
// int16; the cell update as TFLite's CwiseMul / CwiseAdd / CwiseClipping; the hidden state
// quantized with the hidden intermediate's zero point. What changes is the order of the work:
// weights packed once with the gates of each block of kBlockUnits hidden units interleaved,
// the input half of every gate computed for a chunk of timesteps at once, one pass per step
// over the recurrent weights, the same integer operations vectorized (AVX2, NEON).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "float_lstm.h"  // kBlockUnits, kGates, kBlockWidth, Blocks()
#include "lstm_check.h"
#include "rnn/aligned_vector.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::lstm {

// Hidden units padded to a multiple of kInt8UnitPad in the int16 state and gate buffers, so that
// every instruction set's elementwise pass runs whole vectors (32 int16 lanes with AVX-512).
constexpr int kInt8UnitPad = 32;
inline int Int8Padded(int units) { return (units + kInt8UnitPad - 1) / kInt8UnitPad * kInt8UnitPad; }
// Columns (input features or hidden units) of the int16 copies of x and h, padded to a
// multiple of 4 (the widest packed weight group).
inline int Int8Columns(int cols) { return (cols + 3) / 4 * 4; }

// A TFLite quantized multiplier: MultiplyByQuantizedMultiplier(x, multiplier, shift).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
};

// Per-node parameters, computed as TFLite's Prepare computes them.
struct Int8Params {
  QuantizedMultiplier input[kGates];      // input-to-gate effective scales
  QuantizedMultiplier recurrent[kGates];  // recurrent-to-gate effective scales
  QuantizedMultiplier hidden;             // o * tanh(c) -> the int8 hidden state
  int32_t hidden_zp = 0;
  int cell_scale = -11;   // log2 of the cell state's scale, -20..1
  int16_t cell_clip = 0;  // 0: none
};

// Weights packed for an instruction set that takes `group` columns at a time: for block b,
// column group k, gate g, unit j of the block and column e of the group,
// w[(((b * groups + k) * kGates + g) * kBlockUnits + j) * group + e]; units and columns past
// the last are zero. Biases: [blocks][kGates][kBlockUnits] int32, the zero-point corrections
// folded in as TFLite's PrecomputeZeroPointTimesWeightWithBias does (and the kernel's x_offset).
struct Int8Weights {
  AlignedVector<int8_t> input;
  AlignedVector<int8_t> recurrent;
  AlignedVector<int32_t> input_bias;      // gate bias - input zero point * row sums
  AlignedVector<int32_t> recurrent_bias;  // - output state zero point * row sums
  size_t Bytes() const {
    return input.capacity() + recurrent.capacity() + 4 * (input_bias.capacity() + recurrent_bias.capacity());
  }
};

// gates[g]: [units, cols] row-major int8 (TFLite's layout) -> the packed layout above.
void PackInt8Gates(const int8_t* const gates[kGates], int units, int cols, int group, int8_t* out);
inline size_t PackedInt8Size(int units, int cols, int group) {
  const int groups = (cols + group - 1) / group;
  return static_cast<size_t>(Blocks(units)) * groups * kBlockWidth * group;
}
// bias[g] (may be null) + zero_point * row sums of gates[g], in [blocks][kGates][kBlockUnits].
void Int8EffectiveBias(const int8_t* const gates[kGates], const int32_t* const bias[kGates], int32_t zero_point,
                       int units, int cols, int32_t* out);

// gx[r] = saturate16(MBQM(input_bias + W_input x[r], params.input[g])) for `rows` rows of
// int16 inputs (Int8Columns(n_input) apart), [blocks][kGates][kBlockUnits] int16 per row.
struct Int8ProjectArgs {
  const int16_t* x;
  int rows;
  int n_input;
  int n_cell;
  const int8_t* weights;
  const int32_t* bias;
  const Int8Params* params;
  int16_t* gx;
};

// One step for every batch row. gx rows hold the input halves of the gates; h_prev/h_next are
// the int16 hidden state (Int8Padded(n_cell) per row), c the cell state, gates a scratch of
// kGates * Int8Padded(n_cell) int16 per row. h_next holds the int8 hidden state's values.
struct Int8StepArgs {
  const int8_t* recurrent;
  const int32_t* bias;
  const int16_t* gx;
  size_t gx_batch_stride;  // int16 from one batch row's projection to the next
  const int16_t* h_prev;
  int16_t* h_next;
  int16_t* c;
  int16_t* gates;
  int batch;
  int n_cell;
  const Int8Params* params;
};

// One implementation per instruction set.
struct Int8Kernels {
  static constexpr rnn::Family kFamily = rnn::Family::kLstmInt8;
  const char* name;  // "int8-avx2", ...
  int group;         // columns per packed weight group
  // Added to every int8 column of x and h in the products (VNNI multiplies unsigned by signed
  // bytes); the biases hold -x_offset * each row's sum (Int8EffectiveBias) to take it out.
  int x_offset;
  void (*project)(const Int8ProjectArgs&);
  // One step: the gates' pre-activations into a.gates, then the cell update and hidden state.
  void (*gates)(const Int8StepArgs&);
  void (*cell)(const Int8StepArgs&);
  // gemmlowp's logistic (3 integer bits in) and tanh (`integer_bits` in), for the tests.
  void (*sigmoid)(const int16_t* in, int16_t* out, int n);
  void (*tanh)(int integer_bits, const int16_t* in, int16_t* out, int n);
  // (int16) RoundingDivideByPOT(a * b, 15) for a >= 0: the forget gate times the cell, for the tests.
  void (*mul_q15)(const int16_t* a, const int16_t* b, int16_t* out, int n);
};

const Int8Kernels& PortableInt8Kernels();
#if defined(__x86_64__) || defined(_M_X64)
const Int8Kernels& Avx2Int8Kernels();  // only for a CPU with AVX2
const Int8Kernels& VnniInt8Kernels();  // only for a CPU with AVX-512 VNNI and VL
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
const Int8Kernels& NeonInt8Kernels();
#endif
#if defined(__aarch64__)
const Int8Kernels& DotProdInt8Kernels();  // only for a CPU with DotProd
#endif

// The best implementation for this CPU (TFLSTM_LSTM_ISA=portable forces the portable one).
inline const Int8Kernels& BestInt8Kernels() { return rnn::Best<Int8Kernels>(); }
// Every implementation this CPU can run, the portable one first (for the tests).
inline std::vector<const Int8Kernels*> Int8KernelsOnThisCpu() { return rnn::OnThisCpu<Int8Kernels>(); }

// The op's side (lstm_op.cc): the kernel of one node.
class Int8Lstm {
 public:
  // Whether this kernel runs the (checked) node: TFLite's integer 8x8_16 LSTM with every gate,
  // no peephole, projection or layer norm, constant weights in the model (none -128, which
  // TFLite's NEON product would overflow on, and which tflstm's AVX2 product relies on), a
  // power-of-two cell scale of 2^-20..2^1.
  static bool Covers(const TfLiteContext* context, const TfLiteNode* node);
  // The parameters and packed weights; the output's shape; temporaries first_temporary + 0, 1.
  TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node, const LstmDims& dims, int first_temporary);
  TfLiteStatus Invoke(TfLiteContext* context, TfLiteNode* node) const;
  // "int8-avx512vnni", "int8-avx2", "int8-neon-dotprod", "int8-neon" or "int8-portable".
  const char* Name() const { return kernels_->name; }
  size_t Bytes() const { return weights_ ? weights_->Bytes() : 0; }
  const Int8Weights* weights() const { return weights_.get(); }

 private:
  LstmDims dims_;
  bool time_major_ = false;
  Int8Params params_;
  std::shared_ptr<const Int8Weights> weights_;  // shared by the runners of a model (pack_cache.h)
  const Int8Kernels* kernels_ = nullptr;
};

}  // namespace tflstm::lstm
