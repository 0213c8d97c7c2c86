// The float LSTM in plain C++: any CPU.
#include "float_lstm_impl.h"
#include "rnn/float_traits_scalar.h"

namespace tflstm::lstm {

const Kernels& PortableKernels() { return KernelsFor<rnn::Scalar>(rnn::Isa::kPortable); }

}  // namespace tflstm::lstm
