// Reading numpy .npy files (format 1.0-3.0, C order, little-endian) for the benchmark's inputs.
#pragma once

#include <string>
#include <vector>

#include "tensorflow/lite/core/c/c_api_types.h"
#include "tflstm/status.h"

namespace tflstm::bench {

struct NpyArray {
  TfLiteType dtype = kTfLiteNoType;
  std::vector<int> shape;
  std::vector<char> data;
};

Result<NpyArray> ReadNpy(const std::string& path);
Status WriteNpy(const std::string& path, TfLiteType dtype, const int* shape, size_t rank, const void* data,
                size_t bytes);

}  // namespace tflstm::bench
