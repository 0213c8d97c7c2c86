// A recurrent layer with one float state h (GRU, SimpleRNN) run over its node: h from its
// variable tensor (or initial-state input, state_operands.h) into a padded double buffer, the
// chunked projection and step loop of sequence.h, each step's h into the output, the last h back
// into the variable (and the final-state output).
#pragma once

#include <algorithm>
#include <cstring>
#include <utility>

#include "sequence.h"
#include "state_operands.h"
#include "step_mask.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::rnn {

// The node's input 0 into output 0, the state h ([batch, units]) from and into `state`: project(x,
// count, gx) projects `count` input rows from x, step(gx, gx_batch_stride, h_prev, h_next) runs
// one step. Temporary 0 holds shape.ChunkRows() projected rows, temporary 1 2 * batch * stride
// floats (then the step's own scratch). A masked step (`mask`) keeps a row's h (step_mask.h).
template <class Project, class Step>
TfLiteStatus InvokeFloatLayer(TfLiteContext* context, TfLiteNode* node, const StateOperands& state,
                              const SequenceShape& shape, int n_input, int units, size_t stride, Project&& project,
                              Step&& step, const StepMask& mask = {}) {
  const float* x = context->tensors[node->inputs->data[0]].data.f;
  float* out = context->tensors[node->outputs->data[0]].data.f;
  float* gx = context->tensors[node->temporaries->data[0]].data.f;
  float* buffer = context->tensors[node->temporaries->data[1]].data.f;
  TF_LITE_ENSURE(context,
                 x != nullptr && out != nullptr && state.from != nullptr && gx != nullptr && buffer != nullptr);
  const size_t n = static_cast<size_t>(units);
  float* h_prev = buffer;
  float* h_next = buffer + shape.batch * stride;
  std::fill(buffer, buffer + 2 * shape.batch * stride, 0.0f);
  CopyRows(state.from, n, h_prev, stride, shape.batch, n);
  RunSequence(
      shape, gx, [&](size_t first, int count, float* to) { project(x + first * n_input, count, to); },
      [&](int t, const float* gx_t, size_t gx_batch_stride) {
        step(gx_t, gx_batch_stride, h_prev, h_next);
        for (int b = 0; b < shape.batch; ++b) {
          std::memcpy(out + shape.Row(t, b) * n, h_next + b * stride, n * sizeof(float));
        }
        mask.Apply(
            shape, t, out, n, [&](int b) { std::memcpy(h_next + b * stride, h_prev + b * stride, n * sizeof(float)); },
            [&](int b, float* y) { OutputBeforeStart(state.variable != nullptr, h_next + b * stride, y, n); });
        std::swap(h_prev, h_next);
      });
  if (state.variable != nullptr) CopyRows(h_prev, stride, state.variable, n, shape.batch, n);
  if (state.final_state != nullptr) CopyRows(h_prev, stride, state.final_state, n, shape.batch, n);
  return kTfLiteOk;
}

// InvokeFloatLayer on float kernels: kernels.project(ProjectArgs) with weights.input and
// weights.bias, kernels.step(step) with step's gx, gx_batch_stride, h_prev and h_next set.
template <class Kernels, class Weights, class Args>
TfLiteStatus InvokeFloatKernels(TfLiteContext* context, TfLiteNode* node, const StateOperands& state,
                                const SequenceShape& shape, int n_input, int units, size_t stride,
                                const Kernels& kernels, const Weights& weights, Args step, const StepMask& mask = {}) {
  return InvokeFloatLayer(
      context, node, state, shape, n_input, units, stride,
      [&](const float* x, int count, float* to) {
        kernels.project({x, count, n_input, units, weights.input.data(), weights.bias.data(), to});
      },
      [&](const float* gx, size_t gx_batch_stride, const float* h_prev, float* h_next) {
        step.gx = gx;
        step.gx_batch_stride = gx_batch_stride;
        step.h_prev = h_prev;
        step.h_next = h_next;
        kernels.step(step);
      },
      mask);
}

}  // namespace tflstm::rnn
