// Loads a model, runs it on a ramp and prints output 0: the smallest tflstm application.
#include <cstdio>

#include "tflstm/model.h"
#include "tflstm/runner.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.tflite\n", argv[0]);
    return 2;
  }
  auto model = tflstm::Model::FromFile(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  auto runner = tflstm::Runner::Create(model.value());
  if (!runner.ok()) {
    std::fprintf(stderr, "%s\n", runner.status().ToString().c_str());
    return 1;
  }
  tflstm::Runner& r = *runner.value();
  const tflstm::TensorView in = r.input(0);
  auto* x = static_cast<float*>(in.data);
  for (size_t k = 0; k < in.bytes / sizeof(float); ++k) x[k] = 0.1f * static_cast<float>(k % 10);
  if (tflstm::Status s = r.Invoke(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const tflstm::TensorView out = r.output(0);
  std::printf("consumer: %zu output values:", out.bytes / sizeof(float));
  for (size_t k = 0; k < out.bytes / sizeof(float); ++k) std::printf(" %.6f", static_cast<const float*>(out.data)[k]);
  std::printf("\n");
  return 0;
}
