// Shape changes, signatures, cancellation and the float <-> int8 helpers of Runner.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "test_models.h"
#include "tflstm/runner.h"

namespace tflstm {
namespace {

using testing::TestData;

std::unique_ptr<Runner> LstmRunner(RunnerOptions options = {}) {
  auto model = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Runner::Create(model.value(), options);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  return runner.ok() ? std::move(runner).value() : nullptr;
}

std::vector<float> RunOnce(Runner& r, const std::vector<float>& x, std::vector<int> shape) {
  const Status s = r.SetInput(0, x.data(), x.size() * sizeof(float), DType::kFloat32, shape.data(), shape.size());
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(r.Invoke().ok());
  const TensorView out = r.output(0);
  const auto* y = static_cast<const float*>(out.data);
  return std::vector<float>(y, y + out.bytes / sizeof(float));
}

std::vector<float> Wave(size_t n) {
  std::vector<float> x(n);
  for (size_t k = 0; k < n; ++k) x[k] = std::sin(0.37f * static_cast<float>(k));
  return x;
}

TEST(Resize, LongerSequenceRebuildsOnceAndStaysCausal) {
  auto r = LstmRunner();
  const std::vector<float> x = Wave(10);  // 5 steps of 2 features
  const std::vector<float> two = RunOnce(*r, {x.begin(), x.begin() + 4}, {1, 2, 2});
  EXPECT_EQ(r->rebuild_count(), 0u);
  const std::vector<float> five = RunOnce(*r, x, {1, 5, 2});
  EXPECT_EQ(r->rebuild_count(), 1u);
  ASSERT_EQ(five.size(), 10u);
  // An LSTM is causal: the first two steps' outputs do not depend on the later steps.
  for (size_t k = 0; k < two.size(); ++k) EXPECT_NEAR(five[k], two[k], 1e-6f);
  RunOnce(*r, x, {1, 5, 2});
  EXPECT_EQ(r->rebuild_count(), 1u);  // the same shape again: nothing rebuilt
  EXPECT_EQ(r->memory().arena_required, 2 * Arena::AlignUp(40));
}

TEST(Resize, BatchOfSequencesEqualsEachAlone) {
  auto r = LstmRunner();
  const std::vector<float> a = Wave(4);
  std::vector<float> b(4);
  for (size_t k = 0; k < 4; ++k) b[k] = 0.5f - a[k];
  const std::vector<float> ya = RunOnce(*r, a, {1, 2, 2});
  const std::vector<float> yb = RunOnce(*r, b, {1, 2, 2});
  std::vector<float> both = a;
  both.insert(both.end(), b.begin(), b.end());
  const std::vector<float> y = RunOnce(*r, both, {2, 2, 2});
  ASSERT_EQ(y.size(), 8u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_NEAR(y[k], ya[k], 1e-6f);
    EXPECT_NEAR(y[4 + k], yb[k], 1e-6f);
  }
}

TEST(Resize, ArenaBudgetBoundsGrowthAndTheRunnerKeepsWorking) {
  auto sized = LstmRunner();
  const size_t budget = sized->memory().total();
  RunnerOptions bounded;
  bounded.arena_bytes = budget;
  auto r = LstmRunner(bounded);
  const std::vector<float> x = Wave(100);
  const std::vector<float> before = RunOnce(*r, {x.begin(), x.begin() + 4}, {1, 2, 2});
  const std::vector<int> shape = {1, 50, 2};
  const Status s = r->SetInput(0, x.data(), x.size() * sizeof(float), DType::kFloat32, shape.data(), 3);
  EXPECT_EQ(s.code(), ErrorCode::kArenaExhausted) << s.ToString();
  EXPECT_NE(s.message().find("needs an arena of at least"), std::string::npos) << s.message();
  EXPECT_EQ(r->input(0).shape[1], 2);  // still the old shape, and still working
  EXPECT_EQ(RunOnce(*r, {x.begin(), x.begin() + 4}, {1, 2, 2}), before);
}

TEST(Resize, FixedFeatureAxisIsRefused) {
  auto r = LstmRunner();
  const std::vector<float> x = Wave(6);
  const std::vector<int> shape = {1, 2, 3};
  const Status s = r->SetInput(0, x.data(), 24, DType::kFloat32, shape.data(), 3);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expects shape [1, 2, 2], got [1, 2, 3]: dimension 2 is fixed"), std::string::npos)
      << s.message();
}

TEST(Signatures, EachSignatureRunsByKeyWithItsNames) {
  auto model = Model::FromFile(TestData("multi_signatures.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ(model.value()->signatures().size(), 2u);
  std::vector<float> results;
  for (const char* key : {"add", "sub"}) {
    RunnerOptions options;
    options.signature = key;
    auto r = Runner::Create(model.value(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r.value()->InputIndex("x").ok());
    ASSERT_TRUE(r.value()->OutputIndex("output_0").ok());
    const std::vector<float> x = {1, 2, 3};
    results.push_back(RunOnce(*r.value(), x, {3})[2]);  // the input axis is free (-1)
  }
  EXPECT_NE(results[0], results[1]);  // two different computations on the same input
  RunnerOptions mul;
  mul.signature = "mul";
  auto bad = Runner::Create(model.value(), mul);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no signature 'mul'; its signatures are 'add', 'sub'"), std::string::npos)
      << bad.status().message();
}

TEST(Cancel, LongInvokeStopsAndTheRunnerWorksAfterwards) {
  const std::vector<char> bytes = testing::AddChainModel({1, 1 << 18}, 400);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto created = Runner::Create(model.value());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Runner& r = *created.value();
  std::fill_n(static_cast<float*>(r.input(0).data), 1 << 18, 1.0f / 1024);
  ASSERT_TRUE(r.Invoke().ok());  // runs to the end when nobody cancels

  // Cancel() stops the invoke in progress; it is called again and again from another thread
  // until the invoke returns, so the test does not depend on timing.
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done.load()) {
      r.Cancel();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  const Status s = r.Invoke();
  done.store(true);
  canceller.join();
  EXPECT_EQ(s.code(), ErrorCode::kCancelled) << s.ToString();
  ASSERT_TRUE(r.Invoke().ok());  // a later invoke is not cancelled
}

TEST(Quantize, FloatInputsAreQuantizedAndOutputsDequantized) {
  // The reference arithmetic of TFLite's QUANTIZE: round half away from zero, clamp.
  const std::vector<char> bytes = testing::AddModel({1, 6});
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok());
  auto created = Runner::Create(model.value());
  ASSERT_TRUE(created.ok());
  Runner& r = *created.value();
  // A float model: the float helpers copy.
  const std::vector<float> x = {0.5f, -0.5f, 1.25f, -2.0f, 3.0f, 0.0f};
  const int shape[] = {1, 6};
  ASSERT_TRUE(r.SetInputFromFloat(0, x.data(), 6, shape, 2).ok());
  ASSERT_TRUE(r.SetInputFromFloat(1, x.data(), 6, shape, 2).ok());
  ASSERT_TRUE(r.Invoke().ok());
  std::vector<float> y(6);
  ASSERT_TRUE(r.OutputToFloat(0, y.data(), 6).ok());
  for (size_t k = 0; k < 6; ++k) EXPECT_FLOAT_EQ(y[k], 2 * x[k]);
  EXPECT_EQ(r.OutputToFloat(0, y.data(), 5).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tflstm
