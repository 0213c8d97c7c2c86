// Validator's rule for resource variables: one type and shape per variable across subgraphs.
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

// A resource variable holds what ASSIGN_VARIABLE last gave it, and READ_VARIABLE copies as many
// bytes as its output declares (an output of rank 0 is resized to the variable instead): every
// value assigned to a variable and every output read from it must have one type and shape (a
// READ_VARIABLE output declared larger than the variable fed a CONCATENATION a memcpy past the
// buffer: model_fuzzer, 1 in 240,000). Variables are named by their VAR_HANDLE's container and
// shared name, across subgraphs; shapes that vary, and handles passed between subgraphs, are
// checked when READ_VARIABLE runs (checked_read_variable.h). Runs after every subgraph's checks.
Status Validator::CheckResourceVariables() const {
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

}  // namespace tflstm::internal
