// tflstm_stress: many threads over shared Models, checked bit for bit. Each worker keeps a few
// runners (either LSTM kernel) and streams over the same two Models (float32 and float16
// weights), and in random order: runs sequences of random batch and length (each a shape
// change, so a rebuild), feeds its streams chunks of random length, snapshots and restores
// their state, and replaces runners. Another thread cancels random runners while they run.
// Every output must equal, bit for bit, what one thread computed for the same input before
// the workers started; a cancelled call must return kCancelled and leave nothing half done.
// Built under ThreadSanitizer by the `tsan` preset (bench/tsan.sh); ctest runs a short one.
//
//   tflstm_stress [--threads N] [--calls N] [--seed N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_models.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"
#include "tflstm/stream.h"

namespace {

using tflstm::LstmKernel;
using tflstm::Model;
using tflstm::Runner;
using tflstm::Status;
using tflstm::Stream;

constexpr int kFeatures = 5;
constexpr int kUnits = 24;
constexpr int kStreamSteps = 20;  // the length of each stream's sequence
constexpr LstmKernel kKernels[] = {LstmKernel::kTflstm, LstmKernel::kTflite};

struct Case {  // one plain run: an input and the output it must give
  std::vector<int> shape;
  std::vector<float> x;
  std::vector<float> want[2];  // per kernel
};

struct Sequence {  // one stream's input and the outputs of each step
  std::vector<float> x;
  std::vector<float> want[2];
};

struct Fixture {
  std::vector<std::shared_ptr<const Model>> models;
  std::vector<std::vector<Case>> cases;          // per model
  std::vector<std::vector<Sequence>> sequences;  // per model
};

std::vector<float> Random(std::mt19937& rng, size_t n) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

bool Check(const Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "tflstm_stress: %s: %s\n", what, s.message().c_str());
  return false;
}

std::unique_ptr<Runner> MakeRunner(const std::shared_ptr<const Model>& model, LstmKernel kernel) {
  tflstm::RunnerOptions options;
  options.lstm_kernel = kernel;
  auto r = Runner::Create(model, options);
  if (!Check(r.status(), "creating a runner")) return nullptr;
  return std::move(r).value();
}

Status Run(Runner& r, const Case& c) {
  tflstm::InputData in{c.x.data(), c.x.size() * sizeof(float), tflstm::DType::kFloat32, c.shape.data(), c.shape.size()};
  const Status set = r.SetInputs({in});
  return set.ok() ? r.Invoke() : set;
}

bool SameBits(const void* got, const std::vector<float>& want) {
  return std::memcmp(got, want.data(), want.size() * sizeof(float)) == 0;
}

// The reference: every case and sequence computed by one thread, before any worker starts.
bool Prepare(Fixture& f, unsigned seed) {
  std::mt19937 rng(seed);
  for (bool half : {false, true}) {
    tflstm::testing::LstmSpec spec;
    spec.time = 8;
    spec.n_input = kFeatures;
    spec.n_cell = kUnits;
    spec.float16 = half;
    spec.seed = seed + (half ? 1 : 0);
    const std::vector<char> bytes = tflstm::testing::LstmModel(spec);
    auto model = Model::FromBytes(bytes.data(), bytes.size());
    if (!Check(model.status(), "loading the model")) return false;
    f.models.push_back(model.value());
    std::vector<Case> cases;
    for (int batch : {1, 2, 3}) {
      for (int time : {1, 3, 8, 13}) {
        Case c;
        c.shape = {batch, time, kFeatures};
        c.x = Random(rng, static_cast<size_t>(batch) * time * kFeatures);
        cases.push_back(std::move(c));
      }
    }
    std::vector<Sequence> sequences(3);
    for (Sequence& s : sequences) s.x = Random(rng, kStreamSteps * kFeatures);
    for (int k = 0; k < 2; ++k) {
      auto runner = MakeRunner(f.models.back(), kKernels[k]);
      if (!runner) return false;
      auto stream = Stream::Create(*runner);  // while the input has batch 1
      if (!Check(stream.status(), "creating a reference stream")) return false;
      for (Case& c : cases) {
        if (!Check(Run(*runner, c), "a reference run")) return false;
        const tflstm::TensorView y = runner->output(0);
        const auto* p = static_cast<const float*>(y.data);
        c.want[k].assign(p, p + y.bytes / sizeof(float));
      }
      for (Sequence& s : sequences) {
        s.want[k].resize(kStreamSteps * kUnits);
        if (!Check(stream.value()->Feed(s.x.data(), kStreamSteps, s.want[k].data()), "a reference stream"))
          return false;
        if (!Check(stream.value()->Reset(), "resetting a reference stream")) return false;
      }
    }
    f.cases.push_back(std::move(cases));
    f.sequences.push_back(std::move(sequences));
  }
  return true;
}

struct Counters {
  std::atomic<long> calls{0}, runs{0}, steps{0}, cancelled{0}, snapshots{0}, runners{0}, failures{0};
};

// A runner that the canceller may reach: it takes a reference under the lock, so a worker can
// replace the runner at any time.
struct Slot {
  std::mutex mutex;
  std::shared_ptr<Runner> runner;
  std::shared_ptr<Runner> Get() {
    std::lock_guard<std::mutex> lock(mutex);
    return runner;
  }
  void Set(std::shared_ptr<Runner> r) {
    std::lock_guard<std::mutex> lock(mutex);
    runner.swap(r);
  }  // the old runner is destroyed here, or by the canceller if it holds it
};

struct Lane {  // a worker's runner and the stream on it
  Slot slot;
  int model = 0;
  int kernel = 0;
  std::unique_ptr<Stream> stream;
  int sequence = 0;
  int fed = 0;  // steps of the sequence fed so far
};

class Worker {
 public:
  Worker(const Fixture& f, Counters& n, long calls, unsigned seed) : f_(f), n_(n), calls_(calls), rng_(seed) {}
  Lane lanes[2];

  bool Start() {
    for (Lane& l : lanes) {
      if (!Replace(l)) return false;
    }
    return true;
  }

  void Loop() {
    while (n_.calls.fetch_add(1) < calls_) {
      Lane& l = lanes[Pick(2)];
      const int op = Pick(100);
      bool ok;
      if (op < 45) {
        ok = PlainRun(l);
      } else if (op < 85) {
        ok = Feed(l);
      } else if (op < 95) {
        ok = Snapshot(l);
      } else {
        ok = Replace(l);
      }
      if (!ok) ++n_.failures;
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  bool Replace(Lane& l) {
    l.stream.reset();  // it refers to the runner
    l.slot.Set(nullptr);
    l.model = Pick(static_cast<int>(f_.models.size()));
    l.kernel = Pick(2);
    std::shared_ptr<Runner> r = MakeRunner(f_.models[l.model], kKernels[l.kernel]);
    if (!r) return false;
    auto stream = Stream::Create(*r);
    if (!Check(stream.status(), "creating a stream")) return false;
    l.stream = std::move(stream).value();
    l.sequence = Pick(static_cast<int>(f_.sequences[l.model].size()));
    l.fed = 0;
    l.slot.Set(std::move(r));
    ++n_.runners;
    return true;
  }

  bool PlainRun(Lane& l) {
    const std::vector<Case>& cases = f_.cases[l.model];
    const Case& c = cases[Pick(static_cast<int>(cases.size()))];
    Runner& r = *l.slot.runner;  // only this thread changes the slot
    const Status s = Run(r, c);
    if (s.code() == tflstm::ErrorCode::kCancelled) return ++n_.cancelled, true;
    if (!Check(s, "a run")) return false;
    ++n_.runs;
    if (SameBits(r.output(0).data, c.want[l.kernel])) return true;
    std::fprintf(stderr, "tflstm_stress: a run of shape [%d, %d, %d] gave other outputs than the reference\n",
                 c.shape[0], c.shape[1], c.shape[2]);
    return false;
  }

  bool Feed(Lane& l) {
    const Sequence& seq = f_.sequences[l.model][l.sequence];
    const int steps = std::min(1 + Pick(6), kStreamSteps - l.fed);
    float out[6 * kUnits];
    const Status s = l.stream->Feed(seq.x.data() + l.fed * kFeatures, steps, out);
    if (s.code() == tflstm::ErrorCode::kCancelled) return ++n_.cancelled, true;  // its state is as it was
    if (!Check(s, "a stream feed")) return false;
    const std::vector<float>& want = seq.want[l.kernel];
    if (std::memcmp(out, want.data() + l.fed * kUnits, steps * kUnits * sizeof(float)) != 0) {
      std::fprintf(stderr, "tflstm_stress: stream steps %d-%d gave other outputs than the reference\n", l.fed,
                   l.fed + steps - 1);
      return false;
    }
    n_.steps += steps;
    l.fed += steps;
    if (l.fed == kStreamSteps) {
      l.fed = 0;
      l.sequence = Pick(static_cast<int>(f_.sequences[l.model].size()));
      return Check(l.stream->Reset(), "a stream reset");
    }
    return true;
  }

  // Takes the stream's state, feeds on, then restores it: the next feeds repeat those steps
  // and must give the same bits.
  bool Snapshot(Lane& l) {
    std::vector<std::vector<char>> saved;
    for (size_t i = 0; i < l.stream->state_count(); ++i) saved.push_back(l.stream->state(i));
    const int fed = l.fed;
    if (!Feed(l)) return false;
    if (l.fed == 0) return true;  // the sequence ended and was reset
    for (size_t i = 0; i < saved.size(); ++i) l.stream->state(i) = saved[i];
    l.fed = fed;
    ++n_.snapshots;
    return true;
  }

  const Fixture& f_;
  Counters& n_;
  long calls_;
  std::mt19937 rng_;
};

long Arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if ((a != "--threads" && a != "--calls" && a != "--seed") || i + 1 >= argc) {
      std::fprintf(stderr, "usage: tflstm_stress [--threads N] [--calls N] [--seed N]\n");
      return 2;
    }
  }
  const int threads = static_cast<int>(Arg(argc, argv, "--threads", 8));
  const long calls = Arg(argc, argv, "--calls", 100000);
  const auto seed = static_cast<unsigned>(Arg(argc, argv, "--seed", 1));
  const auto t0 = std::chrono::steady_clock::now();

  Fixture fixture;
  if (!Prepare(fixture, seed)) return 1;
  Counters n;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<Worker>(fixture, n, calls, seed * 1000 + t));
    if (!workers.back()->Start()) return 1;
  }
  std::atomic<bool> done{false};
  long cancels = 0;
  std::thread canceller([&] {
    std::mt19937 rng(seed);
    while (!done.load()) {
      Worker& w = *workers[rng() % workers.size()];
      if (std::shared_ptr<Runner> r = w.lanes[rng() % 2].slot.Get()) {
        r->Cancel();
        ++cancels;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
    }
  });
  std::vector<std::thread> pool;
  for (auto& w : workers) pool.emplace_back([&w] { w->Loop(); });
  for (std::thread& t : pool) t.join();
  done.store(true);
  canceller.join();
  workers.clear();  // every runner is destroyed before the models

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "threads %d calls %ld runs %ld stream_steps %ld snapshots %ld runners %ld cancels_sent %ld cancelled %ld "
      "failures %ld seconds %.1f\n",
      threads, std::min(calls, n.calls.load()), n.runs.load(), n.steps.load(), n.snapshots.load(), n.runners.load(),
      cancels, n.cancelled.load(), n.failures.load(), seconds);
  return n.failures.load() == 0 ? 0 : 1;
}
