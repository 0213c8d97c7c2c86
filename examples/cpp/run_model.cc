// Minimal use of the tflstm C++ core: load a model, run it once, print the outputs and the
// memory it needs. Usage: run_model MODEL.tflite [NUM_THREADS]
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tflstm/model.h"
#include "tflstm/runner.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.tflite [NUM_THREADS]\n", argv[0]);
    return 2;
  }
  auto model = tflstm::Model::FromFile(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  tflstm::RunnerOptions options;
  options.num_threads = argc > 2 ? std::atoi(argv[2]) : 1;
  auto runner = tflstm::Runner::Create(model.value(), options);
  if (!runner.ok()) {
    std::fprintf(stderr, "%s\n", runner.status().ToString().c_str());
    return 1;
  }
  tflstm::Runner& r = *runner.value();
  // Inputs live in tflstm's arena: fill them in place (zero-copy). Here: a ramp.
  for (size_t i = 0; i < r.input_count(); ++i) {
    tflstm::TensorView in = r.input(i);
    if (in.dtype == tflstm::DType::kFloat32) {
      auto* x = static_cast<float*>(in.data);
      for (size_t k = 0; k < in.bytes / sizeof(float); ++k) x[k] = 0.01f * static_cast<float>(k);
    } else {
      std::memset(in.data, 0, in.bytes);
    }
  }
  if (tflstm::Status s = r.Invoke(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  for (size_t i = 0; i < r.output_count(); ++i) {
    const tflstm::TensorView out = r.output(i);
    std::printf("output '%s' (%s, %zu bytes):", out.name, tflstm::DTypeName(out.dtype), out.bytes);
    if (out.dtype == tflstm::DType::kFloat32) {
      const auto* y = static_cast<const float*>(out.data);
      for (size_t k = 0; k < out.bytes / sizeof(float) && k < 8; ++k) std::printf(" %.6f", y[k]);
    }
    std::printf("\n");
  }
  const tflstm::MemoryStats mem = r.memory();
  std::printf("memory: tflstm arena %zu B, TFLite arena %zu B, TFLite persistent %zu B, total %zu B\n",
              mem.arena.budget, mem.tflite_arena, mem.tflite_persistent, mem.total());
  return 0;
}
