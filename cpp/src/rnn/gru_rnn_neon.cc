// The float GRU and SimpleRNN with NEON: aarch64, and 32-bit ARM built with NEON.
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include "float_traits_neon.h"
#include "gru_impl.h"

namespace tflstm::rnn {

const GruKernels& NeonGruKernels() { return GruKernelsFor<Neon>(Isa::kNeon); }
const RnnKernels& NeonRnnKernels() { return RnnKernelsFor<Neon>(Isa::kNeon); }

}  // namespace tflstm::rnn
#endif
