#include "gru_options.h"

#include "flatbuffers/flexbuffers.h"

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

bool ParseGruOptions(const uint8_t* data, size_t size, GruOptions* options, std::string* error) {
  if (data == nullptr || size == 0) {
    *error = "it has no options (a FlexBuffers map with its version)";
    return false;
  }
  if (!flexbuffers::VerifyBuffer(data, size)) {
    *error = "its options are not a valid FlexBuffers buffer";
    return false;
  }
  const flexbuffers::Reference root = flexbuffers::GetRoot(data, size);
  if (!root.IsMap()) {
    *error = "its options are not a FlexBuffers map";
    return false;
  }
  const flexbuffers::Map map = root.AsMap();
  const flexbuffers::Reference version = map["version"];
  if (!version.IsInt() || version.AsInt64() < 1 || version.AsInt64() > kGruOptionsVersion) {
    *error = "its options' version is " + (version.IsInt() ? std::to_string(version.AsInt64()) : "missing") +
             "; this build reads versions 1 to " + std::to_string(kGruOptionsVersion);
    return false;
  }
  GruOptions o;
  o.version = static_cast<int>(version.AsInt64());
  for (const auto& [key, flag] : {std::pair{"reset_after", &o.reset_after}, std::pair{"time_major", &o.time_major}}) {
    const flexbuffers::Reference r = map[key];
    if (r.IsNull()) continue;
    if (!r.IsBool()) {
      *error = std::string("its option '") + key + "' is not a boolean";
      return false;
    }
    *flag = r.AsBool();
  }
  for (const auto& [key, act] :
       {std::pair{"activation", &o.activation}, std::pair{"recurrent_activation", &o.recurrent_activation}}) {
    const flexbuffers::Reference r = map[key];
    if (r.IsNull()) continue;
    if (!r.IsString() || !ActFromName(r.AsString().str(), act)) {
      *error =
          std::string("its option '") + key + "' is " +
          (r.IsString() ? "'" + r.AsString().str() + "'" : "not a string") +
          "; tflstm's GRU runs tanh, relu, relu6, relu_n1_to_1, sigmoid, linear, hard_sigmoid or hard_sigmoid_relu6";
      return false;
    }
  }
  *options = o;
  return true;
}

std::vector<uint8_t> GruOptionsBytes(const GruOptions& options) {
  flexbuffers::Builder fbb;
  fbb.Map([&] {
    fbb.Int("version", options.version);
    fbb.Bool("reset_after", options.reset_after);
    fbb.Bool("time_major", options.time_major);
    fbb.String("activation", ActName(options.activation));
    fbb.String("recurrent_activation", ActName(options.recurrent_activation));
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

}  // namespace tflstm::rnn
