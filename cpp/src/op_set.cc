// tflstm::CompleteOpSet (tflstm/tflite/op_set.h): what every op set adds to TFLite's registrations.
#include "tflstm/tflite/op_set.h"
#include "checked_read_variable.h"
#include "fully_connected_per_channel.h"
#include "op_versions.h"

namespace tflstm {

void CompleteOpSet(tflite::MutableOpResolver& resolver) {
  for (const internal::NewerOpVersion& v : internal::NewerOpVersions()) {
    const TfLiteRegistration* base = resolver.FindOp(v.op, v.tflite_version);
    if (base == nullptr) continue;  // an op this op set leaves out
    if (v.op == tflite::BuiltinOperator_FULLY_CONNECTED && v.version == 12) {
      base = internal::PerChannelFullyConnected(*base);
    }
    resolver.AddBuiltin(v.op, base, v.version);
  }
  if (const TfLiteRegistration* read = resolver.FindOp(tflite::BuiltinOperator_READ_VARIABLE, 1)) {
    resolver.AddBuiltin(tflite::BuiltinOperator_READ_VARIABLE, internal::CheckedReadVariable(*read), 1);
  }
}

}  // namespace tflstm
