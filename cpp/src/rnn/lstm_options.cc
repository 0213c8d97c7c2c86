#include "lstm_options.h"

#include "custom_options.h"

namespace tflstm::rnn {
namespace {

// The map's fields, in `o` (zero_output_for_mask last: versions 1 and 2 write no such key).
OptionFields Fields(LstmOptions& o) {
  return {{{"time_major", &o.time_major}, {"zero_output_for_mask", &o.zero_output_for_mask}},
          {{"activation", &o.activation}, {"recurrent_activation", &o.recurrent_activation}}};
}

}  // namespace

bool ParseLstmOptions(const uint8_t* data, size_t size, LstmOptions* options, std::string* error) {
  LstmOptions o;
  if (!ParseOptionsMap(data, size, kLstmOptionsVersion, &o.version, Fields(o), "LSTM", error)) return false;
  *options = o;
  return true;
}

std::vector<uint8_t> LstmOptionsBytes(const LstmOptions& options) {
  LstmOptions o = options;
  OptionFields fields = Fields(o);
  if (o.version < 3) fields.flags.pop_back();
  return OptionsBytes(o.version, fields);
}

}  // namespace tflstm::rnn
