#include "recurrent_ops.h"

#include "gru_options.h"

namespace tflstm::rnn {

void AddRecurrentKernels(tflite::MutableOpResolver& resolver, bool simple_rnn) {
  resolver.AddCustom(kGruCustomOp, &GruRegistration(), 1);
  if (simple_rnn) {
    resolver.AddBuiltin(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_RNN, &SimpleRnnRegistration(), 1, 3);
  }
}

const char* RecurrentNodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (node.user_data == nullptr) return nullptr;
  if (registration.invoke == GruRegistration().invoke) return GruNodeKernel(node);
  if (registration.invoke == SimpleRnnRegistration().invoke) return SimpleRnnNodeKernel(node);
  return nullptr;
}

size_t RecurrentNodeBytes(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (node.user_data == nullptr) return 0;
  if (registration.invoke == GruRegistration().invoke) return GruNodeBytes(node);
  if (registration.invoke == SimpleRnnRegistration().invoke) return SimpleRnnNodeBytes(node);
  return 0;
}

}  // namespace tflstm::rnn
