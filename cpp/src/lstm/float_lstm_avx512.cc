// The float LSTM with AVX-512 (AVX512F, 512-bit vectors: one packed row of a block is two
// vectors, each holding two gates): the recurrent product with 4 chains of 2 accumulators and
// the input projection 6 rows at a time, in 32 registers; the cell update of two blocks at once,
// each gate of both in one vector (CellUpdatePair), and of a last odd block on AVX2's halves.
// Compiled with -mavx512f -mavx2 -mfma; the variant table runs it only on a CPU that has AVX-512F.
#if defined(__x86_64__) || defined(_M_X64)
#include "float_lstm_impl.h"
#include "rnn/float_traits_avx512.h"

namespace tflstm::lstm {

const Kernels& Avx512Kernels() { return KernelsFor<rnn::Avx512>(rnn::Isa::kAvx512); }

}  // namespace tflstm::lstm
#endif
