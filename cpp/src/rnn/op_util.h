// What the recurrent ops (LSTM, GRU, SimpleRNN) share around their kernels: lending TFLite's
// kernel its data, constant weights, float scratch tensors.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>

#include "ops/lend_user_data.h"
#include "tensorflow/lite/core/c/common.h"

namespace tflstm::rnn {

// Input `i` of the node, nullptr when absent (-1 or past the inputs it has).
inline const TfLiteTensor* OptionalInput(const TfLiteContext* context, const TfLiteNode* node, int i) {
  if (i >= node->inputs->size) return nullptr;
  const int t = node->inputs->data[i];
  return t < 0 ? nullptr : &context->tensors[t];
}

using ops::LendUserData;

// Weights that cannot change between invokes: in the model, or computed once by an op such
// as DEQUANTIZE of a float16 model's constants (TFLite keeps those in its persistent arena).
inline bool IsConstant(const TfLiteTensor* t) {
  return t != nullptr && (t->allocation_type == kTfLiteMmapRo || t->allocation_type == kTfLiteArenaRwPersistent);
}

// Makes temporary `which` of the node the tensor `first + which`: `floats` float32 values in
// TFLite's arena. `op` names the op in the error.
inline TfLiteStatus ResizeTemporary(TfLiteContext* context, TfLiteNode* node, int first, int which, size_t floats,
                                    const char* op) {
  node->temporaries->data[which] = first + which;
  TfLiteTensor* t = &context->tensors[first + which];
  if (floats > static_cast<size_t>(std::numeric_limits<int>::max())) {
    context->ReportError(context, "%s: a scratch buffer of %zu floats is too large", op, floats);
    return kTfLiteError;
  }
  t->type = kTfLiteFloat32;
  t->allocation_type = kTfLiteArenaRw;
  TfLiteIntArray* shape = TfLiteIntArrayCreate(1);
  shape->data[0] = static_cast<int>(floats);
  return context->ResizeTensor(context, t, shape);
}

// No TFLite kernel to hand configurations to (RegistrationOf's Builtin for an op of tflstm's own).
inline const TfLiteRegistration& NoBuiltin() {
  static const TfLiteRegistration none{};
  return none;
}

// The registration of an op whose data is an OpData: `builtin` (the data of TFLite's kernel
// Builtin(), for the configurations the op hands to it) and `first_temporary` (the first of
// kTemporaries tensors of its own, -1 if TFLite had none).
template <class OpData, int kTemporaries, const TfLiteRegistration& (*Builtin)()>
TfLiteRegistration RegistrationOf(TfLiteStatus (*prepare)(TfLiteContext*, TfLiteNode*),
                                  TfLiteStatus (*invoke)(TfLiteContext*, TfLiteNode*)) {
  TfLiteRegistration r{};
  r.init = [](TfLiteContext* context, const char* buffer, size_t length) -> void* {
    auto data = std::make_unique<OpData>();
    if (Builtin().init != nullptr) data->builtin = Builtin().init(context, buffer, length);
    if (context->AddTensors(context, kTemporaries, &data->first_temporary) != kTfLiteOk) data->first_temporary = -1;
    return data.release();  // TFLite owns it until free
  };
  r.free = [](TfLiteContext* context, void* buffer) {
    const std::unique_ptr<OpData> data(static_cast<OpData*>(buffer));
    if (Builtin().free != nullptr) Builtin().free(context, data->builtin);
  };
  r.prepare = prepare;
  r.invoke = invoke;
  return r;
}

}  // namespace tflstm::rnn
