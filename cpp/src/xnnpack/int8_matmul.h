// tflstm's int8 matrix multiply for BATCH_MATMUL, whose operands are both activations (XNNPACK
// 2024-11 has no qs8 batch matrix multiply): one batch entry per call, bit-exact with TFLite
// 2.14.1's reference int8 BatchMatMul. Each call packs both operands, zero points subtracted,
// into int16 scratch (exact: |a - za| * |b - zb| <= 255 * 255), accumulates in int32 and
// requantizes with MultiplyByQuantizedMultiplier (double rounding), then adds the output zero
// point and saturates to int8, as TFLite does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tflstm::xnn {

struct Int8MatMul {
  int m = 0, k = 0, n = 0;  // out[m][n] = sum over k of a[m][k] * b[k][n] (row-major out)
  bool adj_a = false;       // a is stored [k][m]
  bool adj_b = false;       // b is stored [n][k]
  int32_t a_zero = 0, b_zero = 0, out_zero = 0;
  int32_t multiplier = 0;  // TFLite's quantized multiplier of a_scale * b_scale / out_scale
  int shift = 0;
};

// Depths above this could overflow the int32 sums (TFLite's would too): not covered.
constexpr int kInt8MatMulMaxDepth = 32768;

// The packed operands' layout: the depth padded to 4, the columns to blocks of 8; pairs:
// b as [block][k / 2][8][2] (AVX2's vpmaddwd), otherwise [block][k][8].
inline int Int8MatMulDepth(int k) { return (k + 3) / 4 * 4; }
inline int Int8MatMulBlocks(int n) { return (n + 7) / 8; }
void PackInt8A(const Int8MatMul& p, const int8_t* a, int16_t* packed);
void PackInt8B(const Int8MatMul& p, const int8_t* b, bool pairs, int16_t* packed);
// One block of 8 columns of PackInt8B (at packed + block * depth * 8), and one row of a's.
void PackInt8BBlock(const Int8MatMul& p, const int8_t* b, bool pairs, int block, int16_t* packed);
void PackInt8ARow(const Int8MatMul& p, const int8_t* a, int row, int16_t* packed);

// The packing with an instruction set's loops where the operand is not transposed (the layout
// the converter gives attention's products): `vector(src, row)` packs a row's first values and
// returns how many; `block(block, dst)` packs a whole block of 8 columns. The generic code packs
// the rest.
template <class Vector>
void PackInt8AWith(const Int8MatMul& p, const int8_t* a, int16_t* packed, Vector vector) {
  if (p.adj_a) return PackInt8A(p, a, packed);
  const int depth = Int8MatMulDepth(p.k);
  for (int i = 0; i < p.m; ++i) {
    const int8_t* src = a + static_cast<size_t>(i) * p.k;
    int16_t* row = packed + static_cast<size_t>(i) * depth;
    int k = vector(src, row);
    for (; k < p.k; ++k) row[k] = static_cast<int16_t>(src[k] - p.a_zero);
    for (; k < depth; ++k) row[k] = 0;
  }
}
template <class Block>
void PackInt8BWith(const Int8MatMul& p, const int8_t* b, bool pairs, int16_t* packed, Block whole) {
  const size_t block_size = static_cast<size_t>(Int8MatMulDepth(p.k)) * 8;
  for (int block = 0; block < Int8MatMulBlocks(p.n); ++block) {
    if (p.adj_b || block * 8 + 8 > p.n) {
      PackInt8BBlock(p, b, pairs, block, packed);
    } else {
      whole(block, packed + block * block_size);
    }
  }
}

// One instruction set's kernel: `run` multiplies one batch entry; pack_b false reuses the b
// that the previous call packed into the same scratch (a broadcast right-hand side).
struct Int8MatMulKernel {
  const char* name;  // as `inspect` and the profile show it: "bmm-int8-avx2", ...
  void (*run)(const Int8MatMul& p, const int8_t* a, const int8_t* b, int8_t* out, int16_t* scratch, bool pack_b);
  size_t (*scratch)(const Int8MatMul& p);  // the scratch one call needs, in bytes
};
// The scratch of the kernels that pack both operands into int16 (portable, AVX2, NEON).
size_t Int8MatMulScratchBytes(const Int8MatMul& p);

// The best kernel for this CPU (TFLSTM_LSTM_ISA=portable limits it as it limits the recurrent
// kernels), and every kernel this CPU runs (portable first) for the tests.
const Int8MatMulKernel& BestInt8MatMul();
std::vector<const Int8MatMulKernel*> Int8MatMulsOnThisCpu();

// The kernels of each instruction set (null where the build has none).
const Int8MatMulKernel* Avx2Int8MatMul();
const Int8MatMulKernel* NeonInt8MatMul();
const Int8MatMulKernel* DotProdInt8MatMul();  // aarch64 DotProd, on int8_fc.h's product

}  // namespace tflstm::xnn
