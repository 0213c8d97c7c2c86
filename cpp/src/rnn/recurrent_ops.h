// tflstm's GRU, LSTM and SimpleRNN ops for an op resolver: the TFLSTM_GRU custom op
// (gru_options.h), the TFLSTM_LSTM custom op (lstm_options.h: gates TFLite's LSTM cannot compute)
// and its kernel for UNIDIRECTIONAL_SEQUENCE_RNN (a Keras SimpleRNN as a stock op), beside the
// LSTM's (lstm/lstm_op.h).
#pragma once

#include <cstddef>

#include "tensorflow/lite/core/c/common.h"
#include "tensorflow/lite/mutable_op_resolver.h"

namespace tflstm::rnn {

// Registers TFLSTM_GRU and TFLSTM_LSTM (version 1), and with `simple_rnn` tflstm's UNIDIRECTIONAL_SEQUENCE_RNN
// kernel over TFLite's for every version TFLite has (1-3).
void AddRecurrentKernels(tflite::MutableOpResolver& resolver, bool simple_rnn);

// The kernel a prepared GRU, TFLSTM_LSTM or SimpleRNN node runs ("gru-avx2", "avx2" (the
// LSTM's), "rnn-neon", ...; "tflite" for a SimpleRNN TFLite runs); nullptr for a node of another registration.
const char* RecurrentNodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node);
// Bytes of the weights the node's kernel packed; 0 for others.
size_t RecurrentNodeBytes(const TfLiteRegistration& registration, const TfLiteNode& node);

// The registrations and their nodes' queries (gru_op.cc, simple_rnn_op.cc).
const TfLiteRegistration& GruRegistration();
const char* GruNodeKernel(const TfLiteNode& node);
size_t GruNodeBytes(const TfLiteNode& node);
const TfLiteRegistration& LstmCustomRegistration();  // lstm_custom_op.cc
const char* LstmCustomNodeKernel(const TfLiteNode& node);
size_t LstmCustomNodeBytes(const TfLiteNode& node);
const TfLiteRegistration& SimpleRnnRegistration();
const char* SimpleRnnNodeKernel(const TfLiteNode& node);
size_t SimpleRnnNodeBytes(const TfLiteNode& node);

}  // namespace tflstm::rnn
