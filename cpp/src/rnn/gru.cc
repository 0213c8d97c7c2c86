#include "gru.h"

namespace tflstm::rnn {

size_t GruWeights::Bytes() const {
  return (input.capacity() + bias.capacity() + recurrent.capacity() + recurrent_h.capacity() +
          recurrent_bias_h.capacity()) *
         sizeof(float);
}

GruWeights PackGru(const float* w_input, const float* w_recurrent, const float* b_input, const float* b_recurrent,
                   int n_input, int units, bool reset_after) {
  GruWeights p;
  p.reset_after = reset_after;
  const size_t u = static_cast<size_t>(units);
  const float* in[kGruGates];
  const float* rec[kGruGates];
  for (int g = 0; g < kGruGates; ++g) {
    in[g] = w_input + g * u * n_input;
    rec[g] = w_recurrent + g * u * u;
  }
  const size_t blocks = static_cast<size_t>(GruLayout::Blocks(units));
  p.input.assign(blocks * n_input * GruLayout::kWidth, 0.0f);
  PackBlocked<kGruGates, kGruUnits>(in, units, n_input, p.input.data());

  // The input biases plus the recurrent ones that add outside the reset gate's product.
  std::vector<float> bias(kGruGates * u, 0.0f), bias_h(u, 0.0f);
  for (size_t k = 0; k < kGruGates * u; ++k) {
    if (b_input != nullptr) bias[k] += b_input[k];
    const bool folded = !reset_after || k < 2 * u;
    if (b_recurrent != nullptr && folded) bias[k] += b_recurrent[k];
    if (b_recurrent != nullptr && !folded) bias_h[k - 2 * u] = b_recurrent[k];
  }
  const float* bias_gates[kGruGates] = {bias.data(), bias.data() + u, bias.data() + 2 * u};
  p.bias.assign(blocks * GruLayout::kWidth, 0.0f);
  PackBlocked<kGruGates, kGruUnits>(bias_gates, units, 1, p.bias.data());

  if (reset_after) {
    p.recurrent.assign(blocks * u * GruLayout::kWidth, 0.0f);
    PackBlocked<kGruGates, kGruUnits>(rec, units, units, p.recurrent.data());
    const float* bh[1] = {bias_h.data()};
    p.recurrent_bias_h.assign(blocks * kGruUnits, 0.0f);
    PackBlocked<1, kGruUnits>(bh, units, 1, p.recurrent_bias_h.data());
  } else {
    p.recurrent.assign(blocks * u * GruZrLayout::kWidth, 0.0f);
    PackBlocked<2, kGruUnits>(rec, units, units, p.recurrent.data());
    p.recurrent_h.assign(blocks * u * GruHLayout::kWidth, 0.0f);
    PackBlocked<1, kGruUnits>(rec + 2, units, units, p.recurrent_h.data());
  }
  return p;
}

RnnWeights PackRnn(const float* w_input, const float* w_recurrent, const float* bias, int n_input, int units) {
  RnnWeights p;
  const size_t blocks = static_cast<size_t>(RnnLayout::Blocks(units));
  p.input.assign(blocks * n_input * RnnLayout::kWidth, 0.0f);
  p.recurrent.assign(blocks * units * RnnLayout::kWidth, 0.0f);
  p.bias.assign(blocks * RnnLayout::kWidth, 0.0f);
  const float* const in[1] = {w_input};
  const float* const rec[1] = {w_recurrent};
  const float* const b[1] = {bias};
  PackBlocked<1, kRnnUnits>(in, units, n_input, p.input.data());
  PackBlocked<1, kRnnUnits>(rec, units, units, p.recurrent.data());
  PackBlocked<1, kRnnUnits>(b, units, 1, p.bias.data());
  return p;
}

}  // namespace tflstm::rnn
