#include "model_validate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "model_validator.h"
#include "op_versions.h"
#include "rnn/gru_validate.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/schema/schema_utils.h"
#include "tflstm/model.h"

namespace tflstm::internal {

std::string Str(uint64_t v) { return std::to_string(v); }

std::string Number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// " 'name'" after a tensor's index in a message, or nothing for a tensor without a name.
std::string Quoted(const tflite::Tensor* t) { return t && t->name() ? " '" + t->name()->str() + "'" : ""; }

std::string ShapeText(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Element size of a schema type; 0 where the size is not fixed (strings, resources, int4).
size_t ElementBytes(tflite::TensorType type) {
  switch (type) {
    case tflite::TensorType_BOOL:
    case tflite::TensorType_INT8:
    case tflite::TensorType_UINT8: return 1;
    case tflite::TensorType_INT16:
    case tflite::TensorType_UINT16:
    case tflite::TensorType_FLOAT16: return 2;
    case tflite::TensorType_FLOAT32:
    case tflite::TensorType_INT32:
    case tflite::TensorType_UINT32: return 4;
    case tflite::TensorType_FLOAT64:
    case tflite::TensorType_INT64:
    case tflite::TensorType_UINT64:
    case tflite::TensorType_COMPLEX64: return 8;
    case tflite::TensorType_COMPLEX128: return 16;
    default: return 0;
  }
}

Status Validator::Run() {
  if (Length(m_.subgraphs()) == 0) return Fail("it has no subgraph");
  TFLSTM_RETURN_IF_ERROR(CheckOperatorCodes());
  TFLSTM_RETURN_IF_ERROR(CheckBuffers());
  for (size_t s = 0; s < m_.subgraphs()->size(); ++s) TFLSTM_RETURN_IF_ERROR(CheckSubgraph(s));
  return CheckResourceVariables();
}

Status Validator::CheckOperatorCodes() {
  for (size_t c = 0; c < Length(m_.operator_codes()); ++c) {
    const auto* code = m_.operator_codes()->Get(c);
    if (code == nullptr) return Fail("operator code " + Str(c) + " is missing");
    if (tflite::GetBuiltinCode(code) == tflite::BuiltinOperator_CUSTOM && code->custom_code() == nullptr) {
      return Fail("custom operator code " + Str(c) + " has no name");
    }
  }
  return Status::Ok();
}

// Buffers of models over 2 GB live after the flatbuffer at (offset, size); offset 0 and 1
// mean "no external data". TFLite's own bounds check adds the two and can wrap around.
Status Validator::CheckBuffers() {
  for (size_t b = 0; b < Length(m_.buffers()); ++b) {
    const tflite::Buffer* buffer = m_.buffers()->Get(b);
    if (buffer == nullptr) return Fail("buffer " + Str(b) + " is missing");
    if (buffer->data() == nullptr && buffer->offset() > 1 &&
        (buffer->offset() > file_bytes_ || buffer->size() > file_bytes_ - buffer->offset())) {
      return Fail("buffer " + Str(b) + " spans bytes " + Str(buffer->offset()) + " to " + Str(buffer->offset()) + "+" +
                  Str(buffer->size()) + " of a " + Str(file_bytes_) + "-byte file");
    }
  }
  return Status::Ok();
}

// Bytes of constant data behind a tensor, or -1 when it has none (TFLite's reading of it).
int64_t Validator::ConstantBytes(const tflite::Tensor& t) const {
  if (t.buffer() == 0 || t.buffer() >= Length(m_.buffers())) return -1;
  const tflite::Buffer* buffer = m_.buffers()->Get(t.buffer());
  if (buffer->data()) return static_cast<int64_t>(buffer->data()->size());
  if (buffer->offset() > 1) return static_cast<int64_t>(buffer->size());
  return -1;
}

Status Validator::CheckSubgraph(size_t s) {
  const tflite::SubGraph* sg = m_.subgraphs()->Get(s);
  const std::string sub = "subgraph " + Str(s);
  if (sg == nullptr) return Fail(sub + " is missing");
  const size_t n_tensors = Length(sg->tensors());
  auto check_indices = [&](const flatbuffers::Vector<int32_t>* v, bool optional_allowed,
                           const std::string& what) -> Status {
    for (size_t i = 0; i < Length(v); ++i) {
      const int32_t t = v->Get(i);
      if (t == -1 && optional_allowed) continue;
      if (t < 0 || static_cast<size_t>(t) >= n_tensors) {
        return Fail(sub + ": " + what + " refers to tensor " + std::to_string(t) + " of " + Str(n_tensors));
      }
    }
    return Status::Ok();
  };
  // First, before the tensors' own checks (a type of a later schema is "unknown" to them): an
  // op of a newer version than TFLite 2.14.1's that uses what the version adds.
  for (size_t o = 0; o < Length(sg->operators()); ++o) {
    const tflite::Operator* op = sg->operators()->Get(o);
    if (op == nullptr || op->opcode_index() >= Length(m_.operator_codes())) continue;  // refused below
    TFLSTM_RETURN_IF_ERROR(CheckOpVersion(
        m_, *sg, *op,
        sub + ": operator " + Str(o) + " (" + OpCodeName(*m_.operator_codes()->Get(op->opcode_index())) + ")"));
  }
  TFLSTM_RETURN_IF_ERROR(check_indices(sg->inputs(), false, "its inputs list"));
  TFLSTM_RETURN_IF_ERROR(check_indices(sg->outputs(), false, "its outputs list"));
  for (size_t t = 0; t < n_tensors; ++t) TFLSTM_RETURN_IF_ERROR(CheckTensor(*sg, sub, t));
  // One writer per tensor: a second op's Prepare would re-plan a tensor the first one had
  // allocated (a DEQUANTIZE of a constant makes its output persistent and drops the buffer an
  // earlier writer gave it: a leak inside TFLite, found by model_fuzzer).
  std::vector<int64_t> writer(n_tensors, -1);
  for (size_t o = 0; o < Length(sg->operators()); ++o) {
    const tflite::Operator* op = sg->operators()->Get(o);
    if (op == nullptr) continue;  // refused below
    TFLSTM_RETURN_IF_ERROR(check_indices(op->outputs(), true, "operator " + Str(o) + "'s outputs"));
    for (size_t i = 0; i < Length(op->outputs()); ++i) {
      const int32_t t = op->outputs()->Get(i);
      if (t == -1) continue;
      if (writer[t] != -1) {
        const tflite::Tensor* tensor = sg->tensors()->Get(t);
        return Fail(sub + ": tensor " + Str(static_cast<uint64_t>(t)) + Quoted(tensor) + " is an output of operator " +
                    Str(static_cast<uint64_t>(writer[t])) + " and of operator " + Str(o) + "; a tensor has one writer");
      }
      writer[t] = static_cast<int64_t>(o);
      // TFLite maps a tensor with data to the model's bytes (shared, possibly read-only): an
      // op writing one writes there (RESHAPE of a string input overflowed a constant output
      // of 47 bytes: model_fuzzer).
      const tflite::Tensor* tensor = sg->tensors()->Get(t);
      if (tensor && ConstantBytes(*tensor) > 0) {
        return Fail(sub + ": operator " + Str(o) + " writes tensor " + Str(static_cast<uint64_t>(t)) + Quoted(tensor) +
                    ", a constant (buffer " + Str(tensor->buffer()) + "); an operator writes no constant");
      }
    }
  }
  // The caller writes a subgraph's inputs: one that is a constant would be written in the
  // model's own (shared, possibly read-only mapped) bytes. Found by model_fuzzer: a SIGSEGV.
  for (size_t i = 0; i < Length(sg->inputs()); ++i) {
    const tflite::Tensor& tensor = *sg->tensors()->Get(sg->inputs()->Get(i));
    if (ConstantBytes(tensor) > 0) {
      return Fail(sub + ": input " + Str(i) + " (tensor " + std::to_string(sg->inputs()->Get(i)) + Quoted(&tensor) +
                  ") is a constant (buffer " + Str(tensor.buffer()) + "); an input is written by the caller");
    }
  }
  for (size_t o = 0; o < Length(sg->operators()); ++o) {
    const tflite::Operator* op = sg->operators()->Get(o);
    const std::string on = sub + ": operator " + Str(o);
    if (op == nullptr) return Fail(on + " is missing");
    if (op->opcode_index() >= Length(m_.operator_codes())) {
      return Fail(on + " uses operator code " + Str(op->opcode_index()) + " of " + Str(Length(m_.operator_codes())));
    }
    TFLSTM_RETURN_IF_ERROR(check_indices(op->inputs(), true, "operator " + Str(o) + "'s inputs"));
    TFLSTM_RETURN_IF_ERROR(check_indices(op->intermediates(), true, "operator " + Str(o) + "'s intermediates"));
    TFLSTM_RETURN_IF_ERROR(
        CheckOperator(*sg, *op, on + " (" + OpCodeName(*m_.operator_codes()->Get(op->opcode_index())) + ")"));
  }
  // After each op's own rules, whose messages say more: an op reads only what is there when
  // it runs, a subgraph input, a constant, a variable or an earlier op's output. TFLite gives
  // any other tensor the arena's leftovers, or a string one no storage at all (RESHAPE copied
  // from null, found by model_fuzzer). A tensor of no elements is exempt: nothing of it is
  // read (RESHAPE's new shape []).
  std::vector<bool> ready(n_tensors, false);
  for (size_t i = 0; i < Length(sg->inputs()); ++i) ready[sg->inputs()->Get(i)] = true;
  for (size_t t = 0; t < n_tensors; ++t) {
    const tflite::Tensor& tensor = *sg->tensors()->Get(t);
    if (ConstantBytes(tensor) >= 0 || tensor.is_variable() || Elements(tensor) == 0) ready[t] = true;
  }
  for (size_t o = 0; o < Length(sg->operators()); ++o) {
    const tflite::Operator* op = sg->operators()->Get(o);
    for (size_t i = 0; i < Length(op->inputs()); ++i) {
      const int32_t t = op->inputs()->Get(i);
      if (t == -1 || ready[t]) continue;
      const tflite::Tensor* tensor = sg->tensors()->Get(t);
      return Fail(sub + ": operator " + Str(o) + " reads tensor " + Str(static_cast<uint64_t>(t)) + Quoted(tensor) +
                  " as its input " + Str(i) +
                  ", which is no input, constant or variable, and which no earlier operator writes");
    }
    for (size_t i = 0; i < Length(op->outputs()); ++i) {
      if (op->outputs()->Get(i) != -1) ready[op->outputs()->Get(i)] = true;
    }
  }
  // Last: an input that an op writes has two writers, the caller and the op (whose Prepare re-plans it: a leak in
  // TFLite's SUB, found by model_fuzzer).
  for (size_t i = 0; i < Length(sg->inputs()); ++i) {
    const int32_t t = sg->inputs()->Get(i);
    if (writer[t] == -1) continue;
    const tflite::Tensor& tensor = *sg->tensors()->Get(t);
    return Fail(sub + ": input " + Str(i) + " (tensor " + std::to_string(t) + Quoted(&tensor) +
                ") is an output of operator " + Str(static_cast<uint64_t>(writer[t])) +
                "; an input is written by the caller");
  }
  return Status::Ok();
}

Status Validator::CheckTensor(const tflite::SubGraph& sg, const std::string& sub, size_t t) {
  const tflite::Tensor* tensor = sg.tensors()->Get(t);
  std::string tn = sub + ", tensor " + Str(t);
  if (tensor == nullptr) return Fail(tn + " is missing");
  tn += Quoted(tensor);
  if (tensor->type() < tflite::TensorType_MIN || tensor->type() > tflite::TensorType_MAX) {
    return Fail(tn + " has an unknown type " + std::to_string(static_cast<int>(tensor->type())));
  }
  const size_t n_buffers = Length(m_.buffers());
  if (tensor->buffer() >= n_buffers && !(tensor->buffer() == 0 && n_buffers == 0)) {
    return Fail(tn + " refers to buffer " + Str(tensor->buffer()) + " of " + Str(n_buffers));
  }
  // Sizes are computed in 64 bits: TFLite multiplies them in int or size_t, which a
  // large shape overflows (silently on 32-bit targets).
  uint64_t elements = 1;
  for (size_t d = 0; d < Length(tensor->shape()); ++d) {
    const int32_t dim = tensor->shape()->Get(d);
    if (dim < 0) return Fail(tn + " has a negative dimension " + std::to_string(dim));
    elements *= static_cast<uint64_t>(dim);
    if (elements > (uint64_t{1} << 31)) return Fail(tn + " has more than 2^31 elements");
  }
  const uint64_t bytes = elements * ElementBytes(tensor->type());
  if (bytes > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return Fail(tn + " needs " + Str(bytes) + " bytes, more than 2^31 - 1");
  }
  if (Length(tensor->shape_signature()) != 0 && Length(tensor->shape_signature()) != Length(tensor->shape())) {
    return Fail(tn + " has a shape signature whose rank differs from its shape");
  }
  for (size_t d = 0; d < Length(tensor->shape_signature()); ++d) {
    if (tensor->shape_signature()->Get(d) < -1) {
      return Fail(tn + " has a shape signature entry " + std::to_string(tensor->shape_signature()->Get(d)));
    }
  }
  // The constant data must be exactly what the shape and type describe: kernels index it
  // by the shape. Sparse tensors store fewer bytes, described by their sparsity.
  const int64_t data = ConstantBytes(*tensor);
  if (data >= 0 && tensor->sparsity() == nullptr && ElementBytes(tensor->type()) != 0 &&
      static_cast<uint64_t>(data) != bytes) {
    return Fail(tn + " of shape " + ShapeText(Shape(*tensor)) + " and type " +
                tflite::EnumNameTensorType(tensor->type()) + " needs " + Str(bytes) + " bytes but its buffer " +
                Str(tensor->buffer()) + " holds " + Str(static_cast<uint64_t>(data)));
  }
  if (const tflite::QuantizationParameters* q = tensor->quantization()) {
    // The verifier checks a vector's 4-byte length, not the alignment of 8-byte elements:
    // reading a misaligned int64 is undefined (and faults on some ARM cores).
    if (q->zero_point() && reinterpret_cast<uintptr_t>(q->zero_point()->data()) % alignof(int64_t) != 0) {
      return Fail(tn + " has its zero points (int64) at a misaligned offset");
    }
    if (Length(q->scale()) != Length(q->zero_point()) && Length(q->zero_point()) != 0) {
      return Fail(tn + " has " + Str(Length(q->scale())) + " quantization scales but " + Str(Length(q->zero_point())) +
                  " zero points");
    }
    // Per-channel kernels read one scale and zero point per index of the quantized dimension.
    if (Length(q->scale()) > 1) {
      const std::vector<int> shape = Shape(*tensor);
      const int32_t axis = q->quantized_dimension();
      if (axis < 0 || static_cast<size_t>(axis) >= shape.size() ||
          static_cast<size_t>(shape[static_cast<size_t>(axis)]) != Length(q->scale())) {
        return Fail(tn + " of shape " + ShapeText(shape) + " has " + Str(Length(q->scale())) +
                    " quantization scales along dimension " + std::to_string(axis) + "; it needs one per index");
      }
    }
    // Kernels turn scales (and their ratios) into fixed-point multipliers, and TFLite aborts
    // when one is not a positive number. A single (per-tensor) scale of a quantized tensor must
    // be positive; per-channel weight scales may be 0 for a channel of zeros.
    const bool per_tensor = Length(q->scale()) == 1 &&
                            (tensor->type() == tflite::TensorType_INT8 || tensor->type() == tflite::TensorType_UINT8 ||
                             tensor->type() == tflite::TensorType_INT16);
    for (size_t i = 0; i < Length(q->scale()); ++i) {
      const float scale = q->scale()->Get(i);
      if (!(std::isnormal(scale) && scale > 0) && !(scale == 0 && !per_tensor)) {
        return Fail(tn + " has quantization scale " + std::to_string(scale) + " (index " + Str(i) + ")" +
                    (per_tensor ? "; it must be a positive number" : "; scales are 0 or positive numbers"));
      }
    }
    int64_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
    if (tensor->type() == tflite::TensorType_INT8) lo = -128, hi = 127;
    if (tensor->type() == tflite::TensorType_UINT8) lo = 0, hi = 255;
    if (tensor->type() == tflite::TensorType_INT16) lo = -32768, hi = 32767;
    for (size_t i = 0; i < Length(q->zero_point()); ++i) {
      const int64_t zp = q->zero_point()->Get(i);
      if (zp < lo || zp > hi) {
        return Fail(tn + " (" + tflite::EnumNameTensorType(tensor->type()) + ") has zero point " + std::to_string(zp) +
                    " out of its type's range");
      }
    }
  }
  return Status::Ok();
}

std::vector<int> Validator::Shape(const tflite::Tensor& t) {
  return t.shape() ? std::vector<int>(t.shape()->begin(), t.shape()->end()) : std::vector<int>();
}

std::string OpCodeName(const tflite::OperatorCode& code) {
  const tflite::BuiltinOperator builtin = tflite::GetBuiltinCode(&code);
  if (builtin == tflite::BuiltinOperator_CUSTOM) return code.custom_code() ? code.custom_code()->str() : "CUSTOM";
  const char* name = tflite::EnumNameBuiltinOperator(builtin);
  return (name && *name) ? name : "BUILTIN_" + std::to_string(static_cast<int>(builtin));
}

Status ValidateModel(const tflite::Model& model, size_t file_bytes, const std::string& where) {
  return Validator(model, file_bytes, where).Run();
}

}  // namespace tflstm::internal
