// The custom options of tflstm's own recurrent ops (TFLSTM_GRU, TFLSTM_LSTM): a FlexBuffers map
// with an integer "version" first, then boolean flags and activation names (activation.h's, as
// gru_options.h's ActName spells them), each optional.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "activation.h"

namespace tflstm::rnn {

struct OptionFields {
  std::vector<std::pair<const char*, bool*>> flags;
  std::vector<std::pair<const char*, Act*>> acts;
};

// Reads `data` into `fields` when it is a map of a version from 1 to `max_version` (written to
// `version`); false with a message saying what is wrong otherwise (`layer` names the layer in it:
// "GRU", "LSTM"). Fields stay as they are where the map has no key.
bool ParseOptionsMap(const uint8_t* data, size_t size, int max_version, int* version, const OptionFields& fields,
                     const char* layer, std::string* error);

// The options bytes of `fields` (their current values) at `version`.
std::vector<uint8_t> OptionsBytes(int version, const OptionFields& fields);

}  // namespace tflstm::rnn
