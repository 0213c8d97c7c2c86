// The float LSTM with AVX2 and FMA (x86-64). Compiled with -mavx2 -mfma whatever the
// build's baseline; the variant table runs it only on a CPU that has both.
#if defined(__x86_64__) || defined(_M_X64)
#include "float_lstm_impl.h"
#include "rnn/float_traits_avx2.h"

namespace tflstm::lstm {

const Kernels& Avx2Kernels() { return KernelsFor<rnn::Avx2>(rnn::Isa::kAvx2); }

}  // namespace tflstm::lstm
#endif
