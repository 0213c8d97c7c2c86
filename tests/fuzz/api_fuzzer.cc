// Fuzz target: valid models, fuzzed use of the public API. The fuzz input picks a model, runner
// options and a sequence of calls (inputs of any shape, dtype and values, NaN and Inf included;
// resizes; invokes with and without state; outputs; streams), each of which must succeed or
// return a typed Status.
//
// Models: TFLite's own LSTM and ADD test models, plus every file named in TFLSTM_FUZZ_MODELS
// (a colon-separated list; bench/fuzz.sh passes the converted demo and step models).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tflstm/runner.h"
#include "tflstm/stream.h"

namespace {

std::vector<std::shared_ptr<const tflstm::Model>> LoadModels() {
  std::vector<std::string> paths;
  for (const char* name :
       {"unidirectional_sequence_lstm.bin", "lstm.bin", "add.bin", "add_quantized_int8.bin", "multi_signatures.bin"}) {
    paths.push_back(std::string(TFLSTM_TESTDATA) + "/" + name);
  }
  if (const char* extra = std::getenv("TFLSTM_FUZZ_MODELS")) {
    std::stringstream list(extra);
    for (std::string p; std::getline(list, p, ':');) {
      if (!p.empty()) paths.push_back(p);
    }
  }
  std::vector<std::shared_ptr<const tflstm::Model>> models;
  for (const std::string& p : paths) {
    auto m = tflstm::Model::FromFile(p);
    if (m.ok() && m.value()->Check().ok()) models.push_back(m.value());
  }
  return models;
}

// Sizes stay small enough that even outputs broadcast from several inputs fit under the
// fuzzer's 2 GB malloc limit (TFLite's own arena has no budget); the odd values are the ones
// that must be refused.
int Dim(FuzzedDataProvider& fdp) {
  static constexpr int kOdd[] = {0, -1, -2, 0x7fffffff, static_cast<int>(0x80000000)};
  if (fdp.ConsumeIntegralInRange(0, 15) == 0) return fdp.PickValueInArray(kOdd);
  return fdp.ConsumeIntegralInRange(0, 40);
}

// A shape near the model's own (the usual case) or any shape of rank 0 to 5.
std::vector<int> Shape(FuzzedDataProvider& fdp, const tflstm::TensorInfo* like) {
  std::vector<int> shape;
  if (like && fdp.ConsumeBool()) {
    shape = like->shape;
    if (!shape.empty() && fdp.ConsumeBool()) shape[fdp.ConsumeIntegralInRange<size_t>(0, shape.size() - 1)] = Dim(fdp);
    return shape;
  }
  for (int d = 0, rank = fdp.ConsumeIntegralInRange(0, 5); d < rank; ++d) shape.push_back(Dim(fdp));
  return shape;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto models = LoadModels();
  if (models.empty()) std::abort();  // a broken set-up must not pass as "no crash"
  FuzzedDataProvider fdp(data, size);
  tflstm::RunnerOptions options;
  if (fdp.ConsumeBool())
    options.arena_bytes = fdp.ConsumeIntegralInRange<size_t>(0, size_t{1} << 20);
  else
    options.arena_bytes = size_t{4} << 20;  // the default sizes the arena to the model: cap resizes
  options.num_threads = fdp.ConsumeIntegralInRange(1, 2);
  const auto& model = models[fdp.ConsumeIntegralInRange<size_t>(0, models.size() - 1)];
  if (!model->signatures().empty() && fdp.ConsumeBool()) {
    options.signature = model->signatures()[fdp.ConsumeIntegralInRange<size_t>(0, model->signatures().size() - 1)].key;
  }
  auto created = tflstm::Runner::Create(model, options);
  if (!created.ok()) return 0;
  tflstm::Runner& r = *created.value();
  std::unique_ptr<tflstm::Stream> stream;
  for (int call = 0; call < 24 && fdp.remaining_bytes() > 0; ++call) {
    const size_t n_in = r.input_count();
    const size_t i = fdp.ConsumeIntegralInRange<size_t>(0, n_in);  // n_in itself is out of range
    const tflstm::TensorInfo* info = i < n_in ? &r.input_info()[i] : nullptr;
    switch (fdp.ConsumeIntegralInRange(0, 10)) {
      case 0: {
        // every DType, and one past them (a code no enumerator names)
        const auto dtype =
            static_cast<tflstm::DType>(fdp.ConsumeIntegralInRange(0, static_cast<int>(tflstm::DType::kOther) + 1));
        const std::vector<int> shape = Shape(fdp, info);
        const std::vector<uint8_t> bytes = fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange(0, 4096));
        (void)r.SetInput(i, bytes.data(), bytes.size(), dtype, shape.data(), shape.size());
        break;
      }
      case 1: {
        const std::vector<int> shape = Shape(fdp, info);
        std::vector<float> values(fdp.ConsumeIntegralInRange(0, 1024));
        for (float& v : values) v = fdp.ConsumeFloatingPoint<float>();  // NaN and Inf among them
        (void)r.SetInputFromFloat(i, values.data(), values.size(), shape.data(), shape.size());
        break;
      }
      case 2: {
        std::vector<std::vector<int>> shapes;
        for (size_t k = 0, n = n_in + (fdp.ConsumeIntegralInRange(0, 7) == 0 ? 1 : 0); k < n; ++k) {
          shapes.push_back(Shape(fdp, k < n_in ? &r.input_info()[k] : nullptr));
        }
        (void)r.ResizeInputs(shapes);
        break;
      }
      case 3: (void)r.Invoke(); break;
      case 4: (void)r.InvokeWithState(); break;
      case 5: (void)r.ResetState(); break;
      case 6: {
        std::vector<float> out(fdp.ConsumeIntegralInRange(0, 4096));
        (void)r.OutputToFloat(fdp.ConsumeIntegralInRange<size_t>(0, r.output_count()), out.data(), out.size());
        break;
      }
      case 7:
        if (info) {
          const tflstm::TensorView in = r.input(i);
          const std::vector<uint8_t> bytes = fdp.ConsumeBytes<uint8_t>(in.bytes);
          if (in.data) std::copy(bytes.begin(), bytes.end(), static_cast<uint8_t*>(in.data));
        }
        break;
      case 8:
        if (!stream) {
          auto s = tflstm::Stream::Create(r);
          if (s.ok()) stream = std::move(s).value();
        }
        if (stream) {
          const size_t steps = fdp.ConsumeIntegralInRange<size_t>(0, 8);
          std::vector<uint8_t> x = fdp.ConsumeBytes<uint8_t>(steps * stream->step_input_bytes());
          x.resize(steps * stream->step_input_bytes());
          std::vector<uint8_t> out(steps * stream->step_output_bytes());
          (void)stream->Feed(x.data(), steps, out.data());
        }
        break;
      case 9:
        if (stream) (void)stream->Reset();
        break;
      default: (void)r.InputIndex(fdp.ConsumeRandomLengthString(16)); (void)r.memory();
    }
  }
  return 0;
}
