#include "gru_options.h"

#include "custom_options.h"

namespace tflstm::rnn {

const char* ActName(Act a) {
  switch (a) {
    case Act::kTanh: return "tanh";
    case Act::kRelu: return "relu";
    case Act::kRelu6: return "relu6";
    case Act::kReluN1To1: return "relu_n1_to_1";
    case Act::kSigmoid: return "sigmoid";
    case Act::kLinear: return "linear";
    case Act::kHardSigmoid: return "hard_sigmoid";
    case Act::kHardSigmoidRelu6: return "hard_sigmoid_relu6";
  }
  return "?";
}

bool ActFromName(const std::string& name, Act* a) {
  for (int i = 0; i < kActCount; ++i) {
    if (name == ActName(static_cast<Act>(i))) {
      *a = static_cast<Act>(i);
      return true;
    }
  }
  return false;
}

namespace {

// The map's fields, in `o` (zero_output_for_mask last: versions 1 and 2 write no such key).
OptionFields Fields(GruOptions& o) {
  return {{{"reset_after", &o.reset_after},
           {"time_major", &o.time_major},
           {"zero_output_for_mask", &o.zero_output_for_mask}},
          {{"activation", &o.activation}, {"recurrent_activation", &o.recurrent_activation}}};
}

}  // namespace

bool ParseGruOptions(const uint8_t* data, size_t size, GruOptions* options, std::string* error) {
  GruOptions o;
  if (!ParseOptionsMap(data, size, kGruOptionsVersion, &o.version, Fields(o), "GRU", error)) return false;
  *options = o;
  return true;
}

std::vector<uint8_t> GruOptionsBytes(const GruOptions& options) {
  GruOptions o = options;
  OptionFields fields = Fields(o);
  if (o.version < 3) fields.flags.pop_back();
  return OptionsBytes(o.version, fields);
}

}  // namespace tflstm::rnn
