// GRU and SimpleRNN models built in the test itself: tflstm's TFLSTM_GRU custom op, the same
// GRU unrolled over time into TFLite builtin ops (the reference TFLite runs), a stock
// UNIDIRECTIONAL_SEQUENCE_RNN; and a scalar GRU in double precision.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "rnn/activation.h"
#include "rnn/gru_options.h"
#include "test_models.h"

namespace tflstm::testing {

// One subgraph under construction.
class GraphBuilder {
 public:
  GraphBuilder() {
    m_.version = 3;
    m_.buffers.push_back(std::make_unique<tflite::BufferT>());
    sg_ = std::make_unique<tflite::SubGraphT>();
  }
  int Add(std::unique_ptr<tflite::TensorT> t) {
    sg_->tensors.push_back(std::move(t));
    return static_cast<int>(sg_->tensors.size() - 1);
  }
  int Activation(const std::string& name, std::vector<int> shape) { return Add(Tensor(name, std::move(shape))); }
  template <class T>
  int Constant(const std::string& name, std::vector<int> shape, const std::vector<T>& values,
               tflite::TensorType type = tflite::TensorType_FLOAT32) {
    m_.buffers.push_back(Buffer(values));
    return Add(Tensor(name, std::move(shape), type, static_cast<uint32_t>(m_.buffers.size() - 1)));
  }
  // Gives tensor `t` a per-tensor symmetric int8 scale; returns t.
  int Quantize(int t, float scale) {
    auto& tensor = *sg_->tensors[t];
    tensor.quantization = std::make_unique<tflite::QuantizationParametersT>();
    tensor.quantization->scale = {scale};
    tensor.quantization->zero_point = {0};
    return t;
  }
  int Variable(const std::string& name, std::vector<int> shape) {
    auto t = Tensor(name, std::move(shape));
    t->is_variable = true;
    return Add(std::move(t));
  }
  // An operator; `options` is a builtin options object (or nullptr-like std::monostate).
  template <class Options>
  void Op(tflite::BuiltinOperator code, int version, std::vector<int> inputs, std::vector<int> outputs,
          Options options) {
    auto op = std::make_unique<tflite::OperatorT>();
    op->opcode_index = Code(code, version, "");
    op->inputs = std::move(inputs);
    op->outputs = std::move(outputs);
    op->builtin_options.Set(std::move(options));
    sg_->operators.push_back(std::move(op));
  }
  void Op(tflite::BuiltinOperator code, int version, std::vector<int> inputs, std::vector<int> outputs) {
    auto op = std::make_unique<tflite::OperatorT>();
    op->opcode_index = Code(code, version, "");
    op->inputs = std::move(inputs);
    op->outputs = std::move(outputs);
    sg_->operators.push_back(std::move(op));
  }
  void Custom(const std::string& name, std::vector<int> inputs, std::vector<int> outputs,
              std::vector<uint8_t> options) {
    auto op = std::make_unique<tflite::OperatorT>();
    op->opcode_index = Code(tflite::BuiltinOperator_CUSTOM, 1, name);
    op->inputs = std::move(inputs);
    op->outputs = std::move(outputs);
    op->custom_options = std::move(options);
    op->custom_options_format = tflite::CustomOptionsFormat_FLEXBUFFERS;
    sg_->operators.push_back(std::move(op));
  }
  std::vector<char> Finish(std::vector<int> inputs, std::vector<int> outputs) {
    sg_->inputs = std::move(inputs);
    sg_->outputs = std::move(outputs);
    m_.subgraphs.push_back(std::move(sg_));
    return Serialize(m_);
  }

 private:
  uint32_t Code(tflite::BuiltinOperator code, int version, const std::string& custom) {
    for (size_t i = 0; i < m_.operator_codes.size(); ++i) {
      const auto& c = *m_.operator_codes[i];
      if (c.builtin_code == code && c.version == version && c.custom_code == custom) return static_cast<uint32_t>(i);
    }
    auto c = OpCode(code, version);
    c->custom_code = custom;
    m_.operator_codes.push_back(std::move(c));
    return static_cast<uint32_t>(m_.operator_codes.size() - 1);
  }
  tflite::ModelT m_;
  std::unique_ptr<tflite::SubGraphT> sg_;
};

// A GRU layer: Keras's gates z, r, h; weights in TFLite's layout ([3 * units, cols], rows z, r, h).
struct GruSpec {
  int batch = 1;
  int time = 5;
  int n_input = 3;
  int units = 8;
  bool time_major = false;
  bool reset_after = true;
  bool input_bias = true;
  bool recurrent_bias = true;
  rnn::Act activation = rnn::Act::kTanh;
  rnn::Act recurrent_activation = rnn::Act::kSigmoid;
  bool float16 = false;        // weight matrices stored as float16, made float32 by DEQUANTIZE ops
  bool int8 = false;           // weight matrices int8, one symmetric scale a tensor (hybrid)
  bool initial_state = false;  // h from model input 1 (options version 2) instead of a variable
  bool final_state = false;    // h after the last step as the model's last output (options version 2)
  bool mask = false;           // a [batch, time] mask as the model's last input (options version 3)
  bool float_mask = false;     // the mask FLOAT32 (else BOOL)
  bool zero_output_for_mask = false;
  unsigned seed = 1;
};

struct GruWeightsF {
  std::vector<float> w, u, b_in, b_rec;  // biases empty when absent
};

// Glorot-scaled random weights, as a trained layer's (so that the recurrence is not chaotic).
inline GruWeightsF RandomGruWeights(const GruSpec& s) {
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  GruWeightsF w;
  w.w.resize(static_cast<size_t>(3 * s.units) * s.n_input);
  w.u.resize(static_cast<size_t>(3 * s.units) * s.units);
  for (float& v : w.w) v = 1.5f * u(rng) / std::sqrt(static_cast<float>(s.n_input));
  for (float& v : w.u) v = 1.5f * u(rng) / std::sqrt(static_cast<float>(s.units));
  if (s.input_bias) w.b_in.resize(3 * s.units);
  if (s.recurrent_bias) w.b_rec.resize(3 * s.units);
  for (float& v : w.b_in) v = 0.5f * u(rng);
  for (float& v : w.b_rec) v = 0.5f * u(rng);
  return w;
}

inline std::vector<int> SequenceShape(int batch, int time, int last, bool time_major) {
  return time_major ? std::vector<int>{time, batch, last} : std::vector<int>{batch, time, last};
}

inline float FromHalf(uint16_t h) {  // normal values and zero, as ToHalf makes them
  if ((h & 0x7fffu) == 0) return (h & 0x8000u) ? -0.0f : 0.0f;
  const uint32_t bits = (static_cast<uint32_t>(h & 0x8000u) << 16) |
                        (static_cast<uint32_t>(((h >> 10) & 0x1f) - 15 + 127) << 23) | ((h & 0x3ffu) << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// The weight matrices as the model stores them: float16 rounded, or int8 with a scale (as TF's
// converter quantizes: max |w| / 127); `w` gets the values the model's weights stand for.
struct StoredMatrix {
  std::vector<uint16_t> half;
  std::vector<int8_t> q;
  float scale = 0;
};
inline StoredMatrix Store(const GruSpec& s, std::vector<float>& w) {
  StoredMatrix m;
  if (s.float16) {
    for (float& v : w) {
      m.half.push_back(ToHalf(v));
      v = FromHalf(m.half.back());
    }
  }
  if (s.int8) {
    float range = 0;
    for (float v : w) range = std::max(range, std::fabs(v));
    m.scale = range / 127;
    for (float& v : w) {
      m.q.push_back(static_cast<int8_t>(std::round(v / m.scale)));
      v = m.q.back() * m.scale;
    }
  }
  return m;
}

// The weights of `s` as its model stores them (float16, int8) and the values they stand for.
inline GruWeightsF StoredGruWeights(const GruSpec& s) {
  GruWeightsF w = RandomGruWeights(s);
  Store(s, w.w);
  Store(s, w.u);
  return w;
}

// A weight matrix as the model of `s` stores it: float32, int8 with its scale, or float16 made
// float32 by a DEQUANTIZE; returns the tensor the op reads.
inline int StoredConstant(GraphBuilder& g, const GruSpec& s, const std::string& name, std::vector<int> shape,
                          std::vector<float> values) {
  const StoredMatrix m = Store(s, values);
  if (s.int8) return g.Quantize(g.Constant(name, shape, m.q, tflite::TensorType_INT8), m.scale);
  if (!s.float16) return g.Constant(name, shape, values);
  const int half = g.Constant(name + "_f16", shape, m.half, tflite::TensorType_FLOAT16);
  const int full = g.Activation(name, shape);
  g.Op(tflite::BuiltinOperator_DEQUANTIZE, 3, {half}, {full});
  return full;
}

// The TFLSTM_GRU model of `s`: x -> y, h in a variable tensor (or x, h0 -> y with
// initial_state; y, h after the last step with final_state; the mask as the last input with
// mask). w: StoredGruWeights(s).
inline std::vector<char> GruModel(const GruSpec& s, const GruWeightsF& w) {
  GraphBuilder g;
  const int x = g.Activation("x", SequenceShape(s.batch, s.time, s.n_input, s.time_major));
  const auto matrix = [&](const std::string& name, std::vector<int> shape, std::vector<float> values) {
    return StoredConstant(g, s, name, std::move(shape), std::move(values));
  };
  const int wi = matrix("w", {3 * s.units, s.n_input}, w.w);
  const int wr = matrix("u", {3 * s.units, s.units}, w.u);
  const int bi = w.b_in.empty() ? -1 : g.Constant("b_in", {3 * s.units}, w.b_in);
  const int br = w.b_rec.empty() ? -1 : g.Constant("b_rec", {3 * s.units}, w.b_rec);
  const int y = g.Activation("y", SequenceShape(s.batch, s.time, s.units, s.time_major));
  rnn::GruOptions o;
  o.version = s.mask ? 3 : s.initial_state || s.final_state ? 2 : 1;
  o.zero_output_for_mask = s.zero_output_for_mask;
  o.reset_after = s.reset_after;
  o.time_major = s.time_major;
  o.activation = s.activation;
  o.recurrent_activation = s.recurrent_activation;
  std::vector<int> inputs = {x}, outputs = {y}, operands = {x, wi, wr, bi, br};
  if (s.initial_state) {
    inputs.push_back(g.Activation("h0", {s.batch, s.units}));
    operands.push_back(-1);
    operands.push_back(inputs.back());
  } else {
    operands.push_back(g.Variable("h", {s.batch, s.units}));
  }
  if (s.mask) {
    const std::vector<int> shape = s.time_major ? std::vector<int>{s.time, s.batch} : std::vector<int>{s.batch, s.time};
    inputs.push_back(
        g.Add(testing::Tensor("mask", shape, s.float_mask ? tflite::TensorType_FLOAT32 : tflite::TensorType_BOOL)));
    if (operands.size() == 6) operands.push_back(-1);
    operands.push_back(inputs.back());
  }
  if (s.final_state) outputs.push_back(g.Activation("h_last", {s.batch, s.units}));
  g.Custom(rnn::kGruCustomOp, operands, outputs, rnn::GruOptionsBytes(o));
  return g.Finish(inputs, outputs);
}

// The same GRU (batch-major, from a zero state) unrolled into TFLite builtins: UNPACK over time,
// FULLY_CONNECTED, SPLIT, ADD, MUL, SUB, LOGISTIC, TANH, RELU (hard_sigmoid as MUL, ADD, MINIMUM
// and MAXIMUM), PACK.
inline std::vector<char> GruUnrolledModel(const GruSpec& s, const GruWeightsF& w) {
  GraphBuilder g;
  const int U = s.units;
  const int x = g.Activation("x", {s.batch, s.time, s.n_input});
  const int wi = g.Constant("w", {3 * U, s.n_input}, w.w);
  const int bi = w.b_in.empty() ? -1 : g.Constant("b_in", {3 * U}, w.b_in);
  const int axis1 = g.Constant("axis1", {}, std::vector<int32_t>{1}, tflite::TensorType_INT32);
  const int zero = g.Constant("h0", {s.batch, U}, std::vector<float>(static_cast<size_t>(s.batch) * U, 0.0f));
  const auto scalar = [&](const std::string& name, float v) { return g.Constant(name, {1}, std::vector<float>{v}); };
  const int c02 = scalar("0.2", 0.2f), c05 = scalar("0.5", 0.5f), c0 = scalar("0", 0.0f), c1 = scalar("1", 1.0f);
  const int c3 = scalar("3", 3.0f), c6 = scalar("6", 6.0f), c16 = scalar("1/6", 1.0f / 6.0f);
  int wr = -1, br = -1, wzr = -1, wh = -1, bzr = -1, bh = -1;
  if (s.reset_after) {
    wr = g.Constant("u", {3 * U, U}, w.u);
    br = w.b_rec.empty() ? -1 : g.Constant("b_rec", {3 * U}, w.b_rec);
  } else {
    wzr = g.Constant("u_zr", {2 * U, U}, std::vector<float>(w.u.begin(), w.u.begin() + 2 * U * U));
    wh = g.Constant("u_h", {U, U}, std::vector<float>(w.u.begin() + 2 * U * U, w.u.end()));
    if (!w.b_rec.empty()) {
      bzr = g.Constant("b_rec_zr", {2 * U}, std::vector<float>(w.b_rec.begin(), w.b_rec.begin() + 2 * U));
      bh = g.Constant("b_rec_h", {U}, std::vector<float>(w.b_rec.begin() + 2 * U, w.b_rec.end()));
    }
  }
  int n = 0;
  const auto tmp = [&](int cols) { return g.Activation("t" + std::to_string(n++), {s.batch, cols}); };
  const auto binary = [&](tflite::BuiltinOperator op, int a, int b) {
    const int out = g.Activation("t" + std::to_string(n++), {s.batch, U});
    if (op == tflite::BuiltinOperator_ADD) g.Op(op, 1, {a, b}, {out}, tflite::AddOptionsT());
    if (op == tflite::BuiltinOperator_MUL) g.Op(op, 1, {a, b}, {out}, tflite::MulOptionsT());
    if (op == tflite::BuiltinOperator_SUB) g.Op(op, 1, {a, b}, {out}, tflite::SubOptionsT());
    if (op == tflite::BuiltinOperator_MINIMUM || op == tflite::BuiltinOperator_MAXIMUM) g.Op(op, 1, {a, b}, {out});
    return out;
  };
  const auto unary = [&](tflite::BuiltinOperator op, int a) {
    const int out = tmp(U);
    g.Op(op, 1, {a}, {out});
    return out;
  };
  const auto act = [&](rnn::Act a, int v) {
    switch (a) {
      case rnn::Act::kTanh: return unary(tflite::BuiltinOperator_TANH, v);
      case rnn::Act::kSigmoid: return unary(tflite::BuiltinOperator_LOGISTIC, v);
      case rnn::Act::kRelu: return unary(tflite::BuiltinOperator_RELU, v);
      case rnn::Act::kRelu6: return unary(tflite::BuiltinOperator_RELU6, v);
      case rnn::Act::kHardSigmoid: {
        const int lin = binary(tflite::BuiltinOperator_ADD, binary(tflite::BuiltinOperator_MUL, v, c02), c05);
        return binary(tflite::BuiltinOperator_MAXIMUM, binary(tflite::BuiltinOperator_MINIMUM, lin, c1), c0);
      }
      case rnn::Act::kHardSigmoidRelu6: {
        const int r6 = unary(tflite::BuiltinOperator_RELU6, binary(tflite::BuiltinOperator_ADD, v, c3));
        (void)c6;
        return binary(tflite::BuiltinOperator_MUL, r6, c16);
      }
      default: return v;  // linear
    }
  };
  const auto fc = [&](int in, int weights, int bias, int cols) {
    const int out = tmp(cols);
    g.Op(tflite::BuiltinOperator_FULLY_CONNECTED, 1, {in, weights, bias}, {out}, tflite::FullyConnectedOptionsT());
    return out;
  };
  const auto split = [&](int in, int parts) {
    std::vector<int> outs;
    for (int p = 0; p < parts; ++p) outs.push_back(tmp(U));
    tflite::SplitOptionsT o;
    o.num_splits = parts;
    g.Op(tflite::BuiltinOperator_SPLIT, 1, {axis1, in}, outs, o);
    return outs;
  };
  std::vector<int> steps;
  for (int t = 0; t < s.time; ++t) steps.push_back(tmp(s.n_input));
  tflite::UnpackOptionsT unpack;
  unpack.num = s.time;
  unpack.axis = 1;
  g.Op(tflite::BuiltinOperator_UNPACK, 1, {x}, steps, unpack);
  int h = zero;
  std::vector<int> hs;
  for (int t = 0; t < s.time; ++t) {
    const std::vector<int> gx = split(fc(steps[t], wi, bi, 3 * U), 3);
    int z, cand;
    if (s.reset_after) {
      const std::vector<int> gh = split(fc(h, wr, br, 3 * U), 3);
      z = act(s.recurrent_activation, binary(tflite::BuiltinOperator_ADD, gx[0], gh[0]));
      const int r = act(s.recurrent_activation, binary(tflite::BuiltinOperator_ADD, gx[1], gh[1]));
      cand =
          act(s.activation, binary(tflite::BuiltinOperator_ADD, gx[2], binary(tflite::BuiltinOperator_MUL, r, gh[2])));
    } else {
      const std::vector<int> gh = split(fc(h, wzr, bzr, 2 * U), 2);
      z = act(s.recurrent_activation, binary(tflite::BuiltinOperator_ADD, gx[0], gh[0]));
      const int r = act(s.recurrent_activation, binary(tflite::BuiltinOperator_ADD, gx[1], gh[1]));
      const int rh = binary(tflite::BuiltinOperator_MUL, r, h);
      cand = act(s.activation, binary(tflite::BuiltinOperator_ADD, gx[2], fc(rh, wh, bh, U)));
    }
    h = binary(tflite::BuiltinOperator_ADD, cand,
               binary(tflite::BuiltinOperator_MUL, z, binary(tflite::BuiltinOperator_SUB, h, cand)));
    hs.push_back(h);
  }
  const int y = g.Activation("y", {s.batch, s.time, U});
  tflite::PackOptionsT pack;
  pack.values_count = s.time;
  pack.axis = 1;
  g.Op(tflite::BuiltinOperator_PACK, 1, hs, {y}, pack);
  return g.Finish({x}, {y});
}

inline double ActRef(rnn::Act a, double x) {
  switch (a) {
    case rnn::Act::kTanh: return std::tanh(x);
    case rnn::Act::kRelu: return std::max(x, 0.0);
    case rnn::Act::kRelu6: return std::min(std::max(x, 0.0), 6.0);
    case rnn::Act::kReluN1To1: return std::min(std::max(x, -1.0), 1.0);
    case rnn::Act::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case rnn::Act::kLinear: return x;
    case rnn::Act::kHardSigmoid: return std::min(std::max(0.2 * x + 0.5, 0.0), 1.0);
    case rnn::Act::kHardSigmoidRelu6: return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  }
  return x;
}

// Keras's GRU cell in double precision, over x in the layout of `s`, from and into h
// ([batch, units]); returns y in the layout of `s`.
inline std::vector<double> GruReference(const GruSpec& s, const GruWeightsF& w, const std::vector<float>& x,
                                        std::vector<double>& h) {
  const int U = s.units;
  std::vector<double> y(static_cast<size_t>(s.batch) * s.time * U);
  const auto row = [&](int t, int b) {
    return s.time_major ? static_cast<size_t>(t) * s.batch + b : static_cast<size_t>(b) * s.time + t;
  };
  for (int b = 0; b < s.batch; ++b) {
    std::vector<double> hb(h.begin() + b * U, h.begin() + (b + 1) * U);
    for (int t = 0; t < s.time; ++t) {
      const float* xt = x.data() + row(t, b) * s.n_input;
      std::vector<double> gx(3 * U), gh(3 * U);
      for (int r = 0; r < 3 * U; ++r) {
        double a = w.b_in.empty() ? 0.0 : w.b_in[r];
        for (int k = 0; k < s.n_input; ++k) a += static_cast<double>(w.w[r * s.n_input + k]) * xt[k];
        gx[r] = a;
        double c = w.b_rec.empty() ? 0.0 : w.b_rec[r];
        for (int k = 0; k < U; ++k) c += static_cast<double>(w.u[r * U + k]) * hb[k];
        gh[r] = c;
      }
      std::vector<double> z(U), r(U), next(U);
      for (int u = 0; u < U; ++u) {
        z[u] = ActRef(s.recurrent_activation, gx[u] + gh[u]);
        r[u] = ActRef(s.recurrent_activation, gx[U + u] + gh[U + u]);
      }
      for (int u = 0; u < U; ++u) {
        double pre;
        if (s.reset_after) {
          pre = gx[2 * U + u] + r[u] * gh[2 * U + u];
        } else {
          pre = gx[2 * U + u] + (w.b_rec.empty() ? 0.0 : w.b_rec[2 * U + u]);
          for (int k = 0; k < U; ++k) pre += static_cast<double>(w.u[(2 * U + u) * U + k]) * r[k] * hb[k];
        }
        const double cand = ActRef(s.activation, pre);
        next[u] = z[u] * hb[u] + (1 - z[u]) * cand;
      }
      hb = next;
      std::copy(hb.begin(), hb.end(), y.begin() + row(t, b) * U);
    }
    std::copy(hb.begin(), hb.end(), h.begin() + b * U);
  }
  return y;
}

// A stock UNIDIRECTIONAL_SEQUENCE_RNN (a Keras SimpleRNN) with random weights.
struct RnnSpec {
  int batch = 1;
  int time = 5;
  int n_input = 3;
  int units = 8;
  bool time_major = false;
  tflite::ActivationFunctionType activation = tflite::ActivationFunctionType_TANH;
  unsigned seed = 1;
};

inline std::vector<char> RnnModel(const RnnSpec& s) {
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const auto random = [&](size_t n, float scale) {
    std::vector<float> v(n);
    for (float& x : v) x = scale * u(rng);
    return v;
  };
  GraphBuilder g;
  const int x = g.Activation("x", SequenceShape(s.batch, s.time, s.n_input, s.time_major));
  const int w = g.Constant("w", {s.units, s.n_input},
                           random(static_cast<size_t>(s.units) * s.n_input, 1.0f / std::sqrt(1.0f * s.n_input)));
  const int r = g.Constant("u", {s.units, s.units},
                           random(static_cast<size_t>(s.units) * s.units, 1.0f / std::sqrt(1.0f * s.units)));
  const int b = g.Constant("b", {s.units}, random(s.units, 0.5f));
  const int h = g.Variable("h", {s.batch, s.units});
  const int y = g.Activation("y", SequenceShape(s.batch, s.time, s.units, s.time_major));
  tflite::SequenceRNNOptionsT o;
  o.time_major = s.time_major;
  o.fused_activation_function = s.activation;
  g.Op(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_RNN, 1, {x, w, r, b, h}, {y}, o);
  return g.Finish({x}, {y});
}

}  // namespace tflstm::testing
