// A node's inputs (and outputs) as the custom ops' checks see them (gru_check.h's plain views), from TFLite's
// tensors in Prepare.
#pragma once

#include <vector>

#include "gru_check.h"
#include "op_util.h"

namespace tflstm::rnn {

// The tensors at `indices` (a node's inputs or outputs); an absent one (-1) is not present.
inline std::vector<GruOperandView> TensorViews(const TfLiteContext* context, const TfLiteIntArray* indices) {
  std::vector<GruOperandView> views(indices->size);
  for (int i = 0; i < indices->size; ++i) {
    if (indices->data[i] < 0) continue;
    const TfLiteTensor* t = &context->tensors[indices->data[i]];
    GruOperandView& v = views[i];
    v.present = true;
    v.type = t->type == kTfLiteFloat32 ? GruType::kFloat32
             : t->type == kTfLiteInt8  ? GruType::kInt8
             : t->type == kTfLiteBool  ? GruType::kBool
                                       : GruType::kOther;
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

inline std::vector<GruOperandView> NodeOperandViews(const TfLiteContext* context, const TfLiteNode* node) {
  return TensorViews(context, node->inputs);
}

}  // namespace tflstm::rnn
