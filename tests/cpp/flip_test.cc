// Single-byte flips of valid models: each one loads and runs, or fails with a typed Status.
// A crash fails the test binary, which ctest reports; under the sanitizer build the same
// flips also check tflstm's own memory accesses.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include "test_models.h"
#include "tflstm/runner.h"

namespace tflstm {
namespace {

std::vector<char> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

ErrorCode LoadAndRun(const std::vector<char>& bytes) {
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  if (!model.ok()) return model.status().code();
  // A flipped shape can ask for gigabytes; the budget turns that into a typed refusal.
  RunnerOptions options;
  options.arena_bytes = size_t{1} << 20;
  auto runner = Runner::Create(model.value(), options);
  if (!runner.ok()) return runner.status().code();
  for (size_t i = 0; i < runner.value()->input_count(); ++i) {
    TensorView in = runner.value()->input(i);
    if (in.data) std::fill_n(static_cast<char*>(in.data), in.bytes, 0);
  }
  return runner.value()->Invoke().code();
}

class Flips : public ::testing::TestWithParam<const char*> {};

TEST_P(Flips, EveryFlipLoadsAndRunsOrFailsTyped) {
  const std::vector<char> original = ReadFile(testing::TestData(GetParam()));
  ASSERT_FALSE(original.empty());
  ASSERT_EQ(LoadAndRun(original), ErrorCode::kOk);
  std::mt19937 rng(42);
  std::map<ErrorCode, int> outcomes;
  for (int i = 0; i < 1000; ++i) {
    std::vector<char> bytes = original;
    const size_t offset = rng() % bytes.size();
    char value = static_cast<char>(rng());
    if (value == bytes[offset]) value = static_cast<char>(~value);
    bytes[offset] = value;
    const ErrorCode code = LoadAndRun(bytes);
    ++outcomes[code];
  }
  // Both kinds happen: the flips are neither all harmless nor all rejected up front.
  EXPECT_GT(outcomes[ErrorCode::kOk], 0);
  EXPECT_GT(outcomes[ErrorCode::kInvalidModel], 0);
  for (const auto& [code, count] : outcomes) RecordProperty(ErrorCodeName(code), count);
}

INSTANTIATE_TEST_SUITE_P(TfliteTestModels, Flips,
                         ::testing::Values("unidirectional_sequence_lstm.bin", "lstm.bin", "add.bin"));

}  // namespace
}  // namespace tflstm
