#include "f32_gemm.h"

#include <algorithm>
#include <cstring>

#include "rnn/variants.h"

namespace tflstm::xnn {

void PackF32Gemm(const F32Gemm& p, const float* w, size_t col_stride, size_t depth_stride, const float* bias,
                 float* packed) {
  const int blocks = (p.cols + kF32GemmBlock - 1) / kF32GemmBlock;
  for (int block = 0; block < blocks; ++block) {
    float* out = packed + static_cast<size_t>(block) * kF32GemmBlock * (1 + static_cast<size_t>(p.depth));
    const int c0 = block * kF32GemmBlock;
    const int n = std::min(kF32GemmBlock, p.cols - c0);
    for (int j = 0; j < kF32GemmBlock; ++j) out[j] = j < n && bias != nullptr ? bias[c0 + j] : 0.0f;
    out += kF32GemmBlock;
    for (int k = 0; k < p.depth; ++k, out += kF32GemmBlock) {
      const float* src = w + static_cast<size_t>(k) * depth_stride + static_cast<size_t>(c0) * col_stride;
      if (col_stride == 1 && n == kF32GemmBlock) {  // a row of a [depth][cols] right-hand side
        std::memcpy(out, src, sizeof(float) * kF32GemmBlock);
        continue;
      }
      for (int j = 0; j < kF32GemmBlock; ++j) out[j] = j < n ? src[static_cast<size_t>(j) * col_stride] : 0.0f;
    }
  }
}

const F32GemmKernel* BestF32Gemm() {
  static const F32GemmKernel* best =
      Avx2F32Gemm() != nullptr && rnn::Allowed(rnn::Isa::kAvx2) ? Avx2F32Gemm() : nullptr;
  return best;
}

}  // namespace tflstm::xnn
