// Non-finite inputs: the scan finds the first NaN or Inf wherever it is, and a runner refuses
// such an input by default, naming the input and the position.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "finite.h"
#include "test_models.h"
#include "tflstm/runner.h"

namespace tflstm {
namespace {

TEST(Finite, FirstNonFiniteAtEveryPositionAndLength) {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
  for (size_t n : {1u, 7u, 63u, 64u, 65u, 200u}) {
    std::vector<float> x(n, 1.5f);
    x[n / 2] = std::numeric_limits<float>::max();  // large but finite
    EXPECT_EQ(internal::FirstNonFinite(x.data(), n), n);
    for (size_t at = 0; at < n; at += (n > 70 ? 13 : 1)) {
      for (float s : specials) {
        std::vector<float> y = x;
        y[at] = s;
        if (at + 1 < n) y[n - 1] = s;  // a later one does not hide the first
        EXPECT_EQ(internal::FirstNonFinite(y.data(), n), at) << "n " << n << " at " << at;
      }
    }
  }
  const std::vector<uint16_t> half = {0x3c00, 0x7bff, 0xfc00, 0x7e00};  // 1, max, -inf, nan
  EXPECT_EQ(internal::FirstNonFiniteHalf(half.data(), 2), 2u);
  EXPECT_EQ(internal::FirstNonFiniteHalf(half.data(), 4), 2u);
}

std::unique_ptr<Runner> AddRunner(const RunnerOptions& options) {
  const std::vector<char> bytes = testing::AddModel({2, 3});
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  EXPECT_TRUE(model.ok());
  auto runner = Runner::Create(model.value(), options);
  EXPECT_TRUE(runner.ok());
  return runner.ok() ? std::move(runner).value() : nullptr;
}

TEST(Finite, RunnerRefusesNaNAndInfNamingInputAndPosition) {
  auto r = AddRunner({});
  ASSERT_NE(r, nullptr);
  const std::vector<int> shape = {2, 3};
  std::vector<float> a(6, 1.0f), b(6, 2.0f);
  b[4] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(
      r->SetInputs({{a.data(), 24, DType::kFloat32, shape.data(), 2}, {b.data(), 24, DType::kFloat32, shape.data(), 2}})
          .ok());
  Status s = r->Invoke();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("input 1 ('b') holds NaN at [1, 1] (element 4)"), std::string::npos) << s.message();
  b[4] = 2.0f;
  a[0] = -std::numeric_limits<float>::infinity();
  ASSERT_TRUE(r->SetInput(0, a.data(), 24, DType::kFloat32, shape.data(), 2).ok());
  ASSERT_TRUE(r->SetInput(1, b.data(), 24, DType::kFloat32, shape.data(), 2).ok());
  s = r->Invoke();
  EXPECT_NE(s.message().find("input 0 ('a') holds Inf at [0, 0]"), std::string::npos) << s.message();

  // Switched off, TFLite runs on whatever it is given, and its ADD clamps -Inf to the lowest
  // finite float: the silent finite answer the check exists to prevent.
  RunnerOptions raw;
  raw.check_finite = false;
  auto unchecked = AddRunner(raw);
  ASSERT_NE(unchecked, nullptr);
  ASSERT_TRUE(unchecked->SetInput(0, a.data(), 24, DType::kFloat32, shape.data(), 2).ok());
  ASSERT_TRUE(unchecked->SetInput(1, b.data(), 24, DType::kFloat32, shape.data(), 2).ok());
  ASSERT_TRUE(unchecked->Invoke().ok());
  const float y = static_cast<const float*>(unchecked->output(0).data)[0];
  EXPECT_TRUE(std::isfinite(y));
  EXPECT_EQ(y, std::numeric_limits<float>::lowest());
}

}  // namespace
}  // namespace tflstm
