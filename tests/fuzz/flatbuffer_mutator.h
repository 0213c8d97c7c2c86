// A structure-aware mutation of TFLite model bytes for libFuzzer: most mutations unpack the
// model, change one field that TFLite follows (a shape, a buffer index, a tensor type, an
// operand or opcode index, quantization, a buffer's size or offset) to an edge value and pack it
// again; the others work on the raw bytes (16/32-bit fields overwritten with edge values,
// truncation, splices of the file into itself), or leave it to libFuzzer's own mutators.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tflstm::fuzz {

// Mutates data[0, size) in place (at most max_size bytes) and returns the new size.
size_t MutateModel(uint8_t* data, size_t size, size_t max_size, unsigned int seed);

}  // namespace tflstm::fuzz
