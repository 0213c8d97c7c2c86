// tflstm's TFLSTM_LSTM custom op (an LSTM whose gates TFLite's fused LSTM cannot compute) against
// a scalar LSTM in double precision; with sigmoid gates, bit for bit against tflstm's own
// UNIDIRECTIONAL_SEQUENCE_LSTM kernel on the same weights (float and hybrid) and within rounding
// of TFLite's; the state across invokes; the op's operand checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "gru_models.h"
#include "lstm/hybrid_lstm.h"
#include "lstm_custom_models.h"
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

using Spec = testing::LstmCustomSpec;
using Weights = testing::LstmCustomWeights;
using testing::CustomModel;
using testing::Describe;
using testing::StoredWeights;

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

// Options version 2: h and c from initial-state inputs (every invoke starts from them; no variable
// carries them) and h and c after the last step as outputs 1 and 2 (or c alone), against the
// scalar LSTM; float32, float16 and int8 (hybrid) weights, time-major too.
TEST(LstmCustomOp, ExplicitStatesMatchTheScalarReference) {
  std::mt19937 rng(30);
  for (int i = 0; i < kRandomCases / 2; ++i) {
    Spec s;
    s.units = 1 + static_cast<int>(rng() % 40);
    s.n_input = 1 + static_cast<int>(rng() % 12);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.gate = kGateActs[i % 3];
    s.float16 = i % 5 == 1;
    s.int8 = i % 5 == 2;
    s.initial_state = i % 4 != 3;  // else variables with the final-state outputs
    s.final_state = i % 4 == 2 ? 0 : 1 + i % 2;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    const Weights w = StoredWeights(s);
    auto it = Build(CustomModel(s, w));
    tflite::Interpreter& interp = *it->interpreter;
    EXPECT_EQ(interp.variables().size(), s.initial_state ? 0u : 2u);
    const size_t n = static_cast<size_t>(s.batch) * s.units;
    std::vector<double> carried_h(n, 0.0), carried_c(n, 0.0);
    const double bound = s.int8 ? 0.01 : 2e-5;  // int8: the quantization of x and h, as Int8WeightsRunTheHybridKernel
    for (int run = 0; run < 2; ++run) {
      const std::vector<float> x = RandomInput(static_cast<size_t>(s.batch) * s.time * s.n_input, rng);
      std::memcpy(interp.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
      std::vector<double> h = carried_h, c = carried_c;
      if (s.initial_state) {
        const std::vector<float> h0 = RandomInput(n, rng), c0 = RandomInput(n, rng);
        std::memcpy(interp.typed_input_tensor<float>(1), h0.data(), n * sizeof(float));
        std::memcpy(interp.typed_input_tensor<float>(2), c0.data(), n * sizeof(float));
        h.assign(h0.begin(), h0.end());
        c.assign(c0.begin(), c0.end());
      }
      ASSERT_EQ(interp.Invoke(), kTfLiteOk);
      const std::vector<double> want = Reference(s, w, x, h, c);
      EXPECT_LE(MaxError(interp.typed_output_tensor<float>(0), want), bound) << "invoke " << run;
      if (s.final_state) {
        const int c_out = s.final_state == 1 ? 2 : 1;
        for (int k = 1; k <= c_out; ++k) {
          ASSERT_EQ(interp.output_tensor(k)->dims->size, 2);
          EXPECT_EQ(interp.output_tensor(k)->dims->data[0], s.batch);
          EXPECT_EQ(interp.output_tensor(k)->dims->data[1], s.units);
        }
        if (s.final_state == 1) {
          EXPECT_LE(MaxError(interp.typed_output_tensor<float>(1), h), bound) << "final h " << run;
        }
        EXPECT_LE(MaxError(interp.typed_output_tensor<float>(c_out), c), bound) << "final c " << run;
      }
      if (!s.initial_state) {
        EXPECT_LE(MaxError(interp.tensor(interp.variables()[0])->data.f, h), bound) << "variable h " << run;
        EXPECT_LE(MaxError(interp.tensor(interp.variables()[1])->data.f, c), bound) << "variable c " << run;
        carried_h = h;
        carried_c = c;
      }
    }
  }
}

// A model with explicit states passes the model validator, and a resize to another length and
// batch gives the final states the shape [batch, units].
TEST(LstmCustomOp, ExplicitStatesPassTheValidatorAndResize) {
  Spec s;
  s.units = 5;
  s.n_input = 3;
  s.initial_state = true;
  s.final_state = 1;
  const Weights w = StoredWeights(s);
  const std::vector<char> bytes = CustomModel(s, w);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::mt19937 rng(3);
  for (const auto& [batch, time] : {std::pair{1, 5}, std::pair{3, 17}}) {
    Spec r = s;
    r.batch = batch;
    r.time = time;
    const size_t n = static_cast<size_t>(batch) * s.units;
    const std::vector<float> x = RandomInput(static_cast<size_t>(batch) * time * s.n_input, rng);
    const std::vector<float> h0 = RandomInput(n, rng), c0 = RandomInput(n, rng);
    std::vector<double> h(h0.begin(), h0.end()), c(c0.begin(), c0.end());
    const std::vector<double> want = Reference(r, w, x, h, c);
    auto interp = Build(bytes);
    tflite::Interpreter& in = *interp->interpreter;
    ASSERT_EQ(in.ResizeInputTensor(in.inputs()[0], {batch, time, s.n_input}), kTfLiteOk);
    ASSERT_EQ(in.ResizeInputTensor(in.inputs()[1], {batch, s.units}), kTfLiteOk);
    ASSERT_EQ(in.ResizeInputTensor(in.inputs()[2], {batch, s.units}), kTfLiteOk);
    ASSERT_EQ(in.AllocateTensors(), kTfLiteOk);
    std::memcpy(in.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
    std::memcpy(in.typed_input_tensor<float>(1), h0.data(), n * sizeof(float));
    std::memcpy(in.typed_input_tensor<float>(2), c0.data(), n * sizeof(float));
    ASSERT_EQ(in.Invoke(), kTfLiteOk);
    EXPECT_LE(MaxError(in.typed_output_tensor<float>(0), want), 2e-5);
    ASSERT_EQ(in.output_tensor(2)->dims->data[0], batch);
    EXPECT_LE(MaxError(in.typed_output_tensor<float>(1), h), 2e-5);
    EXPECT_LE(MaxError(in.typed_output_tensor<float>(2), c), 2e-5);
  }
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
    cases.push_back(
        {"no cell state", "5 inputs and 1 outputs; TFLSTM_LSTM version 1 takes 6 inputs", testing::Serialize(*m)});
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
    fbb.Map([&] { fbb.Int("version", 4); });
    fbb.Finish();
    m->subgraphs[0]->operators[0]->custom_options = fbb.GetBuffer();
    cases.push_back({"a later version of the options", "its options' version is 4; this build reads versions 1 to 3",
                     testing::Serialize(*m)});
  }
  // The model of `spec` with its options' version set to `version`.
  const auto versioned = [&](const Spec& spec, int version) {
    auto m = tflite::UnPackModel(CustomModel(spec, w).data());
    rnn::LstmOptions o;
    o.version = version;
    o.recurrent_activation = spec.gate;
    m->subgraphs[0]->operators[0]->custom_options = rnn::LstmOptionsBytes(o);
    return testing::Serialize(*m);
  };
  Spec given = s;
  given.initial_state = true;
  cases.push_back({"initial states in version 1", "8 inputs and 1 outputs; TFLSTM_LSTM version 1 takes 6 inputs",
                   versioned(given, 1)});
  Spec returned = s;
  returned.final_state = 1;
  cases.push_back({"final states in version 1", "6 inputs and 3 outputs; TFLSTM_LSTM version 1 takes 6 inputs",
                   versioned(returned, 1)});
  // A version 2 model (initial states, or final-state outputs) with its tensor `name` edited.
  const auto edited = [&](bool initial, const std::string& name, const auto& edit) {
    Spec e = s;
    e.initial_state = initial;
    e.final_state = initial ? 0 : 1;
    auto m = tflite::UnPackModel(CustomModel(e, w).data());
    for (auto& t : m->subgraphs[0]->tensors) {
      if (t->name == name) edit(*t);
    }
    return testing::Serialize(*m);
  };
  cases.push_back({"an initial c of the wrong shape", "input 7 (initial c) has shape [1, 7]; it must be [1, 6]",
                   edited(true, "c0", [&](tflite::TensorT& t) {
                     t.shape = {s.batch, s.units + 1};
                   })});
  cases.push_back({"an initial h of the wrong type", "input 6 (initial h) is not FLOAT32",
                   edited(true, "h0", [](tflite::TensorT& t) { t.type = tflite::TensorType_INT32; })});
  cases.push_back({"a final c of the wrong type", "output 2 (final c) is not FLOAT32",
                   edited(false, "c_last", [](tflite::TensorT& t) { t.type = tflite::TensorType_INT32; })});
  {
    Spec e = s;
    e.initial_state = true;
    auto m = tflite::UnPackModel(CustomModel(e, w).data());
    auto c = std::make_unique<tflite::TensorT>();
    c->name = "c";
    c->shape = {s.batch, s.units};
    c->type = tflite::TensorType_FLOAT32;
    c->is_variable = true;
    m->subgraphs[0]->tensors.push_back(std::move(c));
    auto& inputs = m->subgraphs[0]->operators[0]->inputs;
    inputs[rnn::kLstmCell] = static_cast<int>(m->subgraphs[0]->tensors.size() - 1);
    inputs[rnn::kLstmInitialCell] = -1;
    cases.push_back({"a variable c with a given h",
                     "of inputs 4-7 (output state, cell state, initial h, initial c) 5, 6 present",
                     testing::Serialize(*m)});
  }
  {
    Spec e = s;
    e.initial_state = true;
    auto m = tflite::UnPackModel(CustomModel(e, w).data());
    m->subgraphs[0]->operators[0]->inputs[rnn::kLstmInitialHidden] = -1;
    cases.push_back({"an initial c without an initial h",
                     "of inputs 4-7 (output state, cell state, initial h, initial c) 7 present",
                     testing::Serialize(*m)});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    testing::ExpectRefused(c.bytes, "TFLSTM_LSTM", c.message);
  }
}

}  // namespace
}  // namespace tflstm
