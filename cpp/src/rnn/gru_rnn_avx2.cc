// The float GRU and SimpleRNN with AVX2 and FMA (x86-64); compiled with -mavx2 -mfma, run only on a CPU that has both.
#if defined(__x86_64__) || defined(_M_X64)
#include "float_traits_avx2.h"
#include "gru_impl.h"

namespace tflstm::rnn {

const GruKernels& Avx2GruKernels() { return GruKernelsFor<Avx2>(Isa::kAvx2); }
const RnnKernels& Avx2RnnKernels() { return RnnKernelsFor<Avx2>(Isa::kAvx2); }

}  // namespace tflstm::rnn
#endif
