// A verified, immutable TFLite model: loaded from a file (read into memory, or memory-mapped
// on request) or from bytes,
// with its inputs, outputs and operators described, and a check that names every
// (op, version) the linked runtime cannot run. One Model can serve many Runners.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tflstm/dtype.h"
#include "tflstm/status.h"

namespace tflstm {

class Arena;

namespace internal {
struct ModelAccess;
}

// How Model::FromFile holds the file's bytes.
enum class ModelFile {
  kRead,       // read into memory that the model owns: the file may change or go afterwards
  kMemoryMap,  // mapped: no copy, but the file must stay unchanged while the model lives; a file
               // truncated or rewritten under the mapping kills the process (SIGBUS) or changes
               // the model under running runners
};

struct Quantization {
  std::vector<float> scales;  // empty when the tensor is not quantized
  std::vector<int64_t> zero_points;
  int quantized_dimension = 0;  // the axis of per-channel parameters
};

struct TensorInfo {
  int index = -1;           // tensor index in the primary subgraph
  std::string name;         // the signature's name for it when the model has one signature,
                            // else the tensor's name
  std::string tensor_name;  // the tensor's own name, e.g. "serving_default_x:0"
  DType dtype = DType::kNone;
  std::vector<int> shape;            // as stored (-1 entries of the signature appear as 1)
  std::vector<int> shape_signature;  // -1 marks a dimension that may vary
  Quantization quantization;
};

struct OpInfo {
  std::string name;  // e.g. "UNIDIRECTIONAL_SEQUENCE_LSTM", or a custom op's name
  int version = 1;
  bool custom = false;
  int builtin_code = -1;  // tflite::BuiltinOperator, -1 for custom ops
};

// A piece of state the model keeps between invokes: a variable tensor (a fused LSTM's hidden
// or cell state) or a resource variable (VAR_HANDLE), with the type and shape it starts with.
struct StateInfo {
  std::string name;  // the tensor's name, or the resource variable's shared name
  bool resource_variable = false;
  DType dtype = DType::kNone;
  std::vector<int> shape;  // empty when the model does not say
  size_t bytes() const;
};

// A signature: a named entry point with named inputs and outputs, run on one subgraph.
struct SignatureInfo {
  std::string key;  // e.g. "serving_default"
  int subgraph = 0;
  std::vector<TensorInfo> inputs;  // `name` is the signature's name for each tensor
  std::vector<TensorInfo> outputs;
};

class Model {
 public:
  // Reads (or maps) the file and verifies it. A path holding a NUL byte is refused.
  static Result<std::shared_ptr<const Model>> FromFile(const std::string& path, ModelFile mode = ModelFile::kRead);
  // Copies the bytes into a 64-byte aligned buffer that the model owns, and verifies them.
  static Result<std::shared_ptr<const Model>> FromBytes(const void* data, size_t size);
  // Copies the bytes into `arena`, which must outlive the model.
  static Result<std::shared_ptr<const Model>> FromBytes(const void* data, size_t size, Arena& arena);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  const std::vector<SignatureInfo>& signatures() const { return signatures_; }
  // The signature called `key`, or kInvalidArgument listing the keys there are.
  Result<const SignatureInfo*> Signature(const std::string& key) const;
  // Where the model keeps state between invokes; empty for a stateless model.
  const std::vector<StateInfo>& state() const { return state_; }
  // Every operator code of the model, in the model's order.
  const std::vector<OpInfo>& ops() const { return ops_; }
  // The ops that the linked runtime cannot run; empty when it can run them all.
  std::vector<OpInfo> UnsupportedOps() const;
  // kUnsupportedOp naming every missing (op, version), before any interpreter is built.
  Status Check() const;

  // Where the model came from, for messages: "model 'path'" or "model (N bytes)".
  const std::string& description() const { return description_; }
  size_t size_bytes() const { return size_; }

 private:
  friend struct internal::ModelAccess;  // FlatBuffer() of tflstm/tflite/model.h
  struct Storage;
  Model() = default;
  // Verifies `size` bytes at `data` (unless the flatbuffer is built already) and describes them;
  // `description_` and `size_` are set by then.
  static Result<std::shared_ptr<const Model>> Build(std::shared_ptr<Model> model, const char* data, size_t size);
  // A 64-byte aligned copy of `size` bytes that `storage_` owns, or null when out of memory.
  char* Own(size_t size);

  std::unique_ptr<Storage> storage_;  // TFLite's flatbuffer model, and the owned copy of the bytes, if any
  std::string description_;
  size_t size_ = 0;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  std::vector<OpInfo> ops_;
  std::vector<SignatureInfo> signatures_;
  std::vector<StateInfo> state_;
};

}  // namespace tflstm
