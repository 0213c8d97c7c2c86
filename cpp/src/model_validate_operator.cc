// Validator's rules for one operator's operands: which may be absent, how many there are, and
// their shapes and types, before the op-specific rules.
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

// Kernels fetch the operands they need without a null check (GetInput): "no tensor" (-1) is
// accepted only where an op's kernel asks for an optional one.
bool Validator::MayBeAbsent(tflite::BuiltinOperator code, bool output, int position) {
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

Status Validator::CheckOperator(const tflite::SubGraph& sg, const tflite::Operator& op, const std::string& name) {
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

Status Validator::CheckSubgraphIndex(const OpView& v, int32_t index, const char* what) const {
  if (index < 0 || static_cast<size_t>(index) >= Length(m_.subgraphs())) {
    return Fail(v.name + ": its " + what + " is subgraph " + std::to_string(index) + " of " +
                Str(Length(m_.subgraphs())));
  }
  return Status::Ok();
}

Status Validator::NeedInputs(const OpView& v, int lo, int hi) const {
  if (v.inputs() < lo || v.inputs() > hi) {
    return Fail(v.name + " has " + std::to_string(v.inputs()) + " inputs; it takes " + std::to_string(lo) +
                (hi == lo ? "" : " to " + std::to_string(hi)));
  }
  return Status::Ok();
}

Status Validator::NeedOutputs(const OpView& v, int lo, int hi) const {
  if (v.outputs() < lo || v.outputs() > hi || v.out(0) == nullptr) {
    return Fail(v.name + " has " + std::to_string(v.outputs()) + " outputs; it gives " + std::to_string(lo) +
                (hi == lo ? "" : " to " + std::to_string(hi)));
  }
  return Status::Ok();
}

Status Validator::Present(const OpView& v, int i) const {
  if (v.in(i) == nullptr) return Fail(v.InName(i) + " is missing; it is required");
  return Status::Ok();
}

// The input's shape must be `want`; -1 in `want` matches any size.
Status Validator::HasShape(const OpView& v, int i, const std::vector<int>& want, const char* meaning) const {
  const std::vector<int> got = Shape(*v.in(i));
  bool match = got.size() == want.size();
  for (size_t d = 0; match && d < got.size(); ++d) match = want[d] < 0 || got[d] == want[d];
  if (!match) {
    return Fail(v.InName(i) + " has shape " + ShapeText(got) + "; " + meaning + " needs " + ShapeText(want));
  }
  return Status::Ok();
}

Status Validator::HasType(const OpView& v, int i, tflite::TensorType want, const char* why) const {
  if (v.in(i)->type() != want) {
    return Fail(v.InName(i) + " is " + tflite::EnumNameTensorType(v.in(i)->type()) + "; " + why + " needs " +
                tflite::EnumNameTensorType(want));
  }
  return Status::Ok();
}

bool Validator::Quantized(const tflite::Tensor& t) {
  return t.quantization() && Length(t.quantization()->scale()) > 0 && Length(t.quantization()->zero_point()) > 0;
}

uint64_t Validator::Elements(const tflite::Tensor& t) {
  uint64_t n = 1;
  for (int d : Shape(t)) n *= static_cast<uint64_t>(d);
  return n;
}

// Whether dimension `d` of the tensor may vary at run time (so its stored size proves nothing).
bool Validator::FreeDim(const tflite::Tensor& t, size_t d) {
  return d < Length(t.shape_signature()) && t.shape_signature()->Get(d) == -1;
}

}  // namespace tflstm::internal
