// The float LSTM with AVX2 and FMA (x86-64). Compiled with -mavx2 -mfma whatever the
// build's baseline; BestKernels() calls it only on a CPU that has both.
#if defined(__x86_64__) || defined(_M_X64)
#include "float_lstm_avx2.h"

namespace tflstm::lstm {

const Kernels& Avx2Kernels() { return KernelsFor<Avx2>("avx2"); }

}  // namespace tflstm::lstm
#endif
