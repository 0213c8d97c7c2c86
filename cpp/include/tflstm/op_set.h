// Which TFLite operators a tflstm program can run is decided when it is linked. tflstm::core
// calls the two functions below, and exactly one op set defines them:
//   - tflstm::all_ops (what tflstm::tflstm links): every builtin op of TFLite;
//   - a selective set that CMake's tflstm_select_ops() generates from a list of ops (such as
//     `tflstm inspect --ops` prints), so the linker leaves every other kernel out.
#pragma once

#include <memory>

#include "tensorflow/lite/core/api/op_resolver.h"

namespace tflstm {

// A resolver with this program's ops; every Runner and Model::Check use one.
std::unique_ptr<tflite::OpResolver> MakeOpResolver();

// Names the op set in error messages, e.g. "TFLite 2.14.1" or
// "TFLite 2.14.1 selective build (UNIDIRECTIONAL_SEQUENCE_LSTM, FULLY_CONNECTED)".
const char* OpSetDescription();

}  // namespace tflstm
