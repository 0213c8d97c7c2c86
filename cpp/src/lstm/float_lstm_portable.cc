// The float LSTM in plain C++: any CPU.
#include <cmath>

#include "float_lstm_impl.h"

namespace tflstm::lstm {
namespace {

struct Scalar {
  using V = float;
  static constexpr int kLanes = 1;
  static constexpr int kChains = 1;
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
  static V Round(V x) { return std::nearbyint(x); }
  static V Pow2(V n) { return std::ldexp(1.0f, static_cast<int>(n)); }
};

}  // namespace

const Kernels& PortableKernels() { return KernelsFor<Scalar>("portable"); }

}  // namespace tflstm::lstm
