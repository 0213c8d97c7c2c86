#include "gru_validate.h"

#include <vector>

#include "gru_check.h"
#include "lstm_custom_check.h"

namespace tflstm::rnn {

namespace {

// The op's operands as the checks see them (absent ones not present).
std::vector<GruOperandView> OperandViews(const tflite::SubGraph& subgraph, const tflite::Operator& op) {
  const auto* inputs = op.inputs();
  std::vector<GruOperandView> views(inputs ? inputs->size() : 0);
  for (size_t i = 0; i < views.size(); ++i) {
    const int index = inputs->Get(i);
    if (index < 0) continue;  // the validator checked the indices against the tensors
    const tflite::Tensor* t = subgraph.tensors()->Get(index);
    views[i].present = true;
    views[i].type = t->type() == tflite::TensorType_FLOAT32 ? GruType::kFloat32
                    : t->type() == tflite::TensorType_INT8  ? GruType::kInt8
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

int Outputs(const tflite::Operator& op) { return op.outputs() ? static_cast<int>(op.outputs()->size()) : 0; }

std::string GruError(const tflite::SubGraph& subgraph, const tflite::Operator& op) {
  GruOptions options;
  std::string error;
  const auto* bytes = op.custom_options();
  if (!ParseGruOptions(bytes ? bytes->data() : nullptr, bytes ? bytes->size() : 0, &options, &error)) return error;
  GruDims dims;
  return CheckGruOperands(OperandViews(subgraph, op), Outputs(op), options, &dims);
}

std::string LstmError(const tflite::SubGraph& subgraph, const tflite::Operator& op) {
  LstmOptions options;
  std::string error;
  const auto* bytes = op.custom_options();
  if (!ParseLstmOptions(bytes ? bytes->data() : nullptr, bytes ? bytes->size() : 0, &options, &error)) return error;
  LstmCustomDims dims;
  return CheckLstmOperands(OperandViews(subgraph, op), Outputs(op), options, &dims);
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
