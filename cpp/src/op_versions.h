// Builtin op versions that TensorFlow's converter writes and TFLite 2.14.1 does not register.
// A new version marks what an op gained in a later release (a type, an option); a model whose
// node does not use the gain is computed by 2.14.1's kernel as it is. Op sets register the
// kernel for those versions (tflstm::AddNewerOpVersions), and the model check refuses a node
// that uses a gain 2.14.1 lacks, naming the op, the version and the release (CheckOpVersion).
#pragma once

#include <string>
#include <vector>

#include "tensorflow/lite/schema/schema_generated.h"
#include "tflstm/status.h"

namespace tflstm::internal {

struct NewerOpVersion {
  tflite::BuiltinOperator op;
  int version;
  int tflite_version;   // the newest version TFLite 2.14.1 registers for the op
  const char* release;  // the TensorFlow release whose runtime first runs it
  const char* meaning;  // what the version adds
  const char* runs;     // how tflstm runs it, or nullptr when a node using the addition is refused
};

// Every newer version tflstm knows, in op and version order.
const std::vector<NewerOpVersion>& NewerOpVersions();

// The entry for (op, version), or null for a version TFLite 2.14.1 has or tflstm does not know.
const NewerOpVersion* FindNewerOpVersion(tflite::BuiltinOperator op, int version);

// Refuses (kUnsupportedOp) operator `op` of `subgraph` when its op code's version is newer than
// TFLite 2.14.1's and the node uses what the version adds. `name` names the operator.
Status CheckOpVersion(const tflite::Model& model, const tflite::SubGraph& subgraph, const tflite::Operator& op,
                      const std::string& name);

}  // namespace tflstm::internal
