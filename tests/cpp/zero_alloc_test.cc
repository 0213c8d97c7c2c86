// Proves that a run with unchanged shapes makes no heap allocation. This executable replaces
// glibc's malloc family (forwarding to glibc's own implementation), so every allocation in
// the process, operator new included, passes through the counter below.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstddef>

#include "test_models.h"
#include "tflstm/runner.h"
#include "tflstm/stream.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
inline void Count() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  Count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
  Count();
  return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
  Count();
  return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
  Count();
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  Count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  Count();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}

namespace tflstm {
namespace {

long AllocationsDuring(const std::function<void()>& fn) {
  g_allocations = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_allocations.load();
}

TEST(ZeroAlloc, TheCounterSeesAllocations) {
  // Guards the test itself: if the hooks were not in effect, the checks below would pass vacuously.
  const long n = AllocationsDuring([] {
    auto v = std::make_unique<std::vector<int>>(1000);
    ASSERT_EQ(v->size(), 1000u);
  });
  EXPECT_GE(n, 2);
}

void FillInputs(Runner& runner, float phase) {
  for (size_t i = 0; i < runner.input_count(); ++i) {
    TensorView in = runner.input(i);
    if (in.dtype != DType::kFloat32) continue;
    auto* p = static_cast<float*>(in.data);
    for (size_t k = 0; k < in.bytes / sizeof(float); ++k) p[k] = std::sin(phase + 0.01f * static_cast<float>(k));
  }
}

void ExpectSteadyStateRunsDoNotAllocate(std::shared_ptr<const Model> model, int threads) {
  RunnerOptions options;
  options.num_threads = threads;
  auto created = Runner::Create(std::move(model), options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Runner& runner = *created.value();
  FillInputs(runner, 0.0f);
  ASSERT_TRUE(runner.Invoke().ok());  // the first run may allocate (lazy kernel scratch, thread pool)
  std::vector<float> x(runner.input(0).bytes / sizeof(float), 0.5f);
  std::vector<int> shape(runner.input(0).shape, runner.input(0).shape + runner.input(0).rank);
  // Every input at once, as the Python binding sets them; the entries are reused each run.
  std::vector<std::vector<char>> all;
  std::vector<std::vector<int>> shapes;
  std::vector<InputData> inputs;
  for (size_t i = 0; i < runner.input_count(); ++i) {
    const TensorView in = runner.input(i);
    all.emplace_back(in.bytes);
    shapes.emplace_back(in.shape, in.shape + in.rank);
  }
  for (size_t i = 0; i < runner.input_count(); ++i) {
    inputs.push_back({all[i].data(), all[i].size(), runner.input(i).dtype, shapes[i].data(), shapes[i].size()});
  }
  const long n = AllocationsDuring([&] {
    for (int run = 0; run < 20; ++run) {
      ASSERT_TRUE(runner.SetInputs(inputs).ok());
      ASSERT_TRUE(
          runner.SetInput(0, x.data(), x.size() * sizeof(float), DType::kFloat32, shape.data(), shape.size()).ok());
      ASSERT_TRUE(runner.Invoke().ok());
      FillInputs(runner, static_cast<float>(run));
      ASSERT_TRUE(runner.Invoke().ok());
      ASSERT_NE(runner.output(0).data, nullptr);
    }
  });
  EXPECT_EQ(n, 0) << "heap allocations during 40 steady-state runs";
}

TEST(ZeroAlloc, LstmRunsDoNotAllocate) {
  auto model = Model::FromFile(testing::TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ExpectSteadyStateRunsDoNotAllocate(model.value(), 1);
}

TEST(ZeroAlloc, LstmRunsDoNotAllocateWithTwoThreads) {
  auto model = Model::FromFile(testing::TestData("lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ExpectSteadyStateRunsDoNotAllocate(model.value(), 2);
}

TEST(ZeroAlloc, FusedLstmKernelRunsDoNotAllocate) {
  // tflstm's own kernel (the testdata models above take TFLite's: peephole, projection), on
  // float32 weights and on float16 weights dequantized ahead of it.
  for (bool float16 : {false, true}) {
    testing::LstmSpec spec;
    spec.n_cell = 64;
    spec.n_input = 6;
    spec.time = 100;
    spec.float16 = float16;
    const auto bytes = testing::LstmModel(spec);
    auto model = Model::FromBytes(bytes.data(), bytes.size());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ExpectSteadyStateRunsDoNotAllocate(model.value(), 1);
  }
}

TEST(ZeroAlloc, Int8LstmKernelRunsDoNotAllocate) {
  testing::Int8LstmSpec spec;  // the full-integer model tflstm's int8 kernel runs
  spec.n_cell = 64;
  spec.n_input = 6;
  spec.time = 100;
  const auto bytes = testing::Int8LstmModel(spec);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto created = Runner::Create(model.value());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Runner& runner = *created.value();
  auto* x = static_cast<int8_t*>(runner.input(0).data);
  for (size_t k = 0; k < runner.input(0).bytes; ++k) x[k] = static_cast<int8_t>(k * 7);
  ASSERT_TRUE(runner.Invoke().ok());
  const long n = AllocationsDuring([&] {
    for (int run = 0; run < 40; ++run) {
      x[run] = static_cast<int8_t>(run);
      ASSERT_TRUE(runner.Invoke().ok());
    }
  });
  EXPECT_EQ(n, 0) << "heap allocations during 40 steady-state runs";
}

TEST(ZeroAlloc, DenseRunsDoNotAllocate) {
  std::vector<float> w(64 * 32, 0.01f), b(64, 0.1f);
  const auto bytes = testing::DenseModel(w, b, 32);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok());
  ExpectSteadyStateRunsDoNotAllocate(model.value(), 1);
}

}  // namespace
}  // namespace tflstm

namespace tflstm {
namespace {

TEST(ZeroAlloc, StreamChunksDoNotAllocate) {
  auto model = Model::FromFile(testing::TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Runner::Create(model.value());
  ASSERT_TRUE(runner.ok());
  auto a = Stream::Create(*runner.value());
  auto b = Stream::Create(*runner.value());
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<float> x(2 * 16, 0.25f), y(2 * 16);
  ASSERT_TRUE(a.value()->Feed(x.data(), 3, y.data()).ok());  // the first chunk may allocate
  ASSERT_TRUE(b.value()->Feed(x.data(), 3, y.data()).ok());
  const long n = AllocationsDuring([&] {
    for (int chunk = 0; chunk < 20; ++chunk) {
      ASSERT_TRUE(a.value()->Feed(x.data(), 1 + chunk % 7, y.data()).ok());  // chunks of varying length
      ASSERT_TRUE(b.value()->Feed(x.data(), 2, y.data()).ok());
    }
  });
  EXPECT_EQ(n, 0) << "heap allocations while feeding two streams";
}

}  // namespace
}  // namespace tflstm
