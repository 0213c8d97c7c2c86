#include "op_versions.h"

#include <algorithm>

#include "tensorflow/lite/schema/schema_utils.h"

namespace tflstm::internal {
namespace {

// Types of later schemas that TFLite 2.14.1's does not have.
constexpr int kBfloat16 = 18;
constexpr int kInt2 = 19;
constexpr int kUint4 = 20;

// One operator's operands, for the predicates below.
struct Node {
  const tflite::SubGraph& sg;
  const tflite::Operator& op;

  const tflite::Tensor* Get(const flatbuffers::Vector<int32_t>* list, int i) const {
    if (list == nullptr || i < 0 || static_cast<size_t>(i) >= list->size() || list->Get(i) < 0) return nullptr;
    if (sg.tensors() == nullptr || static_cast<size_t>(list->Get(i)) >= sg.tensors()->size()) return nullptr;
    return sg.tensors()->Get(list->Get(i));
  }
  int InType(int i) const {
    const tflite::Tensor* t = Get(op.inputs(), i);
    return t ? static_cast<int>(t->type()) : -1;
  }
  int OutType(int i) const {
    const tflite::Tensor* t = Get(op.outputs(), i);
    return t ? static_cast<int>(t->type()) : -1;
  }
  size_t InRank(int i) const {
    const tflite::Tensor* t = Get(op.inputs(), i);
    return t && t->shape() ? t->shape()->size() : 0;
  }
  size_t InScales(int i) const {
    const tflite::Tensor* t = Get(op.inputs(), i);
    return t && t->quantization() && t->quantization()->scale() ? t->quantization()->scale()->size() : 0;
  }
};

using Uses = bool (*)(const Node&);

struct Entry {
  NewerOpVersion info;
  Uses uses;  // whether the node uses the addition (refused); null: tflstm runs every node
};

bool In0(const Node& n, int type) { return n.InType(0) == type; }
bool In0Or(const Node& n, int type) { return n.InType(0) == type || n.OutType(0) == type; }

constexpr const char* kBias =
    "TFLite 2.14.1's kernel: it takes an int32 or an int64 bias by the bias tensor's own type";

// From TensorFlow's op_version.cc (what each version adds) and runtime_version.cc (the release;
// null where that table has none), up to TensorFlow 2.21 and LiteRT; against TFLite 2.14.1's
// register.cc. Each addition was read against 2.14.1's kernel.
const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {{tflite::BuiltinOperator_ADD, 6, 5, nullptr, "float16 operands", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_FLOAT16); }},
      {{tflite::BuiltinOperator_CAST, 6, 5, "2.15", "int4 to float32", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_CAST, 7, 5, "2.17", "bfloat16", nullptr},
       [](const Node& n) { return In0Or(n, kBfloat16); }},
      {{tflite::BuiltinOperator_CAST, 8, 5, nullptr, "int2 and uint4", nullptr},
       [](const Node& n) { return In0Or(n, kInt2) || In0Or(n, kUint4); }},
      {{tflite::BuiltinOperator_CONCATENATION, 5, 4, nullptr, "int4 inputs", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_CONV_2D, 8, 7, "2.15",
        "int16 activations and int8 weights with a quantized_bias_type option naming the bias type", kBias},
       nullptr},
      {{tflite::BuiltinOperator_DEQUANTIZE, 6, 5, "2.18", "int4 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_DEQUANTIZE, 7, 5, nullptr, "int2 input", nullptr},
       [](const Node& n) { return In0(n, kInt2); }},
      {{tflite::BuiltinOperator_DEQUANTIZE, 8, 5, nullptr, "uint4 input", nullptr},
       [](const Node& n) { return In0(n, kUint4); }},
      {{tflite::BuiltinOperator_DYNAMIC_UPDATE_SLICE, 2, 1, "2.17", "int64 start indices", nullptr},
       [](const Node& n) { return n.InType(2) == tflite::TensorType_INT64; }},
      {{tflite::BuiltinOperator_DYNAMIC_UPDATE_SLICE, 3, 1, "2.19", "float16 data", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_FLOAT16); }},
      {{tflite::BuiltinOperator_DYNAMIC_UPDATE_SLICE, 4, 1, "2.20", "int16 data", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT16); }},
      {{tflite::BuiltinOperator_DYNAMIC_UPDATE_SLICE, 5, 1, nullptr, "int4 data", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_DYNAMIC_UPDATE_SLICE, 6, 1, nullptr, "bfloat16 data", nullptr},
       [](const Node& n) { return In0(n, kBfloat16); }},
      {{tflite::BuiltinOperator_EMBEDDING_LOOKUP, 4, 3, "2.18", "int4 weights, or int8 weights with a scale per row",
        nullptr},
       [](const Node& n) { return n.InType(1) == tflite::TensorType_INT4 || n.InScales(1) > 1; }},
      {{tflite::BuiltinOperator_EMBEDDING_LOOKUP, 5, 3, nullptr, "int2 weights", nullptr},
       [](const Node& n) { return n.InType(1) == kInt2; }},
      {{tflite::BuiltinOperator_EQUAL, 5, 4, nullptr, "int16 operands (TFLite 2.14.1 numbers the same as version 4)",
        "TFLite 2.14.1's kernel, which compares int16"},
       nullptr},
      {{tflite::BuiltinOperator_FULLY_CONNECTED, 11, 10, "2.15",
        "int16 activations and int8 weights with a quantized_bias_type option naming the bias type", kBias},
       nullptr},
      {{tflite::BuiltinOperator_FULLY_CONNECTED, 12, 10, "2.17",
        "float32 input with int8 weights quantized per output unit (dynamic range)",
        "TFLite 2.14.1's kernel with tflstm's per-unit scaling: 2.14.1's input quantization and integer "
        "products, each unit's sum scaled by its own weight scale"},
       nullptr},
      {{tflite::BuiltinOperator_FULLY_CONNECTED, 13, 10, "2.18", "int16 activations with int4 weights", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT16) && n.InType(1) == tflite::TensorType_INT4; }},
      {{tflite::BuiltinOperator_FULLY_CONNECTED, 14, 10, nullptr, "int2 weights", nullptr},
       [](const Node& n) { return n.InType(1) == kInt2; }},
      {{tflite::BuiltinOperator_GATHER, 7, 6, "2.15", "int4 data", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_GATHER_ND, 5, 4, "2.16", "bool data", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_BOOL); }},
      {{tflite::BuiltinOperator_LOG, 2, 1, "2.15", "int8 and int16 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT8) || In0(n, tflite::TensorType_INT16); }},
      {{tflite::BuiltinOperator_MUL, 8, 7, nullptr, "float16 operands", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_FLOAT16); }},
      {{tflite::BuiltinOperator_NOT_EQUAL, 4, 3, nullptr, "int16 operands", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT16); }},
      {{tflite::BuiltinOperator_PAD, 5, 4, nullptr, "bool input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_BOOL); }},
      {{tflite::BuiltinOperator_PADV2, 5, 4, nullptr, "bool input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_BOOL); }},
      {{tflite::BuiltinOperator_QUANTIZE, 4, 3, nullptr, "int4 input or output", nullptr},
       [](const Node& n) { return In0Or(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_QUANTIZE, 5, 3, nullptr, "uint4 input or output", nullptr},
       [](const Node& n) { return In0Or(n, kUint4); }},
      {{tflite::BuiltinOperator_RSQRT, 3, 2, "2.15", "int16 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT16); }},
      {{tflite::BuiltinOperator_SLICE, 7, 6, nullptr, "int4 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_SQRT, 2, 1, nullptr, "int8 and int16 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT8) || In0(n, tflite::TensorType_INT16); }},
      {{tflite::BuiltinOperator_TRANSPOSE, 7, 6, nullptr, "int4 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT4); }},
      {{tflite::BuiltinOperator_TRANSPOSE, 8, 6, nullptr, "rank above 6, or bfloat16 input", nullptr},
       [](const Node& n) { return n.InRank(0) > 6 || In0(n, kBfloat16); }},
      {{tflite::BuiltinOperator_TRANSPOSE_CONV, 5, 4, "2.15",
        "int16 activations and int8 weights with a quantized_bias_type option naming the bias type", kBias},
       nullptr},
      {{tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_LSTM, 5, 4, nullptr, "int16 activations with int8 weights",
        nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_INT16); }},
      {{tflite::BuiltinOperator_UNPACK, 5, 4, nullptr, "float16 and bfloat16 input", nullptr},
       [](const Node& n) { return In0(n, tflite::TensorType_FLOAT16) || In0(n, kBfloat16); }},
  };
  return entries;
}

const Entry* FindEntry(tflite::BuiltinOperator op, int version) {
  for (const Entry& e : Entries()) {
    if (e.info.op == op && e.info.version == version) return &e;
  }
  return nullptr;
}

}  // namespace

const std::vector<NewerOpVersion>& NewerOpVersions() {
  static const std::vector<NewerOpVersion> infos = [] {
    std::vector<NewerOpVersion> v;
    for (const Entry& e : Entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

const NewerOpVersion* FindNewerOpVersion(tflite::BuiltinOperator op, int version) {
  const Entry* e = FindEntry(op, version);
  return e ? &e->info : nullptr;
}

Status CheckOpVersion(const tflite::Model& model, const tflite::SubGraph& subgraph, const tflite::Operator& op,
                      const std::string& name) {
  if (model.operator_codes() == nullptr || op.opcode_index() >= model.operator_codes()->size()) return Status::Ok();
  const tflite::OperatorCode& code = *model.operator_codes()->Get(op.opcode_index());
  const Entry* e = FindEntry(tflite::GetBuiltinCode(&code), code.version());
  if (e == nullptr || e->uses == nullptr || !e->uses(Node{subgraph, op})) return Status::Ok();
  const std::string release =
      e->info.release ? std::string("TensorFlow ") + e->info.release : std::string("a TensorFlow release after 2.14");
  return Status(ErrorCode::kUnsupportedOp, name + " is version " + std::to_string(e->info.version) + ", which " +
                                               release + " introduced for " + e->info.meaning +
                                               "; this node uses that, and TFLite 2.14.1's kernel (up to version " +
                                               std::to_string(e->info.tflite_version) + ") does not compute it");
}

}  // namespace tflstm::internal
