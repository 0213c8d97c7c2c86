// The plain C++ traits of the float recurrence: any CPU.
#pragma once

#include <cstdint>
#include <cstring>

#include "float_recurrence.h"

namespace tflstm::rnn {
namespace {

struct Scalar {
  using V = float;
  static constexpr int kLanes = 1;
  static constexpr int kChains = 1;
  static constexpr int kProjectRows = 1;
  static V Load(const float* p) { return *p; }
  static void Store(float* p, V v) { *p = v; }
  static V Set(float x) { return x; }
  static V Add(V a, V b) { return a + b; }
  static V Sub(V a, V b) { return a - b; }
  static V Mul(V a, V b) { return a * b; }
  static V Div(V a, V b) { return a / b; }
  static V Fma(V a, V b, V c) { return a * b + c; }
  static V Min(V a, V b) { return a < b ? a : b; }
  static V Max(V a, V b) { return a > b ? a : b; }
  // Without library calls, which cost more than the rest of the polynomial.
  static V Round(V x) {                 // to nearest, for |x| < 2^22: adding 1.5 * 2^23 drops the fraction
    constexpr float big = 12582912.0f;  // (x + big) - big is not x in IEEE arithmetic: kept as written
    return (x + big) - big;
  }
  static V Pow2(V n) {
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
};

}  // namespace
}  // namespace tflstm::rnn
