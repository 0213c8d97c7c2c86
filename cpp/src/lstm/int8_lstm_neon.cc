// The integer LSTM with NEON (int8_lstm_neon.h's traits): aarch64, and 32-bit ARM built with NEON.
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include "int8_lstm_neon.h"

namespace tflstm::lstm {

const Int8Kernels& NeonInt8Kernels() { return Int8KernelsFor<NeonInt8>(rnn::Isa::kNeon); }

}  // namespace tflstm::lstm
#endif
