// Fuzz target: arbitrary model bytes -> Model -> Check -> Runner (with an arena budget) ->
// invoke with inputs taken from the same bytes, then outputs and a second, stateful invoke.
// Every step must succeed or return a typed Status; anything else is a finding (a crash, a
// sanitizer report, a leak, an abort). The structure-aware mutator edits the model's fields.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "flatbuffer_mutator.h"
#include "tflstm/runner.h"

namespace {

// Fills `n` bytes with the fuzz input repeated: values the model's own bytes give.
void FillFrom(const uint8_t* data, size_t size, void* out, size_t n) {
  auto* p = static_cast<uint8_t*>(out);
  for (size_t k = 0; k < n; k += size) std::memcpy(p + k, data, std::min(size, n - k));
}

// A model may loop for ever (a WHILE whose condition never turns false): what an application
// does about it is Runner::Cancel() from another thread, which this does after a second.
class Watchdog {
 public:
  explicit Watchdog(tflstm::Runner& runner)
      : thread_([this, &runner] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!done_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) runner.Cancel();
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = tflstm::Model::FromBytes(data, size);
  if (!model.ok()) return 0;
  if (!model.value()->Check().ok()) return 0;
  tflstm::RunnerOptions options;
  options.arena_bytes = size_t{1} << 20;  // a budget: a huge declared shape becomes a typed refusal
  auto runner = tflstm::Runner::Create(model.value(), options);
  if (!runner.ok()) return 0;
  tflstm::Runner& r = *runner.value();
  for (size_t i = 0; i < r.input_count(); ++i) {
    const tflstm::TensorView in = r.input(i);
    if (in.data) FillFrom(data, size, in.data, in.bytes);
  }
  {
    Watchdog watchdog(r);
    if (!r.Invoke().ok()) return 0;
  }
  std::vector<float> values;
  for (size_t i = 0; i < r.output_count(); ++i) {
    const tflstm::TensorView out = r.output(i);
    // Sized by the storage, not the shape: a string tensor's shape says nothing of its bytes. An
    // output of up to 2^31 bytes is valid (a 1-byte type gives 4 times as many floats); the
    // conversion is fuzzed on the first 2^24 elements, so the harness itself stays in its budget.
    const size_t element = tflstm::DTypeSize(out.dtype);
    values.resize(element ? std::min(out.bytes / element, size_t{1} << 24) : 0);
    (void)r.OutputToFloat(i, values.data(), values.size());
  }
  Watchdog watchdog(r);
  (void)r.InvokeWithState();
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return tflstm::fuzz::MutateModel(data, size, max_size, seed);
}
