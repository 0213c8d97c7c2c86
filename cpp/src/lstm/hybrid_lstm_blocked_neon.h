// The hybrid LSTM's blocked int8 product on 128-bit NEON vectors (aarch64 and armhf), in
// hybrid_lstm_layout.h's layout with groups of 4 rows x 4 columns (16 bytes): each group's sums
// stay in one vector's 4 lanes, so no row needs a horizontal reduction, and one load of x serves
// the 32 rows of a block. The products over a group's columns come from K (hybrid_lstm_neon.cc's
// smull/smlal pairs, hybrid_lstm_dotprod.cc's sdot by element): K::Groups<G>(w, stride, cols, x,
// out) stores the sums of G groups of rows (group g's 16 bytes of columns 4c..4c+3 at
// w + c * stride + 16 g) to out[0 .. 4G), for G up to K::kPass. Include it only from those files.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "hybrid_lstm_layout.h"

namespace tflstm::lstm {
namespace {

constexpr int kNeonGroupRows = 4;
constexpr int kNeonBlockGroups = 8;  // 32 rows a block: a packed LSTM block's 4 gates x 8 units

inline void NeonBlockedLayout(const int8_t* w, int rows, int cols, int8_t* out) {
  BlockedLayout<kNeonGroupRows, kNeonBlockGroups>(w, rows, cols, out);
}

// K::Groups<n> for n <= G, chosen at run time (only the last block of rows has fewer groups).
template <class K, int G>
void GroupsOf(int n, const int8_t* w, size_t stride, int cols, const int8_t* x, int32_t* out) {
  if (n == G) return K::template Groups<G>(w, stride, cols, x, out);
  if constexpr (G > 1) GroupsOf<K, G - 1>(n, w, stride, cols, x, out);
}

// HybridKernels::dot_narrow over w in NeonBlockedLayout's order (rows a multiple of 4, cols of kDotCols).
// Each block of rows takes every vector in turn, so that a projection's many vectors find it in L1.
template <class K>
void DotBlocked(const int8_t* w, int rows, int cols, const int8_t* x, int vectors, int32_t* out) {
  for (int r0 = 0; r0 < rows; r0 += kNeonBlockGroups * kNeonGroupRows) {
    const int groups = BlockGroups<kNeonGroupRows, kNeonBlockGroups>(rows, r0);
    const size_t stride = static_cast<size_t>(groups) * kNeonGroupRows * 4;
    const int8_t* block = w + static_cast<size_t>(r0) * cols;
    for (int v = 0; v < vectors; ++v) {
      const int8_t* xv = x + static_cast<size_t>(v) * cols;
      int32_t* o = out + static_cast<size_t>(v) * rows + r0;
      for (int g = 0; g < groups; g += K::kPass) {
        GroupsOf<K, K::kPass>(std::min(K::kPass, groups - g), block + g * kNeonGroupRows * 4, stride, cols, xv,
                              o + g * kNeonGroupRows);
      }
    }
  }
}

}  // namespace
}  // namespace tflstm::lstm
