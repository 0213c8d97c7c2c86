// Compiled alone by ctest public_headers.sealed with tflstm's include directory only: a TFLite
// header (even its C types, c_api_types.h) reachable from a public header fails to compile here.
// tflstm/tflite/*.h are the TFLite-facing ones and stay out.
#include "tflstm/arena.h"
#include "tflstm/dtype.h"
#include "tflstm/lstm_kernel.h"
#include "tflstm/model.h"
#include "tflstm/runner.h"
#include "tflstm/status.h"
#include "tflstm/stream.h"

// What a program that runs models names, with no TFLite type among it.
static_assert(sizeof(tflstm::RunnerOptions) > 0 && sizeof(tflstm::TensorView) > 0 && sizeof(tflstm::InputData) > 0);
static_assert(tflstm::LstmKernel::kTflstm != tflstm::LstmKernel::kTflite);

int main() {
  tflstm::RunnerOptions options;
  options.lstm_kernel = tflstm::LstmKernel::kTflite;
  return tflstm::DTypeSize(tflstm::DType::kFloat32) == 4 && options.check_finite ? 0 : 1;
}
