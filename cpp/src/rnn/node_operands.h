// A node's inputs as the custom ops' checks see them (gru_check.h's plain views), from TFLite's
// tensors in Prepare.
#pragma once

#include <vector>

#include "gru_check.h"
#include "op_util.h"

namespace tflstm::rnn {

inline std::vector<GruOperandView> NodeOperandViews(const TfLiteContext* context, const TfLiteNode* node) {
  std::vector<GruOperandView> views(node->inputs->size);
  for (int i = 0; i < node->inputs->size; ++i) {
    const TfLiteTensor* t = OptionalInput(context, node, i);
    if (t == nullptr) continue;
    GruOperandView& v = views[i];
    v.present = true;
    v.type = t->type == kTfLiteFloat32 ? GruType::kFloat32 : t->type == kTfLiteInt8 ? GruType::kInt8 : GruType::kOther;
    v.variable = t->is_variable;
    if (t->dims != nullptr) v.shape.assign(t->dims->data, t->dims->data + t->dims->size);
    v.scales = 1;
    if (t->quantization.type == kTfLiteAffineQuantization && t->quantization.params != nullptr) {
      const auto* q = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
      v.scales = q->scale != nullptr ? q->scale->size : 0;
      v.zero_point = q->zero_point != nullptr && q->zero_point->size > 0 ? q->zero_point->data[0] : 0;
    }
    v.zero_point = t->params.zero_point != 0 ? t->params.zero_point : v.zero_point;
  }
  return views;
}

}  // namespace tflstm::rnn
