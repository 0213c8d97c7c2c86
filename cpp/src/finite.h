// Finding NaN and Inf in float input data: a block at a time, without branches inside a block,
// so the compiler vectorizes the scan and the check costs a small fraction of an invoke.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tflstm::internal {

// Position of the first NaN or +-Inf among `n` values, or `n` when all are finite.
size_t FirstNonFinite(const float* data, size_t n);
// The same for IEEE half floats given as their bits.
size_t FirstNonFiniteHalf(const uint16_t* bits, size_t n);

}  // namespace tflstm::internal
