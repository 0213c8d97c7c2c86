// The hybrid LSTM's int8 products in plain C++: any CPU.
#include "hybrid_lstm_impl.h"

namespace tflstm::lstm {
namespace {

struct Scalar {
  using Acc = int32_t;
  static Acc Zero() { return 0; }
  static Acc Madd(Acc acc, const int8_t* w, const int8_t* x) {
    for (int k = 0; k < kDotCols; ++k) acc += static_cast<int32_t>(w[k]) * x[k];
    return acc;
  }
  static int32_t Sum(Acc acc) { return acc; }
  static void Sum4(const Acc* acc, int32_t* out) {
    for (int i = 0; i < 4; ++i) out[i] = acc[i];
  }
};

}  // namespace

const HybridKernels& PortableHybridKernels() { return HybridKernelsFor<Scalar>(rnn::Isa::kPortable); }

}  // namespace tflstm::lstm
