// Reading numpy .npy files (format 1.0-3.0, C order, little-endian) for the benchmark's inputs.
#pragma once

#include <string>
#include <vector>

#include "tflstm/dtype.h"
#include "tflstm/status.h"

namespace tflstm::bench {

struct NpyArray {
  DType dtype = DType::kNone;
  std::vector<int> shape;
  std::vector<char> data;
};

Result<NpyArray> ReadNpy(const std::string& path);
Status WriteNpy(const std::string& path, DType dtype, const int* shape, size_t rank, const void* data, size_t bytes);

}  // namespace tflstm::bench
