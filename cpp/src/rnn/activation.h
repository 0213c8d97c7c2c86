// The activations a recurrent layer's gates and cell may use (tflstm's own enum: TFLite's fused
// activations cannot say sigmoid or hard_sigmoid, Keras's names are strings).
#pragma once

namespace tflstm::rnn {

enum class Act {
  kTanh,
  kRelu,
  kRelu6,
  kReluN1To1,
  kSigmoid,
  kLinear,
  kHardSigmoid,       // Keras 2 (tf.keras): clip(0.2 x + 0.5, 0, 1)
  kHardSigmoidRelu6,  // Keras 3: relu6(x + 3) / 6
};
constexpr int kActCount = 8;

}  // namespace tflstm::rnn
