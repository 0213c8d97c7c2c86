#include "tflstm/stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_models.h"

namespace tflstm {
namespace {

using testing::TestData;

// TFLite's own fused LSTM test model: input [1, 2 steps, 2 features], output every step.
struct Fixture {
  std::unique_ptr<Runner> runner;
  std::vector<float> x;      // 2 steps of 2 features
  std::vector<float> whole;  // outputs of the whole sequence in one invoke
};

Fixture Load(float phase = 0.0f) {
  Fixture f;
  auto model = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Runner::Create(model.value());
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  f.runner = std::move(runner).value();
  for (int k = 0; k < 4; ++k) f.x.push_back(std::sin(phase + 0.7f * static_cast<float>(k)));
  const int shape[] = {1, 2, 2};
  EXPECT_TRUE(f.runner->SetInput(0, f.x.data(), 16, DType::kFloat32, shape, 3).ok());
  EXPECT_TRUE(f.runner->Invoke().ok());
  const TensorView out = f.runner->output(0);
  const auto* y = static_cast<const float*>(out.data);
  f.whole.assign(y, y + out.bytes / sizeof(float));
  return f;
}

void ExpectNear(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-6f) << "at " << k;
}

TEST(Stream, StepByStepEqualsTheWholeSequence) {
  Fixture f = Load();
  ASSERT_EQ(f.whole.size(), 4u);  // 2 steps x 2 units: an output per step
  auto stream = Stream::Create(*f.runner);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  Stream& s = *stream.value();
  EXPECT_EQ(s.step_input_bytes(), 8u);
  EXPECT_EQ(s.step_output_bytes(), 8u);
  std::vector<float> out(4);
  ASSERT_TRUE(s.Feed(f.x.data(), 1, out.data()).ok());          // a chunk of one step
  ASSERT_TRUE(s.Feed(f.x.data() + 2, 1, out.data() + 2).ok());  // then the next
  ExpectNear(out, f.whole);
  EXPECT_EQ(s.steps(), 2u);

  ASSERT_TRUE(s.Reset().ok());
  std::vector<float> again(4);
  ASSERT_TRUE(s.Feed(f.x.data(), 2, again.data()).ok());  // one chunk of both steps
  ExpectNear(again, f.whole);
}

TEST(Stream, FeedLastWritesOnlyTheLastStepsOutput) {
  Fixture f = Load();
  auto stream = Stream::Create(*f.runner);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  Stream& s = *stream.value();
  std::vector<float> last(2);
  ASSERT_TRUE(s.FeedLast(f.x.data(), 2, last.data()).ok());
  ExpectNear(last, {f.whole[2], f.whole[3]});
  EXPECT_EQ(s.steps(), 2u);
  // The state goes on as with Feed: the same two steps again from here equal Feed's.
  std::vector<float> by_last(2), by_feed(4);
  ASSERT_TRUE(s.FeedLast(f.x.data(), 2, by_last.data()).ok());
  ASSERT_TRUE(s.Reset().ok());
  ASSERT_TRUE(s.Feed(f.x.data(), 2, by_feed.data()).ok());
  ASSERT_TRUE(s.Feed(f.x.data(), 2, by_feed.data()).ok());
  ExpectNear(by_last, {by_feed[2], by_feed[3]});
}

TEST(Stream, StreamsSharingARunnerKeepTheirOwnState) {
  Fixture a = Load(0.0f);
  Fixture b = Load(1.3f);
  auto sa = Stream::Create(*a.runner);
  auto sb = Stream::Create(*a.runner);  // both on runner a
  ASSERT_TRUE(sa.ok() && sb.ok());
  std::vector<float> ya(4), yb(4);
  ASSERT_TRUE(sa.value()->Feed(a.x.data(), 1, ya.data()).ok());
  ASSERT_TRUE(sb.value()->Feed(b.x.data(), 1, yb.data()).ok());
  ASSERT_TRUE(sa.value()->Feed(a.x.data() + 2, 1, ya.data() + 2).ok());
  ASSERT_TRUE(sb.value()->Feed(b.x.data() + 2, 1, yb.data() + 2).ok());
  ExpectNear(ya, a.whole);
  ExpectNear(yb, b.whole);
}

TEST(Stream, StateSnapshotsRestore) {
  Fixture f = Load();
  auto stream = Stream::Create(*f.runner);
  ASSERT_TRUE(stream.ok());
  Stream& s = *stream.value();
  ASSERT_GE(s.state_count(), 2u);  // hidden and cell state
  std::vector<float> first(2), second(2), replay(2);
  ASSERT_TRUE(s.Feed(f.x.data(), 1, first.data()).ok());
  std::vector<std::vector<char>> snapshot;
  for (size_t i = 0; i < s.state_count(); ++i) snapshot.push_back(s.state(i));
  ASSERT_TRUE(s.Feed(f.x.data() + 2, 1, second.data()).ok());
  for (size_t i = 0; i < s.state_count(); ++i) s.state(i) = snapshot[i];
  ASSERT_TRUE(s.Feed(f.x.data() + 2, 1, replay.data()).ok());
  ExpectNear(replay, second);
  ExpectNear(second, {f.whole[2], f.whole[3]});
}

TEST(Stream, WholeRunsBetweenChunksDoNotDisturbIt) {
  Fixture f = Load();
  auto stream = Stream::Create(*f.runner);
  ASSERT_TRUE(stream.ok());
  std::vector<float> out(4);
  ASSERT_TRUE(stream.value()->Feed(f.x.data(), 1, out.data()).ok());
  // The runner goes back to two steps for a stateless whole-sequence run...
  const int shape[] = {1, 2, 2};
  ASSERT_TRUE(f.runner->SetInput(0, f.x.data(), 16, DType::kFloat32, shape, 3).ok());
  ASSERT_TRUE(f.runner->Invoke().ok());
  // ...and the stream carries on where it was.
  ASSERT_TRUE(stream.value()->Feed(f.x.data() + 2, 1, out.data() + 2).ok());
  ExpectNear(out, f.whole);
}

// A runner that last ran a batch of three sequences still streams one sequence, step by step.
// A stream's steps skip putting its state back while the runner is as its last step left it
// (Runner::epoch): whatever is written through the runner between two steps must end that.
TEST(Stream, WritesThroughTheRunnerBetweenStepsDoNotReachIt) {
  Fixture f = Load(0.5f);
  auto stream = Stream::Create(*f.runner);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  Stream& s = *stream.value();
  std::vector<float> out(4);
  ASSERT_TRUE(s.Feed(f.x.data(), 1, out.data()).ok());
  for (size_t i = 0; i < f.runner->state_count(); ++i) {
    const TensorView v = f.runner->state(i);
    for (size_t k = 0; k < v.bytes / sizeof(float); ++k) static_cast<float*>(v.data)[k] = 7.0f;
  }
  ASSERT_TRUE(s.Feed(f.x.data() + 2, 1, out.data() + 2).ok());
  ExpectNear(out, f.whole);

  ASSERT_TRUE(s.Reset().ok());
  ASSERT_TRUE(s.Feed(f.x.data(), 1, out.data()).ok());
  ASSERT_TRUE(f.runner->ResetState().ok());  // the runner back to zero state, the stream not
  ASSERT_TRUE(s.Feed(f.x.data() + 2, 1, out.data() + 2).ok());
  ExpectNear(out, f.whole);
}

TEST(Stream, StartsOnARunnerThatRanABatch) {
  Fixture f = Load();
  std::vector<float> three;
  for (int b = 0; b < 3; ++b) three.insert(three.end(), f.x.begin(), f.x.end());
  const int shape[] = {3, 2, 2};
  ASSERT_TRUE(f.runner->SetInput(0, three.data(), three.size() * sizeof(float), DType::kFloat32, shape, 3).ok());
  ASSERT_TRUE(f.runner->Invoke().ok());
  auto stream = Stream::Create(*f.runner);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(stream.value()->step_input_bytes(), 8u);  // [1, 1, 2]
  std::vector<float> out(4);
  ASSERT_TRUE(stream.value()->Feed(f.x.data(), 2, out.data()).ok());
  ExpectNear(out, f.whole);
}

TEST(Stream, ModelWithoutStateIsRefused) {
  auto model = Model::FromBytes(testing::AddModel({1, 4}).data(), testing::AddModel({1, 4}).size());
  ASSERT_TRUE(model.ok());
  auto runner = Runner::Create(model.value());
  ASSERT_TRUE(runner.ok());
  auto stream = Stream::Create(*runner.value());
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tflstm
