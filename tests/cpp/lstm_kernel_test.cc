// tflstm's LSTM kernel against TFLite's builtin one, on models built here: randomized float
// configurations (units 1-256, off the vector width too; 1-40 features; 1-200 steps; batch
// 1-4; time-major; cell clip; activations; state carried across invokes; resizes) must agree
// within 1e-5 and run on the fused path; every other configuration must run TFLite's kernel
// and agree exactly; a model that breaks the op's contract gets a typed error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <tuple>

#include "lstm/float_lstm.h"
#include "lstm/hybrid_lstm.h"
#include "lstm/int8_lstm.h"
#include "lstm/lstm_op.h"
#include "rnn/cpu_features.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/kernels/internal/portable_tensor_utils.h"
#include "tensorflow/lite/model_builder.h"
#include "test_models.h"
#include "tflstm/runner.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm {
namespace {

using testing::LstmModel;
using testing::LstmSpec;

#ifdef TFLSTM_EMULATED
constexpr int kRandomCases = 12;  // qemu runs 10-30x slower
#else
constexpr int kRandomCases = 60;
#endif

// One interpreter over a model, with the resolver that picked its kernels.
struct Interp {
  std::unique_ptr<tflite::OpResolver> resolver;
  std::unique_ptr<tflite::Interpreter> interpreter;
};

Interp Build(const tflite::FlatBufferModel& model, LstmKernel kernel) {
  Interp it;
  it.resolver = MakeOpResolver(kernel);
  tflite::InterpreterBuilder(model, *it.resolver)(&it.interpreter);
  EXPECT_NE(it.interpreter, nullptr);
  if (it.interpreter) {
    EXPECT_EQ(it.interpreter->AllocateTensors(), kTfLiteOk);
  }
  return it;
}

// The kernel that the model's LSTM node runs.
std::string LstmNodeKernel(tflite::Interpreter& interp) {
  for (size_t i = 0; i < interp.nodes_size(); ++i) {
    const auto* nr = interp.node_and_registration(static_cast<int>(i));
    if (nr->second.builtin_code != tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM) continue;
    const char* name = lstm::NodeKernel(nr->second, nr->first);
    return name ? name : "builtin registration";
  }
  return "no LSTM node";
}

std::string ExpectedFastKernel() {
  const char* isa = std::getenv("TFLSTM_LSTM_ISA");
  return isa != nullptr && std::string(isa) == "portable" ? "portable" : lstm::BestKernels().name;
}

std::string ExpectedHybridKernel() {
  const char* isa = std::getenv("TFLSTM_LSTM_ISA");
  return isa != nullptr && std::string(isa) == "portable" ? "hybrid-portable" : lstm::BestHybridKernels().name;
}

std::string ExpectedInt8Kernel() {
  const char* isa = std::getenv("TFLSTM_LSTM_ISA");
  return isa != nullptr && std::string(isa) == "portable" ? "int8-portable" : lstm::BestInt8Kernels().name;
}

float* Data(tflite::Interpreter& interp, int tensor) { return interp.tensor(tensor)->data.f; }
size_t Count(tflite::Interpreter& interp, int tensor) { return interp.tensor(tensor)->bytes / sizeof(float); }

// max |a - b| / (1 + |b|) over a tensor of both interpreters.
double MaxError(tflite::Interpreter& a, tflite::Interpreter& b, int tensor) {
  EXPECT_EQ(Count(a, tensor), Count(b, tensor));
  double worst = 0;
  for (size_t k = 0; k < Count(b, tensor); ++k) {
    const double ref = Data(b, tensor)[k];
    const double d = std::fabs(Data(a, tensor)[k] - ref) / (1.0 + std::fabs(ref));
    worst = std::isnan(d) ? 1e9 : std::max(worst, d);
  }
  return worst;
}

// Feeds both interpreters the same random input `invokes` times, carrying the state, and
// returns the worst error over the output and both state tensors.
double Compare(tflite::Interpreter& ours, tflite::Interpreter& ref, std::mt19937& rng, int invokes) {
  std::uniform_real_distribution<float> u(-1.5f, 1.5f);
  double worst = 0;
  for (int run = 0; run < invokes; ++run) {
    for (int x : ours.inputs()) {
      for (size_t k = 0; k < Count(ours, x); ++k) Data(ours, x)[k] = Data(ref, x)[k] = u(rng);
    }
    EXPECT_EQ(ours.Invoke(), kTfLiteOk);
    EXPECT_EQ(ref.Invoke(), kTfLiteOk);
    worst = std::max(worst, MaxError(ours, ref, ours.outputs()[0]));
    for (int v : ref.variables()) worst = std::max(worst, MaxError(ours, ref, v));
  }
  return worst;
}

std::string Describe(const LstmSpec& s) {
  return "batch " + std::to_string(s.batch) + " time " + std::to_string(s.time) + " features " +
         std::to_string(s.n_input) + " units " + std::to_string(s.n_cell) + (s.time_major ? " time-major" : "") +
         " clip " + std::to_string(s.cell_clip) + " activation " + std::to_string(s.activation) +
         (s.float16 ? " float16" : "") + " seed " + std::to_string(s.seed);
}

struct Pair {
  std::vector<char> bytes;  // the model's constants point into them
  std::unique_ptr<tflite::FlatBufferModel> model;
  Interp ours, ref;
};

std::unique_ptr<Pair> MakePair(std::vector<char> bytes) {
  auto p = std::make_unique<Pair>();
  p->bytes = std::move(bytes);
  p->model = tflite::FlatBufferModel::BuildFromBuffer(p->bytes.data(), p->bytes.size());
  EXPECT_NE(p->model, nullptr);
  p->ours = Build(*p->model, LstmKernel::kTflstm);
  p->ref = Build(*p->model, LstmKernel::kTflite);
  return p;
}

// Both interpreters to input `shape` ([batch, time, features]) with fresh state.
void ResizeBoth(Pair& p, const std::vector<int>& shape, int n_cell) {
  for (tflite::Interpreter* it : {p.ours.interpreter.get(), p.ref.interpreter.get()}) {
    ASSERT_EQ(it->ResizeInputTensor(it->inputs()[0], shape), kTfLiteOk);
    for (int v : it->variables()) ASSERT_EQ(it->ResizeInputTensor(v, {shape[0], n_cell}), kTfLiteOk);
    ASSERT_EQ(it->AllocateTensors(), kTfLiteOk);
    ASSERT_EQ(it->ResetVariableTensors(), kTfLiteOk);
  }
}

TEST(LstmParity, RandomFloatConfigurationsMatchTflite) {
  std::mt19937 rng(20261202);
  const int units[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 33, 64, 100, 128, 200, 256};
  const tflite::ActivationFunctionType activations[] = {
      tflite::ActivationFunctionType_TANH, tflite::ActivationFunctionType_RELU, tflite::ActivationFunctionType_RELU6,
      tflite::ActivationFunctionType_RELU_N1_TO_1};
  for (int i = 0; i < kRandomCases; ++i) {
    LstmSpec s;
    s.n_cell = units[rng() % (sizeof(units) / sizeof(units[0]))];
    s.n_input = 1 + static_cast<int>(rng() % 40);
    s.batch = 1 + static_cast<int>(rng() % 4);
    // Long sequences for small layers, short ones for wide layers: the ctest time stays small.
    const int max_time = s.n_cell >= 128 ? 60 : 200;
    s.time = 1 + static_cast<int>(rng() % max_time);
    s.time_major = rng() % 3 == 0;
    s.cell_clip = rng() % 3 == 0 ? 0.5f + static_cast<float>(rng() % 4) : 0.0f;
    s.activation = i % 3 == 0 ? activations[rng() % 4] : tflite::ActivationFunctionType_TANH;
    s.float16 = i % 7 == 3;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    auto p = MakePair(LstmModel(s));
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedFastKernel());
    ASSERT_EQ(LstmNodeKernel(*p->ref.interpreter), "builtin registration");
    EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 3), 1e-5);
  }
}

// The weights the kernel packs are the runner's own memory: accounted, at least the weights'
// own size (padded to whole blocks), and nothing with TFLite's kernel.
TEST(LstmMemory, PackedWeightsAreAccountedByTheRunner) {
  LstmSpec s;
  s.n_cell = 20;
  s.n_input = 3;
  const std::vector<char> bytes = LstmModel(s);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const size_t weights = 4 * sizeof(float) * s.n_cell * (s.n_input + s.n_cell + 1);
  for (LstmKernel kernel : {LstmKernel::kTflstm, LstmKernel::kTflite}) {
    RunnerOptions options;
    options.lstm_kernel = kernel;
    auto runner = Runner::Create(model.value(), options);
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    const MemoryStats m = runner.value()->memory();
    if (kernel == LstmKernel::kTflstm) {
      EXPECT_GE(m.kernel_weights, weights);
      EXPECT_LT(m.kernel_weights, 2 * weights);
    } else {
      EXPECT_EQ(m.kernel_weights, 0u);
    }
    EXPECT_EQ(m.total(), m.arena.budget + m.tflite_arena + m.tflite_persistent + m.tflite_dynamic + m.kernel_weights);
  }
}

// The runner names the kernel each LSTM node runs: tflstm's by its instruction set, "tflite"
// where the configuration falls back to TFLite's kernel or the runner asks for TFLite's.
TEST(LstmKernels, TheRunnerNamesEachNodesKernel) {
  LstmSpec plain, hybrid, peephole;
  hybrid.hybrid = true;
  peephole.peephole = true;
  testing::Int8LstmSpec int8;
  const struct {
    std::vector<char> bytes;
    std::string kernel;
  } cases[] = {{LstmModel(plain), ExpectedFastKernel()},
               {LstmModel(hybrid), ExpectedHybridKernel()},
               {testing::Int8LstmModel(int8), ExpectedInt8Kernel()},
               {LstmModel(peephole), "tflite"}};
  for (const auto& c : cases) {
    auto model = Model::FromBytes(c.bytes.data(), c.bytes.size());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    for (LstmKernel kernel : {LstmKernel::kTflstm, LstmKernel::kTflite}) {
      RunnerOptions options;
      options.lstm_kernel = kernel;
      auto runner = Runner::Create(model.value(), options);
      ASSERT_TRUE(runner.ok()) << runner.status().ToString();
      const std::vector<std::string> want = {kernel == LstmKernel::kTflstm ? c.kernel : "tflite"};
      EXPECT_EQ(runner.value()->lstm_kernels(), want);
    }
  }
}

// The LSTM node's packed weights, to tell whether two interpreters share them.
const void* LstmNodeWeights(tflite::Interpreter& interp) {
  for (size_t i = 0; i < interp.nodes_size(); ++i) {
    const auto* nr = interp.node_and_registration(static_cast<int>(i));
    if (nr->second.builtin_code == tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM) {
      return lstm::NodePackedWeights(nr->second, nr->first);
    }
  }
  return nullptr;
}

// The same random input into every interpreter (float or integer), invoked; false on a failure.
bool InvokeWithSameInput(const std::vector<tflite::Interpreter*>& interps, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.5f, 1.5f);
  tflite::Interpreter& first = *interps[0];
  for (int x : first.inputs()) {
    TfLiteTensor* t = first.tensor(x);
    if (t->type == kTfLiteFloat32) {
      for (size_t k = 0; k < t->bytes / sizeof(float); ++k) t->data.f[k] = u(rng);
    } else {
      for (size_t k = 0; k < t->bytes; ++k) t->data.raw[k] = static_cast<char>(rng());
    }
    for (tflite::Interpreter* other : interps) std::memcpy(other->tensor(x)->data.raw, t->data.raw, t->bytes);
  }
  for (tflite::Interpreter* it : interps) {
    if (it->Invoke() != kTfLiteOk) return false;
  }
  return true;
}

bool SameOutput(tflite::Interpreter& a, tflite::Interpreter& b) {
  const TfLiteTensor* x = a.tensor(a.outputs()[0]);
  const TfLiteTensor* y = b.tensor(b.outputs()[0]);
  return x->bytes == y->bytes && std::memcmp(x->data.raw, y->data.raw, x->bytes) == 0;
}

// Interpreters over one model (a runner per thread, say) share the packing of weights that are
// in the model, float, hybrid and integer alike, and it outlives the interpreter that made it.
// Another copy of the bytes, and weights that an op computes (float16), are packed apart.
TEST(LstmMemory, InterpretersOfOneModelShareThePackedWeights) {
  LstmSpec f32;
  f32.n_cell = 20;
  f32.n_input = 3;
  f32.time = 6;
  LstmSpec hybrid = f32;
  hybrid.hybrid = true;
  LstmSpec f16 = f32;
  f16.float16 = true;
  testing::Int8LstmSpec int8;
  int8.n_cell = 20;
  const struct {
    const char* name;
    std::vector<char> bytes;
    bool shared;
  } cases[] = {{"float32", LstmModel(f32), true},
               {"hybrid", LstmModel(hybrid), true},
               {"int8", testing::Int8LstmModel(int8), true},
               {"float16", LstmModel(f16), false}};
  std::mt19937 rng(11);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto one = MakePair(c.bytes);
    Interp two = Build(*one->model, LstmKernel::kTflstm);
    auto copy = MakePair(c.bytes);  // the same bytes at another address
    tflite::Interpreter& a = *one->ours.interpreter;
    tflite::Interpreter& b = *two.interpreter;
    tflite::Interpreter& elsewhere = *copy->ours.interpreter;
    ASSERT_NE(LstmNodeKernel(a), "builtin registration");
    ASSERT_TRUE(InvokeWithSameInput({&a, &b, &elsewhere}, rng));  // a float16 node packs at its first run
    ASSERT_NE(LstmNodeWeights(a), nullptr);
    EXPECT_EQ(LstmNodeWeights(a) == LstmNodeWeights(b), c.shared);
    EXPECT_NE(LstmNodeWeights(a), LstmNodeWeights(elsewhere));
    EXPECT_TRUE(SameOutput(a, b));
    EXPECT_TRUE(SameOutput(a, elsewhere));
    // The first interpreter goes; the second still runs on the packing, as TFLite's kernel does.
    one->ours.interpreter.reset();
    tflite::Interpreter& ref = *one->ref.interpreter;
    for (tflite::Interpreter* it : {&b, &ref, &elsewhere}) ASSERT_EQ(it->ResetVariableTensors(), kTfLiteOk);
    ASSERT_TRUE(InvokeWithSameInput({&b, &ref, &elsewhere}, rng));
    EXPECT_TRUE(SameOutput(b, elsewhere));
    if (std::string(c.name) == "int8") {
      EXPECT_TRUE(SameOutput(b, ref));  // bit-exact with TFLite's integer kernel
    } else {
      EXPECT_LE(MaxError(b, ref, ref.outputs()[0]), 2e-3);
    }
  }
}

TEST(LstmParity, SaturatedGatesMatchTflite) {
  LstmSpec s;
  s.n_cell = 13;
  s.n_input = 5;
  s.time = 30;
  s.batch = 2;
  auto p = MakePair(LstmModel(s));
  ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedFastKernel());
  std::mt19937 rng(7);
  EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 1e-5);
  // Saturated gates: inputs of +-1000 drive every pre-activation far past the clamps.
  for (tflite::Interpreter* it : {p->ours.interpreter.get(), p->ref.interpreter.get()}) {
    const int x = it->inputs()[0];
    for (size_t k = 0; k < Count(*it, x); ++k) Data(*it, x)[k] = (k % 3 == 0 ? -1000.0f : 1000.0f);
    ASSERT_EQ(it->Invoke(), kTfLiteOk);
  }
  EXPECT_LE(MaxError(*p->ours.interpreter, *p->ref.interpreter, p->ref.interpreter->outputs()[0]), 1e-5);
}

TEST(LstmParity, ResizeRepreparesAndStillMatches) {
  LstmSpec s;
  s.n_cell = 20;
  s.n_input = 6;
  s.time = 10;
  auto p = MakePair(LstmModel(s));
  std::mt19937 rng(3);
  for (const auto& shape : {std::vector<int>{3, 17, 6}, std::vector<int>{1, 1, 6}, std::vector<int>{2, 40, 6}}) {
    ResizeBoth(*p, shape, s.n_cell);
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedFastKernel());
    EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 1e-5) << shape[0] << "x" << shape[1];
  }
}

TEST(LstmParity, OtherConfigurationsRunTflitesKernelExactly) {
  struct Case {
    const char* what;
    LstmSpec spec;
  };
  std::vector<Case> cases;
  auto add = [&](const char* what, auto change) {
    LstmSpec s;
    s.n_cell = 12;
    s.n_input = 4;
    s.time = 9;
    s.batch = 2;
    change(s);
    cases.push_back({what, s});
  };
  add("CIFG", [](LstmSpec& s) { s.cifg = true; });
  add("peephole", [](LstmSpec& s) { s.peephole = true; });
  add("projection", [](LstmSpec& s) { s.projection = 5; });
  add("layer norm", [](LstmSpec& s) { s.layer_norm = true; });
  add("activation none", [](LstmSpec& s) { s.activation = tflite::ActivationFunctionType_NONE; });
  add("weights fed at run time", [](LstmSpec& s) { s.forget_weights_as_input = true; });
  add("CIFG, peephole, projection and layer norm", [](LstmSpec& s) {
    s.cifg = s.peephole = s.layer_norm = true;
    s.projection = 7;
  });
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = MakePair(LstmModel(c.spec));
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), "tflite");
    std::mt19937 rng(11);
    EXPECT_EQ(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 0.0);
  }
  // The older 20-input form takes the fused path like the 24-input one.
  LstmSpec twenty;
  twenty.twenty_inputs = true;
  auto p = MakePair(LstmModel(twenty));
  ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedFastKernel());
  std::mt19937 rng(12);
  EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 1e-5);
}

// Hybrid (int8 weights, float activations): tflstm's kernel against TFLite's hybrid kernel.
// The int8 products are exact and the float accumulation follows TFLite's order, so the
// differences start at the activations (polynomial against libm, about 1e-7) and the fused
// cell update; a difference of 1e-7 in h can move one element of the next step's quantized h
// by one step of its scale (max |h| / 127), which changes a gate by up to that times a weight.
// Over a sequence these flips stay rare and bounded (the recurrence is contracting, Glorot
// scaled): 2e-3 relative to 1 + |ref| leaves a wide margin over what the cases reach (about
// 1e-4 typical) while a wrong scale, zero point or layout errs by 1e-1 or more.
constexpr double kHybridTolerance = 2e-3;

TEST(LstmHybrid, RandomConfigurationsMatchTflite) {
  std::mt19937 rng(20261203);
  const int units[] = {1, 3, 5, 8, 9, 13, 16, 17, 31, 33, 64, 100};
  const tflite::ActivationFunctionType activations[] = {
      tflite::ActivationFunctionType_TANH, tflite::ActivationFunctionType_RELU, tflite::ActivationFunctionType_RELU6,
      tflite::ActivationFunctionType_RELU_N1_TO_1};
  double worst_all = 0;
  for (int i = 0; i < kRandomCases; ++i) {
    LstmSpec s;
    s.hybrid = true;
    s.asymmetric_inputs = i % 2 == 1;
    s.n_cell = units[rng() % (sizeof(units) / sizeof(units[0]))];
    s.n_input = 1 + static_cast<int>(rng() % 40);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.cell_clip = rng() % 3 == 0 ? 0.5f + static_cast<float>(rng() % 4) : 0.0f;
    s.activation = i % 4 == 0 ? activations[rng() % 4] : tflite::ActivationFunctionType_TANH;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s) + (s.asymmetric_inputs ? " asymmetric" : " symmetric"));
    auto p = MakePair(LstmModel(s));
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedHybridKernel());
    ASSERT_EQ(LstmNodeKernel(*p->ref.interpreter), "builtin registration");
    const double worst = Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 3);  // the state carried over
    EXPECT_LE(worst, kHybridTolerance);
    worst_all = std::max(worst_all, worst);
  }
  std::printf("hybrid: worst error over %d cases %.3g\n", kRandomCases, worst_all);
}

// A fixed long stream (100 steps x 6 features, LSTM(64), as the benchmark), resized batch,
// and states reset between: the state continuity of the variable tensors.
TEST(LstmHybrid, StreamsAndResizesMatchTflite) {
  for (bool asymmetric : {false, true}) {
    LstmSpec s;
    s.hybrid = true;
    s.asymmetric_inputs = asymmetric;
    s.n_cell = 64;
    s.n_input = 6;
    s.time = 100;
    auto p = MakePair(LstmModel(s));
    std::mt19937 rng(5);
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedHybridKernel());
    EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 4), kHybridTolerance);
    for (const auto& shape : {std::vector<int>{3, 7, 6}, std::vector<int>{2, 1, 6}}) {
      ResizeBoth(*p, shape, s.n_cell);
      ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedHybridKernel());
      EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 3), kHybridTolerance);
    }
  }
}

// A weight of -128 is outside what the narrow products take (AVX2's maddubs of w * sign(x)):
// such a matrix runs the widening product, whose sums are exact. TFLite 2.14.1's x86 product
// takes the same maddubs route for every 16 columns without the bound, so with a column of
// 16 or more its sums are wrong there (outputs off by 0.3 here); under 16 columns per matrix it
// runs its exact scalar code, the reference these sizes compare with.
TEST(LstmHybrid, AWeightOfMinus128MatchesTflite) {
  for (bool asymmetric : {false, true}) {
    LstmSpec s;
    s.hybrid = true;
    s.weight_of_minus_128 = true;
    s.asymmetric_inputs = asymmetric;
    s.n_cell = 12;
    s.n_input = 7;
    s.time = 12;
    auto p = MakePair(LstmModel(s));
    std::mt19937 rng(21);
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedHybridKernel());
    EXPECT_LE(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 2), kHybridTolerance);
  }
}

// An input that the finite check let through (check_finite=false) reaches the quantization of
// x and h: every conversion stays defined (the api fuzzer's UBSan run found Inf converted to
// int). With Inf in a row the symmetric scale is Inf and every value quantizes to 0 (NaN
// products included, which x86's conversion used to turn into -127).
TEST(LstmHybrid, NonFiniteRowsQuantizeToDefinedValues) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {1.0f, inf, -2.0f, std::numeric_limits<float>::quiet_NaN(), -inf, 0.5f};
  x.resize(20, 0.25f);  // past a vector of lanes, so that the instruction sets' min and max run too
  for (const lstm::HybridKernels* k : {&lstm::PortableHybridKernels(), &lstm::BestHybridKernels()}) {
    for (int n : {2, 6, 20}) {
      SCOPED_TRACE(std::string(k->name) + " n " + std::to_string(n));
      std::vector<int8_t> q(32, 5);
      float scale = 0;
      int32_t offset = 1;
      lstm::QuantizeRow(*k, x.data(), n, 32, false, q.data(), &scale, &offset);
      EXPECT_EQ(offset, 0);
      for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], 0) << "at " << i;
      lstm::QuantizeRow(*k, x.data(), n, 32, true, q.data(), &scale, &offset);
      std::vector<int8_t> again(32, 7);
      float scale2 = 0;
      int32_t offset2 = 1;
      lstm::QuantizeRow(*k, x.data(), n, 32, true, again.data(), &scale2, &offset2);
      EXPECT_EQ(q, again);
      EXPECT_EQ(offset, offset2);
    }
  }
}

// The instruction sets' min and max of a row, which the quantization of x and h starts from,
// are the portable ones for every length and position of the extremes.
TEST(LstmHybrid, MinMaxKernelsAgree) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const lstm::HybridKernels& best = lstm::BestHybridKernels();
  for (int n = 1; n <= 70; ++n) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = normal(rng);
    x[rng() % x.size()] = -40.0f;
    x[rng() % x.size()] = 40.0f;
    EXPECT_EQ(best.min_max(x.data(), n), lstm::PortableHybridKernels().min_max(x.data(), n)) << best.name << " n " << n;
  }
}

// Each instruction set's row quantization gives the portable one's bits: values at and next to
// the rounding halves, beyond the range, NaN and the infinities, symmetric and asymmetric.
TEST(LstmHybrid, QuantizeKernelsAgree) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-140.0f, 140.0f);
  const float specials[] = {0.5f,
                            -0.5f,
                            1.5f,
                            -2.5f,
                            126.5f,
                            -127.5f,
                            std::nextafter(0.5f, 0.0f),
                            std::nextafter(-0.5f, 0.0f),
                            1e30f,
                            -1e30f,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            -0.0f};
  const lstm::HybridKernels& portable = lstm::PortableHybridKernels();
  for (const lstm::HybridKernels* k : lstm::HybridKernelsOnThisCpu()) {
    for (int n : {1, 7, 8, 9, 16, 33, 70}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (float& v : x) v = rng() % 3 == 0 ? specials[rng() % std::size(specials)] : uniform(rng);
      for (const auto& [inv, zero, lo] : {std::tuple{1.0f, 0.0f, -127.0f}, std::tuple{0.37f, 0.0f, -127.0f},
                                          std::tuple{1.0f, -3.0f, -128.0f}, std::tuple{0.9f, 17.0f, -128.0f}}) {
        std::vector<int8_t> want(x.size()), got(x.size());
        portable.quantize(x.data(), n, inv, zero, lo, 127.0f, want.data());
        k->quantize(x.data(), n, inv, zero, lo, 127.0f, got.data());
        EXPECT_EQ(got, want) << k->name << " n " << n << " inv " << inv << " zero " << zero;
      }
    }
  }
}

// Each instruction set's int8 products (of those this CPU has) give the exact sums of the portable one: the narrow
// product over weights in [-127, 127] with inputs anywhere in [-128, 127] (the extremes drawn
// often, where pmaddubsw would saturate and NEON's paired vmlal overflow if the bound were wrong), and the
// widening one over any.
TEST(LstmHybrid, DotKernelsAreExact) {
  std::mt19937 rng(7);
  const auto draw = [&](int lo, int hi) {
    const int pick = static_cast<int>(rng() % 4);
    if (pick == 0) return static_cast<int8_t>(lo);
    if (pick == 1) return static_cast<int8_t>(hi);
    return static_cast<int8_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)));
  };
  const lstm::HybridKernels& portable = lstm::PortableHybridKernels();
  for (const lstm::HybridKernels* k : lstm::HybridKernelsOnThisCpu()) {
    for (int cols : {16, 32, 48, 64, 96, 272}) {
      for (int rows : {1, 3, 4, 7, 8, 24, 32, 33, 40, 48, 72, 264}) {
        const int vectors = 1 + static_cast<int>(rng() % 3);
        SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols));
        const size_t n = static_cast<size_t>(rows) * cols;
        std::vector<int8_t> narrow(n), any(n), x(static_cast<size_t>(vectors) * cols);
        for (int8_t& w : narrow) w = draw(-127, 127);
        for (int8_t& w : any) w = draw(-128, 127);
        for (int8_t& v : x) v = draw(-128, 127);
        std::vector<int32_t> want(static_cast<size_t>(vectors) * rows), got(want.size());
        portable.dot(narrow.data(), rows, cols, x.data(), vectors, want.data());
        k->dot(narrow.data(), rows, cols, x.data(), vectors, got.data());
        EXPECT_EQ(got, want) << k->name;
        if (rows % 8 == 0) {  // the packed rows of a layer always are
          std::vector<int8_t> laid = narrow;
          if (k->narrow_layout != nullptr) k->narrow_layout(narrow.data(), rows, cols, laid.data());
          k->dot_narrow(laid.data(), rows, cols, x.data(), vectors, got.data());
          EXPECT_EQ(got, want) << k->name << " narrow";
        }
        portable.dot(any.data(), rows, cols, x.data(), vectors, want.data());
        k->dot(any.data(), rows, cols, x.data(), vectors, got.data());
        EXPECT_EQ(got, want) << k->name << " with -128 weights";
      }
    }
  }
}

// Hybrid configurations tflstm does not cover run TFLite's kernel, with its exact results.
TEST(LstmHybrid, OtherConfigurationsRunTflitesKernelExactly) {
  auto check = [](const char* what, LstmSpec s, auto change_model) {
    SCOPED_TRACE(what);
    s.hybrid = true;
    s.n_cell = 12;
    s.n_input = 4;
    s.time = 9;
    s.batch = 2;
    auto m = tflite::UnPackModel(LstmModel(s).data());
    change_model(*m);
    auto p = MakePair(testing::Serialize(*m));
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), "tflite");
    std::mt19937 rng(13);
    EXPECT_EQ(Compare(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 0.0);
  };
  // (Peephole weights would be int8 too for TFLite's hybrid kernel; LstmModel makes them float.)
  LstmSpec projection;
  projection.projection = 5;
  check("projection", projection, [](tflite::ModelT&) {});
  LstmSpec cifg;
  cifg.cifg = true;
  check("CIFG", cifg, [](tflite::ModelT&) {});
  LstmSpec layer_norm;
  layer_norm.layer_norm = true;
  check("layer norm", layer_norm, [](tflite::ModelT&) {});
  // Per-channel scales leave the tensor's single scale 0, which lstm_check refuses for any kernel.
}

// A model whose tensors disagree is refused before TFLite prepares it: by Model's validation
// (kInvalidModel) and, for what gets past it, by the kernel's own check at Runner::Create.
void ExpectRefused(std::vector<char> bytes, const std::string& message) {
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  if (!model.ok()) {
    EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel) << model.status().ToString();
    return;
  }
  auto runner = Runner::Create(model.value());
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kRuntimeError);
  EXPECT_NE(runner.status().message().find(message), std::string::npos) << runner.status().ToString();
}

// Gives the model's tensor called `name` another shape, and a constant one a buffer of that size
// (TFLite's loader itself refuses a buffer that does not match the shape).
std::vector<char> WithShape(const std::vector<char>& bytes, const std::string& name, std::vector<int> shape) {
  auto m = tflite::UnPackModel(bytes.data());
  for (auto& t : m->subgraphs[0]->tensors) {
    if (t->name != name) continue;
    t->shape = shape;
    size_t n = sizeof(float);
    for (int d : shape) n *= static_cast<size_t>(d);
    if (t->buffer != 0) m->buffers[t->buffer]->data.assign(n, 0);
  }
  return testing::Serialize(*m);
}

TEST(LstmContract, InconsistentTensorsAreRefusedWithAMessage) {
  LstmSpec s;
  s.n_cell = 8;
  s.n_input = 3;
  const std::vector<char> good = LstmModel(s);
  ExpectRefused(WithShape(good, "r_forget", {8, 9}),
                "UNIDIRECTIONAL_SEQUENCE_LSTM: input 6 ('r_forget') has shape [8, 9], expected [8, 8]");
  ExpectRefused(WithShape(good, "b_cell", {9}), "input 14 ('b_cell') has shape [9], expected [8]");
  ExpectRefused(WithShape(good, "c", {1, 7}), "the cell state must hold batch x n_cell values");
  ExpectRefused(WithShape(good, "x", {1, 4}), "the input must have rank 3");
  auto m = tflite::UnPackModel(good.data());
  m->subgraphs[0]->operators[0]->inputs.resize(19);
  ExpectRefused(testing::Serialize(*m), "expects 20 or 24 inputs, got 19");
}

// ---- The full-integer (8x8_16) kernel: bit-exact with TFLite's.

using testing::Int8LstmModel;
using testing::Int8LstmSpec;

std::string Describe(const Int8LstmSpec& s) {
  return "batch " + std::to_string(s.batch) + " time " + std::to_string(s.time) + " features " +
         std::to_string(s.n_input) + " units " + std::to_string(s.n_cell) + (s.time_major ? " time-major" : "") +
         " clip " + std::to_string(s.cell_clip) + " cell scale 2^" + std::to_string(s.cell_scale_log2) +
         " input scale " + std::to_string(s.input_scale) + " zp " + std::to_string(s.input_zp) + " hidden scale " +
         std::to_string(s.hidden_scale) + " zp " + std::to_string(s.hidden_zp) + " seed " + std::to_string(s.seed);
}

// Elements of `tensor` that differ between the interpreters.
size_t Differences(tflite::Interpreter& a, tflite::Interpreter& b, int tensor) {
  const TfLiteTensor* x = a.tensor(tensor);
  const TfLiteTensor* y = b.tensor(tensor);
  EXPECT_EQ(x->bytes, y->bytes);
  if (x->bytes != y->bytes) return x->bytes;
  size_t element = 1;
  EXPECT_EQ(tflite::GetSizeOfType(nullptr, x->type, &element), kTfLiteOk);
  size_t differ = 0;
  for (size_t k = 0; k < x->bytes; k += element) differ += std::memcmp(x->data.raw + k, y->data.raw + k, element) != 0;
  return differ;
}

// Random int8 inputs `invokes` times, the state carried: differing elements of the output and
// both state tensors (0 when bit-exact).
size_t CompareInt8(tflite::Interpreter& ours, tflite::Interpreter& ref, std::mt19937& rng, int invokes) {
  std::uniform_int_distribution<int> u(-128, 127);
  size_t differ = 0;
  for (int run = 0; run < invokes; ++run) {
    for (int x : ours.inputs()) {
      TfLiteTensor* a = ours.tensor(x);
      for (size_t k = 0; k < a->bytes; ++k) a->data.int8[k] = ref.tensor(x)->data.int8[k] = static_cast<int8_t>(u(rng));
    }
    EXPECT_EQ(ours.Invoke(), kTfLiteOk);
    EXPECT_EQ(ref.Invoke(), kTfLiteOk);
    differ += Differences(ours, ref, ours.outputs()[0]);
    for (int v : ref.variables()) differ += Differences(ours, ref, v);
  }
  return differ;
}

// The forget gate times the cell state (what TFLite's CwiseMul with shift 15 computes), by each
// of this CPU's kernels for every gate value: against cell values at a stride and odd negative
// ones, of which each has one gate value whose product lies exactly halfway (rounded away from
// zero by TFLite, half up by vpmulhrsw and vqrdmulh).
TEST(Int8Activations, ForgetGateTimesCellMatchesTflite) {
  std::vector<int16_t> f(32768), c(32768), want(32768), got(32768);
  for (int i = 0; i < 32768; ++i) f[i] = static_cast<int16_t>(i);
  std::vector<int> cells = {-32768, -32767, -16385, -1, 0, 1, 16383, 32767};
  for (int v = -32767; v < 32768; v += 211) cells.push_back(v);  // odd and even, both signs
  for (int v = -32767; v < 0; v += 442) cells.push_back(v);      // odd, negative
  for (int cell : cells) {
    std::fill(c.begin(), c.end(), static_cast<int16_t>(cell));
    tflite::tensor_utils::CwiseMul(f.data(), c.data(), 1, 32768, 15, want.data());
    for (const lstm::Int8Kernels* k : lstm::Int8KernelsOnThisCpu()) {
      k->mul_q15(f.data(), c.data(), got.data(), 32768);
      ASSERT_EQ(want, got) << "cell " << cell << ", " << k->name;
    }
  }
}

// gemmlowp's logistic and tanh of every int16 input: each of this CPU's kernels (the portable
// one included) as TFLite's own ApplySigmoid and ApplyTanh, which its integer LSTM calls.
TEST(Int8Activations, EveryInputMatchesTflite) {
  std::vector<int16_t> in(65536), want(65536), got(65536);
  for (int i = 0; i < 65536; ++i) in[i] = static_cast<int16_t>(i - 32768);
  tflite::tensor_utils::ApplySigmoid(in.data(), 1, 65536, want.data());
  EXPECT_EQ(want[32768], 16384);  // logistic(0) = 1/2
  for (const lstm::Int8Kernels* k : lstm::Int8KernelsOnThisCpu()) {
    k->sigmoid(in.data(), got.data(), 65536);
    EXPECT_EQ(want, got) << "sigmoid, " << k->name;
  }
  for (int bits = 0; bits <= 6; ++bits) {
    tflite::tensor_utils::ApplyTanh(bits, in.data(), 1, 65536, want.data());
    EXPECT_EQ(want[32768], 0);
    if (bits >= 3) {
      EXPECT_EQ(want[0], -32767) << bits;  // saturated: tanh(-8) and below
    }
    for (const lstm::Int8Kernels* k : lstm::Int8KernelsOnThisCpu()) {
      k->tanh(bits, in.data(), got.data(), 65536);
      EXPECT_EQ(want, got) << "tanh with " << bits << " integer bits, " << k->name;
    }
  }
}

// Each of this CPU's float kernels (AVX2 and AVX-512 on x86, NEON on ARM) computes what the
// portable one does, to float rounding, for a projection (rows past the vector kernels' row
// blocking), a fused step and the cell update alone, over odd sizes (a last block of 3 units,
// 11 inputs), two batch rows, a clip and each activation: the parity tests below run only the
// best of them.
TEST(FloatKernels, EveryInstructionSetMatchesThePortableOne) {
  constexpr int kCell = 19, kInput = 11, kRows = 13, kBatch = 2;
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<float> w_in[lstm::kGates], w_rec[lstm::kGates];
  const float* in_ptrs[lstm::kGates];
  const float* rec_ptrs[lstm::kGates];
  for (int g = 0; g < lstm::kGates; ++g) {
    w_in[g].resize(kCell * kInput);
    w_rec[g].resize(kCell * kCell);
    for (float& v : w_in[g]) v = normal(rng);
    for (float& v : w_rec[g]) v = normal(rng);
    in_ptrs[g] = w_in[g].data();
    rec_ptrs[g] = w_rec[g].data();
  }
  lstm::PackedWeights packed;
  packed.Resize(kInput, kCell);
  lstm::PackGates(in_ptrs, kCell, kInput, packed.input.data());
  lstm::PackGates(rec_ptrs, kCell, kCell, packed.recurrent.data());
  for (float& b : packed.bias) b = normal(rng);
  const size_t row = static_cast<size_t>(lstm::Blocks(kCell)) * lstm::kBlockWidth;
  const size_t stride = static_cast<size_t>(lstm::Blocks(kCell)) * lstm::kBlockUnits;
  std::vector<float> x(static_cast<size_t>(kRows) * kInput), h_prev(kBatch * stride, 0.0f), c0(kBatch * stride, 0.0f);
  for (float& v : x) v = 4 * normal(rng);
  for (int b = 0; b < kBatch; ++b) {
    for (int u = 0; u < kCell; ++u) h_prev[b * stride + u] = normal(rng), c0[b * stride + u] = 4 * normal(rng);
  }
  struct Result {
    std::vector<float> gx, h, c, h_update, c_update;
  };
  const auto run = [&](const lstm::Kernels& k, lstm::Activation activation, float clip) {
    Result out{std::vector<float>(kRows * row), std::vector<float>(kBatch * stride), c0,
               std::vector<float>(kBatch * stride), c0};
    k.project({x.data(), kRows, kInput, kCell, packed.input.data(), packed.bias.data(), out.gx.data()});
    lstm::StepArgs step{packed.recurrent.data(),
                        out.gx.data(),
                        row,
                        h_prev.data(),
                        out.h.data(),
                        out.c.data(),
                        stride,
                        kBatch,
                        kCell,
                        clip,
                        activation};
    k.step(step);
    step.h_next = out.h_update.data();
    step.c = out.c_update.data();
    k.update(step);
    return out;
  };
  const auto expect_near = [](const std::vector<float>& got, const std::vector<float>& want, size_t n_rows,
                              size_t row_size, size_t used, const std::string& what) {
    for (size_t r = 0; r < n_rows; ++r) {
      for (size_t i = 0; i < used; ++i) {
        const float w = want[r * row_size + i];
        ASSERT_NEAR(got[r * row_size + i], w, 2e-6f * std::max(1.0f, std::abs(w))) << what << " row " << r << " " << i;
      }
    }
  };
  for (const auto activation :
       {lstm::Activation::kTanh, lstm::Activation::kRelu, lstm::Activation::kRelu6, lstm::Activation::kReluN1To1}) {
    for (const float clip : {0.0f, 1.5f}) {
      const Result want = run(lstm::PortableKernels(), activation, clip);
      for (const lstm::Kernels* k : lstm::KernelsOnThisCpu()) {
        const Result got = run(*k, activation, clip);
        const std::string what = std::string(k->name) + " activation " + std::to_string(static_cast<int>(activation)) +
                                 " clip " + std::to_string(clip);
        expect_near(got.gx, want.gx, kRows, row, row, what + " projection");
        expect_near(got.h, want.h, kBatch, stride, kCell, what + " h");
        expect_near(got.c, want.c, kBatch, stride, kCell, what + " c");
        expect_near(got.h_update, want.h_update, kBatch, stride, kCell, what + " h (update)");
        expect_near(got.c_update, want.c_update, kBatch, stride, kCell, what + " c (update)");
      }
    }
  }
}

// Each of this CPU's integer kernels gives the portable kernel's bits for a projection and a
// step: the parity tests below run only the best of them (VNNI where the CPU has it, not AVX2).
// Odd sizes (a last block of 5 units, column groups with a tail), two batch rows, weights and
// inputs at the ends of their ranges.
TEST(Int8Kernels, EveryInstructionSetMatchesThePortableOne) {
  constexpr int kInput = 11, kRows = 3, kBatch = 2;
  // 51 units: 7 blocks, 3 past a multiple of 4, 64 padded units; 77: 10 blocks (8 and 2 at
  // once with AVX2), 96 padded units (4 and 2 vectors at once).
  for (const int kCell : {51, 77}) {
    SCOPED_TRACE(kCell);
    std::mt19937 rng(11);
    const auto draw = [&](int lo, int hi) {
      const int pick = static_cast<int>(rng() % 4);
      return pick == 0 ? lo : pick == 1 ? hi : lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1));
    };
    std::vector<int8_t> w_in[lstm::kGates], w_rec[lstm::kGates];
    const int8_t* in_ptrs[lstm::kGates];
    const int8_t* rec_ptrs[lstm::kGates];
    for (int g = 0; g < lstm::kGates; ++g) {
      w_in[g].resize(kCell * kInput);
      w_rec[g].resize(kCell * kCell);
      for (int8_t& v : w_in[g]) v = static_cast<int8_t>(draw(-127, 127));
      for (int8_t& v : w_rec[g]) v = static_cast<int8_t>(draw(-127, 127));
      in_ptrs[g] = w_in[g].data();
      rec_ptrs[g] = w_rec[g].data();
    }
    const size_t row = static_cast<size_t>(lstm::Blocks(kCell)) * lstm::kBlockWidth;
    std::vector<int32_t> gate_bias[lstm::kGates];
    const int32_t* bias_ptrs[lstm::kGates];
    for (int g = 0; g < lstm::kGates; ++g) {
      gate_bias[g].resize(kCell);
      for (int32_t& b : gate_bias[g]) b = draw(-20000, 20000);
      bias_ptrs[g] = gate_bias[g].data();
    }
    lstm::Int8Params params;
    for (int g = 0; g < lstm::kGates; ++g) {
      params.input[g] = {1518500250 + g, -7 - g % 2};
      params.recurrent[g] = {1276901417 - g, -8 + g % 2};
    }
    params.hidden = {1395864371, -13};
    params.hidden_zp = -3;
    params.cell_scale = -11;
    params.cell_clip = 20000;
    const size_t padded = static_cast<size_t>(lstm::Int8Padded(kCell));
    std::vector<int16_t> x(static_cast<size_t>(kRows) * lstm::Int8Columns(kInput), 0);
    for (int r = 0; r < kRows; ++r) {
      for (int k = 0; k < kInput; ++k) x[static_cast<size_t>(r) * lstm::Int8Columns(kInput) + k] = draw(-128, 127);
    }
    std::vector<int16_t> h_prev(kBatch * padded, 0), c0(kBatch * padded, 0);
    for (int b = 0; b < kBatch; ++b) {
      for (int u = 0; u < kCell; ++u) {
        h_prev[b * padded + u] = static_cast<int16_t>(draw(-128, 127));
        c0[b * padded + u] = static_cast<int16_t>(draw(-32768, 32767));
      }
    }
    struct Result {
      std::vector<int16_t> gx, h, c;
    };
    const auto run = [&](const lstm::Int8Kernels& k) {
      std::vector<int8_t> packed_in(lstm::PackedInt8Size(kCell, kInput, k.group));
      std::vector<int8_t> packed_rec(lstm::PackedInt8Size(kCell, kCell, k.group));
      lstm::PackInt8Gates(in_ptrs, kCell, kInput, k.group, packed_in.data());
      lstm::PackInt8Gates(rec_ptrs, kCell, kCell, k.group, packed_rec.data());
      // As Int8Lstm::Prepare: zero points (-5 and 3 here) and the kernel's x offset in the biases.
      std::vector<int32_t> in_bias(row), rec_bias(row);
      lstm::Int8EffectiveBias(in_ptrs, bias_ptrs, -5 - k.x_offset, kCell, kInput, in_bias.data());
      lstm::Int8EffectiveBias(rec_ptrs, bias_ptrs, 3 - k.x_offset, kCell, kCell, rec_bias.data());
      Result out{std::vector<int16_t>(kRows * row), std::vector<int16_t>(kBatch * padded), c0};
      k.project({x.data(), kRows, kInput, kCell, packed_in.data(), in_bias.data(), &params, out.gx.data()});
      std::vector<int16_t> gates(kBatch * lstm::kGates * padded);
      const lstm::Int8StepArgs step{
          packed_rec.data(), rec_bias.data(), out.gx.data(), row,   h_prev.data(), out.h.data(),
          out.c.data(),      gates.data(),    kBatch,        kCell, &params};
      k.gates(step);
      k.cell(step);
      return out;
    };
    const Result want = run(lstm::PortableInt8Kernels());
    for (const lstm::Int8Kernels* k : lstm::Int8KernelsOnThisCpu()) {
      const Result got = run(*k);
      EXPECT_EQ(got.gx, want.gx) << k->name << " projection";
      for (int b = 0; b < kBatch; ++b) {  // past n_cell the state's lanes are scratch
        for (int u = 0; u < kCell; ++u) {
          EXPECT_EQ(got.c[b * padded + u], want.c[b * padded + u]) << k->name << " c " << u;
          EXPECT_EQ(got.h[b * padded + u], want.h[b * padded + u]) << k->name << " h " << u;
        }
      }
    }
  }
}

#if defined(__aarch64__) && defined(TFLSTM_EMULATED)
// qemu-aarch64's default CPU ("max") has DotProd, so the ARM test run takes the sdot kernels
// through the op, and the plain NEON ones through the *OnThisCpu loops above.
TEST(Int8Kernels, TheEmulatedCpuRunsTheDotProdKernels) {
  ASSERT_TRUE(rnn::Cpu().dotprod);
  EXPECT_STREQ(lstm::BestInt8Kernels().name, "int8-neon-dotprod");
  EXPECT_STREQ(lstm::BestHybridKernels().name, "hybrid-neon-dotprod");
  EXPECT_EQ(lstm::Int8KernelsOnThisCpu().size(), 3u);
  EXPECT_EQ(lstm::HybridKernelsOnThisCpu().size(), 3u);
}
#endif

TEST(Int8Parity, RandomConfigurationsMatchTfliteExactly) {
  std::mt19937 rng(20261203);
  const int units[] = {1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 20, 24, 31, 33, 64, 100};
  const float input_scales[] = {1.0f / 128, 1.0f / 64, 1.0f / 16, 1.0f / 2};
  for (int i = 0; i < kRandomCases; ++i) {
    Int8LstmSpec s;
    s.n_cell = units[rng() % (sizeof(units) / sizeof(units[0]))];
    s.n_input = 1 + static_cast<int>(rng() % 40);
    s.batch = 1 + static_cast<int>(rng() % 3);
    s.time = 1 + static_cast<int>(rng() % 40);
    s.time_major = rng() % 3 == 0;
    s.cell_clip = rng() % 3 == 0 ? 0.25f + static_cast<float>(rng() % 8) : 0.0f;
    // Past -15..-9 TFLite's tanh of the cell writes nothing: refused (below).
    s.cell_scale_log2 = -9 - static_cast<int>(rng() % 7);
    s.input_scale = input_scales[rng() % 4];
    s.input_zp = static_cast<int>(rng() % 41) - 20;
    s.hidden_scale = 1.0f / static_cast<float>(64 + rng() % 128);
    s.hidden_zp = static_cast<int>(rng() % 21) - 10;
    s.seed = static_cast<unsigned>(rng());
    SCOPED_TRACE(Describe(s));
    auto p = MakePair(Int8LstmModel(s));
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedInt8Kernel());
    ASSERT_EQ(LstmNodeKernel(*p->ref.interpreter), "builtin registration");
    EXPECT_EQ(CompareInt8(*p->ours.interpreter, *p->ref.interpreter, rng, 3), 0u);
  }
}

// The state carries across invokes: a sequence fed one step per invoke gives the outputs and
// state of the whole sequence in one invoke; ResetVariableTensors starts again from zero.
TEST(Int8Parity, OneStepPerInvokeContinuesTheSequence) {
  Int8LstmSpec s;
  s.n_cell = 21;
  s.n_input = 5;
  s.time = 12;
  s.batch = 2;
  s.cell_clip = 2.0f;
  const std::vector<char> bytes = Int8LstmModel(s);
  auto p = MakePair(bytes);
  auto step = MakePair(bytes);
  std::mt19937 rng(5);
  ASSERT_EQ(CompareInt8(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 0u);
  for (tflite::Interpreter* it : {p->ours.interpreter.get(), step->ours.interpreter.get()}) {
    ASSERT_EQ(it->ResetVariableTensors(), kTfLiteOk);
  }
  tflite::Interpreter& whole = *p->ours.interpreter;
  tflite::Interpreter& one = *step->ours.interpreter;
  ASSERT_EQ(one.ResizeInputTensor(one.inputs()[0], {s.batch, 1, s.n_input}), kTfLiteOk);
  ASSERT_EQ(one.AllocateTensors(), kTfLiteOk);
  ASSERT_EQ(one.ResetVariableTensors(), kTfLiteOk);
  ASSERT_EQ(LstmNodeKernel(one), ExpectedInt8Kernel());
  std::uniform_int_distribution<int> u(-128, 127);
  int8_t* x = whole.typed_input_tensor<int8_t>(0);
  for (int k = 0; k < s.batch * s.time * s.n_input; ++k) x[k] = static_cast<int8_t>(u(rng));
  ASSERT_EQ(whole.Invoke(), kTfLiteOk);
  for (int t = 0; t < s.time; ++t) {
    for (int b = 0; b < s.batch; ++b) {
      std::memcpy(one.typed_input_tensor<int8_t>(0) + b * s.n_input, x + (b * s.time + t) * s.n_input, s.n_input);
    }
    ASSERT_EQ(one.Invoke(), kTfLiteOk);
    for (int b = 0; b < s.batch; ++b) {
      EXPECT_EQ(std::memcmp(one.typed_output_tensor<int8_t>(0) + b * s.n_cell,
                            whole.typed_output_tensor<int8_t>(0) + (b * s.time + t) * s.n_cell, s.n_cell),
                0)
          << "step " << t << " batch row " << b;
    }
  }
  for (size_t v = 0; v < whole.variables().size(); ++v) {
    const TfLiteTensor* a = whole.tensor(whole.variables()[v]);
    const TfLiteTensor* b = one.tensor(one.variables()[v]);
    ASSERT_EQ(a->bytes, b->bytes);
    EXPECT_EQ(std::memcmp(a->data.raw, b->data.raw, a->bytes), 0) << "state " << v;
  }
}

TEST(Int8Parity, SaturatedGatesMatchTflite) {
  Int8LstmSpec s;
  s.n_cell = 19;
  s.n_input = 7;
  s.time = 25;
  s.input_scale = 1.0f;  // every pre-activation past the int16 range
  s.cell_scale_log2 = -15;
  auto p = MakePair(Int8LstmModel(s));
  ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), ExpectedInt8Kernel());
  std::mt19937 rng(9);
  EXPECT_EQ(CompareInt8(*p->ours.interpreter, *p->ref.interpreter, rng, 3), 0u);
}

TEST(Int8Parity, OtherIntegerConfigurationsRunTflitesKernel) {
  struct Case {
    const char* what;
    Int8LstmSpec spec;
  };
  std::vector<Case> cases;
  auto add = [&](const char* what, auto change) {
    Int8LstmSpec s;
    s.n_cell = 12;
    s.n_input = 4;
    s.time = 9;
    s.batch = 2;
    change(s);
    cases.push_back({what, s});
  };
  add("CIFG", [](Int8LstmSpec& s) { s.cifg = true; });
  add("peephole", [](Int8LstmSpec& s) { s.peephole = true; });
  add("a weight of -128", [](Int8LstmSpec& s) { s.weight_min = true; });
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = MakePair(Int8LstmModel(c.spec));
    ASSERT_EQ(LstmNodeKernel(*p->ours.interpreter), "tflite");
    std::mt19937 rng(11);
    EXPECT_EQ(CompareInt8(*p->ours.interpreter, *p->ref.interpreter, rng, 2), 0u);
  }
  // Cell scales at which TFLite's kernel computes no tanh of the cell (its output then reads a
  // stale buffer: the input gate), or cannot shift the products (30 + log2 past 31, or below 0:
  // gemmlowp's RoundingDivideByPOT is undefined there), are refused, not run on TFLite's kernel.
  for (int log2 : {2, -6, -8, -16, -31}) {
    Int8LstmSpec coarse;
    coarse.cell_scale_log2 = log2;
    ExpectRefused(Int8LstmModel(coarse), "the cell state's scale is 2^" + std::to_string(log2) +
                                             "; TFLite's integer LSTM computes tanh of the cell for scales 2^-15 to "
                                             "2^-9 only");
  }
}

}  // namespace
}  // namespace tflstm
