#include "finite.h"

namespace tflstm::internal {

namespace {

constexpr size_t kBlock = 64;

// x - x is 0 for every finite x and NaN for NaN and +-Inf (tflstm is never built with
// -ffast-math, which would fold it away).
inline bool NonFinite(float x) { return !(x - x == 0.0f); }
// A half float is NaN or Inf exactly when all its exponent bits are set.
inline bool NonFiniteHalf(uint16_t h) { return (h & 0x7c00u) == 0x7c00u; }

template <typename T, bool (*Bad)(T)>
size_t FirstBad(const T* data, size_t n) {
  size_t start = 0;
  for (; start + kBlock <= n; start += kBlock) {
    bool any = false;
    for (size_t k = 0; k < kBlock; ++k) any |= Bad(data[start + k]);
    if (any) break;
  }
  for (size_t k = start; k < n; ++k) {
    if (Bad(data[k])) return k;
  }
  return n;
}

}  // namespace

size_t FirstNonFinite(const float* data, size_t n) { return FirstBad<float, NonFinite>(data, n); }

size_t FirstNonFiniteHalf(const uint16_t* bits, size_t n) { return FirstBad<uint16_t, NonFiniteHalf>(bits, n); }

}  // namespace tflstm::internal
