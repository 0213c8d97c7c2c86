#include "gru_validate.h"

#include <vector>

#include "gru_check.h"

namespace tflstm::rnn {

namespace {

std::string GruError(const tflite::SubGraph& subgraph, const tflite::Operator& op) {
  GruOptions options;
  std::string error;
  const auto* bytes = op.custom_options();
  if (!ParseGruOptions(bytes ? bytes->data() : nullptr, bytes ? bytes->size() : 0, &options, &error)) return error;
  const auto views = [&](const flatbuffers::Vector<int32_t>* indices) {
    std::vector<GruOperandView> out(indices ? indices->size() : 0);
    for (size_t i = 0; i < out.size(); ++i) {
      const int index = indices->Get(i);
      if (index < 0) continue;  // the validator checked the indices against the tensors
      const tflite::Tensor* t = subgraph.tensors()->Get(index);
      out[i].present = true;
      out[i].type = t->type() == tflite::TensorType_FLOAT32 ? GruType::kFloat32
                    : t->type() == tflite::TensorType_INT8  ? GruType::kInt8
                                                            : GruType::kOther;
      if (const tflite::QuantizationParameters* q = t->quantization()) {
        out[i].scales = q->scale() ? static_cast<int>(q->scale()->size()) : 0;
        out[i].zero_point =
            q->zero_point() && q->zero_point()->size() > 0 ? static_cast<int>(q->zero_point()->Get(0)) : 0;
      }
      out[i].variable = t->is_variable();
      if (t->shape() != nullptr) out[i].shape.assign(t->shape()->begin(), t->shape()->end());
    }
    return out;
  };
  GruDims dims;
  return CheckGruOperands(views(op.inputs()), views(op.outputs()), options, &dims);
}

}  // namespace

Status CheckTflstmCustomOp(const tflite::Model& model, const tflite::SubGraph& subgraph, const tflite::Operator& op,
                           const std::string& where) {
  const tflite::OperatorCode* code = model.operator_codes()->Get(op.opcode_index());
  if (code->custom_code() == nullptr || code->custom_code()->str() != kGruCustomOp) return Status::Ok();
  const std::string error = GruError(subgraph, op);
  return error.empty() ? Status::Ok() : Status(ErrorCode::kInvalidModel, where + ": " + error);
}

}  // namespace tflstm::rnn
