// arm_cost_runner: a model's inferences between markers for the instruction-counting plugin.
//
//   arm_cost_runner MODEL.tflite INPUT.npy [--runs K] [--warmup W] [--lstm_kernel tflstm|tflite]
//                   [--output FILE.npy]
//
// Markers are a syscall the kernel does not have (4242, ENOSYS), which the plugin intercepts:
// 1 before loading the model, 2 after creating the runner and the warm-up runs, 3 after the K
// measured runs. Prints the kernel each LSTM node ran.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "npy.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"

namespace {

void Marker(long tag) { syscall(4242, tag); }

int Fail(const tflstm::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.tflite INPUT.npy [--runs K] [--warmup W] [--lstm_kernel tflstm|tflite]\n",
                 argv[0]);
    return 2;
  }
  int runs = 20;
  int warmup = 2;
  std::string kernel = "tflstm";
  std::string output;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (a == "--warmup")
      warmup = std::atoi(argv[i + 1]);
    else if (a == "--lstm_kernel")
      kernel = argv[i + 1];
    else if (a == "--output")
      output = argv[i + 1];
    else
      return Fail(tflstm::Status(tflstm::ErrorCode::kInvalidArgument, "unknown option " + a));
  }
  Marker(1);
  auto model = tflstm::Model::FromFile(argv[1]);
  if (!model.ok()) return Fail(model.status());
  tflstm::RunnerOptions options;
  options.num_threads = 1;
  options.lstm_kernel = kernel == "tflite" ? tflstm::LstmKernel::kTflite : tflstm::LstmKernel::kTflstm;
  auto created = tflstm::Runner::Create(model.value(), options);
  if (!created.ok()) return Fail(created.status());
  tflstm::Runner& r = *created.value();
  auto npy = tflstm::bench::ReadNpy(argv[2]);
  if (!npy.ok()) return Fail(npy.status());
  const auto& a = npy.value();
  if (tflstm::Status s = r.SetInput(0, a.data.data(), a.data.size(), a.dtype, a.shape.data(), a.shape.size());
      !s.ok()) {
    return Fail(s);
  }
  for (int i = 0; i < warmup; ++i) {
    if (tflstm::Status s = r.Invoke(); !s.ok()) return Fail(s);
  }
  Marker(2);
  for (int i = 0; i < runs; ++i) {
    if (tflstm::Status s = r.Invoke(); !s.ok()) return Fail(s);
  }
  Marker(3);
  std::string nodes;
  for (const std::string& k : r.lstm_kernels()) nodes += (nodes.empty() ? "" : ",") + k;
  std::printf("lstm_node_kernels %s\nruns %d\n", nodes.empty() ? "-" : nodes.c_str(), runs);
  if (!output.empty()) {
    const tflstm::TensorView out = r.output(0);
    const tflstm::Status s =
        tflstm::bench::WriteNpy(output, out.dtype, out.shape, static_cast<size_t>(out.rank), out.data, out.bytes);
    if (!s.ok()) return Fail(s);
  }
  return 0;
}
