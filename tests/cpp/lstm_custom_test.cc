// tflstm's TFLSTM_LSTM custom op (an LSTM whose gates TFLite's fused LSTM cannot compute) against
// a scalar LSTM in double precision; with sigmoid gates, bit for bit against tflstm's own
// UNIDIRECTIONAL_SEQUENCE_LSTM kernel on the same weights (float and hybrid) and within rounding
// of TFLite's; the state across invokes; the op's operand checks.
#include <gtest/gtest.h>

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
#include "rnn/lstm_options.h"
#include "rnn/recurrent_ops.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"
#include "tflstm/model.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm {
namespace {

#ifdef TFLSTM_EMULATED
constexpr int kRandomCases = 10;  // qemu runs 10-30x slower
#else
constexpr int kRandomCases = 40;
#endif

using rnn::Act;

constexpr Act kCellActs[] = {Act::kTanh,    Act::kRelu,   Act::kRelu6,       Act::kReluN1To1,
                             Act::kSigmoid, Act::kLinear, Act::kHardSigmoid, Act::kHardSigmoidRelu6};
constexpr Act kGateActs[] = {Act::kSigmoid, Act::kHardSigmoid, Act::kHardSigmoidRelu6};

struct Spec {
  int batch = 1;
  int time = 5;
  int n_input = 3;
  int units = 8;
  bool time_major = false;
  bool bias = true;
  Act activation = Act::kTanh;
  Act gate = Act::kHardSigmoid;
  bool float16 = false;
  bool int8 = false;
  unsigned seed = 1;
};

std::string Describe(const Spec& s) {
  return "batch " + std::to_string(s.batch) + " time " + std::to_string(s.time) + " features " +
         std::to_string(s.n_input) + " units " + std::to_string(s.units) + (s.time_major ? " time-major" : "") +
         (s.bias ? " bias" : " no bias") + " activation " + rnn::ActName(s.activation) + " gates " +
         rnn::ActName(s.gate) + (s.float16 ? " float16" : "") + (s.int8 ? " int8" : "");
}

// Keras's LSTM weights in TFLite's layout: w [4 * units, n_input], u [4 * units, units] (rows
// i, f, c, o), b [4 * units] or empty.
struct Weights {
  std::vector<float> w, u, b;
};

testing::GruSpec Storage(const Spec& s) {
  testing::GruSpec g;
  g.float16 = s.float16;
  g.int8 = s.int8;
  return g;
}

// Glorot-scaled random weights, stored (float16, int8) and the values they stand for.
Weights StoredWeights(const Spec& s) {
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Weights w;
  w.w.resize(static_cast<size_t>(4 * s.units) * s.n_input);
  w.u.resize(static_cast<size_t>(4 * s.units) * s.units);
  for (float& v : w.w) v = 1.5f * u(rng) / std::sqrt(static_cast<float>(s.n_input));
  for (float& v : w.u) v = 1.5f * u(rng) / std::sqrt(static_cast<float>(s.units));
  if (s.bias) w.b.resize(4 * s.units);
  for (float& v : w.b) v = 0.5f * u(rng);
  testing::Store(Storage(s), w.w);
  testing::Store(Storage(s), w.u);
  return w;
}

std::vector<char> CustomModel(const Spec& s, const Weights& w) {
  testing::GraphBuilder g;
  const int x = g.Activation("x", testing::SequenceShape(s.batch, s.time, s.n_input, s.time_major));
  const testing::GruSpec storage = Storage(s);
  const auto matrix = [&](const std::string& name, std::vector<int> shape, std::vector<float> values) {
    return testing::StoredConstant(g, storage, name, std::move(shape), std::move(values));
  };
  const int wi = matrix("w", {4 * s.units, s.n_input}, w.w);
  const int wr = matrix("u", {4 * s.units, s.units}, w.u);
  const int b = w.b.empty() ? -1 : g.Constant("b", {4 * s.units}, w.b);
  const int h = g.Variable("h", {s.batch, s.units});
  const int c = g.Variable("c", {s.batch, s.units});
  const int y = g.Activation("y", testing::SequenceShape(s.batch, s.time, s.units, s.time_major));
  rnn::LstmOptions o;
  o.time_major = s.time_major;
  o.activation = s.activation;
  o.recurrent_activation = s.gate;
  g.Custom(rnn::kLstmCustomOp, {x, wi, wr, b, h, c}, {y}, rnn::LstmOptionsBytes(o));
  return g.Finish({x}, {y});
}

// Keras's LSTM cell in double precision over x in the layout of `s`, from and into h and c.
std::vector<double> Reference(const Spec& s, const Weights& w, const std::vector<float>& x, std::vector<double>& h,
                              std::vector<double>& c) {
  const int U = s.units;
  std::vector<double> y(static_cast<size_t>(s.batch) * s.time * U);
  for (int b = 0; b < s.batch; ++b) {
    for (int t = 0; t < s.time; ++t) {
      const size_t row = s.time_major ? static_cast<size_t>(t) * s.batch + b : static_cast<size_t>(b) * s.time + t;
      const float* xt = x.data() + row * s.n_input;
      std::vector<double> pre(4 * U);
      for (int r = 0; r < 4 * U; ++r) {
        double a = w.b.empty() ? 0.0 : w.b[r];
        for (int k = 0; k < s.n_input; ++k) a += static_cast<double>(w.w[r * s.n_input + k]) * xt[k];
        for (int k = 0; k < U; ++k) a += static_cast<double>(w.u[r * U + k]) * h[b * U + k];
        pre[r] = a;
      }
      for (int u = 0; u < U; ++u) {
        const double i = testing::ActRef(s.gate, pre[u]), f = testing::ActRef(s.gate, pre[U + u]);
        const double g = testing::ActRef(s.activation, pre[2 * U + u]), o = testing::ActRef(s.gate, pre[3 * U + u]);
        c[b * U + u] = f * c[b * U + u] + i * g;
        h[b * U + u] = o * testing::ActRef(s.activation, c[b * U + u]);
        y[row * U + u] = h[b * U + u];
      }
    }
  }
  return y;
}

using testing::Build;
using testing::Interp;
using testing::NodeKernel;

bool Portable() {
  const char* isa = std::getenv("TFLSTM_LSTM_ISA");
  return isa != nullptr && std::string(isa) == "portable";
}

using testing::MaxError;
using testing::RandomInput;

// Two invokes that carry the state, against the scalar reference: the worst error of the outputs
// and of both states.
double WorstAgainstReference(tflite::Interpreter& interp, const Spec& s, const Weights& w, std::mt19937& rng) {
  std::vector<double> h(static_cast<size_t>(s.batch) * s.units, 0.0), c = h;
  double worst = 0;
  for (int run = 0; run < 2; ++run) {
    const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
    std::memcpy(interp.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
    EXPECT_EQ(interp.Invoke(), kTfLiteOk);
    const std::vector<double> want = Reference(s, w, x, h, c);
    worst = std::max(worst, MaxError(interp.typed_output_tensor<float>(0), want));
    worst = std::max(worst, MaxError(interp.tensor(interp.variables()[0])->data.f, h));
    worst = std::max(worst, MaxError(interp.tensor(interp.variables()[1])->data.f, c));
  }
  return worst;
}

// Random shapes, both hard_sigmoid definitions and sigmoid gates, every cell activation, with and
// without bias, float32 and float16 weights: the op against the scalar LSTM.
TEST(LstmCustomOp, RandomConfigurationsMatchTheScalarReference) {
  std::mt19937 rng(20261207);
  const int units[] = {1, 3, 8, 15, 16, 17, 31, 33, 64};
  for (int i = 0; i < kRandomCases; ++i) {
    Spec s;
    s.units = units[rng() % (sizeof(units) / sizeof(units[0]))];
    s.n_input = 1 + static_cast<int>(rng() % 20);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 45);  // past the projection's chunk of 32 steps
    s.time_major = rng() % 3 == 0;
    s.bias = rng() % 4 != 0;
    s.gate = kGateActs[i % 3];
    // Bounded cell activations (an unbounded one lets c grow with the sequence).
    s.activation = i % 2 == 0 ? Act::kTanh : kCellActs[rng() % 8];
    s.float16 = i % 5 == 4;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    const Weights w = StoredWeights(s);
    auto it = Build(CustomModel(s, w));
    ASSERT_EQ(NodeKernel(*it->interpreter), Portable() ? "portable" : lstm::BestKernels().name);
    EXPECT_LE(WorstAgainstReference(*it->interpreter, s, w, rng), 2e-5);
  }
}

// int8 weights: the hybrid kernel, within the quantization of x and h of the float LSTM on the
// weights' values.
TEST(LstmCustomOp, Int8WeightsRunTheHybridKernel) {
  std::mt19937 rng(21);
  const int units[] = {5, 16, 21, 40};
  for (int i = 0; i < 12; ++i) {
    Spec s;
    s.units = units[i % 4];
    s.n_input = 1 + static_cast<int>(rng() % 20);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = i % 3 == 2;
    s.bias = i % 5 != 1;
    s.gate = kGateActs[i % 3];
    s.int8 = true;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    const Weights w = StoredWeights(s);
    auto it = Build(CustomModel(s, w));
    ASSERT_EQ(NodeKernel(*it->interpreter), Portable() ? "hybrid-portable" : lstm::BestHybridKernels().name);
    // Measured at most 0.0042 over these cases; one gate's hard_sigmoid of the other definition
    // is 0.02-0.1 off.
    EXPECT_LE(WorstAgainstReference(*it->interpreter, s, w, rng), 0.01);
  }
}

// TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM model of the test models, with its weights regrouped into
// the custom op's [4 * units, cols] matrices: the same LSTM with sigmoid gates.
std::vector<char> CustomFromBuiltin(const testing::LstmSpec& b, const std::vector<char>& builtin) {
  auto m = tflite::UnPackModel(builtin.data());
  const auto values = [&](const std::string& name) {
    for (const auto& t : m->subgraphs[0]->tensors) {
      if (t->name == name) return m->buffers[t->buffer]->data;
    }
    ADD_FAILURE() << "no tensor " << name;
    return std::vector<uint8_t>();
  };
  testing::GraphBuilder g;
  const int x = g.Activation("x", testing::SequenceShape(b.batch, b.time, b.n_input, b.time_major));
  const auto joined = [&](const char* prefix) {
    std::vector<uint8_t> all;
    for (const char* gate : {"input", "forget", "cell", "output"}) {
      const std::vector<uint8_t> v = values(std::string(prefix) + gate);
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  const auto scale = [&](const std::string& name) {
    for (const auto& t : m->subgraphs[0]->tensors) {
      if (t->name == name) return t->quantization->scale[0];
    }
    return 0.0f;
  };
  int wi, wr;
  if (b.hybrid) {  // one scale a tensor: the builtin's four gates share one only if equal
    wi =
        g.Quantize(g.Constant("w", {4 * b.n_cell, b.n_input}, joined("w_"), tflite::TensorType_INT8), scale("w_input"));
    wr = g.Quantize(g.Constant("u", {4 * b.n_cell, b.n_cell}, joined("r_"), tflite::TensorType_INT8), scale("r_input"));
  } else {
    wi = g.Constant("w", {4 * b.n_cell, b.n_input}, joined("w_"), tflite::TensorType_FLOAT32);
    wr = g.Constant("u", {4 * b.n_cell, b.n_cell}, joined("r_"), tflite::TensorType_FLOAT32);
  }
  const int bias = g.Constant("b", {4 * b.n_cell}, joined("b_"), tflite::TensorType_FLOAT32);
  const int h = g.Variable("h", {b.batch, b.n_cell});
  const int c = g.Variable("c", {b.batch, b.n_cell});
  const int y = g.Activation("y", testing::SequenceShape(b.batch, b.time, b.n_cell, b.time_major));
  rnn::LstmOptions o;
  o.time_major = b.time_major;
  o.recurrent_activation = Act::kSigmoid;
  o.activation = b.activation == tflite::ActivationFunctionType_RELU ? Act::kRelu : Act::kTanh;
  g.Custom(rnn::kLstmCustomOp, {x, wi, wr, bias, h, c}, {y}, rnn::LstmOptionsBytes(o));
  return g.Finish({x}, {y});
}

// With sigmoid gates the op is TFLite's LSTM: bit for bit tflstm's kernel of the builtin op (the
// same kernels), and within rounding of TFLite's own kernel.
TEST(LstmCustomOp, SigmoidGatesAreTheBuiltinLstm) {
  std::mt19937 rng(8);
  for (int i = 0; i < 6; ++i) {
    testing::LstmSpec b;
    b.batch = 1 + i % 3;
    b.time = i < 3 ? 9 : 41;
    b.n_input = 3 + i;
    b.n_cell = 5 + 7 * i;
    b.time_major = i == 4;
    b.activation = i == 5 ? tflite::ActivationFunctionType_RELU : tflite::ActivationFunctionType_TANH;
    b.seed = 100 + i;
    SCOPED_TRACE("case " + std::to_string(i));
    const std::vector<char> builtin = testing::LstmModel(b);
    auto ours = Build(CustomFromBuiltin(b, builtin));
    auto same = Build(builtin);
    auto tflite_ref = Build(builtin, LstmKernel::kTflite);
    const std::vector<float> x = RandomInput(static_cast<size_t>(b.batch) * b.time * b.n_input, rng);
    for (int run = 0; run < 2; ++run) {
      for (Interp* it : {ours.get(), same.get(), tflite_ref.get()}) {
        std::memcpy(it->interpreter->typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
        ASSERT_EQ(it->interpreter->Invoke(), kTfLiteOk);
      }
      const size_t n = static_cast<size_t>(b.batch) * b.time * b.n_cell;
      EXPECT_EQ(std::memcmp(ours->interpreter->typed_output_tensor<float>(0),
                            same->interpreter->typed_output_tensor<float>(0), n * sizeof(float)),
                0)
          << "invoke " << run;
      const float* want = tflite_ref->interpreter->typed_output_tensor<float>(0);
      EXPECT_LE(MaxError(ours->interpreter->typed_output_tensor<float>(0), std::vector<float>(want, want + n)), 1e-5);
    }
  }
}

// The hybrid form: with one scale shared by the four gates' matrices (as the custom op's one
// tensor has), tflstm's hybrid kernel of the builtin op gives the same bits.
TEST(LstmCustomOp, SigmoidGatesAreTheBuiltinHybridLstm) {
  std::mt19937 rng(9);
  testing::LstmSpec b;
  b.batch = 2;
  b.time = 41;
  b.n_input = 6;
  b.n_cell = 24;
  b.hybrid = true;
  b.asymmetric_inputs = true;
  // Rewrite every gate's scale to one (the custom op's matrices carry one scale).
  auto m = tflite::UnPackModel(testing::LstmModel(b).data());
  for (auto& t : m->subgraphs[0]->tensors) {
    if (t->quantization && !t->quantization->scale.empty()) t->quantization->scale = {0.01f};
  }
  const std::vector<char> builtin = testing::Serialize(*m);
  auto ours = Build(CustomFromBuiltin(b, builtin));
  auto same = Build(builtin);
  ASSERT_EQ(NodeKernel(*ours->interpreter), Portable() ? "hybrid-portable" : lstm::BestHybridKernels().name);
  const std::vector<float> x = RandomInput(static_cast<size_t>(b.batch) * b.time * b.n_input, rng);
  for (Interp* it : {ours.get(), same.get()}) {
    std::memcpy(it->interpreter->typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
    ASSERT_EQ(it->interpreter->Invoke(), kTfLiteOk);
  }
  EXPECT_EQ(
      std::memcmp(ours->interpreter->typed_output_tensor<float>(0), same->interpreter->typed_output_tensor<float>(0),
                  static_cast<size_t>(b.batch) * b.time * b.n_cell * sizeof(float)),
      0);
}

// A sequence fed one step per invoke gives the whole sequence's outputs (the states carry).
TEST(LstmCustomOp, OneStepPerInvokeContinuesTheSequence) {
  Spec s;
  s.batch = 2;
  s.time = 11;
  s.units = 19;
  s.n_input = 4;
  const Weights w = StoredWeights(s);
  auto whole = Build(CustomModel(s, w));
  Spec one = s;
  one.time = 1;
  auto step = Build(CustomModel(one, w));
  std::mt19937 rng(5);
  const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
  testing::ExpectStepsContinueTheSequence(*whole->interpreter, *step->interpreter, x, s.batch, s.time, s.n_input,
                                          s.units);
}

// Operands or options that break the contract: kInvalidModel from the validator naming the
// operand, and the op's Prepare refuses the node where no validator ran.
TEST(LstmCustomOp, OperandsThatBreakTheContractAreRefused) {
  Spec s;
  s.units = 6;
  s.n_input = 4;
  const Weights w = StoredWeights(s);
  struct Case {
    std::string what, message;
    std::vector<char> bytes;
  };
  std::vector<Case> cases;
  {
    auto m = tflite::UnPackModel(CustomModel(s, w).data());
    for (auto& t : m->subgraphs[0]->tensors) {
      if (t->name == "u") t->shape = {4 * s.units - 1, s.units};
      if (t->name == "u") m->buffers[t->buffer]->data.resize((4 * s.units - 1) * s.units * sizeof(float));
    }
    cases.push_back({"recurrent weights of the wrong shape", "input 2 (recurrent weights) has shape [23, 6]",
                     testing::Serialize(*m)});
  }
  {
    auto m = tflite::UnPackModel(CustomModel(s, w).data());
    for (auto& t : m->subgraphs[0]->tensors) {
      if (t->name == "c") t->is_variable = false;
    }
    cases.push_back({"a cell state that is not a variable", "input 5 (cell state) is not a variable tensor",
                     testing::Serialize(*m)});
  }
  {
    auto m = tflite::UnPackModel(CustomModel(s, w).data());
    m->subgraphs[0]->operators[0]->inputs.pop_back();
    cases.push_back({"no cell state", "5 inputs and 1 outputs; TFLSTM_LSTM takes 6 inputs", testing::Serialize(*m)});
  }
  {
    auto m = tflite::UnPackModel(CustomModel(s, w).data());
    flexbuffers::Builder fbb;
    fbb.Map([&] {
      fbb.Int("version", 1);
      fbb.String("recurrent_activation", "swish");
    });
    fbb.Finish();
    m->subgraphs[0]->operators[0]->custom_options = fbb.GetBuffer();
    cases.push_back({"a gate function the kernel does not run", "its option 'recurrent_activation' is 'swish'",
                     testing::Serialize(*m)});
  }
  {
    auto m = tflite::UnPackModel(CustomModel(s, w).data());
    flexbuffers::Builder fbb;
    fbb.Map([&] { fbb.Int("version", 2); });
    fbb.Finish();
    m->subgraphs[0]->operators[0]->custom_options = fbb.GetBuffer();
    cases.push_back({"a later version of the options", "its options' version is 2; this build reads version 1",
                     testing::Serialize(*m)});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    testing::ExpectRefused(c.bytes, "TFLSTM_LSTM", c.message);
  }
}

}  // namespace
}  // namespace tflstm
