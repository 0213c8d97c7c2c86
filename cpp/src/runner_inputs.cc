// Runner's inputs and outputs: checking, resizing, setting (quantizing) inputs, reading outputs
// as floats, and refusing non-finite input data.
#include "tflstm/runner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <thread>

#include "empty_tensors.h"
#include "error_capture.h"
#include "finite.h"
#include "lstm/lstm_op.h"
#include "memory_limit.h"
#include "no_throw.h"
#include "ops/node_kernel.h"
#include "runner_engine.h"
#include "tensorflow/lite/builtin_ops.h"
#include "tensorflow/lite/core/c/builtin_op_data.h"
#include "tensorflow/lite/core/subgraph.h"
#include "tensorflow/lite/experimental/resource/initialization_status.h"
#include "tensorflow/lite/experimental/resource/resource_variable.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/interpreter_builder.h"
#include "tensorflow/lite/model_builder.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tflstm/dtype.h"
#include "tflstm/tflite/model.h"
#include "tflstm/tflite/op_set.h"
#include "tflstm/tflite/profiler.h"

namespace tflstm {

namespace {

template <typename T>
void QuantizeInto(const float* in, size_t n, float scale, int32_t zero_point, void* out) {
  auto* q = static_cast<T*>(out);
  constexpr float lo = static_cast<float>(std::numeric_limits<T>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<T>::max());
  for (size_t k = 0; k < n; ++k) {
    // TFLite's QUANTIZE: round(x / scale) half away from zero, plus the zero point, clamped.
    const float v = std::round(in[k] / scale) + static_cast<float>(zero_point);
    q[k] = static_cast<T>(std::min(hi, std::max(lo, v)));
  }
}

template <typename T>
void DequantizeFrom(const void* in, size_t n, float scale, int32_t zero_point, float* out) {
  const auto* q = static_cast<const T*>(in);
  for (size_t k = 0; k < n; ++k) out[k] = scale * static_cast<float>(static_cast<int32_t>(q[k]) - zero_point);
}

}  // namespace

using internal::ShapeString;

Status Runner::CheckShape(size_t i, const int* shape, size_t rank) const {
  const TensorView in = input(i);
  if (in.HasShape(shape, rank)) return Status::Ok();
  const TensorInfo& info = input_info()[i];
  const std::vector<int>& sig = info.shape_signature;
  auto refuse = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " expects shape " +
                                                   ShapeString(in.shape, static_cast<size_t>(in.rank)) + ", got " +
                                                   ShapeString(shape, rank) + ": " + why);
  };
  if (rank != sig.size()) return refuse("the rank differs");
  for (size_t d = 0; d < rank; ++d) {
    if (shape[d] < 1) return refuse("dimensions must be at least 1");
    const bool free_axis = sig[d] == -1 || d == 0 || (rank == 3 && d == 1);  // batch, time, or left free
    if (!free_axis && shape[d] != sig[d]) return refuse("dimension " + std::to_string(d) + " is fixed");
  }
  return Status::Ok();
}

// Everything about one input that can be known before any shape is applied: its dtype, its
// shape against the model's, and its byte count against that shape.
Status Runner::CheckInput(size_t i, const InputData& in, bool quantize) const {
  if (in.data == nullptr) return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " was not given");
  const DType type = input(i).dtype;
  const bool quantizing = quantize && in.dtype == DType::kFloat32 && type != DType::kFloat32;
  if (quantizing && !DTypeIsQuantized(type)) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " is " + DTypeName(type) +
                      ": float data can only be quantized for int8, uint8 or int16 inputs");
  }
  if (!quantizing && in.dtype != type) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " expects dtype " + DTypeName(type) + ", got " + DTypeName(in.dtype));
  }
  if (DTypeSize(in.dtype) == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " is " + DTypeName(type) + ", which has no fixed element size: it cannot be set");
  }
  TFLSTM_RETURN_IF_ERROR(CheckShape(i, in.shape, in.rank));
  size_t count = 1;
  for (size_t d = 0; d < in.rank; ++d) {
    const auto dim = static_cast<size_t>(in.shape[d]);  // at least 1: CheckShape saw to it
    if (count > std::numeric_limits<size_t>::max() / DTypeSize(in.dtype) / dim) {
      return Status(ErrorCode::kInvalidArgument,
                    InputLabel(i) + " of shape " + ShapeString(in.shape, in.rank) + " would not fit in memory");
    }
    count *= dim;
  }
  if (in.bytes != count * DTypeSize(in.dtype)) {
    return Status(ErrorCode::kInvalidArgument,
                  InputLabel(i) + " expects " + std::to_string(count * DTypeSize(in.dtype)) + " bytes for shape " +
                      ShapeString(in.shape, in.rank) + ", got " + std::to_string(in.bytes));
  }
  if (quantizing && !(input(i).scale > 0.0f)) {
    return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " has no quantization scale to quantize with");
  }
  // Quantizing clamps NaN and Inf to finite integers: the float data is checked before.
  if (quantizing && options_.check_finite) return NonFinite(i, in.dtype, in.data, in.bytes, in.shape, in.rank);
  return Status::Ok();
}

// Writes checked data into input `i`, which has the data's shape by now.
void Runner::CopyInput(size_t i, const InputData& in) {
  ++epoch_;  // an input may also be a variable tensor (state)
  const TensorView t = input(i);
  if (in.dtype == t.dtype) {
    std::memcpy(t.data, in.data, in.bytes);
    return;
  }
  const auto* f = static_cast<const float*>(in.data);
  const size_t n = in.bytes / sizeof(float);
  switch (t.dtype) {
    case DType::kInt8: QuantizeInto<int8_t>(f, n, t.scale, t.zero_point, t.data); break;
    case DType::kUInt8: QuantizeInto<uint8_t>(f, n, t.scale, t.zero_point, t.data); break;
    default: QuantizeInto<int16_t>(f, n, t.scale, t.zero_point, t.data); break;
  }
}

// New input shapes are sized here, in 64 bits and saturating, before TFLite sees them: a shape
// over the budget is refused before TFLite plans (and allocates) for it, and one too large for
// this platform's size_t (armhf) is refused by name rather than by TFLite's overflow message.
Status Runner::CheckInputBytes(const std::vector<std::vector<int>>& shapes) const {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> bytes(shapes.size());
  uint64_t total = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    uint64_t b = DTypeSize(input_info()[i].dtype);
    for (int d : shapes[i]) {
      const auto n = static_cast<uint64_t>(d);  // CheckShape refused negative sizes
      b = (n != 0 && b > kMax / n) ? kMax : b * n;
    }
    bytes[i] = b;
    const uint64_t aligned =
        b > kMax - Arena::kAlignment ? kMax : (b + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment;
    total = std::min(kMax - aligned, total) + aligned;
  }
  if (options_.arena_bytes && total > *options_.arena_bytes) {
    return Status(ErrorCode::kArenaExhausted, model_->description() + " needs an arena of at least " +
                                                  std::to_string(total) + " bytes for its inputs alone at " +
                                                  "these shapes; the budget is " +
                                                  std::to_string(*options_.arena_bytes) + " bytes");
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (bytes[i] > std::numeric_limits<size_t>::max() / 2) {
      return Status(ErrorCode::kInvalidArgument, InputLabel(i) + " at " + ShapeString(shapes[i]) + " needs " +
                                                     std::to_string(bytes[i]) + " bytes, more than a " +
                                                     std::to_string(8 * sizeof(size_t)) + "-bit process can address");
    }
  }
  return Status::Ok();
}

Status Runner::ResizeInputs(const std::vector<std::vector<int>>& shapes) {
  TFLSTM_RETURN_IF_ERROR(CheckInputCount(shapes.size()));
  bool same = true;
  for (size_t i = 0; i < shapes.size(); ++i) {
    TFLSTM_RETURN_IF_ERROR(CheckShape(i, shapes[i].data(), shapes[i].size()));
    same = same && input(i).HasShape(shapes[i].data(), shapes[i].size());
  }
  if (same && engine_) return Status::Ok();
  TFLSTM_RETURN_IF_ERROR(CheckInputBytes(shapes));
  auto engine = internal::NoThrow([&] { return "resizing " + model_->description(); }, [&] { return Build(&shapes); });
  if (!engine.ok()) return engine.status();
  // An input whose shape stays keeps what was written into it.
  for (size_t i = 0; engine_ && i < shapes.size(); ++i) {
    const TfLiteTensor* from = engine_->subgraph->tensor(engine_->inputs[i]);
    const TfLiteTensor* to = engine.value()->subgraph->tensor(engine.value()->inputs[i]);
    if (from->bytes == to->bytes && from->data.raw != nullptr && to->data.raw != nullptr &&
        input(i).HasShape(shapes[i].data(), shapes[i].size())) {
      std::memcpy(to->data.raw, from->data.raw, to->bytes);
    }
  }
  engine_ = std::move(engine).value();
  ++rebuilds_;
  return Status::Ok();
}

Status Runner::SetInputs(const std::vector<InputData>& inputs, bool quantize) {
  TFLSTM_RETURN_IF_ERROR(CheckInputCount(inputs.size()));
  bool same = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TFLSTM_RETURN_IF_ERROR(CheckInput(i, inputs[i], quantize));
    same = same && input(i).HasShape(inputs[i].shape, inputs[i].rank);
  }
  if (!same || !engine_) {
    std::vector<std::vector<int>> shapes;
    for (const InputData& in : inputs) shapes.emplace_back(in.shape, in.shape + in.rank);
    TFLSTM_RETURN_IF_ERROR(ResizeInputs(shapes));
  }
  for (size_t i = 0; i < inputs.size(); ++i) CopyInput(i, inputs[i]);
  return Status::Ok();
}

// One input by itself: the others keep their shapes and their data.
Status Runner::SetOne(size_t i, const InputData& in, bool quantize) {
  TFLSTM_RETURN_IF_ERROR(InputIndex(i).status());
  TFLSTM_RETURN_IF_ERROR(CheckInput(i, in, quantize));
  if (!input(i).HasShape(in.shape, in.rank) || !engine_) {
    std::vector<std::vector<int>> shapes;
    for (size_t k = 0; k < input_count(); ++k) {
      const TensorView v = input(k);
      shapes.emplace_back(v.shape, v.shape + v.rank);
    }
    shapes[i].assign(in.shape, in.shape + in.rank);
    TFLSTM_RETURN_IF_ERROR(ResizeInputs(shapes));
  }
  CopyInput(i, in);
  return Status::Ok();
}

Status Runner::SetInput(size_t i, const void* data, size_t bytes, DType dtype, const int* shape, size_t rank) {
  return SetOne(i, InputData{data, bytes, dtype, shape, rank}, false);
}

Status Runner::SetInputFromFloat(size_t i, const float* data, size_t count, const int* shape, size_t rank) {
  return SetOne(i, InputData{data, count * sizeof(float), DType::kFloat32, shape, rank}, true);
}

Status Runner::OutputToFloat(size_t i, float* out, size_t count) const {
  TFLSTM_RETURN_IF_ERROR(OutputIndex(i).status());
  const TensorView v = output(i);
  const size_t n = DTypeSize(v.dtype) ? v.bytes / DTypeSize(v.dtype) : 0;
  if (count != n) {
    return Status(ErrorCode::kInvalidArgument,
                  OutputLabel(i) + " holds " + std::to_string(n) + " values, not " + std::to_string(count));
  }
  switch (v.dtype) {
    case DType::kFloat32:  // an empty output may have no storage, and `out` may be null then
      if (n) std::memcpy(out, v.data, v.bytes);
      return Status::Ok();
    case DType::kInt8: DequantizeFrom<int8_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    case DType::kUInt8: DequantizeFrom<uint8_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    case DType::kInt16: DequantizeFrom<int16_t>(v.data, n, v.scale, v.zero_point, out); return Status::Ok();
    default:
      return Status(ErrorCode::kInvalidArgument,
                    OutputLabel(i) + " is " + DTypeName(v.dtype) + ", which has no float form");
  }
}

// The first NaN or Inf in a float input, as an error that names the input and the position.
Status Runner::CheckFinite() const {
  for (size_t i = 0; i < input_count(); ++i) {
    const TensorView in = input(i);
    if (in.data == nullptr) continue;  // an input TFLite gave no storage (e.g. one no op reads)
    TFLSTM_RETURN_IF_ERROR(NonFinite(i, in.dtype, in.data, in.bytes, in.shape, static_cast<size_t>(in.rank)));
  }
  return Status::Ok();
}

Status Runner::NonFinite(size_t i, DType dtype, const void* data, size_t bytes, const int* shape, size_t rank) const {
  size_t n = 0, bad = 0;
  if (dtype == DType::kFloat32) {
    n = bytes / sizeof(float);
    bad = internal::FirstNonFinite(static_cast<const float*>(data), n);
  } else if (dtype == DType::kFloat16) {
    n = bytes / sizeof(uint16_t);
    bad = internal::FirstNonFiniteHalf(static_cast<const uint16_t*>(data), n);
  }
  if (bad == n) return Status::Ok();
  std::vector<int> at(rank);
  for (size_t d = at.size(), rest = bad; d-- > 0;) {
    at[d] = static_cast<int>(rest % static_cast<size_t>(shape[d]));
    rest /= static_cast<size_t>(shape[d]);
  }
  const bool nan = dtype == DType::kFloat32 && std::isnan(static_cast<const float*>(data)[bad]);
  return Status(ErrorCode::kInvalidArgument,
                InputLabel(i) + " holds " +
                    (dtype == DType::kFloat16 ? "NaN or Inf"
                     : nan                    ? "NaN"
                                              : "Inf") +
                    " at " + ShapeString(at) + " (element " + std::to_string(bad) +
                    "); the model would give a finite answer from it. Runner option check_finite=false skips "
                    "this check");
}

}  // namespace tflstm
