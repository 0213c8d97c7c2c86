#include "int8_matmul.h"

#include <algorithm>

#include "lstm/int8_lstm_impl.h"  // Mbqm32: TFLite's MultiplyByQuantizedMultiplier
#include "rnn/variants.h"

namespace tflstm::xnn {
namespace {

// The plain C++ kernel: b packed without pairs, one row and one block of 8 columns at a time.
void PortableRun(const Int8MatMul& p, const int8_t* a, const int8_t* b, int8_t* out, int16_t* scratch, bool pack_b) {
  const int depth = Int8MatMulDepth(p.k);
  int16_t* pb = scratch;
  int16_t* pa = scratch + static_cast<size_t>(Int8MatMulBlocks(p.n)) * depth * 8;
  if (pack_b) PackInt8B(p, b, false, pb);
  PackInt8A(p, a, pa);
  for (int i = 0; i < p.m; ++i) {
    const int16_t* row = pa + static_cast<size_t>(i) * depth;
    for (int block = 0; block < Int8MatMulBlocks(p.n); ++block) {
      const int16_t* col = pb + static_cast<size_t>(block) * depth * 8;
      int32_t acc[8] = {};
      for (int k = 0; k < depth; ++k) {
        for (int j = 0; j < 8; ++j) acc[j] += row[k] * col[k * 8 + j];
      }
      const int width = std::min(8, p.n - block * 8);
      for (int j = 0; j < width; ++j) {
        const int32_t v = lstm::Mbqm32(acc[j], {p.multiplier, p.shift}) + p.out_zero;
        out[static_cast<size_t>(i) * p.n + block * 8 + j] = static_cast<int8_t>(std::clamp(v, -128, 127));
      }
    }
  }
}

const Int8MatMulKernel kPortable = {"bmm-int8-portable", PortableRun, Int8MatMulScratchBytes};

}  // namespace

void PackInt8ARow(const Int8MatMul& p, const int8_t* a, int i, int16_t* packed) {
  int16_t* row = packed + static_cast<size_t>(i) * Int8MatMulDepth(p.k);
  if (p.adj_a) {
    for (int k = 0; k < p.k; ++k) row[k] = static_cast<int16_t>(a[static_cast<size_t>(k) * p.m + i] - p.a_zero);
  } else {
    const int8_t* src = a + static_cast<size_t>(i) * p.k;
    for (int k = 0; k < p.k; ++k) row[k] = static_cast<int16_t>(src[k] - p.a_zero);
  }
  std::fill(row + p.k, row + Int8MatMulDepth(p.k), int16_t{0});
}

void PackInt8A(const Int8MatMul& p, const int8_t* a, int16_t* packed) {
  for (int i = 0; i < p.m; ++i) PackInt8ARow(p, a, i, packed);
}

void PackInt8BBlock(const Int8MatMul& p, const int8_t* b, bool pairs, int block, int16_t* packed) {
  const int depth = Int8MatMulDepth(p.k);
  int16_t* dst = packed + static_cast<size_t>(block) * depth * 8;
  for (int k = 0; k < depth; ++k) {
    // Where b[k][j] goes: pairs interleave two depths per column.
    int16_t* line = pairs ? dst + (k / 2) * 16 + (k % 2) : dst + k * 8;
    const int step = pairs ? 2 : 1;
    for (int j = 0; j < 8; ++j) {
      const int n = block * 8 + j;
      int16_t v = 0;
      if (k < p.k && n < p.n) {
        const int8_t q = p.adj_b ? b[static_cast<size_t>(n) * p.k + k] : b[static_cast<size_t>(k) * p.n + n];
        v = static_cast<int16_t>(q - p.b_zero);
      }
      line[j * step] = v;
    }
  }
}

void PackInt8B(const Int8MatMul& p, const int8_t* b, bool pairs, int16_t* packed) {
  for (int block = 0; block < Int8MatMulBlocks(p.n); ++block) PackInt8BBlock(p, b, pairs, block, packed);
}

size_t Int8MatMulScratchBytes(const Int8MatMul& p) {
  const size_t depth = static_cast<size_t>(Int8MatMulDepth(p.k));
  return (static_cast<size_t>(Int8MatMulBlocks(p.n)) * 8 + static_cast<size_t>(p.m)) * depth * sizeof(int16_t);
}

std::vector<const Int8MatMulKernel*> Int8MatMulsOnThisCpu() {
  std::vector<const Int8MatMulKernel*> all = {&kPortable};
  if (Avx2Int8MatMul() != nullptr && rnn::CpuRuns(rnn::Isa::kAvx2)) all.push_back(Avx2Int8MatMul());
  if (NeonInt8MatMul() != nullptr && rnn::CpuRuns(rnn::Isa::kNeon)) all.push_back(NeonInt8MatMul());
  if (DotProdInt8MatMul() != nullptr && rnn::CpuRuns(rnn::Isa::kDotProd)) all.push_back(DotProdInt8MatMul());
  return all;
}

const Int8MatMulKernel& BestInt8MatMul() {
  static const Int8MatMulKernel& best = []() -> const Int8MatMulKernel& {
    if (Avx2Int8MatMul() != nullptr && rnn::Allowed(rnn::Isa::kAvx2)) return *Avx2Int8MatMul();
    if (DotProdInt8MatMul() != nullptr && rnn::Allowed(rnn::Isa::kDotProd)) return *DotProdInt8MatMul();
    if (NeonInt8MatMul() != nullptr && rnn::Allowed(rnn::Isa::kNeon)) return *NeonInt8MatMul();
    return kPortable;
  }();
  return best;
}

}  // namespace tflstm::xnn
