// Validator's rules for FULLY_CONNECTED, PAD, REVERSE_V2, CONV_2D, DEPTHWISE_CONV_2D and pooling.
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

Status Validator::CheckFullyConnected(const OpView& v, int version) {
  TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 2, 3));
  TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 2));
  TFLSTM_RETURN_IF_ERROR(Present(v, 0));
  TFLSTM_RETURN_IF_ERROR(Present(v, 1));
  const std::vector<int> w = Shape(*v.in(1));
  if (w.size() != 2) return Fail(v.InName(1) + " has shape " + ShapeText(w) + "; weights have rank 2");
  if (v.in(2) != nullptr && Elements(*v.in(2)) != static_cast<uint64_t>(w[0])) {
    return Fail(v.InName(2) + " has shape " + ShapeText(Shape(*v.in(2))) + "; the bias of " + std::to_string(w[0]) +
                " units needs " + std::to_string(w[0]) + " elements");
  }
  // int4 weights are packed two to a byte; the int16 kernel reads them as one per byte.
  const tflite::TensorType in_type = v.in(0)->type();
  if (v.in(1)->type() == tflite::TensorType_INT4 && in_type != tflite::TensorType_INT8 &&
      in_type != tflite::TensorType_FLOAT32) {
    return Fail(v.InName(1) + " is INT4 and input 0 is " + tflite::EnumNameTensorType(in_type) +
                "; int4 weights take INT8 or FLOAT32 input");
  }
  // Before version 12 the dynamic-range kernel takes one weight scale: it would scale every
  // unit by the legacy scale of a per-channel tensor, 0.
  const auto* w_q = v.in(1)->quantization();
  if (version < 12 && in_type == tflite::TensorType_FLOAT32 && v.in(1)->type() == tflite::TensorType_INT8 && w_q &&
      Length(w_q->scale()) > 1) {
    return Fail(v.InName(1) +
                " has a scale per unit, which a dynamic-range FULLY_CONNECTED computes from "
                "version 12 on; the op code says version " +
                std::to_string(version));
  }
  return Status::Ok();
}

// The paddings are [rank, 2]: the kernel reads both dimensions without checking the rank.
Status Validator::CheckPad(const OpView& v) const {
  TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 2, 3));
  TFLSTM_RETURN_IF_ERROR(Present(v, 0));
  TFLSTM_RETURN_IF_ERROR(Present(v, 1));
  return HasShape(v, 1, {static_cast<int>(Shape(*v.in(0)).size()), 2}, "padding each axis of input 0");
}

// REVERSE_V2's Eval reads the first axis whatever its axis tensor holds: an empty one (no
// storage) was a null read (model_fuzzer). A graph input resized to empty is refused when the
// runner is prepared (runner.cc, CheckNoEmptyOperands).
Status Validator::CheckReverse(const OpView& v) const {
  TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 2, 2));
  TFLSTM_RETURN_IF_ERROR(Present(v, 1));
  if (Elements(*v.in(1)) == 0) {
    return Fail(v.InName(1) + " has shape " + ShapeText(Shape(*v.in(1))) + "; the kernel reads an axis from it");
  }
  return Status::Ok();
}

Status Validator::CheckWindow(const OpView& v, int stride_w, int stride_h, int dilation_w, int dilation_h) const {
  // Output sizes are divided by these: zero or negative values divide by zero or wrap.
  if (stride_w < 1 || stride_h < 1 || dilation_w < 1 || dilation_h < 1) {
    return Fail(v.name + " has strides " + std::to_string(stride_w) + "x" + std::to_string(stride_h) +
                " and dilations " + std::to_string(dilation_w) + "x" + std::to_string(dilation_h) +
                "; each must be at least 1");
  }
  return Status::Ok();
}

// CONV_2D's filter is [out, h, w, in], DEPTHWISE_CONV_2D's [1, h, w, out]: `out_axis` says which.
Status Validator::CheckConvOperands(const OpView& v, size_t out_axis) {
  TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 2, 3));
  TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 1));
  TFLSTM_RETURN_IF_ERROR(Present(v, 0));
  TFLSTM_RETURN_IF_ERROR(Present(v, 1));
  for (int i : {0, 1}) {
    if (Shape(*v.in(i)).size() != 4)
      return Fail(v.InName(i) + " has shape " + ShapeText(Shape(*v.in(i))) + "; it needs rank 4");
  }
  const int channels = Shape(*v.in(1))[out_axis];
  if (v.in(2) != nullptr && Elements(*v.in(2)) != static_cast<uint64_t>(channels)) {
    return Fail(v.InName(2) + " has shape " + ShapeText(Shape(*v.in(2))) + "; " + std::to_string(channels) +
                " output channels need as many biases");
  }
  return Status::Ok();
}

Status Validator::CheckConv(const OpView& v) {
  TFLSTM_RETURN_IF_ERROR(CheckConvOperands(v, 0));
  const auto* o = v.op.builtin_options_as_Conv2DOptions();
  return o ? CheckWindow(v, o->stride_w(), o->stride_h(), o->dilation_w_factor(), o->dilation_h_factor())
           : Status::Ok();
}

Status Validator::CheckDepthwiseConv(const OpView& v) {
  TFLSTM_RETURN_IF_ERROR(CheckConvOperands(v, 3));
  const auto* o = v.op.builtin_options_as_DepthwiseConv2DOptions();
  return o ? CheckWindow(v, o->stride_w(), o->stride_h(), o->dilation_w_factor(), o->dilation_h_factor())
           : Status::Ok();
}

Status Validator::CheckPool(const OpView& v) {
  TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 1, 1));
  TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 1));
  TFLSTM_RETURN_IF_ERROR(Present(v, 0));
  if (const auto* o = v.op.builtin_options_as_Pool2DOptions()) {
    TFLSTM_RETURN_IF_ERROR(CheckWindow(v, o->stride_w(), o->stride_h(), 1, 1));
    if (o->filter_width() < 1 || o->filter_height() < 1) {
      return Fail(v.name + " has a " + std::to_string(o->filter_width()) + "x" + std::to_string(o->filter_height()) +
                  " window; each side must be at least 1");
    }
  }
  return Status::Ok();
}

}  // namespace tflstm::internal
