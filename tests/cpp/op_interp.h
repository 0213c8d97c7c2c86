// What the recurrent ops' tests share: a model and one interpreter over it on an op set, the
// kernel a tflstm node runs, random inputs, the error measure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rnn/recurrent_ops.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"
#include "tflstm/model.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm::testing {

struct Interp {
  std::vector<char> bytes;  // the model's constants point into them
  std::unique_ptr<tflite::FlatBufferModel> model;
  std::unique_ptr<tflite::OpResolver> resolver;
  std::unique_ptr<tflite::Interpreter> interpreter;
};

inline std::unique_ptr<Interp> Build(std::vector<char> bytes, LstmKernel kernel = LstmKernel::kTflstm) {
  auto it = std::make_unique<Interp>();
  it->bytes = std::move(bytes);
  it->model = tflite::FlatBufferModel::BuildFromBuffer(it->bytes.data(), it->bytes.size());
  EXPECT_NE(it->model, nullptr);
  it->resolver = MakeOpResolver(kernel);
  tflite::InterpreterBuilder(*it->model, *it->resolver)(&it->interpreter);
  EXPECT_NE(it->interpreter, nullptr);
  if (it->interpreter) {
    EXPECT_EQ(it->interpreter->AllocateTensors(), kTfLiteOk);
  }
  return it;
}

// The kernel the model's GRU, TFLSTM_LSTM or SimpleRNN node runs.
inline std::string NodeKernel(tflite::Interpreter& interp) {
  for (size_t i = 0; i < interp.nodes_size(); ++i) {
    const auto* nr = interp.node_and_registration(static_cast<int>(i));
    if (const char* name = rnn::RecurrentNodeKernel(nr->second, nr->first)) return name;
  }
  return "no tflstm node";
}

inline std::vector<float> RandomInput(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.5f, 1.5f);
  std::vector<float> x(n);
  for (float& v : x) v = u(rng);
  return x;
}

// max |a - b| / (1 + |b|).
template <class T>
double MaxError(const float* a, const std::vector<T>& b) {
  double worst = 0;
  for (size_t k = 0; k < b.size(); ++k) {
    const double d = std::fabs(a[k] - static_cast<double>(b[k])) / (1.0 + std::fabs(static_cast<double>(b[k])));
    worst = std::isnan(d) ? 1e9 : std::max(worst, d);
  }
  return worst;
}

// `step` (a batch-major model of one time step) fed x ([batch, time, n_input]) one step per
// invoke gives what `whole` gives for the whole sequence, bit for bit, and the same state.
inline void ExpectStepsContinueTheSequence(tflite::Interpreter& whole, tflite::Interpreter& step,
                                           const std::vector<float>& x, int batch, int time, int n_input, int units) {
  std::memcpy(whole.typed_input_tensor<float>(0), x.data(), x.size() * sizeof(float));
  ASSERT_EQ(whole.Invoke(), kTfLiteOk);
  for (int t = 0; t < time; ++t) {
    for (int r = 0; r < batch; ++r) {
      std::memcpy(step.typed_input_tensor<float>(0) + r * n_input, x.data() + (r * time + t) * n_input,
                  n_input * sizeof(float));
    }
    ASSERT_EQ(step.Invoke(), kTfLiteOk);
    for (int r = 0; r < batch; ++r) {
      EXPECT_EQ(std::memcmp(step.typed_output_tensor<float>(0) + r * units,
                            whole.typed_output_tensor<float>(0) + (r * time + t) * units, units * sizeof(float)),
                0)
          << "step " << t << " batch row " << r;
    }
  }
  for (size_t v = 0; v < whole.variables().size(); ++v) {
    EXPECT_EQ(std::memcmp(whole.tensor(whole.variables()[v])->data.f, step.tensor(step.variables()[v])->data.f,
                          batch * units * sizeof(float)),
              0)
        << "state " << v;
  }
}

// A model whose tflstm custom op `op` breaks its contract: kInvalidModel from the validator with
// `message`, and the op's Prepare refuses the node where no validator ran (a bare interpreter).
inline void ExpectRefused(const std::vector<char>& bytes, const std::string& op, const std::string& message) {
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find(op), std::string::npos) << model.status().ToString();
  EXPECT_NE(model.status().message().find(message), std::string::npos) << model.status().ToString();
  auto flat = tflite::FlatBufferModel::BuildFromBuffer(bytes.data(), bytes.size());
  ASSERT_NE(flat, nullptr);
  auto resolver = MakeOpResolver();
  std::unique_ptr<tflite::Interpreter> interp;
  tflite::InterpreterBuilder(*flat, *resolver)(&interp);
  if (interp) {
    EXPECT_NE(interp->AllocateTensors(), kTfLiteOk);
  }
}

}  // namespace tflstm::testing
