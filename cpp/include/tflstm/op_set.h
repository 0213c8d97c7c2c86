// Which TFLite operators a tflstm program can run is decided when it is linked. tflstm::core
// calls the two functions below, and exactly one op set defines them:
//   - tflstm::all_ops (what tflstm::tflstm links): every builtin op of TFLite;
//   - a selective set that CMake's tflstm_select_ops() generates from a list of ops (such as
//     `tflstm inspect --ops` prints), so the linker leaves every other kernel out.
// Both run UNIDIRECTIONAL_SEQUENCE_LSTM on tflstm's own kernel unless asked for TFLite's.
#pragma once

#include <memory>

#include "tensorflow/lite/core/api/op_resolver.h"
#include "tensorflow/lite/mutable_op_resolver.h"

namespace tflstm {

// The kernel that runs UNIDIRECTIONAL_SEQUENCE_LSTM.
enum class LstmKernel {
  kTflstm,  // tflstm's fused kernel; configurations it does not cover run TFLite's
  kTflite,  // TFLite's builtin kernel, always
};

// A resolver with this program's ops; every Runner and Model::Check use one.
std::unique_ptr<tflite::OpResolver> MakeOpResolver(LstmKernel lstm_kernel = LstmKernel::kTflstm);

// Names the op set in error messages, e.g. "TFLite 2.14.1" or
// "TFLite 2.14.1 selective build (UNIDIRECTIONAL_SEQUENCE_LSTM, FULLY_CONNECTED)".
const char* OpSetDescription();

// Registers tflstm's LSTM kernel over the builtin one for every version TFLite has (1-4).
void AddTflstmLstmKernel(tflite::MutableOpResolver& resolver);

}  // namespace tflstm
