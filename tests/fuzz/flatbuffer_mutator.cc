#include "flatbuffer_mutator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tensorflow/lite/schema/schema_generated.h"

// libFuzzer's own mutators, for what the structure-aware ones do not cover.
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace tflstm::fuzz {
namespace {

using Rng = std::mt19937;

// Values at which sizes, indices and signed/unsigned conversions go wrong.
constexpr uint32_t kEdges[] = {0,      1,      2,       3,          4,          7,          8,
                               16,     64,     0x7f,    0x80,       0xff,       0x100,      0x7fff,
                               0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};

uint32_t Pick(Rng& rng, uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng() % n); }
bool Chance(Rng& rng, uint32_t one_in) { return Pick(rng, one_in) == 0; }
int32_t Edge(Rng& rng) { return static_cast<int32_t>(kEdges[Pick(rng, std::size(kEdges))]); }

// An index near the valid range: in range, just past it, -1, or an edge value.
int32_t NearIndex(Rng& rng, size_t n) {
  switch (Pick(rng, 4)) {
    case 0: return static_cast<int32_t>(Pick(rng, static_cast<uint32_t>(n) + 1));
    case 1: return static_cast<int32_t>(n);
    case 2: return -1;
    default: return Edge(rng);
  }
}

// A new size for a dimension: an edge value, a neighbour of the old one, or a small number.
int32_t NearSize(Rng& rng, int32_t old) {
  switch (Pick(rng, 4)) {
    case 0: return Edge(rng);
    case 1: return static_cast<int32_t>(static_cast<uint32_t>(old) + 1u);  // wraps, as a flipped field would
    case 2: return static_cast<int32_t>(static_cast<uint32_t>(old) - 1u);
    default: return static_cast<int32_t>(Pick(rng, 9));
  }
}

void MutateIntList(std::vector<int32_t>& v, Rng& rng, size_t range) {
  if (v.empty() || Chance(rng, 8)) {
    v.push_back(NearIndex(rng, range));
  } else if (Chance(rng, 8)) {
    v.pop_back();
  } else {
    v[Pick(rng, static_cast<uint32_t>(v.size()))] = NearIndex(rng, range);
  }
}

void MutateShape(std::vector<int32_t>& shape, Rng& rng) {
  if (shape.empty() || Chance(rng, 6)) {
    shape.insert(shape.begin() + Pick(rng, static_cast<uint32_t>(shape.size()) + 1), NearSize(rng, 1));
  } else if (Chance(rng, 6)) {
    shape.erase(shape.begin() + Pick(rng, static_cast<uint32_t>(shape.size())));
  } else {
    int32_t& d = shape[Pick(rng, static_cast<uint32_t>(shape.size()))];
    d = NearSize(rng, d);
  }
}

void MutateQuantization(tflite::QuantizationParametersT& q, Rng& rng) {
  const float odd[] = {0.0f,
                       -1.0f,
                       1e-30f,
                       1e30f,
                       std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::denorm_min()};
  switch (Pick(rng, 5)) {
    case 0:
      if (q.scale.empty()) q.scale.push_back(1.0f);
      q.scale[Pick(rng, static_cast<uint32_t>(q.scale.size()))] = odd[Pick(rng, std::size(odd))];
      break;
    case 1:
      if (q.zero_point.empty()) q.zero_point.push_back(0);
      q.zero_point[Pick(rng, static_cast<uint32_t>(q.zero_point.size()))] = Edge(rng);
      break;
    case 2: q.quantized_dimension = NearIndex(rng, 4); break;
    case 3:
      q.scale.push_back(0.5f);
      q.zero_point.push_back(0);
      break;
    default:
      if (!q.scale.empty()) q.scale.pop_back();
      if (Chance(rng, 2) && !q.zero_point.empty()) q.zero_point.pop_back();
  }
}

void MutateBuffer(tflite::BufferT& b, Rng& rng) {
  switch (Pick(rng, 5)) {
    case 0: b.data.resize(Pick(rng, static_cast<uint32_t>(b.data.size()) + 1)); break;  // truncate
    case 1: b.data.resize(b.data.size() + 1 + Pick(rng, 64), 0x7f); break;
    case 2: b.data.clear(); break;
    case 3:  // the layout of models over 2 GB: data outside the flatbuffer
      b.data.clear();
      b.offset = Chance(rng, 2) ? static_cast<uint64_t>(Pick(rng, 4096)) : ~uint64_t{0} - Pick(rng, 4096);
      b.size = Chance(rng, 2) ? static_cast<uint64_t>(Pick(rng, 4096)) : ~uint64_t{0} - Pick(rng, 16);
      break;
    default:
      if (!b.data.empty()) b.data[Pick(rng, static_cast<uint32_t>(b.data.size()))] = static_cast<uint8_t>(Edge(rng));
  }
}

// One change to one field that TFLite reads; false when the model had nothing to change.
bool MutateStructure(tflite::ModelT& m, Rng& rng) {
  if (m.subgraphs.empty()) return false;
  tflite::SubGraphT& sg = *m.subgraphs[Pick(rng, static_cast<uint32_t>(m.subgraphs.size()))];
  const size_t n_tensors = sg.tensors.size();
  tflite::TensorT* t = n_tensors ? sg.tensors[Pick(rng, static_cast<uint32_t>(n_tensors))].get() : nullptr;
  tflite::OperatorT* op =
      sg.operators.empty() ? nullptr : sg.operators[Pick(rng, static_cast<uint32_t>(sg.operators.size()))].get();
  switch (Pick(rng, 12)) {
    case 0:
    case 1:
      if (!t) return false;
      MutateShape(t->shape, rng);
      if (!t->shape_signature.empty() && Chance(rng, 2)) t->shape_signature = t->shape;
      return true;
    case 2:
      if (!t) return false;
      if (t->shape_signature.empty()) t->shape_signature = t->shape;
      if (t->shape_signature.empty()) return false;
      t->shape_signature[Pick(rng, static_cast<uint32_t>(t->shape_signature.size()))] = Chance(rng, 2) ? -1 : Edge(rng);
      return true;
    case 3:
      if (!t) return false;
      t->buffer = static_cast<uint32_t>(NearIndex(rng, m.buffers.size()));
      return true;
    case 4:
      if (!t) return false;
      t->type = static_cast<tflite::TensorType>(static_cast<int>(Pick(rng, tflite::TensorType_MAX + 3)) - 1);
      return true;
    case 5:
      if (!op) return false;
      op->opcode_index = static_cast<uint32_t>(NearIndex(rng, m.operator_codes.size()));
      return true;
    case 6:
      if (!op) return false;
      MutateIntList(Chance(rng, 3) ? op->outputs : Chance(rng, 2) ? op->intermediates : op->inputs, rng, n_tensors);
      return true;
    case 7:
      if (m.buffers.empty()) return false;
      MutateBuffer(*m.buffers[Pick(rng, static_cast<uint32_t>(m.buffers.size()))], rng);
      return true;
    case 8:
      if (!t) return false;
      if (!t->quantization) t->quantization = std::make_unique<tflite::QuantizationParametersT>();
      MutateQuantization(*t->quantization, rng);
      return true;
    case 9: {
      if (m.operator_codes.empty()) return false;
      tflite::OperatorCodeT& code = *m.operator_codes[Pick(rng, static_cast<uint32_t>(m.operator_codes.size()))];
      if (Chance(rng, 2)) {
        code.version = Chance(rng, 2) ? Edge(rng) : static_cast<int32_t>(Pick(rng, 8));
      } else {
        code.builtin_code = static_cast<tflite::BuiltinOperator>(Pick(rng, tflite::BuiltinOperator_MAX + 2));
        code.deprecated_builtin_code = static_cast<int8_t>(std::min<int>(code.builtin_code, 127));
      }
      return true;
    }
    case 10: MutateIntList(Chance(rng, 2) ? sg.inputs : sg.outputs, rng, n_tensors); return true;
    default: {  // another tensor's shape or buffer: sizes consistent with the wrong operand
      if (n_tensors < 2 || !t) return false;
      const tflite::TensorT& other = *sg.tensors[Pick(rng, static_cast<uint32_t>(n_tensors))];
      if (Chance(rng, 2))
        t->shape = other.shape;
      else
        t->buffer = other.buffer;
      if (Chance(rng, 3)) t->is_variable = !t->is_variable;
      return true;
    }
  }
}

// UnPack leaves a union whose table is missing as (type, nullptr), which Pack dereferences:
// such a union is packed as absent, which is what TFLite reads it as.
template <typename U>
void DropEmpty(U& u) {
  if (u.value == nullptr) u.Reset();
}

void DropEmptyUnions(tflite::ModelT& m) {
  for (auto& sg : m.subgraphs) {
    for (auto& op : sg->operators) DropEmpty(op->builtin_options);
    for (auto& t : sg->tensors) {
      if (t->quantization) DropEmpty(t->quantization->details);
      if (!t->sparsity) continue;
      for (auto& dim : t->sparsity->dim_metadata) {
        DropEmpty(dim->array_segments);
        DropEmpty(dim->array_indices);
      }
    }
  }
}

size_t MutateStructured(uint8_t* data, size_t size, size_t max_size, Rng& rng) {
  // libFuzzer's buffer need not be 8-byte aligned, and the model has 64-bit fields.
  std::vector<uint64_t> aligned((size + 7) / 8);
  std::memcpy(aligned.data(), data, size);
  const auto* bytes = reinterpret_cast<const uint8_t*>(aligned.data());
  flatbuffers::Verifier verifier(bytes, size);
  if (!tflite::VerifyModelBuffer(verifier)) return 0;
  // Nor need a verified model's int64 vectors (zero points) be aligned, which UnPack reads;
  // tflstm refuses such models, and the raw mutations still cover them.
  const tflite::Model* model = tflite::GetModel(bytes);
  for (size_t s = 0; model->subgraphs() && s < model->subgraphs()->size(); ++s) {
    const auto* tensors = model->subgraphs()->Get(s)->tensors();
    for (size_t t = 0; tensors && t < tensors->size(); ++t) {
      const auto* q = tensors->Get(t)->quantization();
      if (q && q->zero_point() && reinterpret_cast<uintptr_t>(q->zero_point()->data()) % 8 != 0) return 0;
    }
  }
  std::unique_ptr<tflite::ModelT> m(model->UnPack());
  bool changed = false;
  for (uint32_t i = 0, n = 1 + Pick(rng, 3); i < n; ++i) changed |= MutateStructure(*m, rng);
  if (!changed) return 0;
  DropEmptyUnions(*m);
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, m.get()));
  if (fbb.GetSize() > max_size) return 0;
  std::memcpy(data, fbb.GetBufferPointer(), fbb.GetSize());
  return fbb.GetSize();
}

size_t MutateRaw(uint8_t* data, size_t size, size_t max_size, Rng& rng) {
  if (size < 8) return LLVMFuzzerMutate(data, size, max_size);
  switch (Pick(rng, 5)) {
    case 0: {  // a 32-bit field (flatbuffer scalars are aligned) set to an edge value
      const uint32_t v = static_cast<uint32_t>(Edge(rng));
      std::memcpy(data + (Pick(rng, static_cast<uint32_t>(size - 4)) & ~3u), &v, 4);
      return size;
    }
    case 1: {  // a 16-bit one (vtable offsets, small enums)
      const uint16_t v = static_cast<uint16_t>(Edge(rng));
      std::memcpy(data + (Pick(rng, static_cast<uint32_t>(size - 2)) & ~1u), &v, 2);
      return size;
    }
    case 2: return 1 + Pick(rng, static_cast<uint32_t>(size - 1));  // truncation
    case 3: {                                                       // a splice of the file into itself
      const size_t from = Pick(rng, static_cast<uint32_t>(size)), to = Pick(rng, static_cast<uint32_t>(size));
      const size_t len = std::min({size - from, size - to, size_t{1} + Pick(rng, 256)});
      std::memmove(data + to, data + from, len);
      return size;
    }
    default:  // several bit flips at once
      for (uint32_t i = 0, n = 2 + Pick(rng, 6); i < n; ++i)
        data[Pick(rng, static_cast<uint32_t>(size))] ^= 1u << Pick(rng, 8);
      return size;
  }
}

}  // namespace

size_t MutateModel(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  Rng rng(seed);
  const uint32_t choice = Pick(rng, 10);
  if (choice < 5) {
    if (const size_t n = MutateStructured(data, size, max_size, rng)) return n;
  }
  if (choice < 8) return MutateRaw(data, size, max_size, rng);
  return LLVMFuzzerMutate(data, size, max_size);
}

}  // namespace tflstm::fuzz
