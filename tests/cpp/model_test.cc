#include "tflstm/model.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "test_models.h"
#include "tflstm/arena.h"

namespace tflstm {
namespace {

using testing::AddModel;
using testing::DenseModel;
using testing::TestData;

std::string WriteTemp(const std::string& name, const std::vector<char>& bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(Model, DescribesInputsOutputsAndOps) {
  const auto bytes = AddModel({2, 3});
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Model& m = *model.value();
  ASSERT_EQ(m.inputs().size(), 2u);
  EXPECT_EQ(m.inputs()[0].name, "a");
  EXPECT_EQ(m.inputs()[1].name, "b");
  EXPECT_EQ(m.inputs()[0].dtype, DType::kFloat32);
  EXPECT_EQ(m.inputs()[0].shape, (std::vector<int>{2, 3}));
  EXPECT_EQ(m.inputs()[0].shape_signature, (std::vector<int>{2, 3}));
  ASSERT_EQ(m.outputs().size(), 1u);
  EXPECT_EQ(m.outputs()[0].name, "sum");
  ASSERT_EQ(m.ops().size(), 1u);
  EXPECT_EQ(m.ops()[0].name, "ADD");
  EXPECT_EQ(m.ops()[0].version, 1);
  EXPECT_TRUE(m.Check().ok());
  EXPECT_EQ(m.size_bytes(), bytes.size());
}

TEST(Model, LoadsTfliteTestModelsFromFile) {
  for (const char* name : {"lstm.bin", "unidirectional_sequence_lstm.bin", "add.bin", "multi_add.bin"}) {
    auto model = Model::FromFile(TestData(name));
    ASSERT_TRUE(model.ok()) << name << ": " << model.status().ToString();
    EXPECT_FALSE(model.value()->inputs().empty()) << name;
    EXPECT_FALSE(model.value()->ops().empty()) << name;
  }
  auto lstm = Model::FromFile(TestData("unidirectional_sequence_lstm.bin"));
  ASSERT_TRUE(lstm.ok());
  bool has_lstm = false;
  for (const OpInfo& op : lstm.value()->ops()) has_lstm |= op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM";
  EXPECT_TRUE(has_lstm);
}

TEST(Model, QuantizationIsDescribed) {
  auto model = Model::FromFile(TestData("add_quantized_int8.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const TensorInfo& in = model.value()->inputs()[0];
  EXPECT_EQ(in.dtype, DType::kInt8);
  ASSERT_EQ(in.quantization.scales.size(), 1u);
  EXPECT_GT(in.quantization.scales[0], 0.0f);
  EXPECT_EQ(in.quantization.zero_points.size(), 1u);
}

TEST(Model, MissingFileIsAnInvalidModelNamingThePath) {
  auto model = Model::FromFile("/nonexistent/dir/model.tflite");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find("/nonexistent/dir/model.tflite"), std::string::npos);
  EXPECT_NE(model.status().message().find("No such file"), std::string::npos) << model.status().message();
}

TEST(Model, EmptyFileAndEmptyBytes) {
  auto from_file = Model::FromFile(WriteTemp("empty.tflite", {}));
  ASSERT_FALSE(from_file.ok());
  EXPECT_EQ(from_file.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(from_file.status().message().find("empty"), std::string::npos);
  auto from_bytes = Model::FromBytes("", 0);
  ASSERT_FALSE(from_bytes.ok());
  EXPECT_EQ(from_bytes.status().code(), ErrorCode::kInvalidModel);
}

TEST(Model, TruncatedModelsAreRefused) {
  const auto bytes = DenseModel({1, 2, 3, 4, 5, 6}, {0.5f, -0.5f}, 3);
  for (size_t keep : {size_t{4}, size_t{16}, bytes.size() / 2, bytes.size() - 1}) {
    auto model = Model::FromBytes(bytes.data(), keep);
    ASSERT_FALSE(model.ok()) << "kept " << keep << " of " << bytes.size();
    EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
    EXPECT_NE(model.status().message().find("(" + std::to_string(keep) + " bytes)"), std::string::npos)
        << model.status().message();
  }
}

TEST(Model, RandomBytesAreRefused) {
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    std::vector<char> junk(64 + rng() % 4096);
    for (char& c : junk) c = static_cast<char>(rng());
    auto model = Model::FromBytes(junk.data(), junk.size());
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  }
}

TEST(Model, TfliteBrokenTestModelIsRefused) {
  auto model = Model::FromFile(TestData("test_model_broken.bin"));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find("test_model_broken.bin"), std::string::npos);
}

TEST(Model, CheckNamesEveryMissingOpVersion) {
  // A version no TensorFlow release has written (12, TF 2.21's per-channel dynamic-range Dense,
  // runs: model_validate_test).
  const auto bytes = DenseModel({1, 2, 3, 4, 5, 6}, {0, 0}, 3, /*version=*/99);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Status status = model.value()->Check();
  EXPECT_EQ(status.code(), ErrorCode::kUnsupportedOp);
  EXPECT_NE(status.message().find("FULLY_CONNECTED version 99"), std::string::npos) << status.message();
  const auto missing = model.value()->UnsupportedOps();
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].name, "FULLY_CONNECTED");
  EXPECT_EQ(missing[0].version, 99);
}

TEST(Model, OutOfRangeIndicesAreCaughtBeforeTheInterpreter) {
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(testing::OpCode(tflite::BuiltinOperator_ADD, 1));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  auto sg = std::make_unique<tflite::SubGraphT>();
  sg->tensors.push_back(testing::Tensor("a", {1}));
  sg->inputs = {0};
  sg->outputs = {5};  // no tensor 5
  m.subgraphs.push_back(std::move(sg));
  const auto bytes = testing::Serialize(m);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find("tensor 5"), std::string::npos) << model.status().message();
}

TEST(Model, BytesCanLiveInTheArena) {
  const auto bytes = AddModel();
  auto arena = Arena::Create(bytes.size() + 64);
  ASSERT_TRUE(arena.ok());
  auto model = Model::FromBytes(bytes.data(), bytes.size(), *arena.value());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(arena.value()->stats().used, Arena::AlignUp(bytes.size()));
  auto small = Arena::Create(16);
  auto refused = Model::FromBytes(bytes.data(), bytes.size(), *small.value());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kArenaExhausted);
}

}  // namespace
}  // namespace tflstm
