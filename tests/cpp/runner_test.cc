#include "tflstm/runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/kernels/register.h"
#include "test_models.h"
#include "tflstm/tflite/model.h"

namespace tflstm {
namespace {

using testing::AddModel;
using testing::DenseModel;
using testing::TestData;

std::shared_ptr<const Model> Load(const std::vector<char>& bytes) {
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? model.value() : nullptr;
}

std::unique_ptr<Runner> Make(std::shared_ptr<const Model> model, RunnerOptions options = {}) {
  auto runner = Runner::Create(std::move(model), options);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  return runner.ok() ? std::move(runner).value() : nullptr;
}

TEST(Runner, DenseLayerMatchesItsArithmetic) {
  const std::vector<float> w = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f};  // [2, 3]
  const std::vector<float> b = {0.1f, -0.2f};
  auto runner = Make(Load(DenseModel(w, b, 3)));
  ASSERT_TRUE(runner);
  const std::vector<float> x = {1.0f, 2.0f, -3.0f};
  const int shape[] = {1, 3};
  ASSERT_TRUE(runner->SetInput(0, x.data(), sizeof(float) * 3, DType::kFloat32, shape, 2).ok());
  ASSERT_TRUE(runner->Invoke().ok());
  const TensorView y = runner->output(0);
  ASSERT_EQ(y.dtype, DType::kFloat32);
  ASSERT_EQ(y.rank, 2);
  ASSERT_EQ(y.shape[1], 2);
  const auto* out = static_cast<const float*>(y.data);
  for (int o = 0; o < 2; ++o) {
    float expect = b[o];
    for (int i = 0; i < 3; ++i) expect += x[i] * w[o * 3 + i];
    EXPECT_NEAR(out[o], expect, 1e-5f) << "output " << o;
  }
}

TEST(Runner, InputsAndOutputsLiveInTheArena) {
  auto runner = Make(Load(AddModel({4, 8})));
  ASSERT_TRUE(runner);
  const MemoryStats mem = runner->memory();
  // a, b and sum: 4*8 floats each, 128 bytes, 64-byte aligned.
  EXPECT_EQ(mem.arena_required, 3u * 128u);
  EXPECT_EQ(mem.arena.budget, mem.arena_required);
  EXPECT_EQ(mem.arena.used, mem.arena_required);
  // Zero-copy: writing through the input view is what the model sees.
  for (size_t i = 0; i < 2; ++i) {
    TensorView in = runner->input(i);
    auto* p = static_cast<float*>(in.data);
    for (int k = 0; k < 32; ++k) p[k] = static_cast<float>(k * (i + 1));
  }
  ASSERT_TRUE(runner->Invoke().ok());
  const auto* sum = static_cast<const float*>(runner->output(0).data);
  for (int k = 0; k < 32; ++k) EXPECT_FLOAT_EQ(sum[k], 3.0f * k);
}

TEST(Runner, ReportsTfliteMemoryForLstm) {
  auto model = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Make(model.value());
  ASSERT_TRUE(runner);
  const MemoryStats mem = runner->memory();
  EXPECT_GT(mem.arena.used, 0u);
  EXPECT_GT(mem.tflite_arena + mem.tflite_persistent, 0u);
  EXPECT_EQ(mem.total(), mem.arena.budget + mem.tflite_arena + mem.tflite_persistent + mem.tflite_dynamic);
  // The LSTM runs on its inputs and produces finite numbers.
  for (size_t i = 0; i < runner->input_count(); ++i) {
    TensorView in = runner->input(i);
    if (in.dtype == DType::kFloat32) {
      auto* p = static_cast<float*>(in.data);
      for (size_t k = 0; k < in.bytes / sizeof(float); ++k) p[k] = std::sin(0.1f * static_cast<float>(k));
    }
  }
  ASSERT_TRUE(runner->Invoke().ok());
  const TensorView out = runner->output(0);
  const auto* y = static_cast<const float*>(out.data);
  for (size_t k = 0; k < out.bytes / sizeof(float); ++k) ASSERT_TRUE(std::isfinite(y[k]));
}

TEST(Runner, EveryRunStartsFromZeroState) {
  // TFLite's fused LSTM keeps state in variable tensors across invokes; a runner must not.
  auto model = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Make(model.value());
  ASSERT_TRUE(runner);
  TensorView in = runner->input(0);
  ASSERT_EQ(in.dtype, DType::kFloat32);
  auto* x = static_cast<float*>(in.data);
  for (size_t k = 0; k < in.bytes / sizeof(float); ++k) x[k] = 0.5f + 0.1f * static_cast<float>(k % 7);
  const TensorView out = runner->output(0);
  std::vector<float> runs[3];
  for (auto& y : runs) {
    ASSERT_TRUE(runner->Invoke().ok());
    const auto* p = static_cast<const float*>(out.data);
    y.assign(p, p + out.bytes / sizeof(float));
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);

  // The reference: TFLite's own interpreter on the same model, without a reset, drifts.
  std::unique_ptr<tflite::Interpreter> raw;
  auto resolver = std::make_unique<tflite::ops::builtin::BuiltinOpResolver>();
  ASSERT_EQ(tflite::InterpreterBuilder(FlatBuffer(*model.value()), *resolver)(&raw), kTfLiteOk);
  ASSERT_EQ(raw->AllocateTensors(), kTfLiteOk);
  std::memcpy(raw->typed_input_tensor<float>(0), x, in.bytes);
  ASSERT_EQ(raw->Invoke(), kTfLiteOk);
  std::vector<float> first(raw->typed_output_tensor<float>(0), raw->typed_output_tensor<float>(0) + runs[0].size());
  ASSERT_EQ(raw->Invoke(), kTfLiteOk);
  std::vector<float> second(raw->typed_output_tensor<float>(0), raw->typed_output_tensor<float>(0) + runs[0].size());
  EXPECT_EQ(first, runs[0]);
  EXPECT_NE(second, runs[0]) << "the model has no state to carry: this test proves nothing";
}

TEST(Runner, ArenaTooSmallSaysHowMuchIsNeeded) {
  auto model = Load(AddModel({4, 8}));
  RunnerOptions options;
  options.arena_bytes = 200;
  auto runner = Runner::Create(model, options);
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kArenaExhausted);
  const std::string& msg = runner.status().message();
  EXPECT_NE(msg.find("at least 384 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor '"), std::string::npos) << msg;
  // A budget of exactly what the runner holds works (the arena itself takes 384 of it).
  options.arena_bytes = Make(model)->memory().total();
  auto fits = Runner::Create(model, options);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(fits.value()->memory().arena.budget, 384u);
}

TEST(Runner, WrongInputsAreRefusedAndTheRunnerKeepsWorking) {
  auto runner = Make(Load(AddModel({1, 4})));
  ASSERT_TRUE(runner);
  const float x[4] = {1, 2, 3, 4};
  const int good[] = {1, 4};
  const int bad_shape[] = {2, 2};
  Status s = runner->SetInput(0, x, sizeof x, DType::kFloat32, bad_shape, 2);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expects shape [1, 4], got [2, 2]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'a'"), std::string::npos) << s.message();

  const int32_t xi[4] = {1, 2, 3, 4};
  s = runner->SetInput(0, xi, sizeof xi, DType::kInt32, good, 2);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expects dtype float32, got int32"), std::string::npos) << s.message();

  s = runner->SetInput(5, x, sizeof x, DType::kFloat32, good, 2);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("out of range"), std::string::npos);

  auto idx = runner->InputIndex("nope");
  ASSERT_FALSE(idx.ok());
  EXPECT_NE(idx.status().message().find("'a', 'b'"), std::string::npos) << idx.status().message();
  EXPECT_EQ(runner->InputIndex("b").value(), 1u);

  ASSERT_TRUE(runner->SetInput(0, x, sizeof x, DType::kFloat32, good, 2).ok());
  ASSERT_TRUE(runner->SetInput(1, x, sizeof x, DType::kFloat32, good, 2).ok());
  ASSERT_TRUE(runner->Invoke().ok());
  EXPECT_FLOAT_EQ(static_cast<const float*>(runner->output(0).data)[3], 8.0f);
}

TEST(Runner, UnsupportedOpIsRefusedBeforeBuilding) {
  auto runner = Runner::Create(Load(AddModel({1, 4}, /*version=*/99)));
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kUnsupportedOp);
  EXPECT_NE(runner.status().message().find("ADD version 99"), std::string::npos) << runner.status().message();
}

TEST(Runner, BadThreadCountIsAnInvalidArgument) {
  // 100000 threads would allocate stacks without bound; under an address-space limit TFLite's
  // pool waited forever for threads that could not start.
  for (const int n : {0, -2, Runner::MaxThreads() + 1, 1000, 100000}) {
    RunnerOptions options;
    options.num_threads = n;
    auto runner = Runner::Create(Load(AddModel()), options);
    ASSERT_FALSE(runner.ok()) << n;
    EXPECT_EQ(runner.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(runner.status().message().find("1 to " + std::to_string(Runner::MaxThreads())), std::string::npos)
        << runner.status().message();
  }
  EXPECT_GE(Runner::MaxThreads(), 64);
  RunnerOptions most;
  most.num_threads = Runner::MaxThreads();
  EXPECT_TRUE(Runner::Create(Load(AddModel()), most).ok());
}

// RunnerOptions::Validate is where the options are checked: Create refuses exactly what it refuses,
// with its message, before loading anything.
TEST(RunnerOptions, ValidateIsWhatCreateChecks) {
  for (const int n : {-1, 1, Runner::MaxThreads()}) {
    RunnerOptions options;
    options.num_threads = n;
    EXPECT_TRUE(options.Validate().ok()) << n << ": " << options.Validate().ToString();
  }
  RunnerOptions tflite_kernel;
  tflite_kernel.lstm_kernel = LstmKernel::kTflite;
  EXPECT_TRUE(tflite_kernel.Validate().ok());
  EXPECT_TRUE(Runner::Create(Load(AddModel()), tflite_kernel).ok());

  std::vector<RunnerOptions> bad(4);
  bad[0].num_threads = 0;
  bad[1].num_threads = -2;
  bad[2].num_threads = Runner::MaxThreads() + 1;
  bad[3].lstm_kernel = static_cast<LstmKernel>(2);  // an int cast to the enum
  const char* const names[] = {"num_threads", "num_threads", "num_threads", "lstm_kernel"};
  for (size_t i = 0; i < bad.size(); ++i) {
    const Status refused = bad[i].Validate();
    ASSERT_FALSE(refused.ok()) << i;
    EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.message().rfind(names[i], 0), 0u) << refused.message();
    auto runner = Runner::Create(Load(AddModel()), bad[i]);
    ASSERT_FALSE(runner.ok()) << i;
    EXPECT_EQ(runner.status().code(), refused.code());
    EXPECT_EQ(runner.status().message(), refused.message());
  }
}

// The names the command lines and the Python API give the kernels, both ways.
TEST(LstmKernel, NamesRoundTrip) {
  for (const LstmKernel k : {LstmKernel::kTflstm, LstmKernel::kTflite}) {
    const auto parsed = LstmKernelFromName(LstmKernelName(k));
    ASSERT_TRUE(parsed.ok()) << LstmKernelName(k);
    EXPECT_EQ(parsed.value(), k);
  }
  EXPECT_STREQ(LstmKernelName(LstmKernel::kTflite), "tflite");
  for (const char* bad : {"", "TFLITE", "tflstm ", "neon"}) {
    const auto parsed = LstmKernelFromName(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(), "lstm_kernel must be 'tflstm' or 'tflite', got '" + std::string(bad) + "'");
  }
}

TEST(Runner, APathWithANulByteIsRefusedNotCut) {
  const std::string real = TestData("add.bin");
  ASSERT_TRUE(Model::FromFile(real).ok());
  auto model = Model::FromFile(real + std::string(1, '\0') + "ignored");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("NUL byte"), std::string::npos) << model.status().message();
}

// The file was memory-mapped: truncating it under a model killed the process (SIGBUS) at the
// next runner. It is read into memory now; mapping is an option with that hazard documented.
TEST(Runner, AModelOutlivesChangesToItsFile) {
  const std::vector<char> bytes = AddModel({1, 4});
  const std::string path = ::testing::TempDir() + "/tflstm_truncated_model.tflite";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto model = Model::FromFile(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model.value()->size_bytes(), bytes.size());
  std::ofstream(path, std::ios::binary | std::ios::trunc).close();  // now 0 bytes on disk
  auto runner = Make(model.value());
  ASSERT_TRUE(runner);
  const float x[4] = {1, 2, 3, 4};
  const int shape[] = {1, 4};
  ASSERT_TRUE(runner->SetInput(0, x, sizeof x, DType::kFloat32, shape, 2).ok());
  ASSERT_TRUE(runner->SetInput(1, x, sizeof x, DType::kFloat32, shape, 2).ok());
  ASSERT_TRUE(runner->Invoke().ok());
  EXPECT_FLOAT_EQ(static_cast<const float*>(runner->output(0).data)[3], 8.0f);
  // An empty file is refused by name, whether read or mapped.
  for (const ModelFile mode : {ModelFile::kRead, ModelFile::kMemoryMap}) {
    auto empty = Model::FromFile(path, mode);
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.status().message().find("is empty"), std::string::npos) << empty.status().message();
  }
  std::remove(path.c_str());
}

TEST(Runner, OneModelServesManyRunners) {
  auto model = Load(AddModel({1, 4}));
  auto r1 = Make(model);
  auto r2 = Make(model);
  ASSERT_TRUE(r1 && r2);
  EXPECT_NE(r1->input(0).data, r2->input(0).data);
  const float x[4] = {1, 1, 1, 1};
  const float z[4] = {2, 2, 2, 2};
  std::memcpy(r1->input(0).data, x, sizeof x);
  std::memcpy(r1->input(1).data, x, sizeof x);
  std::memcpy(r2->input(0).data, z, sizeof z);
  std::memcpy(r2->input(1).data, z, sizeof z);
  ASSERT_TRUE(r1->Invoke().ok());
  ASSERT_TRUE(r2->Invoke().ok());
  EXPECT_FLOAT_EQ(static_cast<const float*>(r1->output(0).data)[0], 2.0f);
  EXPECT_FLOAT_EQ(static_cast<const float*>(r2->output(0).data)[0], 4.0f);
}

}  // namespace
}  // namespace tflstm
