// A selective build (tflstm_select_ops with the LSTM kernel only): it runs an LSTM exactly as
// TFLite's full resolver does, and refuses any other op by name before building anything.
#include <gtest/gtest.h>

#include <cstring>

#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/kernels/register.h"
#include "test_models.h"
#include "tflstm/runner.h"
#include "tflstm/tflite/model.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm {
namespace {

using testing::AddModel;
using testing::TestData;

TEST(SelectiveBuild, NamesItsOps) {
  EXPECT_STREQ(OpSetDescription(), "TFLite " TFLSTM_TFLITE_VERSION " selective build (UNIDIRECTIONAL_SEQUENCE_LSTM)");
  const auto resolver = MakeOpResolver();
  for (int version = 1; version <= 4; ++version) {
    EXPECT_NE(resolver->FindOp(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, version), nullptr) << version;
  }
  // Version 5 (int16 activations, after TensorFlow 2.14) on the same kernel: the model check
  // refuses a node that uses int16, the only thing it adds.
  const TfLiteRegistration* v5 = resolver->FindOp(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, 5);
  ASSERT_NE(v5, nullptr);
  EXPECT_EQ(v5->invoke, resolver->FindOp(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, 4)->invoke);
  EXPECT_EQ(resolver->FindOp(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, 6), nullptr);
  EXPECT_EQ(resolver->FindOp(tflite::BuiltinOperator_FULLY_CONNECTED, 1), nullptr);
}

TEST(SelectiveBuild, RunsAnLstmAsTheFullResolverDoes) {
  auto model = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE(model.value()->Check().ok()) << model.value()->Check().ToString();
  auto runner = Runner::Create(model.value());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  const TensorView in = runner.value()->input(0);
  auto* x = static_cast<float*>(in.data);
  for (size_t k = 0; k < in.bytes / sizeof(float); ++k) x[k] = -0.4f + 0.13f * static_cast<float>(k % 9);
  ASSERT_TRUE(runner.value()->Invoke().ok());
  const TensorView out = runner.value()->output(0);
  const auto* y = static_cast<const float*>(out.data);

  // The reference: TFLite's interpreter with its full builtin resolver.
  std::unique_ptr<tflite::Interpreter> raw;
  tflite::ops::builtin::BuiltinOpResolver full;
  ASSERT_EQ(tflite::InterpreterBuilder(FlatBuffer(*model.value()), full)(&raw), kTfLiteOk);
  ASSERT_EQ(raw->AllocateTensors(), kTfLiteOk);
  std::memcpy(raw->typed_input_tensor<float>(0), x, in.bytes);
  ASSERT_EQ(raw->Invoke(), kTfLiteOk);
  const float* expected = raw->typed_output_tensor<float>(0);
  ASSERT_GT(out.bytes, 0u);
  for (size_t k = 0; k < out.bytes / sizeof(float); ++k) EXPECT_EQ(y[k], expected[k]) << "output " << k;
}

TEST(SelectiveBuild, RefusesAModelWithAnOpLeftOut) {
  const std::vector<char> bytes = AddModel();
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Status check = model.value()->Check();
  EXPECT_EQ(check.code(), ErrorCode::kUnsupportedOp);
  EXPECT_NE(check.message().find("this runtime (TFLite " TFLSTM_TFLITE_VERSION
                                 " selective build (UNIDIRECTIONAL_SEQUENCE_LSTM)) "
                                 "cannot run: ADD version 1"),
            std::string::npos)
      << check.message();
  auto runner = Runner::Create(model.value());
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kUnsupportedOp);
  EXPECT_EQ(runner.status().message(), check.message());
}

}  // namespace
}  // namespace tflstm
