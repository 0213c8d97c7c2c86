// Model validation: a real model with one field edited the way the fuzzers edit them is refused
// with kInvalidModel naming the tensor or op, before TFLite sees it; the unedited model runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include "test_models.h"
#include "tflstm/runner.h"

namespace tflstm {
namespace {

std::vector<char> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::unique_ptr<tflite::ModelT> Unpack(const std::vector<char>& bytes) {
  return std::unique_ptr<tflite::ModelT>(tflite::GetModel(bytes.data())->UnPack());
}

// The first operator with this builtin code in the primary subgraph.
tflite::OperatorT& FindOp(tflite::ModelT& m, tflite::BuiltinOperator code) {
  for (auto& op : m.subgraphs[0]->operators) {
    const tflite::OperatorCodeT& c = *m.operator_codes[op->opcode_index];
    // Older models keep small codes in the deprecated field only.
    if (std::max(c.builtin_code, static_cast<tflite::BuiltinOperator>(c.deprecated_builtin_code)) == code) return *op;
  }
  ADD_FAILURE() << "no " << tflite::EnumNameBuiltinOperator(code);
  return *m.subgraphs[0]->operators[0];
}

Status LoadAndRun(const std::vector<char>& bytes) {
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  if (!model.ok()) return model.status();
  auto runner = Runner::Create(model.value());
  if (!runner.ok()) return runner.status();
  return runner.value()->Invoke();
}

// Edits TFLite's own LSTM test model; the result must be refused naming `expected`.
void ExpectRefused(const std::function<void(tflite::ModelT&, tflite::OperatorT&)>& edit, const std::string& expected,
                   const char* file = "unidirectional_sequence_lstm.bin",
                   tflite::BuiltinOperator code = tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM) {
  const std::vector<char> original = ReadFile(testing::TestData(file));
  ASSERT_FALSE(original.empty());
  ASSERT_TRUE(LoadAndRun(original).ok()) << LoadAndRun(original).ToString();
  auto m = Unpack(original);
  edit(*m, FindOp(*m, code));
  const std::vector<char> bytes = testing::Serialize(*m);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok()) << "accepted: " << expected;
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find(expected), std::string::npos) << model.status().message();
}

tflite::TensorT& Operand(tflite::ModelT& m, const tflite::OperatorT& op, int i) {
  return *m.subgraphs[0]->tensors[op.inputs[i]];
}

// Grows dimension `dim` of weight `input` by `delta`, with a buffer that matches: sizes stay
// consistent, the LSTM does not.
void GrowWeight(tflite::ModelT& m, const tflite::OperatorT& op, int input, int dim, int delta) {
  tflite::TensorT& w = Operand(m, op, input);
  w.shape[dim] += delta;
  if (w.buffer) m.buffers[w.buffer]->data.resize(static_cast<size_t>(w.shape[0]) * w.shape[1] * 4);
}

TEST(ModelValidate, LstmWeightOfAnotherWidthIsNamed) {
  ExpectRefused([](tflite::ModelT& m, tflite::OperatorT& op) { GrowWeight(m, op, 3, 1, 1); }, "input 3 (tensor ");
}

TEST(ModelValidate, LstmRecurrentWeightOfAnotherHeightIsNamed) {
  ExpectRefused([](tflite::ModelT& m, tflite::OperatorT& op) { GrowWeight(m, op, 7, 0, 2); },
                "a recurrent weight matrix needs");
}

TEST(ModelValidate, LstmCellStateOfTheWrongSizeIsNamed) {
  ExpectRefused([](tflite::ModelT& m, tflite::OperatorT& op) { Operand(m, op, 19).shape.back() += 1; },
                "(cell state) has shape");
}

TEST(ModelValidate, LstmOperandCountIsChecked) {
  ExpectRefused([](tflite::ModelT&, tflite::OperatorT& op) { op.inputs.resize(19); }, "it takes 20, or 24");
}

TEST(ModelValidate, LstmSequenceInputNeedsRankThree) {
  // TFLite's Prepare checks rank > 1 and then reads dims[2].
  ExpectRefused(
      [](tflite::ModelT& m, tflite::OperatorT& op) {
        tflite::TensorT& x = Operand(m, op, 0);
        x.shape.pop_back();
        x.shape_signature.clear();
      },
      "the op needs rank 3");
}

TEST(ModelValidate, WeightBufferShorterThanItsShapeIsNamed) {
  ExpectRefused(
      [](tflite::ModelT& m, tflite::OperatorT& op) {
        tflite::TensorT& w = Operand(m, op, 2);
        ASSERT_NE(w.buffer, 0u);
        m.buffers[w.buffer]->data.resize(m.buffers[w.buffer]->data.size() - 4);
      },
      "needs ");
}

TEST(ModelValidate, ExternalBufferPastTheFileIsRefused) {
  // The layout of models over 2 GB: TFLite adds offset and size, which wraps around.
  ExpectRefused(
      [](tflite::ModelT& m, tflite::OperatorT& op) {
        tflite::BufferT& b = *m.buffers[Operand(m, op, 2).buffer];
        b.data.clear();
        b.offset = std::numeric_limits<uint64_t>::max() - 15;
        b.size = 64;
      },
      "spans bytes");
}

TEST(ModelValidate, NonFiniteQuantizationScaleIsRefused) {
  ExpectRefused(
      [](tflite::ModelT& m, tflite::OperatorT& op) {
        auto q = std::make_unique<tflite::QuantizationParametersT>();
        q->scale = {std::numeric_limits<float>::quiet_NaN()};
        q->zero_point = {0};
        Operand(m, op, 0).quantization = std::move(q);
      },
      "has quantization scale");
}

TEST(ModelValidate, HugeShapeIsRefusedBeforeSizesOverflow) {
  ExpectRefused(
      [](tflite::ModelT& m, tflite::OperatorT& op) {
        Operand(m, op, 0).shape = {0x7fffffff, 0x7fffffff, 2};
      },
      "more than 2^31 elements");
}

// Found by the model fuzzer (UBSan: misaligned int64 load): the verifier accepts int64 vectors
// at any 4-byte offset. Moving everything after the header by 4 bytes keeps every relative
// offset valid and puts the zero points off their 8-byte alignment.
TEST(ModelValidate, MisalignedZeroPointsAreRefused) {
  auto m = Unpack(testing::AddModel({1, 4}));
  auto q = std::make_unique<tflite::QuantizationParametersT>();
  q->scale = {0.5f};
  q->zero_point = {0};
  m->subgraphs[0]->tensors[0]->quantization = std::move(q);
  std::vector<char> bytes = testing::Serialize(*m);
  auto aligned = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(aligned.ok()) << aligned.status().ToString();
  uint32_t root;
  std::memcpy(&root, bytes.data(), 4);
  root += 4;
  std::memcpy(bytes.data(), &root, 4);
  bytes.insert(bytes.begin() + 8, 4, '\0');
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find("tensor 0 'a' has its zero points (int64) at a misaligned offset"),
            std::string::npos)
      << model.status().message();
}

TEST(ModelValidate, FullyConnectedBiasOfTheWrongSizeIsNamed) {
  const std::vector<char> dense = testing::DenseModel({1, 2, 3, 4, 5, 6}, {0.5f, -0.5f}, 3);
  auto m = Unpack(dense);
  tflite::OperatorT& op = FindOp(*m, tflite::BuiltinOperator_FULLY_CONNECTED);
  tflite::TensorT& bias = Operand(*m, op, 2);
  bias.shape = {3};
  m->buffers[bias.buffer]->data.resize(12);
  const std::vector<char> bytes = testing::Serialize(*m);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find("(FULLY_CONNECTED): input 2"), std::string::npos) << model.status().message();
  EXPECT_TRUE(LoadAndRun(dense).ok());
}

TEST(ModelValidate, ConvolutionWithZeroStrideIsRefused) {
  // TFLite divides output sizes by the stride.
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(testing::OpCode(tflite::BuiltinOperator_CONV_2D, 1));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  m.buffers.push_back(testing::Buffer(std::vector<float>{2.0f}));
  auto sg = std::make_unique<tflite::SubGraphT>();
  sg->tensors.push_back(testing::Tensor("x", {1, 4, 4, 1}));
  sg->tensors.push_back(testing::Tensor("filter", {1, 1, 1, 1}, tflite::TensorType_FLOAT32, 1));
  m.buffers.push_back(testing::Buffer(std::vector<float>{0.5f}));
  sg->tensors.push_back(testing::Tensor("bias", {1}, tflite::TensorType_FLOAT32, 2));
  sg->tensors.push_back(testing::Tensor("y", {1, 4, 4, 1}));
  sg->inputs = {0};
  sg->outputs = {3};
  auto op = std::make_unique<tflite::OperatorT>();
  op->inputs = {0, 1, 2};
  op->outputs = {3};
  tflite::Conv2DOptionsT options;
  options.stride_w = 1;
  options.stride_h = 1;
  op->builtin_options.Set(options);
  sg->operators.push_back(std::move(op));
  m.subgraphs.push_back(std::move(sg));
  ASSERT_TRUE(LoadAndRun(testing::Serialize(m)).ok()) << LoadAndRun(testing::Serialize(m)).ToString();
  m.subgraphs[0]->operators[0]->builtin_options.AsConv2DOptions()->stride_h = 0;
  const std::vector<char> bytes = testing::Serialize(m);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find("operator 0 (CONV_2D) has strides 1x0"), std::string::npos)
      << model.status().message();
}

// An int8 CONCATENATION [1, 2] + [1, 2] -> [1, 4], every operand at scale 0.5, zero point 3.
tflite::ModelT Int8Concatenation() {
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(testing::OpCode(tflite::BuiltinOperator_CONCATENATION, 1));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  auto sg = std::make_unique<tflite::SubGraphT>();
  for (const char* name : {"a", "b", "ab"}) {
    auto t = testing::Tensor(name, name[1] ? std::vector<int>{1, 4} : std::vector<int>{1, 2}, tflite::TensorType_INT8);
    t->quantization = std::make_unique<tflite::QuantizationParametersT>();
    t->quantization->scale = {0.5f};
    t->quantization->zero_point = {3};
    sg->tensors.push_back(std::move(t));
  }
  sg->inputs = {0, 1};
  sg->outputs = {2};
  auto op = std::make_unique<tflite::OperatorT>();
  op->inputs = {0, 1};
  op->outputs = {2};
  tflite::ConcatenationOptionsT options;
  options.axis = 1;
  op->builtin_options.Set(options);
  sg->operators.push_back(std::move(op));
  m.subgraphs.push_back(std::move(sg));
  return m;
}

Status Refusal(tflite::ModelT& m) {
  const std::vector<char> bytes = testing::Serialize(m);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  return model.ok() ? Status::Ok() : model.status();
}

// model_fuzzer: LeakSanitizer, 8 bytes from CONCATENATION's Prepare, which allocates the output
// shape and then fails to fetch an output the operator does not list.
TEST(ModelValidate, OperatorWithoutOutputsIsRefused) {
  tflite::ModelT m = Int8Concatenation();
  ASSERT_TRUE(LoadAndRun(testing::Serialize(m)).ok()) << LoadAndRun(testing::Serialize(m)).ToString();
  m.subgraphs[0]->operators[0]->outputs.clear();
  const Status s = Refusal(m);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.ToString();
  EXPECT_NE(s.message().find("operator 0 (CONCATENATION): it has no outputs"), std::string::npos) << s.message();
}

// The same allocation leaks when the int8 kernel refuses inputs it would have to rescale.
TEST(ModelValidate, Int8ConcatenationNeedsTheOutputsScale) {
  tflite::ModelT m = Int8Concatenation();
  m.subgraphs[0]->tensors[1]->quantization->scale = {0.25f};
  Status s = Refusal(m);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.ToString();
  EXPECT_NE(s.message().find("input 1 (tensor 1 'b') has scale 0.250000 and zero point 3; the int8 kernel needs"),
            std::string::npos)
      << s.message();
  m = Int8Concatenation();
  for (auto& t : m.subgraphs[0]->tensors) t->type = tflite::TensorType_INT16;
  s = Refusal(m);
  EXPECT_NE(s.message().find("is INT16 with zero point 3; the kernel needs 0"), std::string::npos) << s.message();
}

// model_fuzzer: LeakSanitizer, 20 bytes from ADD's Prepare, which copies the output shape and
// then refuses int16 data that is not symmetric.
TEST(ModelValidate, Int16AddWithAZeroPointIsRefused) {
  auto m = Unpack(testing::AddModel({1, 4}));
  for (auto& t : m->subgraphs[0]->tensors) {
    t->type = tflite::TensorType_INT16;
    t->quantization = std::make_unique<tflite::QuantizationParametersT>();
    t->quantization->scale = {0.01f};
    t->quantization->zero_point = {0};
  }
  ASSERT_TRUE(LoadAndRun(testing::Serialize(*m)).ok()) << LoadAndRun(testing::Serialize(*m)).ToString();
  m->subgraphs[0]->tensors[2]->quantization->zero_point = {5};
  const Status s = Refusal(*m);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.ToString();
  EXPECT_NE(s.message().find("operator 0 (ADD): output 0 (tensor 2 'sum') is INT16 with zero point 5"),
            std::string::npos)
      << s.message();
}

// A dynamic-range Dense as TensorFlow's converter writes it since 2.17 (FULLY_CONNECTED version
// 12): float input, int8 weights with a scale per unit, float bias. Weights w[u][k] = k - 3u.
tflite::ModelT PerUnitDense(int units, int in, int version, bool asymmetric_inputs = false) {
  auto m = Unpack(testing::DenseModel(std::vector<float>(static_cast<size_t>(units) * in, 0.0f),
                                      std::vector<float>(static_cast<size_t>(units), 0.0f), in, version));
  std::vector<int8_t> w;
  std::vector<float> bias;
  auto q = std::make_unique<tflite::QuantizationParametersT>();
  for (int u = 0; u < units; ++u) {
    for (int k = 0; k < in; ++k) w.push_back(static_cast<int8_t>(k - 3 * u));
    q->scale.push_back(0.01f * static_cast<float>(u + 1));
    q->zero_point.push_back(0);
    bias.push_back(0.25f * static_cast<float>(u) - 0.5f);
  }
  q->quantized_dimension = 0;
  tflite::TensorT& weights = *m->subgraphs[0]->tensors[1];
  weights.type = tflite::TensorType_INT8;
  weights.quantization = std::move(q);
  m->buffers[weights.buffer] = testing::Buffer(w);
  m->buffers[m->subgraphs[0]->tensors[2]->buffer] = testing::Buffer(bias);
  m->subgraphs[0]->operators[0]->builtin_options.AsFullyConnectedOptions()->asymmetric_quantize_inputs =
      asymmetric_inputs;
  return std::move(*m);
}

// TFLite 2.14.1 registers FULLY_CONNECTED up to version 10; tflstm runs version 12 with each
// unit's integer sum scaled by its own weight scale. Expected values are computed here as TFLite
// quantizes a dynamic-range input (symmetric: one scale per row, max |x| / 127, rounded half away
// from zero; asymmetric: a zero point per row), in double.
TEST(ModelValidate, PerUnitDynamicRangeDenseRunsAtVersion12) {
  constexpr int kUnits = 5, kIn = 7;
  const std::vector<float> x = {0.3f, -1.7f, 2.5f, 0.0f, -0.05f, 1.1f, -2.2f};
  for (const bool asymmetric : {false, true}) {
    tflite::ModelT m = PerUnitDense(kUnits, kIn, 12, asymmetric);
    const std::vector<char> bytes = testing::Serialize(m);
    auto model = Model::FromBytes(bytes.data(), bytes.size());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto runner = Runner::Create(model.value());
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    Runner& r = *runner.value();
    std::memcpy(r.input(0).data, x.data(), sizeof(float) * kIn);
    ASSERT_TRUE(r.Invoke().ok());
    const auto* y = static_cast<const float*>(r.output(0).data);
    // The input's quantization, as TFLite's (A)SymmetricQuantizeFloats.
    const float lo = std::min(0.0f, *std::min_element(x.begin(), x.end()));
    const float hi = std::max(0.0f, *std::max_element(x.begin(), x.end()));
    std::vector<int> qx(kIn);
    float scale = 0;
    int zero_point = 0;
    if (asymmetric) {
      scale = (hi - lo) / 255.0f;
      const double zp = -128.0 - lo / scale;
      zero_point = static_cast<int>(std::round(std::min(127.0, std::max(-128.0, zp))));
      for (int k = 0; k < kIn; ++k) {
        qx[k] = std::min(127, std::max(-128, zero_point + static_cast<int>(std::round(x[k] / scale))));
      }
    } else {
      scale = std::max(std::fabs(lo), hi) / 127.0f;
      for (int k = 0; k < kIn; ++k) qx[k] = static_cast<int>(std::round(x[k] * (127.0f / std::max(std::fabs(lo), hi))));
    }
    for (int u = 0; u < kUnits; ++u) {
      int64_t dot = 0;
      for (int k = 0; k < kIn; ++k) dot += static_cast<int64_t>(k - 3 * u) * (qx[k] - zero_point);
      const double want = 0.25 * u - 0.5 + static_cast<double>(dot) * scale * 0.01 * (u + 1);
      EXPECT_NEAR(y[u], want, 1e-5 * (1 + std::fabs(want))) << "unit " << u << (asymmetric ? " asymmetric" : "");
    }
  }
}

// Before version 12 the dynamic-range kernel takes one weight scale (a per-channel tensor's
// legacy scale is 0: every unit would be its bias); such a file is refused, not run wrong.
TEST(ModelValidate, PerUnitDynamicRangeDenseBeforeVersion12IsRefused) {
  tflite::ModelT m = PerUnitDense(5, 7, 9);
  const Status s = Refusal(m);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.ToString();
  EXPECT_NE(s.message().find("input 1 (tensor 1 'w') has a scale per unit, which a dynamic-range FULLY_CONNECTED "
                             "computes from version 12 on; the op code says version 9"),
            std::string::npos)
      << s.message();
}

// A newer version whose addition the node does not use runs on TFLite 2.14.1's kernel (a float
// Dense marked version 12, 13 or 14, as a converter that numbers the whole op code may write).
TEST(ModelValidate, NewerVersionWithoutItsAdditionRuns) {
  for (const int version : {11, 12, 13, 14}) {
    const std::vector<char> bytes = testing::DenseModel({1, 2, 3, 4}, {0.5f, -0.5f}, 2, version);
    auto model = Model::FromBytes(bytes.data(), bytes.size());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto runner = Runner::Create(model.value());
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    const float x[2] = {1.0f, -2.0f};
    std::memcpy(runner.value()->input(0).data, x, sizeof x);
    ASSERT_TRUE(runner.value()->Invoke().ok());
    const auto* y = static_cast<const float*>(runner.value()->output(0).data);
    EXPECT_FLOAT_EQ(y[0], 0.5f + 1 * 1 - 2 * 2) << version;
    EXPECT_FLOAT_EQ(y[1], -0.5f + 3 * 1 - 4 * 2) << version;
  }
}

// A node that uses what a newer version adds and TFLite 2.14.1 lacks is refused as an op the
// runtime cannot run, naming the op, the version, the release and the addition.
TEST(ModelValidate, NewerVersionUsingItsAdditionIsAnUnsupportedOp) {
  auto m = Unpack(testing::DenseModel({1, 2, 3, 4}, {0.5f, -0.5f}, 2, 13));
  auto& tensors = m->subgraphs[0]->tensors;
  tensors[0]->type = tflite::TensorType_INT16;  // int16 activations ...
  tensors[1]->type = tflite::TensorType_INT4;   // ... with int4 weights
  Status s = Refusal(*m);
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedOp) << s.ToString();
  EXPECT_NE(s.message().find("operator 0 (FULLY_CONNECTED) is version 13, which TensorFlow 2.18 introduced for int16 "
                             "activations with int4 weights; this node uses that, and TFLite 2.14.1's kernel (up to "
                             "version 10) does not compute it"),
            std::string::npos)
      << s.message();
  // A type of a later schema (bfloat16, 18) is named by the version that brought it, not as an
  // unknown type.
  m = Unpack(testing::AddModel({1, 4}));
  m->operator_codes[0] = testing::OpCode(tflite::BuiltinOperator_CAST, 7);
  m->subgraphs[0]->operators[0]->inputs = {0};
  m->subgraphs[0]->tensors[2]->type = static_cast<tflite::TensorType>(18);
  s = Refusal(*m);
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedOp) << s.ToString();
  EXPECT_NE(s.message().find("(CAST) is version 7, which TensorFlow 2.17 introduced for bfloat16"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace tflstm
