// Small TFLite models built in the test itself with the schema's object API, so each test
// knows exactly what the model computes and can compare against its own arithmetic.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tensorflow/lite/schema/schema_generated.h"

namespace tflstm::testing {

inline std::unique_ptr<tflite::TensorT> Tensor(const std::string& name, std::vector<int> shape,
                                               tflite::TensorType type = tflite::TensorType_FLOAT32,
                                               uint32_t buffer = 0) {
  auto t = std::make_unique<tflite::TensorT>();
  t->name = name;
  t->shape = std::move(shape);
  t->type = type;
  t->buffer = buffer;
  return t;
}

inline std::unique_ptr<tflite::OperatorCodeT> OpCode(tflite::BuiltinOperator op, int version) {
  auto code = std::make_unique<tflite::OperatorCodeT>();
  code->builtin_code = op;
  code->deprecated_builtin_code = static_cast<int8_t>(op);
  code->version = version;
  return code;
}

template <typename T>
std::unique_ptr<tflite::BufferT> Buffer(const std::vector<T>& values) {
  auto b = std::make_unique<tflite::BufferT>();
  const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
  b->data.assign(bytes, bytes + values.size() * sizeof(T));
  return b;
}

inline std::vector<char> Serialize(tflite::ModelT& model) {
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, &model));
  const auto* p = reinterpret_cast<const char*>(fbb.GetBufferPointer());
  return std::vector<char>(p, p + fbb.GetSize());
}

// sum = a + b, float32 tensors of `shape`; `version` is the ADD op's version.
inline std::vector<char> AddModel(std::vector<int> shape = {1, 4}, int version = 1) {
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_ADD, version));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());  // buffer 0: the empty sentinel
  auto sg = std::make_unique<tflite::SubGraphT>();
  sg->tensors.push_back(Tensor("a", shape));
  sg->tensors.push_back(Tensor("b", shape));
  sg->tensors.push_back(Tensor("sum", shape));
  sg->inputs = {0, 1};
  sg->outputs = {2};
  auto op = std::make_unique<tflite::OperatorT>();
  op->opcode_index = 0;
  op->inputs = {0, 1};
  op->outputs = {2};
  op->builtin_options.Set(tflite::AddOptionsT());
  sg->operators.push_back(std::move(op));
  m.subgraphs.push_back(std::move(sg));
  return Serialize(m);
}

// y = x * 2^ops as a chain of `ops` ADD ops (t = t + t): a long invoke made of many ops.
inline std::vector<char> AddChainModel(std::vector<int> shape, int ops) {
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_ADD, 1));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  auto sg = std::make_unique<tflite::SubGraphT>();
  for (int i = 0; i <= ops; ++i) sg->tensors.push_back(Tensor(i == 0 ? "x" : "t" + std::to_string(i), shape));
  sg->inputs = {0};
  sg->outputs = {ops};
  for (int i = 0; i < ops; ++i) {
    auto op = std::make_unique<tflite::OperatorT>();
    op->opcode_index = 0;
    op->inputs = {i, i};
    op->outputs = {i + 1};
    op->builtin_options.Set(tflite::AddOptionsT());
    sg->operators.push_back(std::move(op));
  }
  m.subgraphs.push_back(std::move(sg));
  return Serialize(m);
}

// y = x W^T + b with x [1, in], W [out, in], b [out]; `version` is FULLY_CONNECTED's.
inline std::vector<char> DenseModel(const std::vector<float>& w, const std::vector<float>& b, int in, int version = 1) {
  const int out = static_cast<int>(b.size());
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_FULLY_CONNECTED, version));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  m.buffers.push_back(Buffer(w));
  m.buffers.push_back(Buffer(b));
  auto sg = std::make_unique<tflite::SubGraphT>();
  sg->tensors.push_back(Tensor("x", {1, in}));
  sg->tensors.push_back(Tensor("w", {out, in}, tflite::TensorType_FLOAT32, 1));
  sg->tensors.push_back(Tensor("b", {out}, tflite::TensorType_FLOAT32, 2));
  sg->tensors.push_back(Tensor("y", {1, out}));
  sg->inputs = {0};
  sg->outputs = {3};
  auto op = std::make_unique<tflite::OperatorT>();
  op->opcode_index = 0;
  op->inputs = {0, 1, 2};
  op->outputs = {3};
  op->builtin_options.Set(tflite::FullyConnectedOptionsT());
  sg->operators.push_back(std::move(op));
  m.subgraphs.push_back(std::move(sg));
  return Serialize(m);
}

// The folder of TFLite's own test models, unpacked from the TensorFlow source tarball.
inline std::string TestData(const std::string& name) { return std::string(TFLSTM_TESTDATA) + "/" + name; }

}  // namespace tflstm::testing
