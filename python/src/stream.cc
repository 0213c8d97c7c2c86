#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "runner.h"
#include "status.h"
#include "tflstm/stream.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

class PyStream {
 public:
  explicit PyStream(py::object runner) : owner_(std::move(runner)), runner_(owner_.cast<PyRunner*>()) {
    ThrowIfError(runner_->Locked([&](Runner& r) {
      if (r.input_count() == 1 && r.input(0).rank >= 2 && r.input(0).shape[1] != 1) {
        TFLSTM_RETURN_IF_ERROR(runner_->CheckNoViews("streaming"));
      }
      auto created = Stream::Create(r);
      if (!created.ok()) return created.status();
      stream_ = std::move(created).value();
      step_input_ = ShapeOf(r.input(0));
      step_output_ = ShapeOf(r.output(0));
      input_dtype_ = r.input(0).dtype;
      output_dtype_ = r.output(0).dtype;
      for (size_t i = 0; i < r.state_count(); ++i) {
        state_shapes_.push_back(ShapeOf(r.state(i)));
        state_dtypes_.push_back(r.state(i).dtype);
      }
      return Status::Ok();
    }));
  }

  // stream(chunk): chunk is [1, steps, features...] or [steps, features...]. Returns every
  // step's output for a sequence output ([1, steps, ...]), the last step's for a last-step one.
  py::array Feed(const py::handle& obj) {
    py::array x = py::array::ensure(obj, py::array::c_style);
    if (!x) Raise(Status(ErrorCode::kInvalidArgument, "a stream chunk must be array-like"));
    const std::vector<int> features(step_input_.begin() + 2, step_input_.end());
    std::vector<int> shape(x.shape(), x.shape() + x.ndim());
    if (shape.size() == features.size() + 2 && shape[0] == 1) shape.erase(shape.begin());
    const bool fits = shape.size() == features.size() + 1 && shape[0] >= 1 &&
                      std::equal(features.begin(), features.end(), shape.begin() + 1);
    if (!fits || FromNumpy(x.dtype()) != input_dtype_) {
      std::string want = "[1, steps";
      for (int f : features) want += ", " + std::to_string(f);
      Raise(Status(ErrorCode::kInvalidArgument, "a stream chunk must be " + std::string(DTypeName(input_dtype_)) +
                                                    " of shape " + want + "] or [steps, ...], got " +
                                                    std::string(py::str(x.attr("dtype"))) + " " +
                                                    std::string(py::str(x.attr("shape")))));
    }
    const size_t steps = static_cast<size_t>(shape[0]);
    // A sequence output ([1, 1, ...] per step) comes back as [1, steps, ...]; a last-step
    // output ([1, ...]) as the last step's. Both layouts are the steps' outputs back to back.
    const bool sequence_output = step_output_.size() >= 3 && step_output_[1] == 1;
    std::vector<py::ssize_t> all_shape = {sequence_output ? 1 : static_cast<py::ssize_t>(steps)};
    if (sequence_output) all_shape.push_back(static_cast<py::ssize_t>(steps));
    for (size_t d = sequence_output ? 2 : 0; d < step_output_.size(); ++d) all_shape.push_back(step_output_[d]);
    if (!sequence_output && !step_output_.empty() && step_output_[0] == 1) {
      all_shape.erase(all_shape.begin() + 1);  // [steps, 1, ...] -> [steps, ...]
    }
    py::array all(ToNumpy(output_dtype_), all_shape);
    void* out = all.mutable_data();
    const void* in = x.data();
    ThrowIfError(runner_->Locked([&](Runner& r) {
      if (r.input(0).shape[1] != 1) TFLSTM_RETURN_IF_ERROR(runner_->CheckNoViews("streaming"));
      return stream_->Feed(in, steps, out);
    }));
    if (sequence_output) return all;
    py::array last = all[py::int_(static_cast<int>(steps) - 1)];
    return last.attr("reshape")(py::cast(step_output_)).attr("copy")();
  }

  void Reset() {
    ThrowIfError(runner_->Locked([&](Runner&) { return stream_->Reset(); }));
  }

  py::list State() {
    py::list out;
    for (size_t i = 0; i < stream_->state_count(); ++i) {
      py::array a(ToNumpy(state_dtypes_[i]), std::vector<py::ssize_t>(state_shapes_[i].begin(), state_shapes_[i].end()));
      std::memcpy(a.mutable_data(), stream_->state(i).data(), stream_->state(i).size());
      out.append(a);
    }
    return out;
  }

  void SetState(const py::sequence& arrays) {
    if (arrays.size() != stream_->state_count()) {
      Raise(Status(ErrorCode::kInvalidArgument, "the stream has " + std::to_string(stream_->state_count()) +
                                                    " state tensors, got " + std::to_string(arrays.size())));
    }
    std::vector<py::array> checked;
    for (size_t i = 0; i < arrays.size(); ++i) {
      py::array a = py::array::ensure(arrays[i], py::array::c_style);
      const std::vector<int> shape = a ? std::vector<int>(a.shape(), a.shape() + a.ndim()) : std::vector<int>{};
      if (!a || shape != state_shapes_[i] || FromNumpy(a.dtype()) != state_dtypes_[i]) {
        Raise(Status(ErrorCode::kInvalidArgument, "state " + std::to_string(i) + " must be " +
                                                      DTypeName(state_dtypes_[i]) + " of the shape stream.state[" +
                                                      std::to_string(i) + "] has"));
      }
      checked.push_back(a);
    }
    ThrowIfError(runner_->Locked([&](Runner&) {
      for (size_t i = 0; i < checked.size(); ++i) {
        std::memcpy(stream_->state(i).data(), checked[i].data(), stream_->state(i).size());
      }
      return Status::Ok();
    }));
  }

  size_t steps() const { return stream_->steps(); }

 private:
  py::object owner_;  // keeps the runner alive as long as the stream
  PyRunner* runner_;
  std::unique_ptr<Stream> stream_;
  std::vector<int> step_input_, step_output_;
  TfLiteType input_dtype_ = kTfLiteNoType, output_dtype_ = kTfLiteNoType;
  std::vector<std::vector<int>> state_shapes_;
  std::vector<TfLiteType> state_dtypes_;
};

}  // namespace

void bind_stream(py::module_& m) {
  py::class_<PyStream>(m, "Stream", "Feeds a sequence to a Runner in chunks, carrying the LSTM state.")
      .def("__call__", &PyStream::Feed, py::arg("chunk"))
      .def("reset", &PyStream::Reset)
      .def_property("state", &PyStream::State, &PyStream::SetState,
                    "The carried state as numpy arrays (copies); assign a snapshot to restore it")
      .def_property_readonly("steps", &PyStream::steps);
  py::object runner = m.attr("Runner");
  runner.attr("stream") = py::cpp_function(
      [](py::object self) { return PyStream(std::move(self)); }, py::name("stream"), py::is_method(runner),
      py::sibling(py::getattr(runner, "stream", py::none())),
      "A stream over this runner: feed a sequence in chunks, the LSTM state carried between them");
}

}  // namespace tflstm::python
