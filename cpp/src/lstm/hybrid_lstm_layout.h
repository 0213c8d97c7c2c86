// The hybrid LSTM's blocked int8 weight layout, shared by the products that sum several rows in
// parallel lanes (AVX2/VNNI on 256-bit vectors, NEON/DotProd on 128-bit ones): groups of
// kGroupRows rows x 4 columns (row i at bytes 4i..4i+3 of its group), so that one broadcast of 4
// input bytes serves every row of a group and each row's sum ends in its own lane, with no
// horizontal additions. Rows come in blocks of up to kBlockGroups groups; within a block, the
// groups of columns 0-3 come first, then those of 4-7, and so on. Plain C++: no intrinsics.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tflstm::lstm {

// The groups of the block of rows that starts at r0 (the last block may have fewer).
template <int kGroupRows, int kBlockGroups>
int BlockGroups(int rows, int r0) {
  return std::min(kBlockGroups, (rows - r0) / kGroupRows);
}

// out = w (row-major, rows a multiple of kGroupRows, cols of 4) in the blocked order above; each
// block starts at out + r0 * cols, as its rows did in w.
template <int kGroupRows, int kBlockGroups>
void BlockedLayout(const int8_t* w, int rows, int cols, int8_t* out) {
  for (int r0 = 0; r0 < rows; r0 += kBlockGroups * kGroupRows) {
    const int groups = BlockGroups<kGroupRows, kBlockGroups>(rows, r0);
    int8_t* block = out + static_cast<size_t>(r0) * cols;
    for (int c = 0; c < cols / 4; ++c) {
      for (int g = 0; g < groups; ++g) {
        for (int i = 0; i < kGroupRows; ++i) {
          std::memcpy(block + (static_cast<size_t>(c * groups + g) * kGroupRows + i) * 4,
                      w + static_cast<size_t>(r0 + g * kGroupRows + i) * cols + c * 4, 4);
        }
      }
    }
  }
}

}  // namespace tflstm::lstm
