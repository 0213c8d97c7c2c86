// Small TFLite models built in the test itself with the schema's object API, so each test
// knows exactly what the model computes and can compare against its own arithmetic.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
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

// The subgraph's one operator (operator code 0): tensors 0 and 1 in, 2 out, as the subgraph's
// inputs and output.
template <typename Options>
void AddBinaryOperator(tflite::SubGraphT* sg, Options options) {
  sg->inputs = {0, 1};
  sg->outputs = {2};
  auto op = std::make_unique<tflite::OperatorT>();
  op->opcode_index = 0;
  op->inputs = {0, 1};
  op->outputs = {2};
  op->builtin_options.Set(std::move(options));
  sg->operators.push_back(std::move(op));
}

// Uniform int8 values in [lo, 127].
inline std::vector<int8_t> RandomInt8(size_t n, std::mt19937& rng, int lo = -127) {
  std::uniform_int_distribution<int> d(lo, 127);
  std::vector<int8_t> v(n);
  for (int8_t& q : v) q = static_cast<int8_t>(d(rng));
  return v;
}

// The number of elements of a tensor of `shape`.
inline size_t Count(const std::vector<int>& shape) {
  size_t n = 1;
  for (int d : shape) n *= static_cast<size_t>(d);
  return n;
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
  AddBinaryOperator(sg.get(), tflite::AddOptionsT());
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

namespace tflstm::testing {

// An UNIDIRECTIONAL_SEQUENCE_LSTM model with random weights: input [batch, time, n_input]
// ([time, batch, n_input] when time-major) -> output, the state in variable tensors.
struct LstmSpec {
  int batch = 1;
  int time = 4;
  int n_input = 3;
  int n_cell = 8;
  bool time_major = false;
  float cell_clip = 0.0f;
  tflite::ActivationFunctionType activation = tflite::ActivationFunctionType_TANH;
  bool cifg = false;  // no input gate
  bool peephole = false;
  int projection = 0;  // n_output with projection weights, 0 for none
  bool layer_norm = false;
  bool float16 = false;                  // weights stored as float16, dequantized by DEQUANTIZE ops
  bool hybrid = false;                   // int8 weight matrices, one symmetric scale each (float rest)
  bool asymmetric_inputs = false;        // hybrid: asymmetric_quantize_inputs (version 3)
  bool weight_of_minus_128 = false;      // hybrid: the first weight of each matrix is -128 (TF's
                                         // converter writes only [-127, 127]; TFLite reads any int8)
  bool twenty_inputs = false;            // the older 20-input form
  bool forget_weights_as_input = false;  // input-to-forget weights fed at run time, a model input
  unsigned seed = 1;
};

// float -> IEEE half, rounding to nearest (normal values only, which is all the tests use).
inline uint16_t ToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffffu;
  if (exponent <= 0) return static_cast<uint16_t>(sign);  // tiny: zero
  uint32_t h = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  if ((mantissa & 0x1fffu) > 0x1000u || ((mantissa & 0x1fffu) == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(h);
}

inline std::vector<char> LstmModel(const LstmSpec& s) {
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> weight(-1.0f, 1.0f);
  const int n_output = s.projection > 0 ? s.projection : s.n_cell;
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(
      OpCode(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, s.hybrid ? (s.asymmetric_inputs ? 3 : 2) : 1));
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_DEQUANTIZE, 3));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  auto sg = std::make_unique<tflite::SubGraphT>();
  auto add_tensor = [&](std::unique_ptr<tflite::TensorT> t) {
    sg->tensors.push_back(std::move(t));
    return static_cast<int>(sg->tensors.size() - 1);
  };
  // A constant of `shape`, random; float16 models keep the weight matrices as float16.
  // Matrices are scaled by 1/sqrt(columns), as trained layers are (Glorot), so that the
  // recurrence is not chaotic and rounding differences do not grow without bound.
  auto constant = [&](const std::string& name, std::vector<int> shape, bool matrix) {
    size_t n = 1;
    for (int d : shape) n *= static_cast<size_t>(d);
    const float scale = matrix ? 1.0f / std::sqrt(static_cast<float>(shape.back())) : 0.5f;
    std::vector<float> v(n);
    for (float& x : v) x = scale * weight(rng);
    if (s.hybrid && matrix) {  // as TF's converter quantizes weights: scale = max |w| / 127
      float range = 0;
      for (float x : v) range = std::max(range, std::fabs(x));
      const float q_scale = range / 127;
      std::vector<int8_t> q(n);
      for (size_t k = 0; k < n; ++k) q[k] = static_cast<int8_t>(std::round(v[k] / q_scale));
      if (s.weight_of_minus_128) q[0] = -128;
      m.buffers.push_back(Buffer(q));
      auto t = Tensor(name, shape, tflite::TensorType_INT8, static_cast<uint32_t>(m.buffers.size() - 1));
      t->quantization = std::make_unique<tflite::QuantizationParametersT>();
      t->quantization->scale = {q_scale};
      t->quantization->zero_point = {0};
      return add_tensor(std::move(t));
    }
    if (!(s.float16 && matrix)) {
      m.buffers.push_back(Buffer(v));
      return add_tensor(Tensor(name, shape, tflite::TensorType_FLOAT32, static_cast<uint32_t>(m.buffers.size() - 1)));
    }
    std::vector<uint16_t> h(n);
    for (size_t k = 0; k < n; ++k) h[k] = ToHalf(v[k]);
    m.buffers.push_back(Buffer(h));
    const int half = add_tensor(
        Tensor(name + "_f16", shape, tflite::TensorType_FLOAT16, static_cast<uint32_t>(m.buffers.size() - 1)));
    const int full = add_tensor(Tensor(name, shape));
    auto op = std::make_unique<tflite::OperatorT>();
    op->opcode_index = 1;
    op->inputs = {half};
    op->outputs = {full};
    sg->operators.push_back(std::move(op));
    return full;
  };
  const std::vector<int> in_shape =
      s.time_major ? std::vector<int>{s.time, s.batch, s.n_input} : std::vector<int>{s.batch, s.time, s.n_input};
  std::vector<int> inputs(24, -1);
  inputs[0] = add_tensor(Tensor("x", in_shape));
  const char* gates[4] = {"input", "forget", "cell", "output"};
  for (int g = s.cifg ? 1 : 0; g < 4; ++g) {
    inputs[1 + g] = constant(std::string("w_") + gates[g], {s.n_cell, s.n_input}, true);
    inputs[5 + g] = constant(std::string("r_") + gates[g], {s.n_cell, n_output}, true);
    inputs[12 + g] = constant(std::string("b_") + gates[g], {s.n_cell}, false);
    if (s.layer_norm) inputs[20 + g] = constant(std::string("ln_") + gates[g], {s.n_cell}, false);
  }
  if (s.peephole) {
    for (int g : {0, 1, 3}) {
      if (g == 0 && s.cifg) continue;
      inputs[9 + (g == 3 ? 2 : g)] = constant(std::string("p_") + gates[g], {s.n_cell}, false);
    }
  }
  if (s.projection > 0) {
    inputs[16] = constant("proj", {n_output, s.n_cell}, true);
    inputs[17] = constant("proj_bias", {n_output}, false);
  }
  for (int k : {18, 19}) {
    auto state = Tensor(k == 18 ? "h" : "c", {s.batch, k == 18 ? n_output : s.n_cell});
    state->is_variable = true;
    inputs[k] = add_tensor(std::move(state));
  }
  const std::vector<int> out_shape =
      s.time_major ? std::vector<int>{s.time, s.batch, n_output} : std::vector<int>{s.batch, s.time, n_output};
  const int y = add_tensor(Tensor("y", out_shape));
  if (s.twenty_inputs) inputs.resize(20);
  if (s.forget_weights_as_input) {
    inputs[2] = add_tensor(Tensor("w_forget_input", {s.n_cell, s.n_input}));
  }
  auto op = std::make_unique<tflite::OperatorT>();
  op->opcode_index = 0;
  op->inputs = inputs;
  op->outputs = {y};
  tflite::UnidirectionalSequenceLSTMOptionsT options;
  options.fused_activation_function = s.activation;
  options.cell_clip = s.cell_clip;
  options.time_major = s.time_major;
  options.asymmetric_quantize_inputs = s.asymmetric_inputs;
  op->builtin_options.Set(std::move(options));
  sg->operators.push_back(std::move(op));
  sg->inputs = {inputs[0]};
  if (s.forget_weights_as_input) sg->inputs.push_back(inputs[2]);
  sg->outputs = {y};
  m.subgraphs.push_back(std::move(sg));
  return Serialize(m);
}

// The full-integer (8x8_16) form of an UNIDIRECTIONAL_SEQUENCE_LSTM, as TFLite's converter
// makes it with int8 input and output: int8 input, weights and hidden state, int32 biases, an
// int16 cell state of scale 2^cell_scale_log2, five intermediates (the gates' Q3.12 and the
// hidden state's scale and zero point). Random weights in [-127, 127] (or with -128 too).
struct Int8LstmSpec {
  int batch = 1;
  int time = 4;
  int n_input = 3;
  int n_cell = 8;
  bool time_major = false;
  float cell_clip = 0.0f;
  bool cifg = false;
  bool peephole = false;
  int cell_scale_log2 = -11;
  int input_zp = 3;
  int hidden_zp = -2;
  float input_scale = 1.0f / 64;
  float hidden_scale = 1.0f / 128;
  bool weight_min = false;  // let weights take -128
  unsigned seed = 1;
};

inline std::unique_ptr<tflite::QuantizationParametersT> Quantization(float scale, int64_t zero_point) {
  auto q = std::make_unique<tflite::QuantizationParametersT>();
  q->scale = {scale};
  q->zero_point = {zero_point};
  return q;
}

inline std::vector<char> Int8LstmModel(const Int8LstmSpec& s) {
  std::mt19937 rng(s.seed);
  tflite::ModelT m;
  m.version = 3;
  m.operator_codes.push_back(OpCode(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, 1));
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  auto sg = std::make_unique<tflite::SubGraphT>();
  auto add_tensor = [&](std::unique_ptr<tflite::TensorT> t, float scale, int64_t zp) {
    t->quantization = Quantization(scale, zp);
    sg->tensors.push_back(std::move(t));
    return static_cast<int>(sg->tensors.size() - 1);
  };
  auto weights = [&](const std::string& name, int rows, int cols, float* scale) {
    std::uniform_int_distribution<int> w(s.weight_min ? -128 : -127, 127);
    std::vector<int8_t> v(static_cast<size_t>(rows) * cols);
    for (int8_t& x : v) x = static_cast<int8_t>(w(rng));
    if (s.weight_min) v[0] = -128;
    *scale = 1.0f / (127.0f * std::sqrt(static_cast<float>(cols)));
    m.buffers.push_back(Buffer(v));
    return add_tensor(Tensor(name, {rows, cols}, tflite::TensorType_INT8, static_cast<uint32_t>(m.buffers.size() - 1)),
                      *scale, 0);
  };
  const std::vector<int> in_shape =
      s.time_major ? std::vector<int>{s.time, s.batch, s.n_input} : std::vector<int>{s.batch, s.time, s.n_input};
  std::vector<int> inputs(24, -1);
  inputs[0] = add_tensor(Tensor("x", in_shape, tflite::TensorType_INT8), s.input_scale, s.input_zp);
  const char* gates[4] = {"input", "forget", "cell", "output"};
  std::uniform_real_distribution<float> bias(-0.5f, 0.5f);
  for (int g = s.cifg ? 1 : 0; g < 4; ++g) {
    float w_scale = 0;
    float r_scale = 0;
    inputs[1 + g] = weights(std::string("w_") + gates[g], s.n_cell, s.n_input, &w_scale);
    inputs[5 + g] = weights(std::string("r_") + gates[g], s.n_cell, s.n_cell, &r_scale);
    const float b_scale = s.input_scale * w_scale;
    std::vector<int32_t> b(static_cast<size_t>(s.n_cell));
    for (int32_t& x : b) x = static_cast<int32_t>(std::lround(bias(rng) / b_scale));
    m.buffers.push_back(Buffer(b));
    inputs[12 + g] = add_tensor(Tensor(std::string("b_") + gates[g], {s.n_cell}, tflite::TensorType_INT32,
                                       static_cast<uint32_t>(m.buffers.size() - 1)),
                                b_scale, 0);
  }
  if (s.peephole) {
    for (int g : {0, 1, 3}) {
      if (g == 0 && s.cifg) continue;
      std::vector<int16_t> p(static_cast<size_t>(s.n_cell));
      for (int16_t& x : p) x = static_cast<int16_t>(static_cast<int>(rng() % 2001) - 1000);
      m.buffers.push_back(Buffer(p));
      inputs[9 + (g == 3 ? 2 : g)] =
          add_tensor(Tensor(std::string("p_") + gates[g], {s.n_cell}, tflite::TensorType_INT16,
                            static_cast<uint32_t>(m.buffers.size() - 1)),
                     1.0f / 4096, 0);
    }
  }
  auto h = Tensor("h", {s.batch, s.n_cell}, tflite::TensorType_INT8);
  h->is_variable = true;
  inputs[18] = add_tensor(std::move(h), s.hidden_scale, s.hidden_zp);
  auto c = Tensor("c", {s.batch, s.n_cell}, tflite::TensorType_INT16);
  c->is_variable = true;
  inputs[19] = add_tensor(std::move(c), std::ldexp(1.0f, s.cell_scale_log2), 0);
  const std::vector<int> out_shape =
      s.time_major ? std::vector<int>{s.time, s.batch, s.n_cell} : std::vector<int>{s.batch, s.time, s.n_cell};
  const int y = add_tensor(Tensor("y", out_shape, tflite::TensorType_INT8), s.hidden_scale, s.hidden_zp);
  std::vector<int> intermediates;
  for (int i = 0; i < 4; ++i) {
    intermediates.push_back(
        add_tensor(Tensor(std::string("gate_") + gates[i], {}, tflite::TensorType_INT16), 1.0f / 4096, 0));
  }
  intermediates.push_back(add_tensor(Tensor("hidden", {}, tflite::TensorType_INT8), s.hidden_scale, s.hidden_zp));
  auto op = std::make_unique<tflite::OperatorT>();
  op->opcode_index = 0;
  op->inputs = inputs;
  op->outputs = {y};
  op->intermediates = intermediates;
  tflite::UnidirectionalSequenceLSTMOptionsT options;
  options.fused_activation_function = tflite::ActivationFunctionType_TANH;
  options.cell_clip = s.cell_clip;
  options.time_major = s.time_major;
  op->builtin_options.Set(std::move(options));
  sg->operators.push_back(std::move(op));
  sg->inputs = {inputs[0]};
  sg->outputs = {y};
  m.subgraphs.push_back(std::move(sg));
  return Serialize(m);
}

}  // namespace tflstm::testing
