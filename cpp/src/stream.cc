#include "tflstm/stream.h"

#include <cstring>
#include <string>

namespace tflstm {

Result<std::unique_ptr<Stream>> Stream::Create(Runner& runner) {
  const std::string where = runner.model().description();
  if (runner.input_count() != 1 || runner.output_count() < 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "streaming needs a model with one input; " + where + " has " + std::to_string(runner.input_count()));
  }
  auto stream = std::make_unique<Stream>(Key(), runner);
  const TensorView in = runner.input(0);
  stream->chunked_ = runner.resource_state_count() > 0;
  if (!stream->chunked_ && in.rank < 2) {
    return Status(ErrorCode::kInvalidArgument, "streaming needs an input of shape [batch, time, ...]; '" +
                                                   std::string(in.name) + "' of " + where + " has rank " +
                                                   std::to_string(in.rank));
  }
  if (stream->chunked_) {
    stream->step_shape_ = runner.input_info()[0].shape;  // the model's own chunk
  } else {
    // One sequence, one step at a time, whatever batch the runner ran last.
    stream->step_shape_.assign(in.shape, in.shape + in.rank);
    stream->step_shape_[0] = 1;
    stream->step_shape_[1] = 1;
  }
  TFLSTM_RETURN_IF_ERROR(stream->SetOneStep());
  if (runner.state_count() == 0) {
    return Status(ErrorCode::kInvalidArgument, where +
                                                   " has no state tensors: there is nothing to carry "
                                                   "between chunks (is its LSTM fused?)");
  }
  // An output the model sizes only while it runs (a Dense on a sequence of free length) has its
  // step size after one step; Reset below starts the state again.
  if (!runner.output(0).fixed) TFLSTM_RETURN_IF_ERROR(runner.InvokeWithState());
  stream->step_input_bytes_ = runner.input(0).bytes;
  stream->step_output_bytes_ = runner.output(0).bytes;
  size_t bytes = 0;
  for (size_t i = 0; i < runner.state_count(); ++i) bytes += runner.state(i).bytes;
  TFLSTM_RETURN_IF_ERROR(runner.ReserveStreamState(bytes));
  stream->reserved_ = bytes;
  for (size_t i = 0; i < runner.state_count(); ++i) stream->state_.emplace_back(runner.state(i).bytes);
  stream->state_data_.resize(runner.state_count());
  TFLSTM_RETURN_IF_ERROR(stream->Reset());
  return stream;
}

Stream::~Stream() { runner_.ReleaseStreamState(reserved_); }

// The runner may have been used with other shapes since the last chunk: set one step again.
Status Stream::SetOneStep() {
  if (runner_.input(0).HasShape(step_shape_.data(), step_shape_.size())) return Status::Ok();
  return runner_.ResizeInputs({step_shape_});
}

Status Stream::Reset() {
  warm_ = false;
  TFLSTM_RETURN_IF_ERROR(SetOneStep());
  TFLSTM_RETURN_IF_ERROR(runner_.ResetState());
  for (size_t i = 0; i < state_.size(); ++i) std::memcpy(state_[i].data(), runner_.state(i).data, state_[i].size());
  steps_ = 0;
  return Status::Ok();
}

Status Stream::Feed(const void* x, size_t steps, void* out) { return Run(x, steps, out, step_output_bytes_); }

Status Stream::FeedLast(const void* x, size_t steps, void* out) { return Run(x, steps, out, 0); }

Status Stream::Run(const void* x, size_t steps, void* out, size_t out_stride) {
  // Cold until this call succeeds: after an error the runner's state is not the stream's.
  const bool warm = warm_ && runner_.epoch() == epoch_;
  warm_ = false;
  if (!warm) TFLSTM_RETURN_IF_ERROR(Enter());
  const auto* src = static_cast<const char*>(x);
  auto* dst = static_cast<char*>(out);
  for (size_t t = 0; t < steps; ++t) {
    std::memcpy(input_data_, src + t * step_input_bytes_, step_input_bytes_);
    TFLSTM_RETURN_IF_ERROR(runner_.InvokeWithState());  // the stream's own state is untouched
    const TensorView result = runner_.output(0);        // after the run: an output sized then can move
    if (result.bytes != step_output_bytes_) {
      return Status(ErrorCode::kRuntimeError, "output '" + std::string(result.name) + "' of one step has " +
                                                  std::to_string(result.bytes) + " bytes, the stream expects " +
                                                  std::to_string(step_output_bytes_));
    }
    std::memcpy(dst + t * out_stride, result.data, step_output_bytes_);
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    // A resource variable's storage can move while the model runs: look it up again.
    const void* from = chunked_ ? runner_.state(i).data : state_data_[i];
    std::memcpy(state_[i].data(), from, state_[i].size());
  }
  steps_ += steps;
  epoch_ = runner_.epoch();
  warm_ = !chunked_;
  return Status::Ok();
}

// Puts the stream into the runner: its step shape, and its state after checking that the
// runner's state tensors still match it.
Status Stream::Enter() {
  TFLSTM_RETURN_IF_ERROR(SetOneStep());
  if (runner_.state_count() != state_.size()) {
    return Status(ErrorCode::kRuntimeError, "the runner's state tensors changed under the stream");
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    const TensorView s = runner_.state(i);
    if (s.bytes != state_[i].size()) {
      return Status(ErrorCode::kRuntimeError, "state tensor '" + std::string(s.name) + "' has " +
                                                  std::to_string(s.bytes) + " bytes, the stream holds " +
                                                  std::to_string(state_[i].size()));
    }
    std::memcpy(s.data, state_[i].data(), s.bytes);
    state_data_[i] = s.data;
  }
  input_data_ = runner_.input(0).data;
  return Status::Ok();
}

}  // namespace tflstm
