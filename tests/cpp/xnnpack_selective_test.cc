// A selective build that asks for XNNPACK (tflstm_select_ops(... XNNPACK OPS FULLY_CONNECTED
// SOFTMAX)): its FULLY_CONNECTED runs on XNNPACK, as in the full build, and gives TFLite's result;
// an op it left out is refused, naming the op.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ops/node_kernel.h"
#include "tensorflow/lite/core/interpreter.h"
#include "tensorflow/lite/core/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"
#include "test_models.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm::testing {
namespace {

TEST(XnnpackSelective, RunsItsOpsOnXnnpack) {
  EXPECT_NE(std::string(OpSetDescription()).find("on XNNPACK"), std::string::npos) << OpSetDescription();
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> w(24 * 16), b(16), x(24);
  for (float& v : w) v = d(rng);
  for (float& v : b) v = d(rng);
  for (float& v : x) v = d(rng);
  const std::vector<char> data = DenseModel(w, b, 24);
  auto fb = tflite::FlatBufferModel::BuildFromBuffer(data.data(), data.size());
  const auto resolver = MakeOpResolver();
  std::unique_ptr<tflite::Interpreter> interp;
  ASSERT_EQ(tflite::InterpreterBuilder(*fb, *resolver)(&interp), kTfLiteOk);
  ASSERT_EQ(interp->AllocateTensors(), kTfLiteOk);
  std::copy(x.begin(), x.end(), interp->typed_input_tensor<float>(0));
  ASSERT_EQ(interp->Invoke(), kTfLiteOk);
  const auto* nr = interp->node_and_registration(interp->execution_plan()[0]);
  EXPECT_STREQ(ops::NodeKernel(nr->second, nr->first), "xnnpack");
  for (int o = 0; o < 16; ++o) {
    float y = b[o];
    for (int i = 0; i < 24; ++i) y += w[o * 24 + i] * x[i];
    EXPECT_NEAR(interp->typed_output_tensor<float>(0)[o], y, 1e-5f * 8);
  }
}

TEST(XnnpackSelective, RefusesAnOpLeftOut) {
  const std::vector<char> add = AddModel();
  auto model = Model::FromBytes(add.data(), add.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Runner::Create(model.value());
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kUnsupportedOp);
  EXPECT_NE(runner.status().message().find("(FULLY_CONNECTED, SOFTMAX) on XNNPACK) cannot run: ADD version 1"),
            std::string::npos)
      << runner.status().message();
}

}  // namespace
}  // namespace tflstm::testing
