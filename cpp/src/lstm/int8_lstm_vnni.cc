// The integer LSTM with AVX-512 VNNI (256-bit vectors, EVEX: AVX512VL): the AVX2 kernel with
// each group's product as one vpdpbusd of |x| with w * sign(x), four products summed into
// each int32 lane with no intermediate saturation, in place of vpmaddubsw, vpmaddwd and an
// add (exact for the weights the kernel covers, as AVX2's: w * sign(x) fits int8). Compiled with -mavx2 -mavx512vnni
// -mavx512vl; BestInt8Kernels() calls it only on a CPU that has both.
#if defined(__x86_64__) || defined(_M_X64)
#include "int8_lstm_avx2.h"

namespace tflstm::lstm {
namespace {

struct VnniInt8 : Avx2Int8 {
  static void Mac(V32* acc, const int8_t* w, const XV& x) {
    for (int g = 0; g < kGates; ++g) {
      const __m256i wg = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * g));
      acc[g] = _mm256_dpbusd_epi32(acc[g], x.abs, _mm256_sign_epi8(wg, x.bytes));
    }
  }
};

}  // namespace

// The AVX2 kernels with the products replaced: the cell update and activations are AVX2's own.
const Int8Kernels& VnniInt8Kernels() {
  static const Int8Kernels kernels = [] {
    Int8Kernels k = Avx2Int8Kernels();
    k.name = "avx512vnni";
    k.project = &Int8Project<VnniInt8>;
    k.gates = &Int8Gates<VnniInt8>;
    return k;
  }();
  return kernels;
}

}  // namespace tflstm::lstm
#endif
