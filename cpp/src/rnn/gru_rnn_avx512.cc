// The float GRU and SimpleRNN with AVX-512F (a gate of a GRU block is one vector); compiled with -mavx512f -mavx2
// -mfma, run only on a CPU that has AVX-512F.
#if defined(__x86_64__) || defined(_M_X64)
#include "float_traits_avx512.h"
#include "gru_impl.h"

namespace tflstm::rnn {

const GruKernels& Avx512GruKernels() { return GruKernelsFor<Avx512>(Isa::kAvx512); }
const RnnKernels& Avx512RnnKernels() { return RnnKernelsFor<Avx512>(Isa::kAvx512); }

}  // namespace tflstm::rnn
#endif
