// One memory budget (RunnerOptions::arena_bytes) for everything a runner allocates, checked
// before the memory is used: at Create, before a shape change, for each stream. Without a
// budget, a plan larger than what the process can use is refused the same way.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "test_models.h"
#include "tflstm/runner.h"
#include "tflstm/stream.h"

namespace tflstm {
namespace {

using testing::OpCode;
using testing::Serialize;
using testing::Tensor;
using testing::TestData;

// y = mean(tile(x [1, 4], [rows, cols])): a 16-byte input and a 4-byte output around an
// intermediate of rows * 4 * cols floats, which only TFLite's arena holds. The intermediate is
// declared [1, 4]: TILE's Prepare gives it its size (the validator bounds declared shapes).
std::vector<char> TileMeanModel(int rows, int cols) {
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_TILE, 1));
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_MEAN, 1));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  m.buffers.push_back(testing::Buffer(std::vector<int32_t>{rows, cols}));
  m.buffers.push_back(testing::Buffer(std::vector<int32_t>{0, 1}));
  auto sg = std::make_unique<tflite::SubGraphT>();
  sg->tensors.push_back(Tensor("x", {1, 4}));
  sg->tensors.push_back(Tensor("multiples", {2}, tflite::TensorType_INT32, 1));
  sg->tensors.push_back(Tensor("tiled", {1, 4}));
  sg->tensors.push_back(Tensor("axes", {2}, tflite::TensorType_INT32, 2));
  sg->tensors.push_back(Tensor("y", {}));
  sg->inputs = {0};
  sg->outputs = {4};
  auto tile = std::make_unique<tflite::OperatorT>();
  tile->opcode_index = 0;
  tile->inputs = {0, 1};
  tile->outputs = {2};
  tile->builtin_options.Set(tflite::TileOptionsT());
  sg->operators.push_back(std::move(tile));
  auto mean = std::make_unique<tflite::OperatorT>();
  mean->opcode_index = 1;
  mean->inputs = {2, 3};
  mean->outputs = {4};
  tflite::ReducerOptionsT reducer;
  reducer.keep_dims = false;
  mean->builtin_options.Set(reducer);
  sg->operators.push_back(std::move(mean));
  m.subgraphs.push_back(std::move(sg));
  return Serialize(m);
}

std::shared_ptr<const Model> Load(const std::vector<char>& bytes) {
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? model.value() : nullptr;
}

// Resident memory of this process, from /proc/self/statm.
size_t Rss() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

constexpr size_t kMiB = size_t{1} << 20;

TEST(Budget, APlanOverTheBudgetIsRefusedBeforeTheProcessGrows) {
  auto model = Load(TileMeanModel(1, 1 << 26));  // a 1 GiB intermediate
  ASSERT_TRUE(model);
  RunnerOptions options;
  options.arena_bytes = 64 * kMiB;
  ASSERT_TRUE(Runner::Create(Load(TileMeanModel(1, 16)), options).ok());  // warm: code paged in (qemu translated)
  const size_t before = Rss();
  auto refused = Runner::Create(model, options);
  const size_t grown = Rss() - std::min(Rss(), before);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kArenaExhausted);
  const std::string& msg = refused.status().message();
  EXPECT_NE(msg.find("plans 1024."), std::string::npos) << msg;
  EXPECT_NE(msg.find("TFLite arena 1024."), std::string::npos) << msg;
  EXPECT_NE(msg.find("more than the budget of 64.00 MiB (67,108,864 bytes) (arena_bytes)"), std::string::npos) << msg;
  EXPECT_LT(grown, 64 * kMiB) << "the refused 1 GiB plan was touched";
}

TEST(Budget, TheBudgetBoundsEverythingTheRunnerHoldsAndShapeChangesAreCheckedFirst) {
  auto model = Load(TileMeanModel(1, 1 << 10));  // 16 KiB intermediate
  ASSERT_TRUE(model);
  auto unbounded = Runner::Create(model);
  ASSERT_TRUE(unbounded.ok()) << unbounded.status().ToString();
  const MemoryStats plan = unbounded.value()->memory();
  EXPECT_GE(plan.tflite_arena, size_t{4} << 12);
  EXPECT_EQ(plan.total(), plan.arena.budget + plan.tflite_arena + plan.tflite_persistent + plan.tflite_dynamic +
                              plan.kernel_weights + plan.kernel_scratch + plan.stream_state);
  EXPECT_GT(plan.budget, plan.total());  // without arena_bytes: the memory available, far more

  RunnerOptions options;
  options.arena_bytes = plan.total() - 1;
  auto refused = Runner::Create(model, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kArenaExhausted) << refused.status().ToString();
  options.arena_bytes = plan.total();
  auto fits = Runner::Create(model, options);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  Runner& r = *fits.value();
  EXPECT_EQ(r.memory().total(), plan.total());
  EXPECT_EQ(r.memory().budget, plan.total());
  // The arena holds exactly what the inputs and outputs need, not the whole budget.
  EXPECT_EQ(r.memory().arena.budget, r.memory().arena_required);

  // Twice the batch needs twice the intermediate: over the budget, refused before resizing.
  auto bigger = r.PlanFor({{2, 4}});
  ASSERT_TRUE(bigger.ok()) << bigger.status().ToString();
  EXPECT_GT(bigger.value().total(), plan.total());
  const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int two[] = {2, 4};
  const Status s = r.SetInput(0, x, sizeof x, DType::kFloat32, two, 2);
  EXPECT_EQ(s.code(), ErrorCode::kArenaExhausted) << s.ToString();
  EXPECT_NE(s.message().find("at input shapes [2, 4]"), std::string::npos) << s.message();
  EXPECT_EQ(r.input(0).shape[0], 1);  // kept its shape, and works
  const int one[] = {1, 4};
  ASSERT_TRUE(r.SetInput(0, x, 16, DType::kFloat32, one, 2).ok());
  ASSERT_TRUE(r.Invoke().ok());
  EXPECT_FLOAT_EQ(*static_cast<const float*>(r.output(0).data), 2.5f);
  // PlanFor measured what a runner at those shapes holds.
  RunnerOptions at_two;
  at_two.input_shapes = {{2, 4}};
  auto two_rows = Runner::Create(model, at_two);
  ASSERT_TRUE(two_rows.ok()) << two_rows.status().ToString();
  EXPECT_EQ(two_rows.value()->memory().total(), bigger.value().total());
}

// The case: a 4 GiB plan under a 4 GiB address-space limit. Without a budget the limit
// is what the process can still use; TFLite cannot even reserve the plan, and says so.
TEST(Budget, WithoutABudgetAPlanLargerThanTheProcessCanUseIsRefused) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's shadow memory does not fit an address-space limit";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  GTEST_SKIP() << "a sanitizer's shadow memory does not fit an address-space limit";
#endif
#endif
  auto model = Load(TileMeanModel(1, 1 << 28));  // a 4 GiB intermediate
  ASSERT_TRUE(model);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &saved), 0);
  size_t pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  rlimit tight = saved;
  tight.rlim_cur = pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) + 1024 * kMiB;  // 1 GiB to spare
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &tight), 0);
  rlimit now{};
  ::getrlimit(RLIMIT_AS, &now);
  if (now.rlim_cur != tight.rlim_cur) {
    ::setrlimit(RLIMIT_AS, &saved);
    GTEST_SKIP() << "the address-space limit is not applied here (qemu-user keeps it for itself)";
  }
  auto refused = Runner::Create(model);
  ::setrlimit(RLIMIT_AS, &saved);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kArenaExhausted) << refused.status().ToString();
  const std::string& msg = refused.status().message();
  EXPECT_NE(msg.find("at least 4096.00 MiB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("this process can still use (the address-space limit (RLIMIT_AS))"), std::string::npos) << msg;
  // The runner that fits still runs afterwards.
  auto small = Runner::Create(Load(TileMeanModel(1, 16)));
  EXPECT_TRUE(small.ok()) << small.status().ToString();
}

TEST(Budget, EachStreamsStateCountsAgainstTheBudget) {
  auto model = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto probe = Runner::Create(model.value());
  ASSERT_TRUE(probe.ok());
  size_t state = 0;
  {
    auto stream = Stream::Create(*probe.value());
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    for (size_t i = 0; i < stream.value()->state_count(); ++i) state += stream.value()->state(i).size();
    EXPECT_EQ(probe.value()->memory().stream_state, state);
  }
  EXPECT_EQ(probe.value()->memory().stream_state, 0u);  // given back with the stream
  ASSERT_GT(state, 0u);
  // A budget with room for one stream's state: the second stream is refused.
  RunnerOptions options;
  options.input_shapes = {{1, 1, 2}};  // the stream's own step shape: streaming does not resize
  auto sized = Runner::Create(model.value(), options);
  ASSERT_TRUE(sized.ok());
  options.arena_bytes = sized.value()->memory().total() + state;
  auto r = Runner::Create(model.value(), options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto first = Stream::Create(*r.value());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Stream::Create(*r.value());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kArenaExhausted);
  EXPECT_NE(second.status().message().find("of state"), std::string::npos) << second.status().message();
}

}  // namespace
}  // namespace tflstm
