// The model check of model_validate.h, one class whose rules are split by job:
//   model_validate.cc            operator codes, buffers, subgraphs, tensors (the model's structure);
//   model_validate_operator.cc   each operator's operands: counts, presence, shapes and types;
//   model_validate_types.cc      quantization parameters and the operand types ops copy between;
//   model_validate_layers.cc     FULLY_CONNECTED, PAD, REVERSE_V2, convolutions and pooling;
//   model_validate_recurrent.cc  the LSTM ops' operands, shapes and int8 scales;
//   model_validate_variables.cc  resource variables across subgraphs (the state READ_VARIABLE reads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensorflow/lite/schema/schema_generated.h"
#include "tflstm/status.h"

namespace tflstm::internal {

template <typename T>
size_t Length(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

std::string Str(uint64_t v);
std::string Number(double v);
std::string Quoted(const tflite::Tensor* t);
std::string ShapeText(const std::vector<int>& shape);
size_t ElementBytes(tflite::TensorType type);

// The whole model: every check returns the first problem found, named.
class Validator {
 public:
  Validator(const tflite::Model& m, size_t file_bytes, const std::string& where)
      : m_(m), file_bytes_(file_bytes), where_(where) {}

  Status Run();

 private:
  Status Fail(const std::string& what) const { return Status(ErrorCode::kInvalidModel, where_ + ": " + what); }

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

  // model_validate.cc
  Status CheckOperatorCodes();
  Status CheckBuffers();
  int64_t ConstantBytes(const tflite::Tensor& t) const;
  Status CheckSubgraph(size_t s);
  Status CheckTensor(const tflite::SubGraph& sg, const std::string& sub, size_t t);
  static std::vector<int> Shape(const tflite::Tensor& t);

  // model_validate_variables.cc
  Status CheckResourceVariables() const;

  // model_validate_operator.cc
  static bool MayBeAbsent(tflite::BuiltinOperator code, bool output, int position);
  Status CheckOperator(const tflite::SubGraph& sg, const tflite::Operator& op, const std::string& name);
  Status CheckSubgraphIndex(const OpView& v, int32_t index, const char* what) const;
  Status NeedInputs(const OpView& v, int lo, int hi) const;
  Status NeedOutputs(const OpView& v, int lo, int hi) const;
  Status Present(const OpView& v, int i) const;
  Status HasShape(const OpView& v, int i, const std::vector<int>& want, const char* meaning) const;
  Status HasType(const OpView& v, int i, tflite::TensorType want, const char* why) const;
  static bool Quantized(const tflite::Tensor& t);
  static uint64_t Elements(const tflite::Tensor& t);
  static bool FreeDim(const tflite::Tensor& t, size_t d);

  // model_validate_types.cc
  Status CheckQuantizedOperands(const OpView& v, tflite::BuiltinOperator code) const;
  Status CheckSameType(const OpView& v, tflite::BuiltinOperator code) const;
  Status CheckConcatenation(const OpView& v) const;

  // model_validate_recurrent.cc
  static LstmOperands FullLstm(bool layer_norm);
  Status CheckLstmOp(const OpView& v, bool sequence, bool time_major);
  Status CheckInt8LstmScales(const OpView& v, const LstmOperands& p, bool layer_norm) const;
  Status CheckBidirectionalLstm(const OpView& v);
  Status CheckLstm(const OpView& v, const LstmOperands& p, int batch, int n_input);

  // model_validate_layers.cc
  Status CheckFullyConnected(const OpView& v, int version);
  Status CheckPad(const OpView& v) const;
  Status CheckReverse(const OpView& v) const;
  Status CheckWindow(const OpView& v, int stride_w, int stride_h, int dilation_w, int dilation_h) const;
  Status CheckConvOperands(const OpView& v, size_t out_axis);
  Status CheckConv(const OpView& v);
  Status CheckDepthwiseConv(const OpView& v);
  Status CheckPool(const OpView& v);

  const tflite::Model& m_;
  const size_t file_bytes_;
  const std::string& where_;
};

}  // namespace tflstm::internal
