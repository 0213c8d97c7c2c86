#include "recurrent_ops.h"

#include "gru_options.h"
#include "lstm_options.h"
#include "ops/node_kernel.h"

namespace tflstm::rnn {

void AddRecurrentKernels(tflite::MutableOpResolver& resolver, bool simple_rnn) {
  // The runner counts what these kernels pack (ops::NodeKernelBytes) against its budget.
  static const ops::KernelFamily gru = {
      [](const TfLiteRegistration& r) { return r.invoke == GruRegistration().invoke; },
      [](const TfLiteNode& node) { return node.user_data ? GruNodeKernel(node) : "tflite"; },
      [](const TfLiteNode& node) { return node.user_data ? GruNodeBytes(node) : size_t{0}; }};
  static const ops::KernelFamily lstm = {
      [](const TfLiteRegistration& r) { return r.invoke == LstmCustomRegistration().invoke; },
      [](const TfLiteNode& node) { return node.user_data ? LstmCustomNodeKernel(node) : "tflite"; },
      [](const TfLiteNode& node) { return node.user_data ? LstmCustomNodeBytes(node) : size_t{0}; }};
  static const ops::KernelFamily rnn = {
      [](const TfLiteRegistration& r) { return r.invoke == SimpleRnnRegistration().invoke; },
      [](const TfLiteNode& node) { return node.user_data ? SimpleRnnNodeKernel(node) : "tflite"; },
      [](const TfLiteNode& node) { return node.user_data ? SimpleRnnNodeBytes(node) : size_t{0}; }};
  ops::RegisterKernelFamily(&gru);
  resolver.AddCustom(kGruCustomOp, &GruRegistration(), 1);
  ops::RegisterKernelFamily(&lstm);
  resolver.AddCustom(kLstmCustomOp, &LstmCustomRegistration(), 1);
  if (simple_rnn) {
    ops::RegisterKernelFamily(&rnn);
    resolver.AddBuiltin(tflite::BuiltinOperator_UNIDIRECTIONAL_SEQUENCE_RNN, &SimpleRnnRegistration(), 1, 3);
  }
}

const char* RecurrentNodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (node.user_data == nullptr) return nullptr;
  if (registration.invoke == GruRegistration().invoke) return GruNodeKernel(node);
  if (registration.invoke == LstmCustomRegistration().invoke) return LstmCustomNodeKernel(node);
  if (registration.invoke == SimpleRnnRegistration().invoke) return SimpleRnnNodeKernel(node);
  return nullptr;
}

size_t RecurrentNodeBytes(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (node.user_data == nullptr) return 0;
  if (registration.invoke == GruRegistration().invoke) return GruNodeBytes(node);
  if (registration.invoke == LstmCustomRegistration().invoke) return LstmCustomNodeBytes(node);
  if (registration.invoke == SimpleRnnRegistration().invoke) return SimpleRnnNodeBytes(node);
  return 0;
}

}  // namespace tflstm::rnn
