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
#include "tflstm/lstm_kernel.h"

namespace tflstm {

// A resolver with this program's ops; every Runner and Model::Check use one.
std::unique_ptr<tflite::OpResolver> MakeOpResolver(LstmKernel lstm_kernel = LstmKernel::kTflstm);

// Names the op set in error messages, e.g. "TFLite 2.14.1" or
// "TFLite 2.14.1 selective build (UNIDIRECTIONAL_SEQUENCE_LSTM, FULLY_CONNECTED)".
const char* OpSetDescription();

// What every op set adds to TFLite's registrations, last: for each op it has at TFLite 2.14.1's
// newest version, that kernel for the newer versions later converters write (the model check
// refuses a node that uses what such a version adds and 2.14.1 lacks; FULLY_CONNECTED 12, a
// per-channel dynamic-range Dense, gets a per-channel evaluation), and READ_VARIABLE with a check
// that the variable holds what its output declares.
void CompleteOpSet(tflite::MutableOpResolver& resolver);

// Registers tflstm's LSTM kernel over the builtin one for every version TFLite has (1-4).
void AddTflstmLstmKernel(tflite::MutableOpResolver& resolver);

}  // namespace tflstm
