// Runner::SetInputs: inputs whose shapes change together are resized together, in one rebuild,
// before any data is written; inputs set one at a time keep each other's data.
#include <gtest/gtest.h>

#include <vector>

#include "test_models.h"
#include "tflstm/runner.h"

namespace tflstm {
namespace {

std::unique_ptr<Runner> AddRunner(std::vector<int> shape) {
  const std::vector<char> bytes = testing::AddModel(std::move(shape));
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Runner::Create(model.value());
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  return runner.ok() ? std::move(runner).value() : nullptr;
}

std::vector<float> Output(const Runner& r) {
  const TensorView out = r.output(0);
  const auto* y = static_cast<const float*>(out.data);
  return std::vector<float>(y, y + out.bytes / sizeof(float));
}

std::vector<float> Iota(size_t n, float start) {
  std::vector<float> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = start + static_cast<float>(k);
  return v;
}

InputData Data(const std::vector<float>& v, const std::vector<int>& shape) {
  return InputData{v.data(), v.size() * sizeof(float), DType::kFloat32, shape.data(), shape.size()};
}

TEST(SetInputs, InputsThatMustAgreeResizeTogetherInOneRebuild) {
  // ADD of [3, 4] and [2, 4] does not broadcast: resizing one input at a time passes through
  // that pair; SetInputs never does.
  auto r = AddRunner({3, 4});
  ASSERT_NE(r, nullptr);
  const std::vector<int> shape = {2, 4};
  const std::vector<float> a = Iota(8, 1.0f), b = Iota(8, 100.0f);
  const Status s = r->SetInputs({Data(a, shape), Data(b, shape)});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(r->rebuild_count(), 1u);
  ASSERT_TRUE(r->Invoke().ok());
  const std::vector<float> y = Output(*r);
  ASSERT_EQ(y.size(), 8u);
  for (size_t k = 0; k < 8; ++k) EXPECT_FLOAT_EQ(y[k], a[k] + b[k]);

  // One at a time, the same change is refused at the mixed shapes, and the runner keeps its
  // shapes and works on.
  const std::vector<int> three = {3, 4};
  const std::vector<float> a3 = Iota(12, 0.0f);
  const Status one = r->SetInput(0, a3.data(), a3.size() * sizeof(float), DType::kFloat32, three.data(), 2);
  EXPECT_EQ(one.code(), ErrorCode::kInvalidArgument) << one.ToString();
  EXPECT_TRUE(r->input(0).HasShape(shape.data(), 2));
  ASSERT_TRUE(r->Invoke().ok());
  EXPECT_EQ(Output(*r), y);
}

TEST(SetInputs, UnchangedShapesCostNoRebuild) {
  auto r = AddRunner({1, 4});
  ASSERT_NE(r, nullptr);
  const std::vector<int> shape = {1, 4};
  const std::vector<float> a = Iota(4, 1.0f), b = Iota(4, 2.0f);
  ASSERT_TRUE(r->SetInputs({Data(a, shape), Data(b, shape)}).ok());
  ASSERT_TRUE(r->SetInputs({Data(b, shape), Data(a, shape)}).ok());
  EXPECT_EQ(r->rebuild_count(), 0u);
}

TEST(SetInputs, ABadInputWritesNothing) {
  auto r = AddRunner({1, 4});
  ASSERT_NE(r, nullptr);
  const std::vector<int> shape = {1, 4}, wide = {2, 4};
  const std::vector<float> a = Iota(4, 1.0f), b = Iota(4, 2.0f);
  ASSERT_TRUE(r->SetInputs({Data(a, shape), Data(b, shape)}).ok());

  const std::vector<float> c = Iota(4, 50.0f), short_b = Iota(3, 0.0f);
  // The second input is wrong in size: the first is not written either, and nothing resized.
  Status s = r->SetInputs({Data(c, shape), Data(short_b, shape)});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("input 1 ('b') expects 16 bytes for shape [1, 4], got 12"), std::string::npos)
      << s.message();
  const std::vector<float> c8 = Iota(8, 50.0f);
  s = r->SetInputs({Data(c8, wide), InputData{}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("input 1 ('b') was not given"), std::string::npos) << s.message();
  s = r->SetInputs({Data(c, shape)});
  EXPECT_NE(s.message().find("takes 2 input(s), got 1"), std::string::npos) << s.message();
  const std::vector<int32_t> ints(4, 1);
  s = r->SetInputs({Data(c, shape), InputData{ints.data(), 16, DType::kInt32, shape.data(), 2}});
  EXPECT_NE(s.message().find("input 1 ('b') expects dtype float32, got int32"), std::string::npos) << s.message();

  EXPECT_EQ(r->rebuild_count(), 0u);
  ASSERT_TRUE(r->Invoke().ok());
  const std::vector<float> y = Output(*r);
  for (size_t k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(y[k], a[k] + b[k]);
}

TEST(SetInput, AResizeKeepsTheDataOfTheOtherInputs) {
  // b grows to a batch of 2 after a was set: a ([1, 4], broadcast) keeps its values.
  auto r = AddRunner({1, 4});
  ASSERT_NE(r, nullptr);
  const std::vector<int> one = {1, 4}, two = {2, 4};
  const std::vector<float> a = Iota(4, 1.0f), b = Iota(8, 10.0f);
  ASSERT_TRUE(r->SetInput(0, a.data(), 16, DType::kFloat32, one.data(), 2).ok());
  ASSERT_TRUE(r->SetInput(1, b.data(), 32, DType::kFloat32, two.data(), 2).ok());
  EXPECT_EQ(r->rebuild_count(), 1u);
  ASSERT_TRUE(r->Invoke().ok());
  const std::vector<float> y = Output(*r);
  ASSERT_EQ(y.size(), 8u);
  for (size_t k = 0; k < 8; ++k) EXPECT_FLOAT_EQ(y[k], a[k % 4] + b[k]);
}

TEST(SetInputs, IndexAndCountErrorsComeFromTheCore) {
  auto r = AddRunner({1, 4});
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->InputIndex(size_t{1}).ok());
  EXPECT_NE(r->InputIndex(size_t{2}).status().message().find("input index 2 is out of range"), std::string::npos);
  EXPECT_NE(r->OutputIndex(size_t{1}).status().message().find("output index 1 is out of range"), std::string::npos);
  EXPECT_EQ(r->InputLabel(1), "input 1 ('b')");
  EXPECT_TRUE(r->CheckInputCount(2).ok());
}

}  // namespace
}  // namespace tflstm
