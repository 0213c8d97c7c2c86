// The float GRU and SimpleRNN in plain C++: any CPU, and the reference of the vector kernels.
#include "float_traits_scalar.h"
#include "gru_impl.h"

namespace tflstm::rnn {

const GruKernels& PortableGruKernels() { return GruKernelsFor<Scalar>(Isa::kPortable); }
const RnnKernels& PortableRnnKernels() { return RnnKernelsFor<Scalar>(Isa::kPortable); }

}  // namespace tflstm::rnn
