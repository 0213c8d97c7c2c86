#include "empty_tensors.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "tensorflow/lite/builtin_ops.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace tflstm::internal {
namespace {

// How TFLite 2.14.1's kernel treats operands of no elements (read from its source, op by op).
enum class EmptyRule {
  kRefused,      // it divides by a size, or reads one operand by another's shape
  kMovesData,    // it copies by each tensor's own shape: any operand may be empty
  kElementWise,  // it maps its output element by element: fine when its outputs are empty
};

EmptyRule RuleOf(int builtin_code) {
  switch (builtin_code) {
    // Copies whose sizes come from each operand's own shape (a memcpy of 0 bytes, a loop of
    // 0 rounds). RESHAPE and SQUEEZE also check that the element counts agree; GATHER checks
    // every index against the axis it reads; SPLIT refuses 0 splits before dividing by them.
    case kTfLiteBuiltinReshape:
    case kTfLiteBuiltinSqueeze:
    case kTfLiteBuiltinExpandDims:
    case kTfLiteBuiltinConcatenation:
    case kTfLiteBuiltinPack:
    case kTfLiteBuiltinUnpack:
    case kTfLiteBuiltinSplit:
    case kTfLiteBuiltinSplitV:
    case kTfLiteBuiltinStridedSlice:
    case kTfLiteBuiltinSlice:
    case kTfLiteBuiltinGather:
    case kTfLiteBuiltinTranspose: return EmptyRule::kMovesData;
    // Element-wise kernels (broadcasting ones too) loop over their output's elements; an empty
    // input gives an empty output or a refusal in Prepare (0 does not broadcast against n > 1).
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinSub:
    case kTfLiteBuiltinMul:
    case kTfLiteBuiltinLogistic:
    case kTfLiteBuiltinTanh:
    case kTfLiteBuiltinRelu:
    case kTfLiteBuiltinRelu6:
    case kTfLiteBuiltinReluN1To1:
    case kTfLiteBuiltinLeakyRelu:
    case kTfLiteBuiltinQuantize:
    case kTfLiteBuiltinDequantize:
    case kTfLiteBuiltinCast:
    case kTfLiteBuiltinAbs:
    case kTfLiteBuiltinNeg:
    case kTfLiteBuiltinMaximum:
    case kTfLiteBuiltinMinimum:
    case kTfLiteBuiltinLess:
    case kTfLiteBuiltinLessEqual:
    case kTfLiteBuiltinGreater:
    case kTfLiteBuiltinGreaterEqual:
    case kTfLiteBuiltinEqual:
    case kTfLiteBuiltinNotEqual:
    case kTfLiteBuiltinLogicalAnd:
    case kTfLiteBuiltinLogicalOr:
    case kTfLiteBuiltinLogicalNot: return EmptyRule::kElementWise;
    default: return EmptyRule::kRefused;
  }
}

bool HasNoElement(const TfLiteTensor& t) {
  if (t.dims == nullptr || t.allocation_type == kTfLiteDynamic || t.type == kTfLiteString ||
      t.type == kTfLiteResource || t.type == kTfLiteVariant) {
    return false;  // dynamic shapes are set when the op runs; these types hold no plain elements
  }
  return std::find(t.dims->data, t.dims->data + t.dims->size, 0) != t.dims->data + t.dims->size;
}

std::string ShapeText(const TfLiteIntArray& dims) {
  std::string s = "[";
  for (int i = 0; i < dims.size; ++i) s += (i ? ", " : "") + std::to_string(dims.data[i]);
  return s + "]";
}

}  // namespace

void EmptyTensorStorage::Give(tflite::Interpreter& interpreter) {
  for (size_t s = 0; s < interpreter.subgraphs_size(); ++s) {
    tflite::Subgraph& sg = *interpreter.subgraph(static_cast<int>(s));
    for (size_t t = 0; t < sg.tensors_size(); ++t) {
      TfLiteTensor* tensor = sg.tensor(static_cast<int>(t));
      const bool planned =
          tensor->allocation_type == kTfLiteArenaRw || tensor->allocation_type == kTfLiteArenaRwPersistent;
      if (planned && tensor->bytes == 0 && tensor->data.raw == nullptr) tensor->data.raw = block_.data();
    }
  }
}

// Shapes are known only once prepared, so the data that flows (the graph's inputs, what ops
// write, their scratch tensors) is checked then, before anything runs. An empty tensor nothing
// writes is a constant of no elements, such as the new shape [] of a RESHAPE to a scalar: it may
// be an op's parameter (input 1 on), not its data (input 0, or any input of a CONCATENATION).
Status CheckEmptyOperands(const tflite::Subgraph& sg, const std::string& model) {
  std::vector<bool> flows(sg.tensors_size(), false);
  auto mark = [&](const TfLiteIntArray* list) {
    for (int k = 0; list != nullptr && k < list->size; ++k) {
      if (list->data[k] >= 0 && static_cast<size_t>(list->data[k]) < flows.size()) flows[list->data[k]] = true;
    }
  };
  for (int t : sg.inputs()) flows[t] = true;
  for (int node : sg.execution_plan()) {
    if (const auto* nr = sg.node_and_registration(node)) {
      mark(nr->first.outputs);
      mark(nr->first.intermediates);
    }
  }
  for (int node : sg.execution_plan()) {
    const auto* nr = sg.node_and_registration(node);
    if (nr == nullptr) continue;
    const auto& [n, reg] = *nr;
    const EmptyRule rule = reg.custom_name ? EmptyRule::kRefused : RuleOf(reg.builtin_code);
    if (rule == EmptyRule::kMovesData) continue;
    bool outputs_empty = n.outputs != nullptr && n.outputs->size > 0;
    for (int k = 0; outputs_empty && k < n.outputs->size; ++k) {
      outputs_empty = n.outputs->data[k] >= 0 && HasNoElement(*sg.tensor(n.outputs->data[k]));
    }
    if (rule == EmptyRule::kElementWise && outputs_empty) continue;
    for (const auto& [list, kind] : {std::pair{n.inputs, "input "}, std::pair{n.outputs, "output "}}) {
      for (int k = 0; list != nullptr && k < list->size; ++k) {
        const int index = list->data[k];
        const bool data = list == n.outputs || k == 0;
        if (index < 0 || (!flows[index] && !data)) continue;
        const TfLiteTensor* t = sg.tensor(index);
        if (!HasNoElement(*t)) continue;
        const char* op = reg.custom_name
                             ? reg.custom_name
                             : tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(reg.builtin_code));
        return Status(ErrorCode::kInvalidModel,
                      model + ": operator " + std::to_string(node) + " (" + op + ") has " + kind + std::to_string(k) +
                          " '" + (t->name ? t->name : "") + "' of shape " + ShapeText(*t->dims) +
                          ", which holds no element; TFLite's " + op + " kernel does not run on empty data");
      }
    }
  }
  return Status::Ok();
}

}  // namespace tflstm::internal
