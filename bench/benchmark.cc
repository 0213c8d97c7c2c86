// tflstm_benchmark: how fast and how big a model is on this machine, in the spirit of TFLite's
// benchmark_model. Output: one "key value" line per figure (documented in the README), then
// an op profile with --profile.
//
//   tflstm_benchmark MODEL.tflite [--runs N] [--warmup N] [--threads N] [--arena BYTES]
//                    [--input FILE.npy ...] [--output FILE.npy] [--profile] [--lstm_kernel tflstm|tflite]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "npy.h"
#include "tensorflow/lite/core/api/profiler.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"
#include "tflstm/tflite/profiler.h"

namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// Sums the time of each op kind over the timed runs. Events are recorded into a fixed table,
// so profiling adds no allocation to a run.
class OpProfiler : public tflite::Profiler {
 public:
  uint32_t BeginEvent(const char* tag, EventType type, int64_t, int64_t) override {
    if (type != EventType::OPERATOR_INVOKE_EVENT || open_ >= kMaxOpen) return kNone;
    stack_[open_] = {tag, Clock::now()};
    return static_cast<uint32_t>(open_++);
  }
  void EndEvent(uint32_t handle) override {
    if (handle == kNone || handle + 1 != open_) return;
    const Clock::time_point end = Clock::now();
    --open_;
    Entry& e = totals_[stack_[open_].tag ? stack_[open_].tag : "?"];
    e.us += Micros(stack_[open_].start, end);
    ++e.count;
  }
  void Print(int runs) const {
    double total = 0;
    for (const auto& [name, e] : totals_) total += e.us;
    std::vector<std::pair<std::string, Entry>> rows(totals_.begin(), totals_.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.us > b.second.us; });
    std::printf("op_profile %zu\n", rows.size());
    for (const auto& [name, e] : rows) {
      std::printf("op %s count_per_run %.0f us_per_run %.2f percent %.1f\n", name.c_str(), e.count / runs, e.us / runs,
                  total > 0 ? 100.0 * e.us / total : 0.0);
    }
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kMaxOpen = 16;
  struct Open {
    const char* tag;
    Clock::time_point start;
  };
  struct Entry {
    double us = 0;
    double count = 0;
  };
  Open stack_[kMaxOpen] = {};
  size_t open_ = 0;
  std::map<std::string, Entry> totals_;  // filled on the first run; later runs only update
};

struct Options {
  std::string model;
  int runs = 100;
  int warmup = 10;
  int threads = 1;
  long arena = -1;
  bool profile = false;
  std::string lstm_kernel = "tflstm";
  std::vector<std::string> inputs;
  std::string output;
};

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s MODEL.tflite [--runs N] [--warmup N] [--threads N] [--arena BYTES]\n"
               "       [--input FILE.npy ...] [--output FILE.npy] [--profile] [--lstm_kernel tflstm|tflite]\n",
               argv0);
  return 2;
}

int Fail(const tflstm::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

void Random(const tflstm::TensorView& in, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto* bytes = static_cast<unsigned char*>(in.data);
  if (in.dtype == tflstm::DType::kFloat32) {
    auto* x = static_cast<float*>(in.data);
    for (size_t k = 0; k < in.bytes / sizeof(float); ++k) x[k] = u(rng);
  } else {
    for (size_t k = 0; k < in.bytes; ++k) bytes[k] = static_cast<unsigned char>(rng());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--profile") {
      o.profile = true;
    } else if ((a == "--runs" || a == "--warmup" || a == "--threads" || a == "--arena" || a == "--input" ||
                a == "--output" || a == "--lstm_kernel") &&
               (v = next())) {
      if (a == "--output") o.output = v;
      if (a == "--lstm_kernel") o.lstm_kernel = v;
      if (a == "--runs") o.runs = std::atoi(v);
      if (a == "--warmup") o.warmup = std::atoi(v);
      if (a == "--threads") o.threads = std::atoi(v);
      if (a == "--arena") o.arena = std::atol(v);
      if (a == "--input") o.inputs.push_back(v);
    } else if (a.rfind("--", 0) != 0 && o.model.empty()) {
      o.model = a;
    } else {
      return Usage(argv[0]);
    }
  }
  const auto kernel = tflstm::LstmKernelFromName(o.lstm_kernel);
  if (o.model.empty() || o.runs < 1 || o.warmup < 0 || !kernel.ok()) return Usage(argv[0]);

  const Clock::time_point t0 = Clock::now();
  auto model = tflstm::Model::FromFile(o.model);
  if (!model.ok()) return Fail(model.status());
  tflstm::RunnerOptions options;
  options.num_threads = o.threads;
  options.lstm_kernel = kernel.value();
  if (o.arena >= 0) options.arena_bytes = static_cast<size_t>(o.arena);
  auto created = tflstm::Runner::Create(model.value(), options);
  if (!created.ok()) return Fail(created.status());
  tflstm::Runner& r = *created.value();
  const Clock::time_point t1 = Clock::now();

  if (!o.inputs.empty() && o.inputs.size() != r.input_count()) {
    return Fail(tflstm::Status(tflstm::ErrorCode::kInvalidArgument,
                               "the model has " + std::to_string(r.input_count()) + " inputs, got " +
                                   std::to_string(o.inputs.size()) + " --input files"));
  }
  std::mt19937 rng(1);
  for (size_t i = 0; i < r.input_count(); ++i) {
    if (o.inputs.empty()) {
      Random(r.input(i), rng);
      continue;
    }
    auto npy = tflstm::bench::ReadNpy(o.inputs[i]);
    if (!npy.ok()) return Fail(npy.status());
    const auto& a = npy.value();
    const tflstm::Status s = r.SetInput(i, a.data.data(), a.data.size(), a.dtype, a.shape.data(), a.shape.size());
    if (!s.ok()) return Fail(s);
  }

  const Clock::time_point t2 = Clock::now();
  if (tflstm::Status s = r.Invoke(); !s.ok()) return Fail(s);
  const Clock::time_point t3 = Clock::now();
  double warm_total = 0;
  for (int i = 0; i < o.warmup; ++i) {
    const Clock::time_point a = Clock::now();
    if (tflstm::Status s = r.Invoke(); !s.ok()) return Fail(s);
    warm_total += Micros(a, Clock::now());
  }
  OpProfiler profiler;
  if (o.profile) tflstm::SetProfiler(r, &profiler);
  std::vector<double> us;
  us.reserve(static_cast<size_t>(o.runs));
  for (int i = 0; i < o.runs; ++i) {
    const Clock::time_point a = Clock::now();
    if (tflstm::Status s = r.Invoke(); !s.ok()) return Fail(s);
    us.push_back(Micros(a, Clock::now()));
  }
  tflstm::SetProfiler(r, nullptr);
  std::sort(us.begin(), us.end());
  double mean = 0;
  for (double x : us) mean += x / static_cast<double>(us.size());

  const tflstm::MemoryStats mem = r.memory();
  std::printf("model %s\n", o.model.c_str());
  std::printf("model_bytes %zu\n", model.value()->size_bytes());
  std::printf("threads %d\n", o.threads);
  std::printf("lstm_kernel %s\n", o.lstm_kernel.c_str());
  std::string nodes;  // what each LSTM node ran
  for (const std::string& k : r.lstm_kernels()) nodes += (nodes.empty() ? "" : ",") + k;
  std::printf("lstm_node_kernels %s\n", nodes.empty() ? "-" : nodes.c_str());
  std::printf("init_us %.1f\n", Micros(t0, t1));
  std::printf("first_inference_us %.1f\n", Micros(t2, t3));
  std::printf("warmup_runs %d\n", o.warmup);
  std::printf("warmup_mean_us %.1f\n", o.warmup ? warm_total / o.warmup : 0.0);
  std::printf("runs %d\n", o.runs);
  std::printf("median_us %.1f\n", us[us.size() / 2]);
  std::printf("p90_us %.1f\n", us[std::min(us.size() - 1, us.size() * 9 / 10)]);
  std::printf("mean_us %.1f\n", mean);
  std::printf("min_us %.1f\n", us.front());
  std::printf("arena_bytes %zu\n", mem.arena.budget);
  std::printf("tflite_arena_bytes %zu\n", mem.tflite_arena);
  std::printf("tflite_persistent_bytes %zu\n", mem.tflite_persistent);
  std::printf("total_bytes %zu\n", mem.total());
  if (o.profile) profiler.Print(o.runs);
  if (!o.output.empty()) {  // output 0 of the last run, to check results on the device
    const tflstm::TensorView out = r.output(0);
    const tflstm::Status s =
        tflstm::bench::WriteNpy(o.output, out.dtype, out.shape, static_cast<size_t>(out.rank), out.data, out.bytes);
    if (!s.ok()) return Fail(s);
  }
  return 0;
}
