// The float LSTM with NEON: aarch64, and 32-bit ARM built with -mfpu=neon-vfpv4.
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include "float_lstm_impl.h"
#include "rnn/float_traits_neon.h"

namespace tflstm::lstm {

const Kernels& NeonKernels() { return KernelsFor<rnn::Neon>(rnn::Isa::kNeon); }

}  // namespace tflstm::lstm
#endif
