// The GRU's and SimpleRNN's rows of the recurrent kernels' variants (variants.h).
#include <iterator>

#include "gru.h"
#include "variants.h"

namespace tflstm::rnn::internal {
namespace {

const Variant kGruRnnVariants[] = {
    TFLSTM_VARIANT(kGruFloat, kPortable, PortableGruKernels), TFLSTM_VARIANT(kRnnFloat, kPortable, PortableRnnKernels),
#if defined(__x86_64__) || defined(_M_X64)
    TFLSTM_VARIANT(kGruFloat, kAvx2, Avx2GruKernels),         TFLSTM_VARIANT(kGruFloat, kAvx512, Avx512GruKernels),
    TFLSTM_VARIANT(kRnnFloat, kAvx2, Avx2RnnKernels),         TFLSTM_VARIANT(kRnnFloat, kAvx512, Avx512RnnKernels),
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
    TFLSTM_VARIANT(kGruFloat, kNeon, NeonGruKernels),         TFLSTM_VARIANT(kRnnFloat, kNeon, NeonRnnKernels),
#endif
};

}  // namespace

VariantRows GruRnnVariants() { return {std::begin(kGruRnnVariants), std::end(kGruRnnVariants)}; }

}  // namespace tflstm::rnn::internal
