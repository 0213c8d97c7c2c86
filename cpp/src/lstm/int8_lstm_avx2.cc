// The integer LSTM with AVX2 (x86-64), over the traits of int8_lstm_avx2.h. Compiled with
// -mavx2 whatever the build's baseline; BestInt8Kernels() calls it only on a CPU that has AVX2.
#if defined(__x86_64__) || defined(_M_X64)
#include "int8_lstm_avx2.h"

namespace tflstm::lstm {

const Int8Kernels& Avx2Int8Kernels() { return Int8KernelsFor<Avx2Int8>(rnn::Isa::kAvx2); }

}  // namespace tflstm::lstm
#endif
