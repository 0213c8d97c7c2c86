// The LSTM's rows of the recurrent kernels' variants (rnn/variants.h).
#include <iterator>

#include "float_lstm.h"
#include "hybrid_lstm.h"
#include "int8_lstm.h"
#include "rnn/variants.h"

namespace tflstm::rnn::internal {
namespace {

const Variant kLstmVariants[] = {
    TFLSTM_VARIANT(kLstmFloat, kPortable, lstm::PortableKernels),
    TFLSTM_VARIANT(kLstmHybrid, kPortable, lstm::PortableHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kPortable, lstm::PortableInt8Kernels),
#if defined(__x86_64__) || defined(_M_X64)
    TFLSTM_VARIANT(kLstmFloat, kAvx2, lstm::Avx2Kernels),
    TFLSTM_VARIANT(kLstmFloat, kAvx512, lstm::Avx512Kernels),
    TFLSTM_VARIANT(kLstmHybrid, kAvx2, lstm::Avx2HybridKernels),
    TFLSTM_VARIANT(kLstmHybrid, kAvx512Vnni, lstm::VnniHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kAvx2, lstm::Avx2Int8Kernels),
    TFLSTM_VARIANT(kLstmInt8, kAvx512Vnni, lstm::VnniInt8Kernels),
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
    TFLSTM_VARIANT(kLstmFloat, kNeon, lstm::NeonKernels),
    TFLSTM_VARIANT(kLstmHybrid, kNeon, lstm::NeonHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kNeon, lstm::NeonInt8Kernels),
#endif
#if defined(__aarch64__)
    TFLSTM_VARIANT(kLstmHybrid, kDotProd, lstm::DotProdHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kDotProd, lstm::DotProdInt8Kernels),
#endif
};

}  // namespace

VariantRows LstmVariants() { return {std::begin(kLstmVariants), std::end(kLstmVariants)}; }

}  // namespace tflstm::rnn::internal
