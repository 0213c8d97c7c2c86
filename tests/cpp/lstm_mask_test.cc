// TFLSTM_LSTM with a Keras mask (options version 3, input 8): a masked row keeps its h and c and
// outputs zeros or its previous output, as Keras's backend rnn does. The reference is the op
// itself, unmasked, on each row's kept steps alone (a row's states see only those), so float32,
// float16 and int8 (hybrid) weights are all held to it; and the operand checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lstm_custom_models.h"
#include "mask_cases.h"
#include "op_interp.h"
#include "rnn/lstm_options.h"
#include "tensorflow/lite/interpreter.h"
#include "tflstm/model.h"

namespace tflstm {
namespace {

using testing::Build;
using testing::LstmCustomSpec;
using testing::RandomInput;

#ifdef TFLSTM_EMULATED
constexpr int kCases = 8;
#else
constexpr int kCases = 30;
#endif

// The masked LSTM of `s` (x, [h0, c0], mask) by the unmasked op: each row's kept steps run as one
// batch-1 sequence from the row's initial states (the variables': the states carried from the
// last invoke, which continue its sequence); y in the layout of `s`, h and c the final states.
void Reference(const LstmCustomSpec& s, const testing::LstmCustomWeights& w, const std::vector<float>& x,
               const std::vector<float>& h0, const std::vector<float>& c0, const std::vector<uint8_t>& keep,
               std::vector<float>& y, std::vector<float>& h, std::vector<float>& c) {
  LstmCustomSpec one = s;
  one.batch = 1;
  one.time_major = false;
  one.mask = false;
  one.initial_state = true;
  one.final_state = 1;
  auto it = Build(testing::CustomModel(one, w));
  tflite::Interpreter& in = *it->interpreter;
  const size_t U = s.units;
  const auto row = [&](int t, int b) { return testing::MaskRow(s.batch, s.time, s.time_major, t, b); };
  y.assign(static_cast<size_t>(s.batch) * s.time * U, 0.0f);
  h.assign(h0.begin(), h0.end());
  c.assign(c0.begin(), c0.end());
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
      std::memcpy(in.typed_input_tensor<float>(2), c0.data() + b * U, U * sizeof(float));
      ASSERT_EQ(in.Invoke(), kTfLiteOk);
      ys.assign(in.typed_output_tensor<float>(0), in.typed_output_tensor<float>(0) + kept.size() * U);
      std::copy_n(in.typed_output_tensor<float>(1), U, h.begin() + b * U);
      std::copy_n(in.typed_output_tensor<float>(2), U, c.begin() + b * U);
    }
    std::vector<float> before(U, 0.0f);  // variables continue a sequence, whose last output is their h
    if (!s.initial_state) std::copy_n(h0.begin() + b * U, U, before.begin());
    testing::MaskedRowOutputs(s.batch, s.time, s.time_major, b, s.units, keep, ys, before, s.zero_output_for_mask, y);
  }
}

// Random shapes, hard_sigmoid and sigmoid gates, float32/float16/int8 weights, BOOL and FLOAT32
// masks, both output rules, explicit and variable states, time-major; masks right-padded (Keras's
// padded batches), random, and rows masked throughout.
TEST(LstmMask, MaskedStepsKeepBothStatesAsKeras) {
  std::mt19937 rng(37);
  for (int i = 0; i < kCases; ++i) {
    LstmCustomSpec s;
    s.units = 1 + static_cast<int>(rng() % 40);
    s.n_input = 1 + static_cast<int>(rng() % 10);
    s.batch = 1 + static_cast<int>(rng() % 4);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.bias = rng() % 4 != 0;
    s.gate = rng() % 2 == 0 ? rnn::Act::kHardSigmoid : rnn::Act::kSigmoid;
    s.float16 = i % 3 == 1;
    s.int8 = i % 3 == 2;
    s.mask = true;
    s.float_mask = rng() % 2 == 0;
    s.zero_output_for_mask = rng() % 2 == 0;
    s.initial_state = i % 4 == 1;
    s.final_state = i % 4 == 3 ? 0 : 1;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE("case " + std::to_string(i) + ": " + testing::Describe(s));
    const testing::LstmCustomWeights w = testing::StoredWeights(s);
    auto it = Build(testing::CustomModel(s, w));
    tflite::Interpreter& in = *it->interpreter;
    const size_t states = static_cast<size_t>(s.batch) * s.units;
    std::vector<float> carried_h(states, 0.0f), carried_c(states, 0.0f);
    for (int run = 0; run < 2; ++run) {
      const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
      const std::vector<uint8_t> keep = testing::RandomKeep(s.batch, s.time, s.time_major, rng);
      std::vector<float> h0 = carried_h, c0 = carried_c;
      if (s.initial_state) {
        h0 = RandomInput(states, rng);
        c0 = RandomInput(states, rng);
        std::memcpy(in.typed_input_tensor<float>(1), h0.data(), states * sizeof(float));
        std::memcpy(in.typed_input_tensor<float>(2), c0.data(), states * sizeof(float));
      }
      testing::SetMask(in.tensor(in.inputs().back()), keep);
      std::memcpy(in.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
      ASSERT_EQ(in.Invoke(), kTfLiteOk);
      std::vector<float> want, h, c;
      Reference(s, w, x, h0, c0, keep, want, h, c);
      EXPECT_LE(testing::MaxError(in.typed_output_tensor<float>(0), want), 1e-5) << "invoke " << run;
      if (s.final_state) {
        EXPECT_LE(testing::MaxError(in.typed_output_tensor<float>(1), h), 1e-5) << "invoke " << run;
        EXPECT_LE(testing::MaxError(in.typed_output_tensor<float>(2), c), 1e-5) << "invoke " << run;
      }
      if (!s.initial_state) {  // the variables carry the kept states into the next invoke
        ASSERT_EQ(in.variables().size(), 2u);
        EXPECT_LE(testing::MaxError(in.tensor(in.variables()[0])->data.f, h), 1e-5) << "invoke " << run;
        EXPECT_LE(testing::MaxError(in.tensor(in.variables()[1])->data.f, c), 1e-5) << "invoke " << run;
        carried_h = h;
        carried_c = c;
      }
    }
  }
}

// A masked LSTM passes the model validator; a mask of the wrong shape or type, or in a version 2
// op, is refused naming the operand (the GRU's mask checks, input 8).
TEST(LstmMask, MaskOperandsThatBreakTheContractAreRefused) {
  LstmCustomSpec s;
  s.units = 6;
  s.n_input = 4;
  s.batch = 2;
  s.mask = true;
  const testing::LstmCustomWeights w = testing::StoredWeights(s);
  const std::vector<char> good = testing::CustomModel(s, w);
  ASSERT_TRUE(Model::FromBytes(good.data(), good.size()).ok());
  const auto edited = [&](const auto& edit) {
    auto m = tflite::UnPackModel(testing::CustomModel(s, w).data());
    edit(*m);
    return testing::Serialize(*m);
  };
  testing::ExpectRefused(edited([&](tflite::ModelT& m) {
                           testing::MaskTensor(m).shape = {2, 4};
                         }),
                         "TFLSTM_LSTM", "input 8 (mask) has shape [2, 4]; it must be [2, 5] (batch, time)");
  testing::ExpectRefused(edited([&](tflite::ModelT& m) { testing::MaskTensor(m).type = tflite::TensorType_INT32; }),
                         "TFLSTM_LSTM", "input 8 (mask) is neither BOOL nor FLOAT32");
  testing::ExpectRefused(edited([&](tflite::ModelT& m) {
                           rnn::LstmOptions o;
                           o.version = 2;
                           m.subgraphs[0]->operators[0]->custom_options = rnn::LstmOptionsBytes(o);
                         }),
                         "TFLSTM_LSTM", "9 inputs and 1 outputs; TFLSTM_LSTM version 2 takes 6 or 8 inputs");
}

}  // namespace
}  // namespace tflstm
