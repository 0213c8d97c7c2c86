#include "lstm_sequence.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "rnn/pack_cache.h"
#include "rnn/sequence.h"

namespace tflstm::lstm {

std::shared_ptr<const PackedWeights> PackLstm(const float* const (&gates)[3][kGates], int n_input, int n_cell,
                                              bool in_model) {
  rnn::PackKey key;
  key.Add(n_input).Add(n_cell);
  for (const auto& tensor : gates) {
    for (const float* p : tensor) key.Add(p);
  }
  return rnn::PackedFor<PackedWeights>(in_model, std::move(key), [&] {
    auto w = std::make_unique<PackedWeights>();
    w->Resize(n_input, n_cell);
    PackGates(gates[0], n_cell, n_input, w->input.data());
    PackGates(gates[1], n_cell, n_cell, w->recurrent.data());
    PackGates(gates[2], n_cell, 1, w->bias.data());
    return w;
  });
}

void PackHybridLstm(HybridLstm& layer, const HybridLstm::Gates (&gates)[2], const float* const (&bias)[kGates],
                    int n_input, int n_cell, bool in_model) {
  rnn::PackKey key;
  key.Add(layer.kernels).Add(n_input).Add(n_cell);
  for (int g = 0; g < kGates; ++g) {
    for (int k = 0; k < 2; ++k) key.Add(gates[k].weights[g]).Add(gates[k].scale[g]);
    key.Add(bias[g]);
  }
  layer.Use(
      rnn::PackedFor<HybridWeights>(in_model, std::move(key), [&] { return layer.Pack(gates[0], gates[1], bias); }));
}

TfLiteStatus RunLstmSequence(TfLiteContext* context, const LstmSequence& s, const float* x, float* y,
                             const rnn::StateOperands& h, const rnn::StateOperands& c, float* gx, float* state,
                             const rnn::StepMask& mask) {
  TF_LITE_ENSURE(context, gx != nullptr && state != nullptr && x != nullptr && y != nullptr && h.from != nullptr &&
                              c.from != nullptr && (s.hybrid != nullptr || s.weights != nullptr));
  // h and c padded to whole blocks; h double-buffered, as every unit reads all of h_prev; with a
  // mask, c before each step too (the step updates c in place; a masked row gets it back).
  const size_t stride = s.state_stride;
  const size_t n = static_cast<size_t>(s.n_cell);
  const size_t rows = s.batch * stride;
  float* h_prev = state;
  float* h_next = state + rows;
  float* cell = state + 2 * rows;
  float* cell_prev = mask.Present() ? state + 3 * rows : nullptr;
  std::fill(state, state + (mask.Present() ? 4 : 3) * rows, 0.0f);
  rnn::CopyRows(h.from, n, h_prev, stride, s.batch, n);
  rnn::CopyRows(c.from, n, cell, stride, s.batch, n);

  const Kernels& kernels = *s.kernels;
  const bool hybrid = s.hybrid != nullptr;
  const rnn::SequenceShape shape{s.batch, s.time, s.time_major, static_cast<size_t>(Blocks(s.n_cell)) * kBlockWidth};
  StepArgs step{hybrid ? nullptr : s.weights->recurrent.data(),
                gx,
                0,
                h_prev,
                h_next,
                cell,
                stride,
                s.batch,
                s.n_cell,
                s.cell_clip,
                s.activation,
                s.gate};
  const float* input_weights = hybrid ? nullptr : s.weights->input.data();
  const float* bias = hybrid ? nullptr : s.weights->bias.data();
  rnn::RunSequence(
      shape, gx,
      [&](size_t first, int count, float* out) {
        const float* rows = x + first * s.n_input;
        hybrid ? s.hybrid->Project(rows, count, out)
               : kernels.project({rows, count, s.n_input, s.n_cell, input_weights, bias, out});
      },
      [&](int t, const float* gx_t, size_t gx_batch_stride) {
        step.gx = gx_t;
        step.gx_batch_stride = gx_batch_stride;
        step.h_prev = h_prev;
        step.h_next = h_next;
        if (cell_prev != nullptr) std::memcpy(cell_prev, cell, rows * sizeof(float));
        hybrid ? s.hybrid->Step(kernels, step) : kernels.step(step);
        for (int b = 0; b < s.batch; ++b) {
          std::memcpy(y + shape.Row(t, b) * n, h_next + b * stride, n * sizeof(float));
        }
        mask.Apply(
            shape, t, y, n,
            [&](int b) {
              std::memcpy(h_next + b * stride, h_prev + b * stride, n * sizeof(float));
              std::memcpy(cell + b * stride, cell_prev + b * stride, n * sizeof(float));
            },
            [&](int b, float* out) { rnn::OutputBeforeStart(h.variable != nullptr, h_next + b * stride, out, n); });
        std::swap(h_prev, h_next);
      });
  for (float* to : {h.variable, h.final_state}) {
    if (to != nullptr) rnn::CopyRows(h_prev, stride, to, n, s.batch, n);
  }
  for (float* to : {c.variable, c.final_state}) {
    if (to != nullptr) rnn::CopyRows(cell, stride, to, n, s.batch, n);
  }
  return kTfLiteOk;
}

}  // namespace tflstm::lstm
