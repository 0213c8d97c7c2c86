#include "tflstm/model.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <sstream>

#include "error_capture.h"
#include "model_validate.h"
#include "no_throw.h"
#include "tensorflow/lite/core/api/flatbuffer_conversions.h"
#include "tensorflow/lite/model_builder.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tensorflow/lite/schema/schema_utils.h"
#include "tflstm/arena.h"
#include "tflstm/tflite/dtype.h"
#include "tflstm/tflite/model.h"
#include "tflstm/tflite/op_set.h"

namespace tflstm {

struct Model::Storage {
  internal::ErrorCapture capture;  // must outlive flatbuffer, which keeps a pointer to it
  struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, FreeDeleter> owned;
  std::unique_ptr<tflite::FlatBufferModel> flatbuffer;  // declared last: destroyed before what it points at
};

struct internal::ModelAccess {
  static const tflite::FlatBufferModel& FlatBuffer(const Model& model) { return *model.storage_->flatbuffer; }
};

const tflite::FlatBufferModel& FlatBuffer(const Model& model) { return internal::ModelAccess::FlatBuffer(model); }

namespace {

template <typename T>
size_t Length(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

// The schema's tensor type as a DType, through TFLite's own conversion (the types this runtime
// knows); false, with the reason reported, for one it does not know.
bool ConvertType(tflite::TensorType type, DType* out, tflite::ErrorReporter* reporter) {
  TfLiteType converted = kTfLiteNoType;
  const bool ok = tflite::ConvertTensorType(type, &converted, reporter) == kTfLiteOk;
  *out = FromTfLite(converted);
  return ok;
}

Result<TensorInfo> DescribeTensor(const tflite::SubGraph& sg, int index, const std::string& where) {
  const auto* t = sg.tensors()->Get(index);
  TensorInfo info;
  info.index = index;
  info.tensor_name = t->name() ? t->name()->str() : std::string();
  info.name = info.tensor_name;
  internal::ErrorCapture capture;
  if (!ConvertType(t->type(), &info.dtype, &capture)) {
    return Status(ErrorCode::kInvalidModel, where + ": tensor '" + info.tensor_name + "': " + capture.Take());
  }
  if (t->shape()) info.shape.assign(t->shape()->begin(), t->shape()->end());
  if (t->shape_signature() && t->shape_signature()->size() > 0) {
    info.shape_signature.assign(t->shape_signature()->begin(), t->shape_signature()->end());
  } else {
    info.shape_signature = info.shape;
  }
  if (const auto* q = t->quantization()) {
    if (q->scale()) info.quantization.scales.assign(q->scale()->begin(), q->scale()->end());
    if (q->zero_point()) info.quantization.zero_points.assign(q->zero_point()->begin(), q->zero_point()->end());
    info.quantization.quantized_dimension = q->quantized_dimension();
  }
  return info;
}

// The state of the primary subgraph: its variable tensors, then every resource variable of the
// model with the shape of the value its initialisation assigns.
std::vector<StateInfo> DescribeState(const tflite::Model& m) {
  std::vector<StateInfo> state;
  const tflite::SubGraph& primary = *m.subgraphs()->Get(0);
  for (size_t t = 0; t < Length(primary.tensors()); ++t) {
    const tflite::Tensor* tensor = primary.tensors()->Get(t);
    if (!tensor->is_variable()) continue;
    StateInfo s;
    s.name = tensor->name() ? tensor->name()->str() : "tensor " + std::to_string(t);
    internal::ErrorCapture ignore;
    ConvertType(tensor->type(), &s.dtype, &ignore);
    if (tensor->shape()) s.shape.assign(tensor->shape()->begin(), tensor->shape()->end());
    state.push_back(std::move(s));
  }
  const size_t first_resource = state.size();
  auto code_of = [&](const tflite::Operator* op) {
    return op->opcode_index() < Length(m.operator_codes())
               ? tflite::GetBuiltinCode(m.operator_codes()->Get(op->opcode_index()))
               : tflite::BuiltinOperator_CUSTOM;
  };
  for (size_t g = 0; g < Length(m.subgraphs()); ++g) {
    const tflite::SubGraph& sg = *m.subgraphs()->Get(g);
    std::vector<std::pair<int, size_t>> handles;  // VAR_HANDLE output tensor -> state entry
    for (size_t o = 0; o < Length(sg.operators()); ++o) {
      const tflite::Operator* op = sg.operators()->Get(o);
      if (code_of(op) == tflite::BuiltinOperator_VAR_HANDLE && Length(op->outputs()) == 1) {
        const auto* options = op->builtin_options_as_VarHandleOptions();
        const std::string name = options && options->shared_name() ? options->shared_name()->str() : "";
        size_t k = first_resource;
        while (k < state.size() && state[k].name != name) ++k;
        if (k == state.size()) {
          StateInfo s;
          s.name = name;
          s.resource_variable = true;
          state.push_back(std::move(s));
        }
        handles.emplace_back(op->outputs()->Get(0), k);
      } else if (code_of(op) == tflite::BuiltinOperator_ASSIGN_VARIABLE && Length(op->inputs()) == 2) {
        for (const auto& [tensor, k] : handles) {
          if (tensor != op->inputs()->Get(0) || !state[k].shape.empty()) continue;
          const int value = op->inputs()->Get(1);
          if (value < 0 || static_cast<size_t>(value) >= Length(sg.tensors())) continue;
          const tflite::Tensor* v = sg.tensors()->Get(value);
          internal::ErrorCapture ignore;
          ConvertType(v->type(), &state[k].dtype, &ignore);
          if (v->shape()) state[k].shape.assign(v->shape()->begin(), v->shape()->end());
        }
      }
    }
  }
  return state;
}

// Converters name tensors "serving_default_x:0" but record the user's names ("x") in the
// signature. With a single signature on the primary subgraph, those names are the ones to show.
void ApplySignatureNames(const tflite::Model& m, std::vector<TensorInfo>& inputs, std::vector<TensorInfo>& outputs) {
  if (Length(m.signature_defs()) != 1) return;
  const tflite::SignatureDef* sig = m.signature_defs()->Get(0);
  if (sig->subgraph_index() != 0) return;
  auto apply = [](const auto* maps, std::vector<TensorInfo>& infos) {
    for (size_t i = 0; i < Length(maps); ++i) {
      const tflite::TensorMap* map = maps->Get(i);
      if (map->name() == nullptr || map->name()->size() == 0) continue;
      for (TensorInfo& info : infos) {
        if (info.index == static_cast<int>(map->tensor_index())) info.name = map->name()->str();
      }
    }
  };
  apply(sig->inputs(), inputs);
  apply(sig->outputs(), outputs);
}

Result<SignatureInfo> DescribeSignature(const tflite::Model& m, const tflite::SignatureDef& def,
                                        const std::string& where) {
  SignatureInfo sig;
  sig.key = def.signature_key() ? def.signature_key()->str() : std::string();
  const std::string here = where + ": signature '" + sig.key + "'";
  if (def.subgraph_index() >= Length(m.subgraphs())) {
    return Status(ErrorCode::kInvalidModel, here + " names subgraph " + std::to_string(def.subgraph_index()) + " of " +
                                                std::to_string(Length(m.subgraphs())));
  }
  sig.subgraph = static_cast<int>(def.subgraph_index());
  const tflite::SubGraph& sg = *m.subgraphs()->Get(def.subgraph_index());
  for (auto [maps, infos] : {std::pair{def.inputs(), &sig.inputs}, std::pair{def.outputs(), &sig.outputs}}) {
    for (size_t i = 0; i < Length(maps); ++i) {
      const tflite::TensorMap* map = maps->Get(i);
      if (map->tensor_index() >= Length(sg.tensors())) {
        return Status(ErrorCode::kInvalidModel, here + " names tensor " + std::to_string(map->tensor_index()) + " of " +
                                                    std::to_string(Length(sg.tensors())));
      }
      auto info = DescribeTensor(sg, static_cast<int>(map->tensor_index()), here);
      if (!info.ok()) return info.status();
      if (map->name()) info.value().name = map->name()->str();
      infos->push_back(std::move(info).value());
    }
  }
  return sig;
}

}  // namespace

Model::~Model() = default;

Result<const SignatureInfo*> Model::Signature(const std::string& key) const {
  std::string keys;
  for (const SignatureInfo& s : signatures_) {
    if (s.key == key) return &s;
    keys += (keys.empty() ? "'" : ", '") + s.key + "'";
  }
  return Status(ErrorCode::kInvalidArgument, description_ + " has no signature '" + key + "'" +
                                                 (keys.empty() ? "; it has none" : "; its signatures are " + keys));
}

namespace {

// The file's bytes, read with the descriptor held open: a file replaced or truncated meanwhile
// gives the bytes read (which the verifier then judges), never a fault.
Status ReadAll(int fd, char* out, size_t size, size_t* got, const std::string& where) {
  *got = 0;
  while (*got < size) {
    const ssize_t n = ::read(fd, out + *got, std::min<size_t>(size - *got, size_t{1} << 30));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(ErrorCode::kInvalidModel, "cannot read " + where + ": " + std::strerror(errno));
    }
    *got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

char* Model::Own(size_t size) {
  storage_->owned.reset(static_cast<char*>(std::aligned_alloc(Arena::kAlignment, Arena::AlignUp(size))));
  return storage_->owned.get();
}

Result<std::shared_ptr<const Model>> Model::FromFile(const std::string& path, ModelFile mode) {
  const std::string where = "model '" + path + "'";
  if (path.find('\0') != std::string::npos) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot open " + where + ": the path holds a NUL byte, which no file name can");
  }
  Fd file;
  // O_NONBLOCK: a FIFO would block the open until a writer came; it is refused below instead.
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (file.fd < 0 || ::fstat(file.fd, &st) != 0) {
    return Status(ErrorCode::kInvalidModel, "cannot open " + where + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status(ErrorCode::kInvalidModel, where + " is not a regular file");
  if (st.st_size == 0) return Status(ErrorCode::kInvalidModel, where + " is empty (0 bytes)");
  if (static_cast<uint64_t>(st.st_size) > std::numeric_limits<size_t>::max() / 2) {
    return Status(ErrorCode::kInvalidModel,
                  where + " (" + std::to_string(st.st_size) + " bytes) is larger than this process can address");
  }

  std::shared_ptr<Model> model(new Model());  // private constructor: make_shared cannot reach it
  model->storage_ = std::make_unique<Storage>();
  model->description_ = where;
  model->size_ = static_cast<size_t>(st.st_size);
  if (mode == ModelFile::kRead) {
    char* bytes = model->Own(model->size_);
    if (bytes == nullptr) {
      return Status(ErrorCode::kInvalidModel,
                    "cannot allocate " + std::to_string(model->size_) + " bytes to read " + where);
    }
    size_t got = 0;
    TFLSTM_RETURN_IF_ERROR(ReadAll(file.fd, bytes, model->size_, &got, where));
    if (got == 0) return Status(ErrorCode::kInvalidModel, where + " is empty (0 bytes)");
    model->size_ = got;  // shorter when the file shrank since fstat: the verifier judges it
    return internal::NoThrow([&] { return "loading " + where; }, [&] { return Build(std::move(model), bytes, got); });
  }
  internal::SilenceTfliteLogging();
  model->storage_->flatbuffer =
      tflite::FlatBufferModel::VerifyAndBuildFromFile(path.c_str(), nullptr, &model->storage_->capture);
  if (!model->storage_->flatbuffer) {
    const std::string detail = model->storage_->capture.Take();
    return Status(ErrorCode::kInvalidModel, where + " (" + std::to_string(model->size_) +
                                                " bytes) is not a valid TFLite flatbuffer" +
                                                (detail.empty() ? std::string() : ": " + detail));
  }
  return internal::NoThrow([&] { return "loading " + where; }, [&] { return Build(std::move(model), nullptr, 0); });
}

Result<std::shared_ptr<const Model>> Model::FromBytes(const void* data, size_t size) {
  std::shared_ptr<Model> model(new Model());
  model->storage_ = std::make_unique<Storage>();
  model->size_ = size;
  model->description_ = "model (" + std::to_string(size) + " bytes)";
  char* bytes = nullptr;
  if (size > 0) {
    bytes = model->Own(size);
    if (bytes == nullptr) {
      return Status(ErrorCode::kInvalidArgument, "cannot allocate " + std::to_string(size) + " bytes for the model");
    }
    std::memcpy(bytes, data, size);
  }
  return internal::NoThrow([&] { return "loading a model of " + std::to_string(size) + " bytes"; },
                           [&] { return Build(std::move(model), bytes, size); });
}

Result<std::shared_ptr<const Model>> Model::FromBytes(const void* data, size_t size, Arena& arena) {
  std::shared_ptr<Model> model(new Model());
  model->storage_ = std::make_unique<Storage>();
  model->size_ = size;
  model->description_ = "model (" + std::to_string(size) + " bytes)";
  char* copy = nullptr;
  if (size > 0) {
    auto block = arena.Allocate(size, "the model's bytes");
    if (!block.ok()) return block.status();
    copy = static_cast<char*>(block.value());
    std::memcpy(copy, data, size);
  }
  return internal::NoThrow([&] { return "loading a model of " + std::to_string(size) + " bytes"; },
                           [&] { return Build(std::move(model), copy, size); });
}

Result<std::shared_ptr<const Model>> Model::Build(std::shared_ptr<Model> model, const char* data, size_t size) {
  if (!model->storage_->flatbuffer) {  // from bytes (a mapped file is built already)
    if (size == 0) return Status(ErrorCode::kInvalidModel, "model bytes are empty (0 bytes)");
    internal::SilenceTfliteLogging();
    model->storage_->flatbuffer =
        tflite::FlatBufferModel::VerifyAndBuildFromBuffer(data, size, nullptr, &model->storage_->capture);
    if (!model->storage_->flatbuffer) {
      const std::string detail = model->storage_->capture.Take();
      const bool file = model->description_.back() == '\'';  // "model 'path'": say its size too
      return Status(ErrorCode::kInvalidModel,
                    model->description_ + (file ? " (" + std::to_string(size) + " bytes)" : std::string()) +
                        " is not a valid TFLite flatbuffer" + (detail.empty() ? std::string() : ": " + detail));
    }
  }
  const tflite::Model* m = model->storage_->flatbuffer->GetModel();
  if (m == nullptr) return Status(ErrorCode::kInvalidModel, model->description_ + " holds no model");
  // What TFLite would follow blindly (indices, sizes, operand shapes) is checked first.
  TFLSTM_RETURN_IF_ERROR(internal::ValidateModel(*m, model->size_, model->description_));

  const tflite::SubGraph& primary = *m->subgraphs()->Get(0);
  for (size_t i = 0; i < Length(primary.inputs()); ++i) {
    auto info = DescribeTensor(primary, primary.inputs()->Get(i), model->description_);
    if (!info.ok()) return info.status();
    model->inputs_.push_back(std::move(info).value());
  }
  for (size_t i = 0; i < Length(primary.outputs()); ++i) {
    auto info = DescribeTensor(primary, primary.outputs()->Get(i), model->description_);
    if (!info.ok()) return info.status();
    model->outputs_.push_back(std::move(info).value());
  }
  ApplySignatureNames(*m, model->inputs_, model->outputs_);
  for (size_t i = 0; i < Length(m->signature_defs()); ++i) {
    auto signature = DescribeSignature(*m, *m->signature_defs()->Get(i), model->description_);
    if (!signature.ok()) return signature.status();
    model->signatures_.push_back(std::move(signature).value());
  }
  model->state_ = DescribeState(*m);
  for (size_t c = 0; c < Length(m->operator_codes()); ++c) {
    const auto* code = m->operator_codes()->Get(c);
    OpInfo op;
    op.name = internal::OpCodeName(*code);
    op.version = code->version();
    op.custom = tflite::GetBuiltinCode(code) == tflite::BuiltinOperator_CUSTOM;
    op.builtin_code = op.custom ? -1 : static_cast<int>(tflite::GetBuiltinCode(code));
    model->ops_.push_back(std::move(op));
  }
  return std::shared_ptr<const Model>(std::move(model));
}

size_t StateInfo::bytes() const {
  size_t n = DTypeSize(dtype);
  for (int d : shape) n *= d > 0 ? static_cast<size_t>(d) : 0;
  return shape.empty() ? 0 : n;
}

std::vector<OpInfo> Model::UnsupportedOps() const {
  const auto resolver = MakeOpResolver();
  std::vector<OpInfo> missing;
  for (const OpInfo& op : ops_) {
    const TfLiteRegistration* reg =
        op.custom ? resolver->FindOp(op.name.c_str(), op.version)
                  : resolver->FindOp(static_cast<tflite::BuiltinOperator>(op.builtin_code), op.version);
    if (reg == nullptr) missing.push_back(op);
  }
  return missing;
}

Status Model::Check() const {
  const std::vector<OpInfo> missing = UnsupportedOps();
  if (missing.empty()) return Status::Ok();
  std::ostringstream msg;
  msg << description_ << " needs " << (missing.size() == 1 ? "an op" : "ops") << " that this runtime ("
      << OpSetDescription() << ") cannot run: ";
  for (size_t i = 0; i < missing.size(); ++i) {
    msg << (i ? ", " : "") << missing[i].name << " version " << missing[i].version;
  }
  return Status(ErrorCode::kUnsupportedOp, msg.str());
}

}  // namespace tflstm
