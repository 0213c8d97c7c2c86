// Steady-state latency of one model in this build of tflstm: median and p90 of repeated runs
// on fixed inputs. Used to compare builds (e.g. ISA levels, see isa_speedup.sh).
// Usage: latency MODEL.tflite [RUNS] [NUM_THREADS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tflstm/runner.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.tflite [RUNS] [NUM_THREADS]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 500;
  auto model = tflstm::Model::FromFile(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  tflstm::RunnerOptions options;
  options.num_threads = argc > 3 ? std::atoi(argv[3]) : 1;
  auto runner = tflstm::Runner::Create(model.value(), options);
  if (!runner.ok()) {
    std::fprintf(stderr, "%s\n", runner.status().ToString().c_str());
    return 1;
  }
  tflstm::Runner& r = *runner.value();
  for (size_t i = 0; i < r.input_count(); ++i) {
    tflstm::TensorView in = r.input(i);
    std::memset(in.data, 0, in.bytes);
    if (in.dtype == kTfLiteFloat32) {
      auto* x = static_cast<float*>(in.data);
      for (size_t k = 0; k < in.bytes / sizeof(float); ++k) x[k] = static_cast<float>(k % 17) / 17.0f - 0.5f;
    }
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(runs));
  for (int i = 0; i < runs + 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (tflstm::Status s = r.Invoke(); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= 20) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());  // 20 warm-up runs
  }
  std::sort(us.begin(), us.end());
  std::printf("median_us %.2f p90_us %.2f runs %d\n", us[us.size() / 2], us[us.size() * 9 / 10], runs);
  return 0;
}
