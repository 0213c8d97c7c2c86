#include "custom_options.h"

#include "flatbuffers/flexbuffers.h"
#include "gru_options.h"

namespace tflstm::rnn {

bool ParseOptionsMap(const uint8_t* data, size_t size, int max_version, int* version, const OptionFields& fields,
                     const char* layer, std::string* error) {
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
  const flexbuffers::Reference v = map["version"];
  if (!v.IsInt() || v.AsInt64() < 1 || v.AsInt64() > max_version) {
    *error = "its options' version is " + (v.IsInt() ? std::to_string(v.AsInt64()) : "missing") +
             "; this build reads " +
             (max_version == 1 ? std::string("version 1") : "versions 1 to " + std::to_string(max_version));
    return false;
  }
  *version = static_cast<int>(v.AsInt64());
  for (const auto& [key, flag] : fields.flags) {
    const flexbuffers::Reference r = map[key];
    if (r.IsNull()) continue;
    if (!r.IsBool()) {
      *error = std::string("its option '") + key + "' is not a boolean";
      return false;
    }
    *flag = r.AsBool();
  }
  for (const auto& [key, act] : fields.acts) {
    const flexbuffers::Reference r = map[key];
    if (r.IsNull()) continue;
    if (!r.IsString() || !ActFromName(r.AsString().str(), act)) {
      *error = std::string("its option '") + key + "' is " +
               (r.IsString() ? "'" + r.AsString().str() + "'" : "not a string") + "; tflstm's " + layer +
               " runs tanh, relu, relu6, relu_n1_to_1, sigmoid, linear, hard_sigmoid or hard_sigmoid_relu6";
      return false;
    }
  }
  return true;
}

std::vector<uint8_t> OptionsBytes(int version, const OptionFields& fields) {
  flexbuffers::Builder fbb;
  fbb.Map([&] {
    fbb.Int("version", version);
    for (const auto& [key, flag] : fields.flags) fbb.Bool(key, *flag);
    for (const auto& [key, act] : fields.acts) fbb.String(key, ActName(*act));
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

}  // namespace tflstm::rnn
