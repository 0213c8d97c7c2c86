#include "float_lstm.h"

namespace tflstm::lstm {

void PackedWeights::Resize(int n_input, int n_cell) {
  const size_t blocks = static_cast<size_t>(Blocks(n_cell));
  input.assign(blocks * n_input * kBlockWidth, 0.0f);
  recurrent.assign(blocks * n_cell * kBlockWidth, 0.0f);
  bias.assign(blocks * kBlockWidth, 0.0f);
}

void PackGates(const float* const gates[kGates], int units, int cols, float* out) {
  rnn::PackBlocked<kGates, kBlockUnits>(gates, units, cols, out);
}

}  // namespace tflstm::lstm
