// TFLSTM_GRU with a Keras mask (options version 3, input 7): a masked row keeps its state and
// outputs zeros or its previous output, as Keras's backend rnn does. The reference is the op
// itself, unmasked, on each row's kept steps alone (a row's state sees only those), so float32,
// float16 and int8 (hybrid) weights are all held to it; and the operand checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gru_models.h"
#include "mask_cases.h"
#include "op_interp.h"
#include "rnn/gru_options.h"
#include "tensorflow/lite/interpreter.h"
#include "tflstm/model.h"

namespace tflstm {
namespace {

using testing::Build;
using testing::GruSpec;
using testing::RandomInput;

#ifdef TFLSTM_EMULATED
constexpr int kCases = 8;
#else
constexpr int kCases = 30;
#endif

// The masked GRU of `s` (x, [h0], mask) by the unmasked op: each row's kept steps run as one
// batch-1 sequence from the row's initial state (a variable's: the state carried from the last
// invoke, which continues its sequence); y in the layout of `s`, h the final states.
void Reference(const GruSpec& s, const testing::GruWeightsF& w, const std::vector<float>& x,
               const std::vector<float>& h0, const std::vector<uint8_t>& keep, std::vector<float>& y,
               std::vector<float>& h) {
  GruSpec one = s;
  one.batch = 1;
  one.time_major = false;
  one.mask = false;
  one.initial_state = one.final_state = true;
  auto it = Build(testing::GruModel(one, w));
  tflite::Interpreter& in = *it->interpreter;
  const size_t U = s.units;
  const auto row = [&](int t, int b) { return testing::MaskRow(s.batch, s.time, s.time_major, t, b); };
  y.assign(static_cast<size_t>(s.batch) * s.time * U, 0.0f);
  h.assign(h0.begin(), h0.end());
  for (int b = 0; b < s.batch; ++b) {
    std::vector<int> kept;
    for (int t = 0; t < s.time; ++t) {
      if (keep[row(t, b)]) kept.push_back(t);
    }
    std::vector<float> ys;
    if (!kept.empty()) {
      ASSERT_EQ(in.ResizeInputTensor(in.inputs()[0], {1, static_cast<int>(kept.size()), s.n_input}), kTfLiteOk);
      ASSERT_EQ(in.AllocateTensors(), kTfLiteOk);
      for (size_t k = 0; k < kept.size(); ++k) {
        std::memcpy(in.typed_input_tensor<float>(0) + k * s.n_input, x.data() + row(kept[k], b) * s.n_input,
                    s.n_input * sizeof(float));
      }
      std::memcpy(in.typed_input_tensor<float>(1), h0.data() + b * U, U * sizeof(float));
      ASSERT_EQ(in.Invoke(), kTfLiteOk);
      ys.assign(in.typed_output_tensor<float>(0), in.typed_output_tensor<float>(0) + kept.size() * U);
      std::copy_n(in.typed_output_tensor<float>(1), U, h.begin() + b * U);
    }
    std::vector<float> before(U, 0.0f);  // a variable's state continues a sequence, whose last output it is
    if (!s.initial_state) std::copy_n(h0.begin() + b * U, U, before.begin());
    testing::MaskedRowOutputs(s.batch, s.time, s.time_major, b, s.units, keep, ys, before, s.zero_output_for_mask, y);
  }
}

// Random shapes, both reset_after forms, float32/float16/int8 weights, BOOL and FLOAT32 masks,
// both output rules, explicit and variable states, time-major; masks right-padded (Keras's padded
// batches), random, and rows masked throughout.
TEST(GruOp, MaskedStepsKeepTheStateAsKeras) {
  std::mt19937 rng(31);
  for (int i = 0; i < kCases; ++i) {
    GruSpec s;
    s.units = 1 + static_cast<int>(rng() % 40);
    s.n_input = 1 + static_cast<int>(rng() % 10);
    s.batch = 1 + static_cast<int>(rng() % 4);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.reset_after = rng() % 2 == 0;
    s.float16 = i % 3 == 1;
    s.int8 = i % 3 == 2;
    s.mask = true;
    s.float_mask = rng() % 2 == 0;
    s.zero_output_for_mask = rng() % 2 == 0;
    s.initial_state = i % 4 == 1;
    s.final_state = i % 4 != 3;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE("case " + std::to_string(i) + ": batch " + std::to_string(s.batch) + " time " +
                 std::to_string(s.time) + " units " + std::to_string(s.units) + (s.time_major ? " time-major" : "") +
                 (s.reset_after ? " reset_after" : "") + (s.float16 ? " float16" : "") + (s.int8 ? " int8" : "") +
                 (s.float_mask ? " float-mask" : " bool-mask") + (s.zero_output_for_mask ? " zero-output" : "") +
                 (s.initial_state ? " initial-state" : ""));
    const testing::GruWeightsF w = testing::StoredGruWeights(s);
    auto it = Build(testing::GruModel(s, w));
    tflite::Interpreter& in = *it->interpreter;
    std::vector<float> carried(static_cast<size_t>(s.batch) * s.units, 0.0f);
    for (int run = 0; run < 2; ++run) {
      const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
      const std::vector<uint8_t> keep = testing::RandomKeep(s.batch, s.time, s.time_major, rng);
      std::vector<float> h0 = carried;
      if (s.initial_state) {
        h0 = RandomInput(carried.size(), rng);
        std::memcpy(in.typed_input_tensor<float>(1), h0.data(), h0.size() * sizeof(float));
      }
      testing::SetMask(in.tensor(in.inputs().back()), keep);
      std::memcpy(in.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
      ASSERT_EQ(in.Invoke(), kTfLiteOk);
      std::vector<float> want, h;
      Reference(s, w, x, h0, keep, want, h);
      EXPECT_LE(testing::MaxError(in.typed_output_tensor<float>(0), want), 1e-5) << "invoke " << run;
      if (s.final_state) {
        EXPECT_LE(testing::MaxError(in.typed_output_tensor<float>(1), h), 1e-5) << "invoke " << run;
      }
      if (!s.initial_state) carried = h;  // the variable carries the kept state into the next invoke
    }
  }
}

// A masked GRU passes the model validator; a mask of the wrong shape or type, or in a version 2
// op, is refused naming the operand.
TEST(GruOp, MaskOperandsThatBreakTheContractAreRefused) {
  GruSpec s;
  s.units = 6;
  s.n_input = 4;
  s.batch = 2;
  s.mask = true;
  const testing::GruWeightsF w = testing::RandomGruWeights(s);
  const std::vector<char> good = testing::GruModel(s, w);
  ASSERT_TRUE(Model::FromBytes(good.data(), good.size()).ok());
  const auto edited = [&](const auto& edit) {
    auto m = tflite::UnPackModel(testing::GruModel(s, w).data());
    edit(*m);
    return testing::Serialize(*m);
  };
  testing::ExpectRefused(edited([&](tflite::ModelT& m) {
                           testing::MaskTensor(m).shape = {2, 4};
                         }),
                         "TFLSTM_GRU", "input 7 (mask) has shape [2, 4]; it must be [2, 5] (batch, time)");
  testing::ExpectRefused(edited([&](tflite::ModelT& m) { testing::MaskTensor(m).type = tflite::TensorType_INT32; }),
                         "TFLSTM_GRU", "input 7 (mask) is neither BOOL nor FLOAT32");
  testing::ExpectRefused(edited([&](tflite::ModelT& m) {
                           rnn::GruOptions o;
                           o.version = 2;
                           m.subgraphs[0]->operators[0]->custom_options = rnn::GruOptionsBytes(o);
                         }),
                         "TFLSTM_GRU", "8 inputs and 1 outputs; TFLSTM_GRU version 2 takes 6 or 7 inputs");
}

}  // namespace
}  // namespace tflstm
