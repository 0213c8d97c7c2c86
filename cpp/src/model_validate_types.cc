// Validator's rules for operand types: quantization parameters that quantized kernels read,
// types that copying ops must keep, and CONCATENATION's quantized inputs.
#include "model_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "op_versions.h"
#include "rnn/gru_validate.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/schema/schema_utils.h"
#include "tflstm/model.h"

namespace tflstm::internal {

// Kernels that compute on int8, uint8 or int16 data as quantized numbers read the scale and
// zero point without checking that the tensor has them.
Status Validator::CheckQuantizedOperands(const OpView& v, tflite::BuiltinOperator code) const {
  switch (code) {
    case tflite::BuiltinOperator_ADD:
    case tflite::BuiltinOperator_SUB:
    case tflite::BuiltinOperator_MUL:
    case tflite::BuiltinOperator_FULLY_CONNECTED:
    case tflite::BuiltinOperator_CONV_2D:
    case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:
    case tflite::BuiltinOperator_AVERAGE_POOL_2D:
    case tflite::BuiltinOperator_MAX_POOL_2D:
    case tflite::BuiltinOperator_SOFTMAX:
    case tflite::BuiltinOperator_LOGISTIC:
    case tflite::BuiltinOperator_TANH:
    case tflite::BuiltinOperator_MEAN:
    case tflite::BuiltinOperator_QUANTIZE:
    case tflite::BuiltinOperator_DEQUANTIZE:
    case tflite::BuiltinOperator_LESS:
    case tflite::BuiltinOperator_LESS_EQUAL:
    case tflite::BuiltinOperator_GREATER:
    case tflite::BuiltinOperator_GREATER_EQUAL:
    case tflite::BuiltinOperator_EQUAL:
    case tflite::BuiltinOperator_NOT_EQUAL: break;
    default: return Status::Ok();
  }
  auto check = [&](const tflite::Tensor* t, tflite::TensorType type, const std::string& what) -> Status {
    const bool quantized_type =
        type == tflite::TensorType_INT8 || type == tflite::TensorType_UINT8 || type == tflite::TensorType_INT16;
    if (t && quantized_type && !Quantized(*t)) {
      return Fail(what + " is " + tflite::EnumNameTensorType(type) + " without quantization parameters");
    }
    // The tensor's own check saw its declared type; here it is quantized data (an element-wise
    // kernel gives its output the input's type), so its one scale must be a positive number
    // (ADD's Prepare aborted on an output declared COMPLEX64 with scale -0: model_fuzzer).
    if (t && quantized_type && Length(t->quantization()->scale()) == 1) {
      const float scale = t->quantization()->scale()->Get(0);
      if (!(std::isnormal(scale) && scale > 0)) {
        return Fail(what + " is " + tflite::EnumNameTensorType(type) + " data here with quantization scale " +
                    Number(scale) + "; it must be a positive number");
      }
    }
    // The int16 kernels are symmetric; some refuse another zero point only after allocating.
    if (t && type == tflite::TensorType_INT16 && code != tflite::BuiltinOperator_MEAN) {
      for (size_t i = 0; i < Length(t->quantization()->zero_point()); ++i) {
        if (const int64_t zp = t->quantization()->zero_point()->Get(i); zp != 0) {
          return Fail(what + " is INT16 with zero point " + std::to_string(zp) + "; the kernel needs 0");
        }
      }
    }
    return Status::Ok();
  };
  // Element-wise kernels give every operand the last input's type, whatever the model
  // declares for the others (TFLite checks only that the inputs agree, at run time).
  const bool elementwise =
      code == tflite::BuiltinOperator_ADD || code == tflite::BuiltinOperator_SUB || code == tflite::BuiltinOperator_MUL;
  const tflite::Tensor* last = v.inputs() > 0 ? v.in(v.inputs() - 1) : nullptr;
  auto type_of = [&](const tflite::Tensor* t) { return elementwise && last ? last->type() : t->type(); };
  // MEAN's second input is its axes, not data.
  const int data_inputs = code == tflite::BuiltinOperator_MEAN ? 1 : v.inputs();
  for (int i = 0; i < data_inputs; ++i) {
    if (v.in(i)) TFLSTM_RETURN_IF_ERROR(check(v.in(i), type_of(v.in(i)), v.InName(i)));
  }
  for (int i = 0; i < v.outputs(); ++i) {
    if (v.out(i)) TFLSTM_RETURN_IF_ERROR(check(v.out(i), type_of(v.out(i)), v.Name("output", v.op.outputs(), i)));
  }
  // Per-tensor kernels read TFLite's legacy scale, which is 0 for a tensor with several (SUB's
  // Prepare then aborts on an infinite multiplier: found by model_fuzzer). Per channel are only
  // the weights and biases of the products, QUANTIZE's output and DEQUANTIZE's input.
  const bool product = code == tflite::BuiltinOperator_FULLY_CONNECTED || code == tflite::BuiltinOperator_CONV_2D ||
                       code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
  const auto per_tensor = [&](const tflite::Tensor* t, bool output, int i) {
    if (!t || !t->quantization() || Length(t->quantization()->scale()) <= 1) return true;
    if (product && !output && i >= 1) return true;
    if (code == tflite::BuiltinOperator_QUANTIZE && output) return true;
    return code == tflite::BuiltinOperator_DEQUANTIZE && !output;
  };
  for (int i = 0; i < v.inputs(); ++i) {
    if (!per_tensor(v.in(i), false, i)) {
      return Fail(v.InName(i) + " has " + Str(Length(v.in(i)->quantization()->scale())) +
                  " quantization scales; the kernel takes one");
    }
  }
  for (int i = 0; i < v.outputs(); ++i) {
    if (!per_tensor(v.out(i), true, i)) {
      return Fail(v.Name("output", v.op.outputs(), i) + " has " + Str(Length(v.out(i)->quantization()->scale())) +
                  " quantization scales; the kernel takes one");
    }
  }
  const bool quantized = last && (last->type() == tflite::TensorType_INT8 || last->type() == tflite::TensorType_UINT8 ||
                                  last->type() == tflite::TensorType_INT16);
  if ((code == tflite::BuiltinOperator_ADD || code == tflite::BuiltinOperator_SUB) && quantized && v.inputs() == 2 &&
      v.in(0) && v.out(0)) {
    const float in_scales[2] = {v.in(0)->quantization()->scale()->Get(0), last->quantization()->scale()->Get(0)};
    const float out_scale = v.out(0)->quantization()->scale()->Get(0);
    // int16 with pot_scale_int16 (the options' default; off without options) and three scales
    // that TFLite takes for powers of two: its power-of-two path shifts one input right to the
    // output's scale and refuses anything else, after allocating the output's shape (a leak in
    // TFLite's ADD: model_fuzzer).
    const bool pot_option =
        code == tflite::BuiltinOperator_ADD
            ? v.op.builtin_options_as_AddOptions() && v.op.builtin_options_as_AddOptions()->pot_scale_int16()
            : v.op.builtin_options_as_SubOptions() && v.op.builtin_options_as_SubOptions()->pot_scale_int16();
    int log2[3] = {0, 0, 0};
    if (last->type() == tflite::TensorType_INT16 && pot_option && tflite::CheckedLog2(in_scales[0], &log2[0]) &&
        tflite::CheckedLog2(in_scales[1], &log2[1]) && tflite::CheckedLog2(out_scale, &log2[2])) {
      const int shift0 = log2[0] - log2[2];
      const int shift1 = log2[1] - log2[2];
      if (shift0 > 0 || shift1 > 0 || (shift0 != 0 && shift1 != 0)) {
        return Fail(v.name + ": int16 with power-of-two scales 2^" + std::to_string(log2[0]) + ", 2^" +
                    std::to_string(log2[1]) + " -> 2^" + std::to_string(log2[2]) +
                    "; the kernel needs one input at the output's scale and the other at or below it");
      }
    } else {
      // The general kernels rescale inputs to 2^20 (int16: 2^15) times the larger input scale
      // and need the output multiplier in (0, 1) once quantized (TFLite aborts otherwise). It is
      // computed as TFLite computes it: 2^shift * output scale in float, which can overflow.
      const double in_scale = std::max(in_scales[0], in_scales[1]);
      const int left_shift = last->type() == tflite::TensorType_INT16 ? 15 : 20;
      const double multiplier = 2 * in_scale / static_cast<double>(static_cast<float>(1 << left_shift) * out_scale);
      if (!(multiplier > 0)) {
        return Fail(v.name + ": its output scale " + Number(out_scale) + " is too large: 2^" +
                    std::to_string(left_shift) + " times it overflows the float of the kernel's rescaling");
      }
      int32_t fixed = 0;
      int exponent = 0;
      if (multiplier < 1) tflite::QuantizeMultiplier(multiplier, &fixed, &exponent);
      if (!(multiplier < 1) || exponent > 0) {  // a multiplier that rounds to 1 shifts left
        return Fail(v.name + ": its output scale " + std::to_string(out_scale) + " is too small for input scale " +
                    std::to_string(in_scale) + " (the kernel's rescaling needs output > input * 2 / " +
                    std::to_string(1 << left_shift) + ")");
      }
    }
  }
  const bool comparison = code == tflite::BuiltinOperator_LESS || code == tflite::BuiltinOperator_LESS_EQUAL ||
                          code == tflite::BuiltinOperator_GREATER || code == tflite::BuiltinOperator_GREATER_EQUAL ||
                          code == tflite::BuiltinOperator_EQUAL || code == tflite::BuiltinOperator_NOT_EQUAL;
  if (comparison && v.inputs() > 0 && v.in(0) &&
      (v.in(0)->type() == tflite::TensorType_INT8 || v.in(0)->type() == tflite::TensorType_UINT8)) {
    // The quantized comparisons rescale each input by its scale as a multiplier below one
    // with a right shift of at most 31 (a scale of 1 or more shifts by a negative amount).
    for (int i = 0; i < v.inputs(); ++i) {
      if (!v.in(i) || !Quantized(*v.in(i))) continue;  // another type: TFLite's Prepare refuses it
      const double scale = v.in(i)->quantization()->scale()->Get(0);
      if (!(scale >= std::ldexp(1.0, -32) && scale < 1)) {
        return Fail(v.InName(i) + " has scale " + Number(scale) +
                    "; the quantized comparison needs a scale in [2^-32, 1)");
      }
    }
  }
  return Status::Ok();
}

// Ops that move data without converting it copy input->bytes into their outputs: a kernel
// such as RESHAPE does not check that the types (so the sizes) agree.
Status Validator::CheckSameType(const OpView& v, tflite::BuiltinOperator code) const {
  int first = 0, last = 0;  // the data inputs
  switch (code) {
    case tflite::BuiltinOperator_RESHAPE:
    case tflite::BuiltinOperator_SQUEEZE:
    case tflite::BuiltinOperator_EXPAND_DIMS:
    case tflite::BuiltinOperator_TRANSPOSE:
    case tflite::BuiltinOperator_STRIDED_SLICE:
    case tflite::BuiltinOperator_REVERSE_V2:
    case tflite::BuiltinOperator_PAD:
    case tflite::BuiltinOperator_PADV2:
    case tflite::BuiltinOperator_GATHER:
    case tflite::BuiltinOperator_MAX_POOL_2D:
    case tflite::BuiltinOperator_AVERAGE_POOL_2D:
    case tflite::BuiltinOperator_RELU:
    case tflite::BuiltinOperator_UNPACK: break;
    case tflite::BuiltinOperator_SPLIT: first = last = 1; break;  // input 0 is the axis
    case tflite::BuiltinOperator_CONCATENATION:
    case tflite::BuiltinOperator_PACK: last = v.inputs() - 1; break;
    // MUL computes in its output's type (complex64 over bool inputs) and the reductions in
    // their input's; unlike ADD and the others, their Prepare does not set the output's type.
    case tflite::BuiltinOperator_MUL: last = 1; break;
    case tflite::BuiltinOperator_MEAN:
    case tflite::BuiltinOperator_SUM:
    case tflite::BuiltinOperator_REDUCE_MAX:
    case tflite::BuiltinOperator_REDUCE_MIN:
    case tflite::BuiltinOperator_REDUCE_PROD: break;
    default: return Status::Ok();
  }
  // The one conversion among them: MUL of int16 data into an int8 or uint8 result.
  auto converts = [&](tflite::TensorType in, tflite::TensorType out) {
    return code == tflite::BuiltinOperator_MUL && in == tflite::TensorType_INT16 &&
           (out == tflite::TensorType_INT8 || out == tflite::TensorType_UINT8);
  };
  for (int i = first; i <= last && i < v.inputs(); ++i) {
    if (!v.in(i)) continue;
    for (int o = 0; o < v.outputs(); ++o) {
      if (v.out(o) && v.out(o)->type() != v.in(i)->type() && !converts(v.in(i)->type(), v.out(o)->type())) {
        return Fail(v.Name("output", v.op.outputs(), o) + " is " + tflite::EnumNameTensorType(v.out(o)->type()) +
                    " but " + "input " + std::to_string(i) + " is " + tflite::EnumNameTensorType(v.in(i)->type()) +
                    "; the op does not convert types");
      }
    }
  }
  return Status::Ok();
}

// The int8 kernel copies bytes without rescaling and the int16 one assumes symmetric data; its
// Prepare refuses other parameters only after allocating the output's shape (a leak).
Status Validator::CheckConcatenation(const OpView& v) const {
  const tflite::Tensor* out = v.out(0);
  if (!out || (out->type() != tflite::TensorType_INT8 && out->type() != tflite::TensorType_INT16)) {
    return Status::Ok();
  }
  auto params = [](const tflite::Tensor& t) {
    const auto* q = t.quantization();
    const float scale = q && Length(q->scale()) > 0 ? q->scale()->Get(0) : 0.0f;
    const int64_t zero_point = q && Length(q->zero_point()) > 0 ? q->zero_point()->Get(0) : 0;
    return std::pair{scale, zero_point};
  };
  const auto [out_scale, out_zp] = params(*out);
  for (int i = -1; i < v.inputs(); ++i) {  // -1: the output itself
    const tflite::Tensor* t = i < 0 ? out : v.in(i);
    if (!t) continue;
    const auto [scale, zp] = params(*t);
    const std::string what = i < 0 ? v.Name("output", v.op.outputs(), 0) : v.InName(i);
    if (out->type() == tflite::TensorType_INT16 && zp != 0) {
      return Fail(what + " is INT16 with zero point " + std::to_string(zp) + "; the kernel needs 0");
    }
    if (out->type() == tflite::TensorType_INT8 && (scale != out_scale || zp != out_zp)) {
      return Fail(what + " has scale " + std::to_string(scale) + " and zero point " + std::to_string(zp) +
                  "; the int8 kernel needs the output's (" + std::to_string(out_scale) + ", " + std::to_string(out_zp) +
                  ")");
    }
  }
  return Status::Ok();
}

}  // namespace tflstm::internal
