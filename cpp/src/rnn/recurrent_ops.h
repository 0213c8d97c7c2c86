// tflstm's GRU and SimpleRNN ops for an op resolver: the TFLSTM_GRU custom op (gru_options.h)
// and its kernel for UNIDIRECTIONAL_SEQUENCE_RNN (a Keras SimpleRNN as a stock op), beside the
// LSTM's (lstm/lstm_op.h).
#pragma once

#include <cstddef>

#include "tensorflow/lite/core/c/common.h"
#include "tensorflow/lite/mutable_op_resolver.h"

namespace tflstm::rnn {

// Registers TFLSTM_GRU (version 1), and with `simple_rnn` tflstm's UNIDIRECTIONAL_SEQUENCE_RNN
// kernel over TFLite's for every version TFLite has (1-3).
void AddRecurrentKernels(tflite::MutableOpResolver& resolver, bool simple_rnn);

// The kernel a prepared GRU or SimpleRNN node runs ("gru-avx2", "rnn-neon", ...; "tflite" for a
// SimpleRNN TFLite runs); nullptr for a node of another registration.
const char* RecurrentNodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node);
// Bytes of the weights the node's kernel packed; 0 for others.
size_t RecurrentNodeBytes(const TfLiteRegistration& registration, const TfLiteNode& node);

// The registrations and their nodes' queries (gru_op.cc, simple_rnn_op.cc).
const TfLiteRegistration& GruRegistration();
const char* GruNodeKernel(const TfLiteNode& node);
size_t GruNodeBytes(const TfLiteNode& node);
const TfLiteRegistration& SimpleRnnRegistration();
const char* SimpleRnnNodeKernel(const TfLiteNode& node);
size_t SimpleRnnNodeBytes(const TfLiteNode& node);

}  // namespace tflstm::rnn
