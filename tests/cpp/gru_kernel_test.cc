// tflstm's fused GRU (the TFLSTM_GRU custom op) against a scalar GRU in double precision and
// against TFLite running the same GRU unrolled into builtin ops; its SimpleRNN kernel
// (UNIDIRECTIONAL_SEQUENCE_RNN) against TFLite's; each instruction set's kernels against the
// portable ones; the op's operand checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "gru_models.h"
#include "lstm/hybrid_lstm.h"
#include "op_interp.h"
#include "rnn/gru.h"
#include "rnn/recurrent_ops.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm {
namespace {

using testing::GruSpec;
using testing::RnnSpec;

constexpr int kGruHiddenIndex = rnn::kGruHidden;

#ifdef TFLSTM_EMULATED
constexpr int kRandomCases = 10;  // qemu runs 10-30x slower
#else
constexpr int kRandomCases = 40;
#endif

constexpr rnn::Act kActs[] = {
    rnn::Act::kTanh,    rnn::Act::kRelu,   rnn::Act::kRelu6,       rnn::Act::kReluN1To1,
    rnn::Act::kSigmoid, rnn::Act::kLinear, rnn::Act::kHardSigmoid, rnn::Act::kHardSigmoidRelu6};

constexpr rnn::Act kGateActs[] = {rnn::Act::kSigmoid, rnn::Act::kHardSigmoid, rnn::Act::kHardSigmoidRelu6};

using testing::Build;
using testing::Interp;
using testing::NodeKernel;

template <class K>
std::string Expected() {
  const char* isa = std::getenv("TFLSTM_LSTM_ISA");
  const std::string best = rnn::Best<K>().name;
  return isa != nullptr && std::string(isa) == "portable" ? best.substr(0, best.find('-') + 1) + "portable" : best;
}

using testing::MaxError;
using testing::RandomInput;

std::string Describe(const GruSpec& s) {
  return "batch " + std::to_string(s.batch) + " time " + std::to_string(s.time) + " features " +
         std::to_string(s.n_input) + " units " + std::to_string(s.units) + (s.time_major ? " time-major" : "") +
         (s.reset_after ? " reset_after" : " reset_before") + (s.input_bias ? " input-bias" : "") +
         (s.recurrent_bias ? " recurrent-bias" : "") + " activation " + rnn::ActName(s.activation) + " gates " +
         rnn::ActName(s.recurrent_activation);
}

// Random shapes, both reset_after forms, every bias variant and activation pair: the op, over two
// invokes that carry the state, against the scalar GRU in double precision.
TEST(GruOp, RandomConfigurationsMatchTheScalarReference) {
  std::mt19937 rng(20261207);
  const int units[] = {1, 3, 8, 15, 16, 17, 31, 33, 64};
  for (int i = 0; i < kRandomCases; ++i) {
    GruSpec s;
    s.units = units[rng() % (sizeof(units) / sizeof(units[0]))];
    s.n_input = 1 + static_cast<int>(rng() % 20);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 45);  // past the projection's chunk of 32 steps
    s.time_major = rng() % 3 == 0;
    s.reset_after = rng() % 2 == 0;
    s.input_bias = rng() % 4 != 0;
    s.recurrent_bias = rng() % 3 != 0;
    if (i % 2 == 1) {  // gates of [0, 1], as a GRU needs (others make h grow or oscillate without bound)
      s.activation = kActs[rng() % 8];
      s.recurrent_activation = kGateActs[rng() % 3];
    }
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    const testing::GruWeightsF w = testing::StoredGruWeights(s);
    auto it = Build(testing::GruModel(s, w));
    tflite::Interpreter& interp = *it->interpreter;
    ASSERT_EQ(NodeKernel(interp), Expected<rnn::GruKernels>());
    std::vector<double> h(static_cast<size_t>(s.batch) * s.units, 0.0);
    for (int run = 0; run < 2; ++run) {
      const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
      std::memcpy(interp.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
      ASSERT_EQ(interp.Invoke(), kTfLiteOk);
      const std::vector<double> want = testing::GruReference(s, w, x, h);
      EXPECT_LE(MaxError(interp.typed_output_tensor<float>(0), want), 2e-5) << "invoke " << run;
      EXPECT_LE(MaxError(interp.tensor(interp.variables()[0])->data.f, h), 2e-5) << "state after invoke " << run;
    }
  }
}

// TFLite's own arithmetic as the reference: the GRU unrolled into FULLY_CONNECTED, SPLIT, ADD,
// MUL, SUB, LOGISTIC, TANH, RELU (hard sigmoids as MUL, ADD, MINIMUM, MAXIMUM and RELU6) and PACK.
TEST(GruOp, MatchesTflitesUnrolledBuiltinGraph) {
  struct Case {
    bool reset_after, input_bias, recurrent_bias;
    rnn::Act activation, gates;
  };
  const Case cases[] = {
      {true, true, true, rnn::Act::kTanh, rnn::Act::kSigmoid},
      {false, true, false, rnn::Act::kTanh, rnn::Act::kSigmoid},
      {false, true, true, rnn::Act::kTanh, rnn::Act::kSigmoid},
      {true, false, false, rnn::Act::kTanh, rnn::Act::kHardSigmoid},
      {true, true, true, rnn::Act::kRelu, rnn::Act::kHardSigmoidRelu6},
      {false, true, false, rnn::Act::kRelu6, rnn::Act::kHardSigmoid},
      {true, true, false, rnn::Act::kLinear, rnn::Act::kSigmoid},
  };
  std::mt19937 rng(3);
  for (const Case& c : cases) {
    GruSpec s;
    s.batch = 2;
    s.time = 9;
    s.n_input = 5;
    s.units = 21;
    s.reset_after = c.reset_after;
    s.input_bias = c.input_bias;
    s.recurrent_bias = c.recurrent_bias;
    s.activation = c.activation;
    s.recurrent_activation = c.gates;
    SCOPED_TRACE(Describe(s));
    const testing::GruWeightsF w = testing::RandomGruWeights(s);
    auto ours = Build(testing::GruModel(s, w));
    auto ref = Build(testing::GruUnrolledModel(s, w), LstmKernel::kTflite);
    const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
    for (Interp* it : {ours.get(), ref.get()}) {
      std::memcpy(it->interpreter->typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
      ASSERT_EQ(it->interpreter->Invoke(), kTfLiteOk);
    }
    const float* want = ref->interpreter->typed_output_tensor<float>(0);
    const std::vector<float> expected(want, want + static_cast<size_t>(s.batch) * s.time * s.units);
    EXPECT_LE(MaxError(ours->interpreter->typed_output_tensor<float>(0), expected), 1e-5);
  }
}

// The state carries across invokes: a sequence fed one step per invoke gives the whole
// sequence's outputs and state.
TEST(GruOp, OneStepPerInvokeContinuesTheSequence) {
  for (const bool reset_after : {true, false}) {
    GruSpec s;
    s.batch = 2;
    s.time = 11;
    s.units = 19;
    s.n_input = 4;
    s.reset_after = reset_after;
    const testing::GruWeightsF w = testing::RandomGruWeights(s);
    auto whole = Build(testing::GruModel(s, w));
    GruSpec one_step = s;
    one_step.time = 1;
    auto step = Build(testing::GruModel(one_step, w));
    std::mt19937 rng(5);
    const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
    testing::ExpectStepsContinueTheSequence(*whole->interpreter, *step->interpreter, x, s.batch, s.time, s.n_input,
                                            s.units);
  }
}

// Feeds `it` random input twice (carrying the state) and returns the worst error against
// reference(x, h) (h: the state, carried by the reference).
template <class Reference>
double WorstAgainst(tflite::Interpreter& interp, const GruSpec& s, std::mt19937& rng, Reference&& reference) {
  std::vector<double> h(static_cast<size_t>(s.batch) * s.units, 0.0);
  double worst = 0;
  for (int run = 0; run < 2; ++run) {
    const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
    std::memcpy(interp.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
    EXPECT_EQ(interp.Invoke(), kTfLiteOk);
    const std::vector<double> want = reference(x, h);
    worst = std::max(worst, MaxError(interp.typed_output_tensor<float>(0), want));
    worst = std::max(worst, MaxError(interp.tensor(interp.variables()[0])->data.f, h));
  }
  return worst;
}

// float16 weights (DEQUANTIZE makes them float32 once): the float kernel on their values.
TEST(GruOp, Float16WeightsMatchTheScalarReference) {
  for (const bool reset_after : {true, false}) {
    GruSpec s;
    s.batch = 2;
    s.time = 20;
    s.n_input = 6;
    s.units = 24;
    s.reset_after = reset_after;
    s.float16 = true;
    SCOPED_TRACE(Describe(s));
    const testing::GruWeightsF w = testing::StoredGruWeights(s);
    auto it = Build(testing::GruModel(s, w));
    ASSERT_EQ(NodeKernel(*it->interpreter), Expected<rnn::GruKernels>());
    std::mt19937 rng(8);
    EXPECT_LE(WorstAgainst(*it->interpreter, s, rng,
                           [&](const std::vector<float>& x, std::vector<double>& h) {
                             return testing::GruReference(s, w, x, h);
                           }),
              2e-5);
  }
}

// The hybrid GRU's arithmetic in scalar code: x and h quantized per row, asymmetrically (lstm::
// QuantizeRow with the portable kernels, TFLite's quantization), the int32 products rescaled and
// the gates computed in double.
std::vector<double> HybridGruReference(const GruSpec& s, const testing::GruWeightsF& w, const std::vector<float>& x,
                                       std::vector<double>& h) {
  testing::GruWeightsF values = w;
  const testing::StoredMatrix mw = testing::Store(s, values.w), mu = testing::Store(s, values.u);
  const lstm::HybridKernels& k = lstm::PortableHybridKernels();
  const int U = s.units, I = s.n_input;
  std::vector<double> y(static_cast<size_t>(s.batch) * s.time * U);
  const auto quantize = [&](const float* v, int n, std::vector<int8_t>* q, float* scale, int32_t* offset) {
    q->assign(lstm::PadCols(n), 0);
    lstm::QuantizeRow(k, v, n, lstm::PadCols(n), /*asymmetric=*/true, q->data(), scale, offset);
  };
  // (dot(q_w row r, q) - offset * sum(q_w row r)) * scale * w_scale.
  const auto product = [](const std::vector<int8_t>& qw, int r, int n, const std::vector<int8_t>& q, int32_t offset,
                          double scale) {
    int64_t dot = 0, sum = 0;
    for (int c = 0; c < n; ++c)
      dot += qw[static_cast<size_t>(r) * n + c] * q[c], sum += qw[static_cast<size_t>(r) * n + c];
    return static_cast<double>(dot - sum * offset) * scale;
  };
  for (int b = 0; b < s.batch; ++b) {
    for (int t = 0; t < s.time; ++t) {
      const size_t row = s.time_major ? static_cast<size_t>(t) * s.batch + b : static_cast<size_t>(b) * s.time + t;
      std::vector<float> hf(h.begin() + b * U, h.begin() + (b + 1) * U);
      std::vector<int8_t> qx, qh;
      float xs, hs;
      int32_t xo, ho;
      quantize(x.data() + row * I, I, &qx, &xs, &xo);
      quantize(hf.data(), U, &qh, &hs, &ho);
      std::vector<double> gx(3 * U), gh(3 * U);
      for (int r = 0; r < 3 * U; ++r) {
        const double b_rec = w.b_rec.empty() ? 0.0 : w.b_rec[r];
        gx[r] = (w.b_in.empty() ? 0.0 : w.b_in[r]) + (r < 2 * U ? b_rec : 0.0) +
                product(mw.q, r, I, qx, xo, static_cast<double>(xs) * mw.scale);
        gh[r] = (r < 2 * U ? 0.0 : b_rec) + product(mu.q, r, U, qh, ho, static_cast<double>(hs) * mu.scale);
      }
      for (int u = 0; u < U; ++u) {
        const double z = testing::ActRef(s.recurrent_activation, gx[u] + gh[u]);
        const double r = testing::ActRef(s.recurrent_activation, gx[U + u] + gh[U + u]);
        const double cand = testing::ActRef(s.activation, gx[2 * U + u] + r * gh[2 * U + u]);
        h[b * U + u] = z * h[b * U + u] + (1 - z) * cand;
        y[row * U + u] = h[b * U + u];
      }
    }
  }
  return y;
}

// int8 weights (one scale a tensor): with reset_after, the hybrid kernel against the scalar
// hybrid arithmetic, and within the activations' quantization error of the float GRU on the
// weights' values; without, the float kernel on the dequantized weights.
TEST(GruOp, Int8WeightsRunTheHybridKernel) {
  std::mt19937 rng(21);
  const int units[] = {5, 16, 21, 40};
  for (int i = 0; i < 12; ++i) {
    GruSpec s;
    s.units = units[i % 4];
    s.n_input = 1 + static_cast<int>(rng() % 20);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = i % 3 == 2;
    s.reset_after = i % 4 != 3;
    s.input_bias = i % 5 != 1;
    s.recurrent_bias = i % 6 != 2;
    s.int8 = true;
    if (i % 2 == 1) s.recurrent_activation = rnn::Act::kHardSigmoid;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    const testing::GruWeightsF w = testing::StoredGruWeights(s);
    auto it = Build(testing::GruModel(s, w));
    std::mt19937 inputs(static_cast<unsigned>(i));
    if (!s.reset_after) {
      ASSERT_EQ(NodeKernel(*it->interpreter), Expected<rnn::GruKernels>());
      EXPECT_LE(WorstAgainst(*it->interpreter, s, inputs,
                             [&](const std::vector<float>& x, std::vector<double>& h) {
                               return testing::GruReference(s, w, x, h);
                             }),
                2e-5);
      continue;
    }
    const char* isa = std::getenv("TFLSTM_LSTM_ISA");
    const std::string hybrid =
        isa != nullptr && std::string(isa) == "portable" ? "hybrid-portable" : lstm::BestHybridKernels().name;
    ASSERT_EQ(NodeKernel(*it->interpreter), "gru-" + hybrid);
    EXPECT_LE(WorstAgainst(
                  *it->interpreter, s, inputs,
                  [&](const std::vector<float>& x, std::vector<double>& h) { return HybridGruReference(s, w, x, h); }),
              1e-4);
    ASSERT_EQ(it->interpreter->ResetVariableTensors(), kTfLiteOk);  // the same inputs again, from h = 0
    std::mt19937 again(static_cast<unsigned>(i));
    EXPECT_LE(WorstAgainst(*it->interpreter, s, again,
                           [&](const std::vector<float>& x, std::vector<double>& h) {
                             return testing::GruReference(s, w, x, h);
                           }),
              3e-2);
  }
}

// Each of this CPU's GRU and SimpleRNN kernels (AVX2 and AVX-512 on x86, NEON on ARM) computes
// what the portable one does, to float rounding: a projection and a step over odd sizes (a last
// block of 3 units), two batch rows, both reset_after forms and every activation.
TEST(GruKernels, EveryInstructionSetMatchesThePortableOne) {
  constexpr int kUnits = 35, kInput = 11, kRows = 13, kBatch = 2;
  std::mt19937 rng(13);
  GruSpec s;
  s.units = kUnits;
  s.n_input = kInput;
  const testing::GruWeightsF w = testing::RandomGruWeights(s);
  const size_t row = rnn::GruLayout::Row(kUnits);
  const size_t stride = static_cast<size_t>(rnn::GruLayout::Blocks(kUnits)) * rnn::kGruUnits;
  const std::vector<float> x = RandomInput(static_cast<size_t>(kRows) * kInput, rng);
  std::vector<float> h_prev(kBatch * stride, 0.0f);
  for (int b = 0; b < kBatch; ++b) {
    for (int u = 0; u < kUnits; ++u) h_prev[b * stride + u] = 0.8f * std::sin(1.0f + b + 0.7f * u);
  }
  for (const bool reset_after : {true, false}) {
    const rnn::GruWeights packed =
        rnn::PackGru(w.w.data(), w.u.data(), w.b_in.data(), w.b_rec.data(), kInput, kUnits, reset_after);
    const auto run = [&](const rnn::GruKernels& k, rnn::Act gate, rnn::Act cell, std::vector<float>* gx) {
      gx->assign(kRows * row, 0.0f);
      k.project({x.data(), kRows, kInput, kUnits, packed.input.data(), packed.bias.data(), gx->data()});
      std::vector<float> h(kBatch * stride, 0.0f), scratch(2 * kBatch * stride, 0.0f);
      k.step({&packed, gx->data(), row, h_prev.data(), h.data(), scratch.data(), stride, kBatch, kUnits, gate, cell});
      return h;
    };
    for (const rnn::Act gate : kActs) {
      for (const rnn::Act cell : {rnn::Act::kTanh, rnn::Act::kRelu, rnn::Act::kHardSigmoid}) {
        std::vector<float> gx_want, gx_got;
        const std::vector<float> want = run(rnn::PortableGruKernels(), gate, cell, &gx_want);
        for (const rnn::GruKernels* k : rnn::OnThisCpu<rnn::GruKernels>()) {
          const std::vector<float> got = run(*k, gate, cell, &gx_got);
          const std::string what = std::string(k->name) + (reset_after ? " reset_after" : " reset_before") + " gates " +
                                   rnn::ActName(gate) + " cell " + rnn::ActName(cell);
          for (size_t i = 0; i < gx_want.size(); ++i) {
            ASSERT_NEAR(gx_got[i], gx_want[i], 2e-6f * std::max(1.0f, std::abs(gx_want[i]))) << what << " gx " << i;
          }
          for (int b = 0; b < kBatch; ++b) {
            for (int u = 0; u < kUnits; ++u) {
              const float v = want[b * stride + u];
              ASSERT_NEAR(got[b * stride + u], v, 2e-6f * std::max(1.0f, std::abs(v))) << what << " h " << u;
            }
          }
        }
      }
    }
  }
  // The hybrid kernel's last stage: the gates from complete products.
  std::vector<float> gx_any = RandomInput(kBatch * row, rng), rec_any = RandomInput(kBatch * row, rng);
  for (const rnn::Act gate : kGateActs) {
    const auto update = [&](const rnn::GruKernels& k) {
      std::vector<float> h(kBatch * stride, 0.0f);
      k.update({gx_any.data(), row, rec_any.data(), row, h_prev.data(), h.data(), stride, kBatch, kUnits, gate,
                rnn::Act::kTanh});
      return h;
    };
    const std::vector<float> want = update(rnn::PortableGruKernels());
    for (const rnn::GruKernels* k : rnn::OnThisCpu<rnn::GruKernels>()) {
      const std::vector<float> got = update(*k);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 2e-6f * std::max(1.0f, std::abs(want[i]))) << k->name << " update " << i;
      }
    }
  }
  // SimpleRNN.
  const size_t rnn_row = rnn::RnnLayout::Row(kUnits);
  const size_t rnn_stride = rnn_row;
  const rnn::RnnWeights packed = rnn::PackRnn(w.w.data(), w.u.data(), w.b_in.data(), kInput, kUnits);
  std::vector<float> h0(kBatch * rnn_stride, 0.0f);
  for (int b = 0; b < kBatch; ++b) {
    for (int u = 0; u < kUnits; ++u) h0[b * rnn_stride + u] = 0.8f * std::cos(2.0f + b + 0.3f * u);
  }
  for (const rnn::Act act : kActs) {
    const auto run = [&](const rnn::RnnKernels& k) {
      std::vector<float> gx(kRows * rnn_row), h(kBatch * rnn_stride, 0.0f);
      k.project({x.data(), kRows, kInput, kUnits, packed.input.data(), packed.bias.data(), gx.data()});
      k.step({packed.recurrent.data(), gx.data(), rnn_row, h0.data(), h.data(), rnn_stride, kBatch, kUnits, act});
      gx.insert(gx.end(), h.begin(), h.end());
      return gx;
    };
    const std::vector<float> want = run(rnn::PortableRnnKernels());
    for (const rnn::RnnKernels* k : rnn::OnThisCpu<rnn::RnnKernels>()) {
      const std::vector<float> got = run(*k);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 2e-6f * std::max(1.0f, std::abs(want[i])))
            << k->name << " activation " << rnn::ActName(act) << " value " << i;
      }
    }
  }
}

// Options version 2: h from an initial-state input (every invoke starts from it; no variable
// carries it) and h after the last step as a second output, against the scalar GRU; float32,
// float16 and int8 (hybrid) weights, both reset_after forms, time-major too.
TEST(GruOp, ExplicitStatesMatchTheScalarReference) {
  std::mt19937 rng(30);
  for (int i = 0; i < kRandomCases / 2; ++i) {
    GruSpec s;
    s.units = 1 + static_cast<int>(rng() % 40);
    s.n_input = 1 + static_cast<int>(rng() % 12);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.reset_after = rng() % 2 == 0;
    s.float16 = i % 5 == 1;
    s.int8 = i % 5 == 2;
    s.initial_state = i % 4 != 3;  // else a variable with the final-state output
    s.final_state = i % 4 != 2;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s) + (s.initial_state ? " initial-state" : "") + (s.final_state ? " final-state" : "") +
                 (s.float16 ? " float16" : "") + (s.int8 ? " int8" : ""));
    const testing::GruWeightsF w = testing::StoredGruWeights(s);
    auto it = Build(testing::GruModel(s, w));
    tflite::Interpreter& interp = *it->interpreter;
    EXPECT_EQ(interp.variables().size(), s.initial_state ? 0u : 1u);
    const size_t n = static_cast<size_t>(s.batch) * s.units;
    std::vector<double> carried(n, 0.0);
    const bool hybrid = s.int8 && s.reset_after;  // the hybrid kernel's own arithmetic as the reference
    const double bound = hybrid ? 1e-4 : 2e-5;
    for (int run = 0; run < 2; ++run) {
      const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
      std::memcpy(interp.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
      std::vector<double> h = carried;
      if (s.initial_state) {
        const std::vector<float> h0 = RandomInput(n, rng);
        std::memcpy(interp.typed_input_tensor<float>(1), h0.data(), n * sizeof(float));
        h.assign(h0.begin(), h0.end());
      }
      ASSERT_EQ(interp.Invoke(), kTfLiteOk);
      const std::vector<double> want = hybrid ? HybridGruReference(s, w, x, h) : testing::GruReference(s, w, x, h);
      EXPECT_LE(MaxError(interp.typed_output_tensor<float>(0), want), bound) << "invoke " << run;
      if (s.final_state) {
        ASSERT_EQ(interp.output_tensor(1)->dims->size, 2);
        EXPECT_EQ(interp.output_tensor(1)->dims->data[0], s.batch);
        EXPECT_EQ(interp.output_tensor(1)->dims->data[1], s.units);
        EXPECT_LE(MaxError(interp.typed_output_tensor<float>(1), h), bound) << "final state " << run;
      }
      if (!s.initial_state) {
        EXPECT_LE(MaxError(interp.tensor(interp.variables()[0])->data.f, h), bound) << "variable " << run;
        carried = h;
      }
    }
  }
}

// A model with explicit states passes the model validator, and a resize to another length and
// batch gives the final state the shape [batch, units].
TEST(GruOp, ExplicitStatesPassTheValidatorAndResize) {
  GruSpec s;
  s.units = 5;
  s.n_input = 3;
  s.initial_state = s.final_state = true;
  const testing::GruWeightsF w = testing::StoredGruWeights(s);
  const std::vector<char> bytes = testing::GruModel(s, w);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::mt19937 rng(3);
  for (const auto& [batch, time] : {std::pair{1, 5}, std::pair{3, 17}}) {
    GruSpec r = s;
    r.batch = batch;
    r.time = time;
    const std::vector<float> x = RandomInput(static_cast<size_t>(batch) * time * s.n_input, rng);
    const std::vector<float> h0 = RandomInput(static_cast<size_t>(batch) * s.units, rng);
    std::vector<double> h(h0.begin(), h0.end());
    const std::vector<double> want = testing::GruReference(r, w, x, h);
    auto interp = Build(bytes);
    tflite::Interpreter& in = *interp->interpreter;
    ASSERT_EQ(in.ResizeInputTensor(in.inputs()[0], {batch, time, s.n_input}), kTfLiteOk);
    ASSERT_EQ(in.ResizeInputTensor(in.inputs()[1], {batch, s.units}), kTfLiteOk);
    ASSERT_EQ(in.AllocateTensors(), kTfLiteOk);
    std::memcpy(in.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
    std::memcpy(in.typed_input_tensor<float>(1), h0.data(), h0.size() * sizeof(float));
    ASSERT_EQ(in.Invoke(), kTfLiteOk);
    EXPECT_LE(MaxError(in.typed_output_tensor<float>(0), want), 2e-5);
    ASSERT_EQ(in.output_tensor(1)->dims->data[0], batch);
    EXPECT_LE(MaxError(in.typed_output_tensor<float>(1), h), 2e-5);
  }
}

// A model's TFLSTM_GRU with operands or options that break the op's contract is refused with
// kInvalidModel by the validator, naming the operand; the op's Prepare says the same where no
// validator ran (a bare interpreter).
TEST(GruOp, OperandsThatBreakTheContractAreRefused) {
  GruSpec s;
  s.units = 6;
  s.n_input = 4;
  const testing::GruWeightsF w = testing::RandomGruWeights(s);
  struct Case {
    std::string what, message;
    std::vector<char> bytes;
  };
  std::vector<Case> cases;
  {
    testing::GruWeightsF bad = w;
    bad.u.resize(bad.u.size() - s.units);  // [3 * units - 1, units]
    auto m = tflite::UnPackModel(testing::GruModel(s, w).data());
    for (auto& t : m->subgraphs[0]->tensors) {
      if (t->name == "u") t->shape = {3 * s.units - 1, s.units};
      if (t->name == "u") m->buffers[t->buffer]->data.resize(bad.u.size() * sizeof(float));
    }
    cases.push_back({"recurrent weights of the wrong shape", "input 2 (recurrent weights) has shape [17, 6]",
                     testing::Serialize(*m)});
  }
  {
    auto m = tflite::UnPackModel(testing::GruModel(s, w).data());
    for (auto& t : m->subgraphs[0]->tensors) {
      if (t->name == "h") t->is_variable = false;
    }
    cases.push_back({"a hidden state that is not a variable", "input 5 (hidden state) is not a variable tensor",
                     testing::Serialize(*m)});
  }
  {
    auto m = tflite::UnPackModel(testing::GruModel(s, w).data());
    flexbuffers::Builder fbb;
    fbb.Map([&] {
      fbb.Int("version", 1);
      fbb.String("activation", "swish");
    });
    fbb.Finish();
    m->subgraphs[0]->operators[0]->custom_options = fbb.GetBuffer();
    cases.push_back(
        {"an activation the kernel does not run", "its option 'activation' is 'swish'", testing::Serialize(*m)});
  }
  // The model of `spec` with options {"version": version}.
  const auto versioned = [&](const GruSpec& spec, int version) {
    auto m = tflite::UnPackModel(testing::GruModel(spec, w).data());
    flexbuffers::Builder fbb;
    fbb.Map([&] { fbb.Int("version", version); });
    fbb.Finish();
    m->subgraphs[0]->operators[0]->custom_options = fbb.GetBuffer();
    return testing::Serialize(*m);
  };
  cases.push_back({"a later version of the options", "its options' version is 4; this build reads versions 1 to 3",
                   versioned(s, 4)});
  GruSpec given = s;
  given.initial_state = true;
  cases.push_back({"an initial state in version 1", "7 inputs and 1 outputs; TFLSTM_GRU version 1 takes 6 inputs",
                   versioned(given, 1)});
  {
    auto m = tflite::UnPackModel(testing::GruModel(s, w).data());
    m->subgraphs[0]->operators[0]->custom_options = {1, 2, 3};
    cases.push_back(
        {"options that are no FlexBuffers", "its options are not a valid FlexBuffers buffer", testing::Serialize(*m)});
  }
  // A version 2 model (an initial state or a final-state output) with its tensor `name` edited.
  const auto edited = [&](bool initial, const std::string& name, const auto& edit) {
    GruSpec e = s;
    e.initial_state = initial;
    e.final_state = !initial;
    auto m = tflite::UnPackModel(testing::GruModel(e, w).data());
    for (auto& t : m->subgraphs[0]->tensors) {
      if (t->name == name) edit(*t);
    }
    return testing::Serialize(*m);
  };
  cases.push_back({"an initial state of the wrong shape", "input 6 (initial state) has shape [1, 7]; it must be [1, 6]",
                   edited(true, "h0", [&](tflite::TensorT& t) {
                     t.shape = {s.batch, s.units + 1};
                   })});
  cases.push_back({"an initial state of the wrong type", "input 6 (initial state) is not FLOAT32",
                   edited(true, "h0", [](tflite::TensorT& t) { t.type = tflite::TensorType_INT32; })});
  cases.push_back({"a final state of the wrong type", "output 1 (final state) is not FLOAT32",
                   edited(false, "h_last", [](tflite::TensorT& t) { t.type = tflite::TensorType_INT32; })});
  {
    GruSpec e = s;
    e.initial_state = true;
    auto m = tflite::UnPackModel(testing::GruModel(e, w).data());
    auto h = std::make_unique<tflite::TensorT>();
    h->name = "h";
    h->shape = {s.batch, s.units};
    h->type = tflite::TensorType_FLOAT32;
    h->is_variable = true;
    m->subgraphs[0]->tensors.push_back(std::move(h));
    m->subgraphs[0]->operators[0]->inputs[kGruHiddenIndex] = static_cast<int>(m->subgraphs[0]->tensors.size() - 1);
    cases.push_back({"both a variable and an initial state",
                     "input 5 (hidden state) and input 6 (initial state) are both present", testing::Serialize(*m)});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    testing::ExpectRefused(c.bytes, "TFLSTM_GRU", c.message);
  }
}

// tflstm's UNIDIRECTIONAL_SEQUENCE_RNN kernel against TFLite's, over random shapes and every
// activation the op's options can say (but the sign bit, which runs TFLite's), three invokes that
// carry the state.
TEST(SimpleRnn, RandomConfigurationsMatchTflite) {
  std::mt19937 rng(11);
  const tflite::ActivationFunctionType acts[] = {
      tflite::ActivationFunctionType_TANH, tflite::ActivationFunctionType_RELU, tflite::ActivationFunctionType_RELU6,
      tflite::ActivationFunctionType_RELU_N1_TO_1, tflite::ActivationFunctionType_NONE};
  const int units[] = {1, 5, 16, 31, 32, 33, 64};
  for (int i = 0; i < kRandomCases; ++i) {
    RnnSpec s;
    s.units = units[rng() % (sizeof(units) / sizeof(units[0]))];
    s.n_input = 1 + static_cast<int>(rng() % 20);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.activation = acts[rng() % 5];
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE("units " + std::to_string(s.units) + " features " + std::to_string(s.n_input) + " batch " +
                 std::to_string(s.batch) + " time " + std::to_string(s.time) + " activation " +
                 std::to_string(static_cast<int>(s.activation)));
    const std::vector<char> bytes = testing::RnnModel(s);
    auto ours = Build(bytes);
    auto ref = Build(bytes, LstmKernel::kTflite);
    ASSERT_EQ(NodeKernel(*ours->interpreter), Expected<rnn::RnnKernels>());
    EXPECT_EQ(NodeKernel(*ref->interpreter), "no tflstm node");
    for (int run = 0; run < 3; ++run) {
      const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
      for (Interp* it : {ours.get(), ref.get()}) {
        std::memcpy(it->interpreter->typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
        ASSERT_EQ(it->interpreter->Invoke(), kTfLiteOk);
      }
      const size_t n = static_cast<size_t>(s.batch) * s.time * s.units;
      const float* want = ref->interpreter->typed_output_tensor<float>(0);
      EXPECT_LE(MaxError(ours->interpreter->typed_output_tensor<float>(0), std::vector<float>(want, want + n)), 1e-5)
          << "invoke " << run;
    }
  }
}

}  // namespace
}  // namespace tflstm
