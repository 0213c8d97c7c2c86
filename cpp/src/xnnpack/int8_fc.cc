#include "int8_fc.h"

#include "rnn/variants.h"

namespace tflstm::xnn {

void PackInt8Fc(const Int8Fc& p, const int8_t* weights, const int32_t* bias, int32_t in_zero,
                const std::vector<int32_t>& multipliers, const std::vector<int>& shifts, std::vector<int32_t>* packed) {
  const int blocks = (p.cols + kInt8FcBlock - 1) / kInt8FcBlock;
  const size_t block_ints = Int8FcBlockInts(p.depth);
  const int depth = Int8FcDepth(p.depth);
  packed->assign(static_cast<size_t>(blocks) * block_ints, 0);
  for (int block = 0; block < blocks; ++block) {
    int32_t* head = packed->data() + static_cast<size_t>(block) * block_ints;
    auto* w = reinterpret_cast<int8_t*>(head + 4 * kInt8FcBlock);
    for (int j = 0; j < kInt8FcBlock; ++j) {
      const int c = block * kInt8FcBlock + j;
      if (c >= p.cols) break;
      const int8_t* row = weights + static_cast<size_t>(c) * p.depth;
      int64_t sum = 0;
      for (int k = 0; k < p.depth; ++k) {
        sum += row[k];
        w[(k / 4) * 4 * kInt8FcBlock + j * 4 + k % 4] = row[k];
      }
      for (int k = p.depth; k < depth; ++k) w[(k / 4) * 4 * kInt8FcBlock + j * 4 + k % 4] = 0;
      // Wraps as TFLite's int32 sum would.
      head[j] = static_cast<int32_t>(static_cast<uint32_t>((bias ? bias[c] : 0) - in_zero * sum));
      head[kInt8FcBlock + j] = multipliers[static_cast<size_t>(c)];
      const int shift = shifts[static_cast<size_t>(c)];
      head[2 * kInt8FcBlock + j] = shift > 0 ? shift : 0;
      head[3 * kInt8FcBlock + j] = shift > 0 ? 0 : shift;
    }
  }
}

size_t Int8FcScratchBytes(const Int8Fc& p) {
  return p.depth % 16 == 0 ? 0 : static_cast<size_t>(p.rows) * Int8FcDepth(p.depth);
}

const Int8FcKernel* BestInt8Fc() {
  static const Int8FcKernel* best =
      DotProdInt8Fc() != nullptr && rnn::Allowed(rnn::Isa::kDotProd) ? DotProdInt8Fc() : nullptr;
  return best;
}

}  // namespace tflstm::xnn
