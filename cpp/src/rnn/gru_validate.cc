#include "gru_validate.h"

#include <vector>

#include "gru_check.h"
#include "lstm_custom_check.h"

namespace tflstm::rnn {

namespace {

// The tensors at `indices` (an op's inputs or outputs) as the checks see them (absent ones not
// present).
std::vector<GruOperandView> TensorViews(const tflite::SubGraph& subgraph, const flatbuffers::Vector<int32_t>* indices) {
  std::vector<GruOperandView> views(indices ? indices->size() : 0);
  for (size_t i = 0; i < views.size(); ++i) {
    const int index = indices->Get(i);
    if (index < 0) continue;  // the validator checked the indices against the tensors
    const tflite::Tensor* t = subgraph.tensors()->Get(index);
    views[i].present = true;
    views[i].type = t->type() == tflite::TensorType_FLOAT32 ? GruType::kFloat32
                    : t->type() == tflite::TensorType_INT8  ? GruType::kInt8
                    : t->type() == tflite::TensorType_BOOL  ? GruType::kBool
                                                            : GruType::kOther;
    if (const tflite::QuantizationParameters* q = t->quantization()) {
      views[i].scales = q->scale() ? static_cast<int>(q->scale()->size()) : 0;
      views[i].zero_point =
          q->zero_point() && q->zero_point()->size() > 0 ? static_cast<int>(q->zero_point()->Get(0)) : 0;
    }
    views[i].variable = t->is_variable();
    if (t->shape() != nullptr) views[i].shape.assign(t->shape()->begin(), t->shape()->end());
  }
  return views;
}

std::string GruError(const tflite::SubGraph& subgraph, const tflite::Operator& op) {
  GruOptions options;
  std::string error;
  const auto* bytes = op.custom_options();
  if (!ParseGruOptions(bytes ? bytes->data() : nullptr, bytes ? bytes->size() : 0, &options, &error)) return error;
  GruDims dims;
  return CheckGruOperands(TensorViews(subgraph, op.inputs()), TensorViews(subgraph, op.outputs()), options, &dims);
}

std::string LstmError(const tflite::SubGraph& subgraph, const tflite::Operator& op) {
  LstmOptions options;
  std::string error;
  const auto* bytes = op.custom_options();
  if (!ParseLstmOptions(bytes ? bytes->data() : nullptr, bytes ? bytes->size() : 0, &options, &error)) return error;
  LstmCustomDims dims;
  return CheckLstmOperands(TensorViews(subgraph, op.inputs()), TensorViews(subgraph, op.outputs()), options, &dims);
}

}  // namespace

Status CheckTflstmCustomOp(const tflite::Model& model, const tflite::SubGraph& subgraph, const tflite::Operator& op,
                           const std::string& where) {
  const tflite::OperatorCode* code = model.operator_codes()->Get(op.opcode_index());
  if (code->custom_code() == nullptr) return Status::Ok();
  const std::string custom = code->custom_code()->str();
  if (custom != kGruCustomOp && custom != kLstmCustomOp) return Status::Ok();
  const std::string error = custom == kGruCustomOp ? GruError(subgraph, op) : LstmError(subgraph, op);
  return error.empty() ? Status::Ok() : Status(ErrorCode::kInvalidModel, where + ": " + error);
}

}  // namespace tflstm::rnn
