#include "model_validate.h"

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
namespace {

template <typename T>
size_t Length(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

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

// The whole model: every check returns the first problem found, named.
class Validator {
 public:
  Validator(const tflite::Model& m, size_t file_bytes, const std::string& where)
      : m_(m), file_bytes_(file_bytes), where_(where) {}

  Status Run() {
    if (Length(m_.subgraphs()) == 0) return Fail("it has no subgraph");
    TFLSTM_RETURN_IF_ERROR(CheckOperatorCodes());
    TFLSTM_RETURN_IF_ERROR(CheckBuffers());
    for (size_t s = 0; s < m_.subgraphs()->size(); ++s) TFLSTM_RETURN_IF_ERROR(CheckSubgraph(s));
    return CheckResourceVariables();
  }

 private:
  Status Fail(const std::string& what) const { return Status(ErrorCode::kInvalidModel, where_ + ": " + what); }

  Status CheckOperatorCodes() {
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
  Status CheckBuffers() {
    for (size_t b = 0; b < Length(m_.buffers()); ++b) {
      const tflite::Buffer* buffer = m_.buffers()->Get(b);
      if (buffer == nullptr) return Fail("buffer " + Str(b) + " is missing");
      if (buffer->data() == nullptr && buffer->offset() > 1 &&
          (buffer->offset() > file_bytes_ || buffer->size() > file_bytes_ - buffer->offset())) {
        return Fail("buffer " + Str(b) + " spans bytes " + Str(buffer->offset()) + " to " + Str(buffer->offset()) +
                    "+" + Str(buffer->size()) + " of a " + Str(file_bytes_) + "-byte file");
      }
    }
    return Status::Ok();
  }

  // Bytes of constant data behind a tensor, or -1 when it has none (TFLite's reading of it).
  int64_t ConstantBytes(const tflite::Tensor& t) const {
    if (t.buffer() == 0 || t.buffer() >= Length(m_.buffers())) return -1;
    const tflite::Buffer* buffer = m_.buffers()->Get(t.buffer());
    if (buffer->data()) return static_cast<int64_t>(buffer->data()->size());
    if (buffer->offset() > 1) return static_cast<int64_t>(buffer->size());
    return -1;
  }

  Status CheckSubgraph(size_t s) {
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
          return Fail(sub + ": tensor " + Str(static_cast<uint64_t>(t)) + Quoted(tensor) +
                      " is an output of operator " + Str(static_cast<uint64_t>(writer[t])) + " and of operator " +
                      Str(o) + "; a tensor has one writer");
        }
        writer[t] = static_cast<int64_t>(o);
        // TFLite maps a tensor with data to the model's bytes (shared, possibly read-only): an
        // op writing one writes there (RESHAPE of a string input overflowed a constant output
        // of 47 bytes: model_fuzzer).
        const tflite::Tensor* tensor = sg->tensors()->Get(t);
        if (tensor && ConstantBytes(*tensor) > 0) {
          return Fail(sub + ": operator " + Str(o) + " writes tensor " + Str(static_cast<uint64_t>(t)) +
                      Quoted(tensor) + ", a constant (buffer " + Str(tensor->buffer()) +
                      "); an operator writes no constant");
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

  // A resource variable holds what ASSIGN_VARIABLE last gave it, and READ_VARIABLE copies as many
  // bytes as its output declares (an output of rank 0 is resized to the variable instead): every
  // value assigned to a variable and every output read from it must have one type and shape (a
  // READ_VARIABLE output declared larger than the variable fed a CONCATENATION a memcpy past the
  // buffer: model_fuzzer, 1 in 240,000). Variables are named by their VAR_HANDLE's container and
  // shared name, across subgraphs; shapes that vary, and handles passed between subgraphs, are
  // checked when READ_VARIABLE runs (checked_read_variable.h). Runs after every subgraph's checks.
  Status CheckResourceVariables() const {
    struct Use {
      std::string what;  // names the op and operand
      const tflite::Tensor* tensor;
    };
    std::map<std::pair<std::string, std::string>, std::vector<Use>> uses;
    for (size_t s = 0; s < m_.subgraphs()->size(); ++s) {
      const tflite::SubGraph& sg = *m_.subgraphs()->Get(s);
      std::vector<const tflite::Operator*> writer(Length(sg.tensors()), nullptr);
      for (size_t o = 0; o < Length(sg.operators()); ++o) {
        const tflite::Operator* op = sg.operators()->Get(o);
        for (size_t i = 0; i < Length(op->outputs()); ++i) {
          if (op->outputs()->Get(i) >= 0) writer[op->outputs()->Get(i)] = op;
        }
      }
      for (size_t o = 0; o < Length(sg.operators()); ++o) {
        const tflite::Operator& op = *sg.operators()->Get(o);
        const tflite::BuiltinOperator code = tflite::GetBuiltinCode(m_.operator_codes()->Get(op.opcode_index()));
        const bool read = code == tflite::BuiltinOperator_READ_VARIABLE;
        if ((!read && code != tflite::BuiltinOperator_ASSIGN_VARIABLE) || Length(op.inputs()) < 1) continue;
        const int32_t handle = op.inputs()->Get(0);
        const tflite::Operator* var = handle >= 0 ? writer[handle] : nullptr;
        const tflite::VarHandleOptions* options = var ? var->builtin_options_as_VarHandleOptions() : nullptr;
        if (options == nullptr) continue;  // not made here by a VAR_HANDLE: checked when it runs
        const int32_t value = read ? (Length(op.outputs()) ? op.outputs()->Get(0) : -1)
                                   : (Length(op.inputs()) > 1 ? op.inputs()->Get(1) : -1);
        if (value < 0) continue;
        const tflite::Tensor* t = sg.tensors()->Get(value);
        bool varies = read && Length(t->shape()) == 0;  // TFLite makes such an output dynamic
        for (size_t d = 0; d < Length(t->shape_signature()); ++d) varies |= t->shape_signature()->Get(d) < 0;
        if (varies) continue;
        const std::string what = "subgraph " + Str(s) + ": operator " + Str(o) +
                                 (read ? " (READ_VARIABLE)'s output" : " (ASSIGN_VARIABLE)'s value") + " (tensor " +
                                 std::to_string(value) + Quoted(t) + ")";
        const auto key = std::pair{options->container() ? options->container()->str() : std::string(),
                                   options->shared_name() ? options->shared_name()->str() : std::string()};
        for (const Use& other : uses[key]) {
          if (other.tensor->type() != t->type() || Shape(*other.tensor) != Shape(*t)) {
            return Fail(what + " is " + tflite::EnumNameTensorType(t->type()) + " " + ShapeText(Shape(*t)) + " but " +
                        other.what + " is " + tflite::EnumNameTensorType(other.tensor->type()) + " " +
                        ShapeText(Shape(*other.tensor)) + ", for the same variable '" + key.second +
                        "'; a variable has one type and shape");
          }
        }
        uses[key].push_back(Use{what, t});
      }
    }
    return Status::Ok();
  }

  Status CheckTensor(const tflite::SubGraph& sg, const std::string& sub, size_t t) {
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
        return Fail(tn + " has " + Str(Length(q->scale())) + " quantization scales but " +
                    Str(Length(q->zero_point())) + " zero points");
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
      const bool per_tensor = Length(q->scale()) == 1 && (tensor->type() == tflite::TensorType_INT8 ||
                                                          tensor->type() == tflite::TensorType_UINT8 ||
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
          return Fail(tn + " (" + tflite::EnumNameTensorType(tensor->type()) + ") has zero point " +
                      std::to_string(zp) + " out of its type's range");
        }
      }
    }
    return Status::Ok();
  }

  static std::vector<int> Shape(const tflite::Tensor& t) {
    return t.shape() ? std::vector<int>(t.shape()->begin(), t.shape()->end()) : std::vector<int>();
  }

  // One operator: its operands by position, and messages that name them.
  struct OpView {
    const tflite::SubGraph& sg;
    const tflite::Operator& op;
    const std::string& name;

    int inputs() const { return static_cast<int>(Length(op.inputs())); }
    int outputs() const { return static_cast<int>(Length(op.outputs())); }
    const tflite::Tensor* Get(const flatbuffers::Vector<int32_t>* list, int i) const {
      if (i < 0 || static_cast<size_t>(i) >= Length(list) || list->Get(i) < 0) return nullptr;
      return sg.tensors()->Get(list->Get(i));
    }
    const tflite::Tensor* in(int i) const { return Get(op.inputs(), i); }
    const tflite::Tensor* out(int i) const { return Get(op.outputs(), i); }
    const tflite::Tensor* intermediate(int i) const { return Get(op.intermediates(), i); }
    std::string Name(const char* kind, const flatbuffers::Vector<int32_t>* list, int i) const {
      const tflite::Tensor* t = Get(list, i);
      std::string s = name + ": " + kind + " " + std::to_string(i);
      if (t)
        s += " (tensor " + std::to_string(list->Get(i)) +
             (t->name() && t->name()->size() > 0 ? " '" + t->name()->str() + "'" : "") + ")";
      return s;
    }
    std::string InName(int i) const { return Name("input", op.inputs(), i); }
  };

  // Kernels fetch the operands they need without a null check (GetInput): "no tensor" (-1) is
  // accepted only where an op's kernel asks for an optional one.
  static bool MayBeAbsent(tflite::BuiltinOperator code, bool output, int position) {
    switch (code) {
      case tflite::BuiltinOperator_LSTM:
      case tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM:
      case tflite::BuiltinOperator_BIDIRECTIONAL_SEQUENCE_LSTM: return !output;  // CheckLstm says which
      case tflite::BuiltinOperator_FULLY_CONNECTED:
      case tflite::BuiltinOperator_CONV_2D:
      case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:
      case tflite::BuiltinOperator_PAD:
      case tflite::BuiltinOperator_PADV2: return !output && position == 2;
      case tflite::BuiltinOperator_TRANSPOSE_CONV:
      case tflite::BuiltinOperator_SVDF: return !output && position == 3;
      case tflite::BuiltinOperator_BIDIRECTIONAL_SEQUENCE_RNN: return !output && position >= 9 && position <= 11;
      case tflite::BuiltinOperator_IF: return output || position > 0;
      case tflite::BuiltinOperator_WHILE: return output;
      default: return false;
    }
  }

  Status CheckOperator(const tflite::SubGraph& sg, const tflite::Operator& op, const std::string& name) {
    const OpView v{sg, op, name};
    const tflite::BuiltinOperator code = tflite::GetBuiltinCode(m_.operator_codes()->Get(op.opcode_index()));
    if (code != tflite::BuiltinOperator_CUSTOM) {
      for (auto [list, output] : {std::pair{op.inputs(), false}, std::pair{op.outputs(), true}}) {
        for (size_t i = 0; i < Length(list); ++i) {
          if (list->Get(i) == -1 && !MayBeAbsent(code, output, static_cast<int>(i))) {
            return Fail(name + ": " + (output ? "output " : "input ") + Str(i) + " is absent (-1); the op needs it");
          }
        }
      }
      for (size_t i = 0; i < Length(op.intermediates()); ++i) {
        if (op.intermediates()->Get(i) == -1) return Fail(name + ": intermediate " + Str(i) + " is absent (-1)");
      }
      // A variable is allocated once, before any Prepare, at its declared size: an op that
      // resized it as its output would write past it. Stateful ops update the variables they
      // take as inputs, in place; the one writer the converter makes is a (DE)QUANTIZE of a
      // state's initial value (float16 models), which keeps the shape.
      for (int i = 0; i < v.outputs(); ++i) {
        if (!v.out(i) || !v.out(i)->is_variable()) continue;
        const bool converts = code == tflite::BuiltinOperator_DEQUANTIZE || code == tflite::BuiltinOperator_QUANTIZE;
        if (!converts || v.inputs() != 1 || !v.in(0) || Shape(*v.in(0)) != Shape(*v.out(i))) {
          return Fail(v.Name("output", op.outputs(), i) +
                      " is a variable tensor; only a QUANTIZE or DEQUANTIZE of its own shape may write one");
        }
      }
      // QUANTIZE gives its output the input's shape in Prepare; per channel, its scales must fit
      // that shape (the kernel reads one per index, past them otherwise: found by model_fuzzer).
      if (code == tflite::BuiltinOperator_QUANTIZE && v.inputs() >= 1 && v.in(0) && v.outputs() >= 1 && v.out(0) &&
          v.out(0)->quantization() && Length(v.out(0)->quantization()->scale()) > 1 &&
          Shape(*v.in(0)) != Shape(*v.out(0))) {
        return Fail(v.Name("output", op.outputs(), 0) + " is quantized per channel at shape " +
                    ShapeText(Shape(*v.out(0))) + ", but QUANTIZE gives it its input's shape " +
                    ShapeText(Shape(*v.in(0))));
      }
      // Kernels fetch output 0 late in Prepare, after allocating the output's shape (which then
      // leaks when the fetch fails); only ops that write no tensor may list none.
      if (Length(op.outputs()) == 0 && code != tflite::BuiltinOperator_CALL_ONCE &&
          code != tflite::BuiltinOperator_ASSIGN_VARIABLE && code != tflite::BuiltinOperator_WHILE &&
          code != tflite::BuiltinOperator_IF) {
        return Fail(name + ": it has no outputs");
      }
    }
    TFLSTM_RETURN_IF_ERROR(CheckQuantizedOperands(v, code));
    TFLSTM_RETURN_IF_ERROR(CheckSameType(v, code));
    switch (code) {
      case tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM:
        return CheckLstmOp(v, /*sequence=*/true,
                           op.builtin_options_as_UnidirectionalSequenceLSTMOptions()
                               ? op.builtin_options_as_UnidirectionalSequenceLSTMOptions()->time_major()
                               : false);
      case tflite::BuiltinOperator_LSTM:
        if (v.inputs() == 5) return Status::Ok();  // the basic kernel checks its own operands
        return CheckLstmOp(v, /*sequence=*/false, false);
      case tflite::BuiltinOperator_BIDIRECTIONAL_SEQUENCE_LSTM: return CheckBidirectionalLstm(v);
      case tflite::BuiltinOperator_CUSTOM: return rnn::CheckTflstmCustomOp(m_, v.sg, v.op, where_ + ": " + name);
      case tflite::BuiltinOperator_FULLY_CONNECTED:
        return CheckFullyConnected(v, m_.operator_codes()->Get(op.opcode_index())->version());
      case tflite::BuiltinOperator_CONCATENATION: return CheckConcatenation(v);
      case tflite::BuiltinOperator_CONV_2D: return CheckConv(v);
      case tflite::BuiltinOperator_DEPTHWISE_CONV_2D: return CheckDepthwiseConv(v);
      case tflite::BuiltinOperator_AVERAGE_POOL_2D:
      case tflite::BuiltinOperator_MAX_POOL_2D:
      case tflite::BuiltinOperator_L2_POOL_2D: return CheckPool(v);
      case tflite::BuiltinOperator_PAD:
      case tflite::BuiltinOperator_PADV2:
      case tflite::BuiltinOperator_MIRROR_PAD: return CheckPad(v);
      case tflite::BuiltinOperator_REVERSE_V2: return CheckReverse(v);
      case tflite::BuiltinOperator_WHILE:
        if (const auto* o = op.builtin_options_as_WhileOptions()) {
          TFLSTM_RETURN_IF_ERROR(CheckSubgraphIndex(v, o->cond_subgraph_index(), "condition"));
          return CheckSubgraphIndex(v, o->body_subgraph_index(), "body");
        }
        return Status::Ok();
      case tflite::BuiltinOperator_IF:
        if (const auto* o = op.builtin_options_as_IfOptions()) {
          TFLSTM_RETURN_IF_ERROR(CheckSubgraphIndex(v, o->then_subgraph_index(), "then branch"));
          return CheckSubgraphIndex(v, o->else_subgraph_index(), "else branch");
        }
        return Status::Ok();
      case tflite::BuiltinOperator_CALL_ONCE:
        if (const auto* o = op.builtin_options_as_CallOnceOptions()) {
          return CheckSubgraphIndex(v, o->init_subgraph_index(), "init");
        }
        return Status::Ok();
      default: return Status::Ok();
    }
  }

  // Kernels that compute on int8, uint8 or int16 data as quantized numbers read the scale and
  // zero point without checking that the tensor has them.
  Status CheckQuantizedOperands(const OpView& v, tflite::BuiltinOperator code) const {
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
    const bool elementwise = code == tflite::BuiltinOperator_ADD || code == tflite::BuiltinOperator_SUB ||
                             code == tflite::BuiltinOperator_MUL;
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
    const bool quantized =
        last && (last->type() == tflite::TensorType_INT8 || last->type() == tflite::TensorType_UINT8 ||
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
  Status CheckSameType(const OpView& v, tflite::BuiltinOperator code) const {
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
  Status CheckConcatenation(const OpView& v) const {
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
                    "; the int8 kernel needs the output's (" + std::to_string(out_scale) + ", " +
                    std::to_string(out_zp) + ")");
      }
    }
    return Status::Ok();
  }

  Status CheckSubgraphIndex(const OpView& v, int32_t index, const char* what) const {
    if (index < 0 || static_cast<size_t>(index) >= Length(m_.subgraphs())) {
      return Fail(v.name + ": its " + what + " is subgraph " + std::to_string(index) + " of " +
                  Str(Length(m_.subgraphs())));
    }
    return Status::Ok();
  }

  Status NeedInputs(const OpView& v, int lo, int hi) const {
    if (v.inputs() < lo || v.inputs() > hi) {
      return Fail(v.name + " has " + std::to_string(v.inputs()) + " inputs; it takes " + std::to_string(lo) +
                  (hi == lo ? "" : " to " + std::to_string(hi)));
    }
    return Status::Ok();
  }
  Status NeedOutputs(const OpView& v, int lo, int hi) const {
    if (v.outputs() < lo || v.outputs() > hi || v.out(0) == nullptr) {
      return Fail(v.name + " has " + std::to_string(v.outputs()) + " outputs; it gives " + std::to_string(lo) +
                  (hi == lo ? "" : " to " + std::to_string(hi)));
    }
    return Status::Ok();
  }
  Status Present(const OpView& v, int i) const {
    if (v.in(i) == nullptr) return Fail(v.InName(i) + " is missing; it is required");
    return Status::Ok();
  }
  // The input's shape must be `want`; -1 in `want` matches any size.
  Status HasShape(const OpView& v, int i, const std::vector<int>& want, const char* meaning) const {
    const std::vector<int> got = Shape(*v.in(i));
    bool match = got.size() == want.size();
    for (size_t d = 0; match && d < got.size(); ++d) match = want[d] < 0 || got[d] == want[d];
    if (!match) {
      return Fail(v.InName(i) + " has shape " + ShapeText(got) + "; " + meaning + " needs " + ShapeText(want));
    }
    return Status::Ok();
  }
  Status HasType(const OpView& v, int i, tflite::TensorType want, const char* why) const {
    if (v.in(i)->type() != want) {
      return Fail(v.InName(i) + " is " + tflite::EnumNameTensorType(v.in(i)->type()) + "; " + why + " needs " +
                  tflite::EnumNameTensorType(want));
    }
    return Status::Ok();
  }
  static bool Quantized(const tflite::Tensor& t) {
    return t.quantization() && Length(t.quantization()->scale()) > 0 && Length(t.quantization()->zero_point()) > 0;
  }
  static uint64_t Elements(const tflite::Tensor& t) {
    uint64_t n = 1;
    for (int d : Shape(t)) n *= static_cast<uint64_t>(d);
    return n;
  }
  // Whether dimension `d` of the tensor may vary at run time (so its stored size proves nothing).
  static bool FreeDim(const tflite::Tensor& t, size_t d) {
    return d < Length(t.shape_signature()) && t.shape_signature()->Get(d) == -1;
  }

  // Operand positions of one LSTM (a direction of the bidirectional op).
  struct LstmOperands {
    int input;
    int weights_in[4];   // input-to-{input, forget, cell, output} gates
    int weights_rec[4];  // recurrent-to-{input, forget, cell, output}
    int peephole[3];     // cell-to-{input, forget, output}
    int bias[4];         // {input, forget, cell, output} gate bias
    int projection_weights, projection_bias;
    int output_state, cell_state;
    int layer_norm[4];  // -1 when the op has none
  };

  static LstmOperands FullLstm(bool layer_norm) {
    LstmOperands p{0, {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11}, {12, 13, 14, 15}, 16, 17, 18, 19, {-1, -1, -1, -1}};
    if (layer_norm)
      for (int i = 0; i < 4; ++i) p.layer_norm[i] = 20 + i;
    return p;
  }

  Status CheckLstmOp(const OpView& v, bool sequence, bool time_major) {
    if (v.inputs() != 20 && v.inputs() != 24) {
      return Fail(v.name + " has " + std::to_string(v.inputs()) +
                  " inputs; it takes 20, or 24 with layer normalization");
    }
    TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 1));
    const LstmOperands p = FullLstm(v.inputs() == 24);
    TFLSTM_RETURN_IF_ERROR(Present(v, p.input));
    const std::vector<int> in = Shape(*v.in(p.input));
    const size_t rank = sequence ? 3 : 2;
    if (in.size() != rank) {
      return Fail(v.InName(p.input) + " has shape " + ShapeText(in) + "; the op needs rank " + Str(rank));
    }
    const int batch = sequence && time_major ? in[1] : in[0];
    const int n_input = FreeDim(*v.in(p.input), rank - 1) ? -1 : in[rank - 1];
    TFLSTM_RETURN_IF_ERROR(CheckLstm(v, p, batch, n_input));
    const bool integer = v.in(p.input)->type() == tflite::TensorType_INT8;
    if (v.out(0)->type() != v.in(p.input)->type()) {
      return Fail(v.name + ": its output is " + tflite::EnumNameTensorType(v.out(0)->type()) + " but its input " +
                  tflite::EnumNameTensorType(v.in(p.input)->type()));
    }
    if (integer) {
      // The integer kernel reads five intermediates' quantization (gate scales and the hidden state's).
      if (Length(v.op.intermediates()) != 5) {
        return Fail(v.name + " is integer (int8 input) and has " + Str(Length(v.op.intermediates())) +
                    " intermediates; it needs 5");
      }
      const bool layer_norm = v.inputs() == 24 && v.in(p.layer_norm[1]) != nullptr;
      for (int i = layer_norm ? 0 : 4; i < 5; ++i) {
        const tflite::Tensor* t = v.intermediate(i);
        if (t == nullptr || !Quantized(*t)) {
          return Fail(v.Name("intermediate", v.op.intermediates(), i) + " needs quantization parameters");
        }
      }
      if (!Quantized(*v.out(0))) return Fail(v.name + ": its int8 output needs quantization parameters");
      return CheckInt8LstmScales(v, p, layer_norm);
    }
    return Status::Ok();
  }

  // The integer kernel turns ratios of scales into fixed-point multipliers (as TFLite's
  // PopulateQuantizedLstmParams8x8_16 does, in float) and shifts by their exponent: one of
  // 2^30 or more is a left shift past 30 bits, which overflows. No trained model is near it.
  Status CheckInt8LstmScales(const OpView& v, const LstmOperands& p, bool layer_norm) const {
    auto scale = [](const tflite::Tensor* t) { return t ? t->quantization()->scale()->Get(0) : 1.0f; };
    float gate[4];
    for (int g = 0; g < 4; ++g) gate[g] = layer_norm ? scale(v.intermediate(g)) : std::ldexp(1.0f, -12);
    const float hidden = scale(v.intermediate(4));
    const float input = scale(v.in(p.input));
    const float state = scale(v.in(p.output_state));
    const int cell_exponent = static_cast<int>(std::round(std::log2(scale(v.in(p.cell_state)))));
    const char* gate_name[4] = {"input", "forget", "cell", "output"};
    std::vector<std::pair<std::string, float>> effective = {
        {"the hidden state", std::ldexp(1.0f, -15) / hidden * std::ldexp(1.0f, -15)},
        {"the projection", scale(v.in(p.projection_weights)) * hidden / state}};
    for (int g = 0; g < 4; ++g) {
      if (v.in(p.weights_in[g]) == nullptr) continue;  // CIFG
      effective.emplace_back(std::string("input to ") + gate_name[g], scale(v.in(p.weights_in[g])) * input / gate[g]);
      effective.emplace_back(std::string("recurrent to ") + gate_name[g],
                             scale(v.in(p.weights_rec[g])) * state / gate[g]);
    }
    for (int k = 0; k < 3; ++k) {
      const int g = k == 2 ? 3 : k;  // cell-to-{input, forget, output}
      if (v.in(p.peephole[k]) != nullptr) {
        effective.emplace_back(std::string("cell to ") + gate_name[g],
                               std::ldexp(1.0f, cell_exponent) * scale(v.in(p.peephole[k])) / gate[g]);
      }
    }
    for (int g = 0; layer_norm && g < 4; ++g) {
      if (v.in(p.layer_norm[g]) != nullptr) {
        effective.emplace_back(std::string("the ") + gate_name[g] + " gate's layer norm", scale(v.in(p.layer_norm[g])));
      }
    }
    for (const auto& [what, value] : effective) {
      if (!(value < std::ldexp(1.0f, 30))) {
        return Fail(v.name + ": the effective scale of " + what + " is " + Number(value) +
                    ", 2^30 or more; the integer kernel's fixed-point multipliers cannot hold it");
      }
    }
    return Status::Ok();
  }

  Status CheckBidirectionalLstm(const OpView& v) {
    TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 48, 48));
    TFLSTM_RETURN_IF_ERROR(NeedOutputs(v, 1, 2));
    const auto* options = v.op.builtin_options_as_BidirectionalSequenceLSTMOptions();
    const bool time_major = options ? options->time_major() : true;
    TFLSTM_RETURN_IF_ERROR(Present(v, 0));
    const std::vector<int> in = Shape(*v.in(0));
    if (in.size() != 3) return Fail(v.InName(0) + " has shape " + ShapeText(in) + "; the op needs rank 3");
    const int batch = time_major ? in[1] : in[0];
    const int n_input = FreeDim(*v.in(0), 2) ? -1 : in[2];
    const LstmOperands fw{0,  {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11}, {12, 13, 14, 15},
                          16, 17,           35,           36,          {-1, -1, -1, -1}};
    const LstmOperands bw{0,  {18, 19, 20, 21}, {22, 23, 24, 25}, {26, 27, 28}, {29, 30, 31, 32}, 33, 34, 37,
                          38, {-1, -1, -1, -1}};
    TFLSTM_RETURN_IF_ERROR(CheckLstm(v, fw, batch, n_input));
    TFLSTM_RETURN_IF_ERROR(CheckLstm(v, bw, batch, n_input));
    // Auxiliary input weights map the auxiliary input to each direction's cells.
    for (int i = 40; i < 48; ++i) {
      if (v.in(i) == nullptr) continue;
      const int n_cell = Shape(*v.in(i < 44 ? fw.weights_in[3] : bw.weights_in[3]))[0];
      TFLSTM_RETURN_IF_ERROR(HasShape(v, i, {n_cell, -1}, "an auxiliary input weight"));
      if (v.in(39) == nullptr) return Fail(v.InName(i) + " is given but the auxiliary input (39) is not");
    }
    return Status::Ok();
  }

  // Weight, bias and state shapes against each other, as the kernels index them.
  Status CheckLstm(const OpView& v, const LstmOperands& p, int batch, int n_input) {
    for (int i : {p.weights_in[1], p.weights_in[2], p.weights_in[3], p.weights_rec[1], p.weights_rec[2],
                  p.weights_rec[3], p.bias[1], p.bias[2], p.bias[3], p.output_state, p.cell_state}) {
      TFLSTM_RETURN_IF_ERROR(Present(v, i));
    }
    const std::vector<int> w_out = Shape(*v.in(p.weights_in[3]));
    if (w_out.size() != 2) {
      return Fail(v.InName(p.weights_in[3]) + " has shape " + ShapeText(w_out) + "; a weight matrix has rank 2");
    }
    const int n_cell = w_out[0];
    const bool cifg = v.in(p.weights_in[0]) == nullptr;
    const tflite::TensorType weight_type = v.in(p.weights_in[3])->type();
    const tflite::TensorType input_type = v.in(p.input)->type();
    if (input_type != tflite::TensorType_FLOAT32 && input_type != tflite::TensorType_INT8) {
      return Fail(v.InName(p.input) + " is " + tflite::EnumNameTensorType(input_type) +
                  "; the op takes FLOAT32 or INT8");
    }
    const bool integer = input_type == tflite::TensorType_INT8;
    const bool hybrid = !integer && weight_type != tflite::TensorType_FLOAT32;
    if (weight_type != tflite::TensorType_FLOAT32 && weight_type != tflite::TensorType_INT8 &&
        weight_type != tflite::TensorType_UINT8) {
      return Fail(v.InName(p.weights_in[3]) + " is " + tflite::EnumNameTensorType(weight_type) +
                  "; LSTM weights are FLOAT32, INT8 or UINT8");
    }
    if (integer && weight_type != tflite::TensorType_INT8) {
      return Fail(v.InName(p.weights_in[3]) + " is " + tflite::EnumNameTensorType(weight_type) +
                  "; an int8 LSTM needs INT8 weights");
    }
    // The integer kernel folds its weights and biases into precomputed rows in Prepare, reading
    // their data whether or not they have any: they must be constants of the model.
    if (integer) {
      std::vector<int> constant(std::begin(p.weights_in), std::end(p.weights_in));
      constant.insert(constant.end(), std::begin(p.weights_rec), std::end(p.weights_rec));
      constant.insert(constant.end(), std::begin(p.bias), std::end(p.bias));
      constant.insert(constant.end(), {p.projection_weights, p.projection_bias});
      for (int i : constant) {
        if (v.in(i) != nullptr && ConstantBytes(*v.in(i)) <= 0) {
          return Fail(v.InName(i) + " has no data in the model; an int8 LSTM needs constant weights and biases");
        }
      }
    }
    for (int g = 0; g < 4; ++g) {
      if (v.in(p.weights_in[g]) == nullptr) continue;
      TFLSTM_RETURN_IF_ERROR(HasShape(v, p.weights_in[g], {n_cell, n_input}, "an input weight matrix"));
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.weights_in[g], weight_type, "every weight of the op"));
    }
    if ((v.in(p.weights_rec[0]) == nullptr) != cifg) {
      return Fail(v.name + ": the input gate's input and recurrent weights must both be given or both be absent");
    }
    // Recurrent weights are [n_cell, n_output], or a diagonal [n_cell] (then n_output = n_cell).
    const std::vector<int> r_out = Shape(*v.in(p.weights_rec[3]));
    const int n_output = r_out.size() == 2 ? r_out[1] : n_cell;
    for (int g = 0; g < 4; ++g) {
      if (v.in(p.weights_rec[g]) == nullptr) continue;
      TFLSTM_RETURN_IF_ERROR(HasShape(v, p.weights_rec[g],
                                      r_out.size() == 1 ? std::vector<int>{n_cell} : std::vector<int>{n_cell, n_output},
                                      "a recurrent weight matrix"));
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.weights_rec[g], weight_type, "every weight of the op"));
    }
    const bool peephole = v.in(p.peephole[2]) != nullptr;
    if ((v.in(p.peephole[1]) != nullptr) != peephole || (!cifg && (v.in(p.peephole[0]) != nullptr) != peephole)) {
      return Fail(v.name + ": the peephole weights must all be given or all be absent");
    }
    for (int i : p.peephole) {
      if (v.in(i) != nullptr) TFLSTM_RETURN_IF_ERROR(HasShape(v, i, {n_cell}, "a peephole weight"));
    }
    const tflite::TensorType bias_type = integer ? tflite::TensorType_INT32 : tflite::TensorType_FLOAT32;
    if (cifg && v.in(p.bias[0]) != nullptr) {
      return Fail(v.InName(p.bias[0]) + " is given, but the op has no input gate (no input weights)");
    }
    if (!cifg) TFLSTM_RETURN_IF_ERROR(Present(v, p.bias[0]));
    const bool layer_norm = p.layer_norm[1] >= 0 && v.in(p.layer_norm[1]) != nullptr;
    for (int g = 0; g < 4; ++g) {
      if (v.in(p.bias[g]) == nullptr) continue;
      TFLSTM_RETURN_IF_ERROR(HasShape(v, p.bias[g], {n_cell}, "a gate bias"));
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.bias[g], bias_type, "a gate bias of this LSTM"));
    }
    if (v.in(p.projection_weights) != nullptr) {
      TFLSTM_RETURN_IF_ERROR(HasShape(v, p.projection_weights, {n_output, n_cell}, "the projection"));
      if (integer) TFLSTM_RETURN_IF_ERROR(HasType(v, p.projection_weights, tflite::TensorType_INT8, "an int8 LSTM"));
    } else if (n_output != n_cell) {
      // Without a projection the hidden state (n_cell wide) is the output (n_output wide).
      return Fail(v.name + " has " + std::to_string(n_cell) + " cells but an output of " + std::to_string(n_output) +
                  " and no projection");
    }
    if (v.in(p.projection_bias) != nullptr) {
      if (v.in(p.projection_weights) == nullptr)
        return Fail(v.InName(p.projection_bias) + " is given without projection weights");
      TFLSTM_RETURN_IF_ERROR(HasShape(v, p.projection_bias, {n_output}, "the projection bias"));
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.projection_bias, bias_type, "the projection bias of this LSTM"));
    }
    if (layer_norm) {
      for (int g = 0; g < 4; ++g) {
        if (g == 0 && cifg) {
          if (v.in(p.layer_norm[0]) != nullptr)
            return Fail(v.InName(p.layer_norm[0]) + " is given but the op has no input gate");
          continue;
        }
        TFLSTM_RETURN_IF_ERROR(Present(v, p.layer_norm[g]));
        TFLSTM_RETURN_IF_ERROR(HasShape(v, p.layer_norm[g], {n_cell}, "a layer normalization coefficient"));
        if (integer) TFLSTM_RETURN_IF_ERROR(HasType(v, p.layer_norm[g], tflite::TensorType_INT16, "an int8 LSTM"));
      }
    }
    // States are [batch, n_output] and [batch, n_cell]; the kernel checks only element counts.
    const uint64_t want_out = static_cast<uint64_t>(batch) * static_cast<uint64_t>(n_output);
    const uint64_t want_cell = static_cast<uint64_t>(batch) * static_cast<uint64_t>(n_cell);
    if (Elements(*v.in(p.output_state)) != want_out) {
      return Fail(v.InName(p.output_state) + " (output state) has shape " + ShapeText(Shape(*v.in(p.output_state))) +
                  "; batch " + std::to_string(batch) + " x output " + std::to_string(n_output) + " is needed");
    }
    if (Elements(*v.in(p.cell_state)) != want_cell) {
      return Fail(v.InName(p.cell_state) + " (cell state) has shape " + ShapeText(Shape(*v.in(p.cell_state))) +
                  "; batch " + std::to_string(batch) + " x cells " + std::to_string(n_cell) + " is needed");
    }
    if (integer) {
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.output_state, tflite::TensorType_INT8, "an int8 LSTM's output state"));
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.cell_state, tflite::TensorType_INT16, "an int8 LSTM's cell state"));
      for (int i : {p.input, p.output_state, p.cell_state}) {
        if (!Quantized(*v.in(i))) return Fail(v.InName(i) + " needs quantization parameters (the LSTM is int8)");
      }
    } else {
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.output_state, tflite::TensorType_FLOAT32, "a float LSTM's output state"));
      TFLSTM_RETURN_IF_ERROR(HasType(v, p.cell_state, tflite::TensorType_FLOAT32, "a float LSTM's cell state"));
    }
    if (integer || hybrid) {
      for (int i : {p.weights_in[0], p.weights_in[1], p.weights_in[2], p.weights_in[3], p.weights_rec[0],
                    p.weights_rec[1], p.weights_rec[2], p.weights_rec[3], p.projection_weights}) {
        if (v.in(i) != nullptr && v.in(i)->type() != tflite::TensorType_FLOAT32 && !Quantized(*v.in(i))) {
          return Fail(v.InName(i) + " is quantized but has no quantization parameters");
        }
      }
    }
    return Status::Ok();
  }

  Status CheckFullyConnected(const OpView& v, int version) {
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
  Status CheckPad(const OpView& v) const {
    TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 2, 3));
    TFLSTM_RETURN_IF_ERROR(Present(v, 0));
    TFLSTM_RETURN_IF_ERROR(Present(v, 1));
    return HasShape(v, 1, {static_cast<int>(Shape(*v.in(0)).size()), 2}, "padding each axis of input 0");
  }

  // REVERSE_V2's Eval reads the first axis whatever its axis tensor holds: an empty one (no
  // storage) was a null read (model_fuzzer). A graph input resized to empty is refused when the
  // runner is prepared (runner.cc, CheckNoEmptyOperands).
  Status CheckReverse(const OpView& v) const {
    TFLSTM_RETURN_IF_ERROR(NeedInputs(v, 2, 2));
    TFLSTM_RETURN_IF_ERROR(Present(v, 1));
    if (Elements(*v.in(1)) == 0) {
      return Fail(v.InName(1) + " has shape " + ShapeText(Shape(*v.in(1))) + "; the kernel reads an axis from it");
    }
    return Status::Ok();
  }

  Status CheckWindow(const OpView& v, int stride_w, int stride_h, int dilation_w, int dilation_h) const {
    // Output sizes are divided by these: zero or negative values divide by zero or wrap.
    if (stride_w < 1 || stride_h < 1 || dilation_w < 1 || dilation_h < 1) {
      return Fail(v.name + " has strides " + std::to_string(stride_w) + "x" + std::to_string(stride_h) +
                  " and dilations " + std::to_string(dilation_w) + "x" + std::to_string(dilation_h) +
                  "; each must be at least 1");
    }
    return Status::Ok();
  }

  // CONV_2D's filter is [out, h, w, in], DEPTHWISE_CONV_2D's [1, h, w, out]: `out_axis` says which.
  Status CheckConvOperands(const OpView& v, size_t out_axis) {
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

  Status CheckConv(const OpView& v) {
    TFLSTM_RETURN_IF_ERROR(CheckConvOperands(v, 0));
    const auto* o = v.op.builtin_options_as_Conv2DOptions();
    return o ? CheckWindow(v, o->stride_w(), o->stride_h(), o->dilation_w_factor(), o->dilation_h_factor())
             : Status::Ok();
  }

  Status CheckDepthwiseConv(const OpView& v) {
    TFLSTM_RETURN_IF_ERROR(CheckConvOperands(v, 3));
    const auto* o = v.op.builtin_options_as_DepthwiseConv2DOptions();
    return o ? CheckWindow(v, o->stride_w(), o->stride_h(), o->dilation_w_factor(), o->dilation_h_factor())
             : Status::Ok();
  }

  Status CheckPool(const OpView& v) {
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

  const tflite::Model& m_;
  const size_t file_bytes_;
  const std::string& where_;
};

}  // namespace

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
