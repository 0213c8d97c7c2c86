#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "dtype.h"
#include "runner.h"
#include "status.h"
#include "tflstm/stream.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

// A new C-order array: numpy's constructor straight away, without py::array's copies of the
// shape (per-step results are the hot path of streaming).
py::array NewArray(const py::dtype& dtype, const py::ssize_t* shape, size_t rank) {
  auto& api = py::detail::npy_api::get();
  PyObject* a = api.PyArray_NewFromDescr_(api.PyArray_Type_, dtype.inc_ref().ptr(),  // steals the reference
                                          static_cast<int>(rank), shape, nullptr, nullptr, 0, nullptr);
  if (a == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::array>(a);
}

class PyStream {
 public:
  explicit PyStream(py::object runner) : owner_(std::move(runner)), runner_(owner_.cast<PyRunner*>()) {
    ThrowIfError(runner_->Locked([&](Runner& r) {
      // The shape the stream will set: the model's own chunk, or one time step.
      if (r.input_count() == 1 && r.input(0).rank >= 2) {
        std::vector<int> target = r.input_info()[0].shape;
        if (r.resource_state_count() == 0) target = ShapeOf(r.input(0)), target[1] = 1;
        if (!r.input(0).HasShape(target.data(), target.size())) {
          TFLSTM_RETURN_IF_ERROR(runner_->CheckNoViews("streaming"));
        }
      }
      auto created = Stream::Create(r);
      if (!created.ok()) return created.status();
      stream_ = std::move(created).value();
      step_input_ = ShapeOf(r.input(0));
      step_output_ = ShapeOf(r.output(0));
      input_dtype_ = r.input(0).dtype;
      model_bytes_ = std::max<size_t>(r.model().size_bytes(), 1);
      output_dtype_ = r.output(0).dtype;
      sequence_output_ = step_output_.size() >= 3 && step_output_[0] == 1 && step_output_[1] == 1;
      last_step_shape_.assign(step_output_.begin(), step_output_.end());
      sequence_shape_ = last_step_shape_;
      for (size_t i = 0; i < r.state_count(); ++i) {
        state_shapes_.push_back(ShapeOf(r.state(i)));
        state_dtypes_.push_back(r.state(i).dtype);
        state_names_.emplace_back(r.state(i).name);
      }
      return Status::Ok();
    }));
    output_numpy_ = ToNumpy(output_dtype_);
  }

  // stream(x): for a step stream, x is [1, steps, features...] or [steps, features...], and the
  // result is every step's output for a sequence output ([1, steps, ...]), the last step's for a
  // last-step one. For a chunk stream, x is one chunk of the model's input shape or, when that
  // starts with 1, k chunks stacked on the first axis; the result is the chunks' outputs, stacked
  // the same way.
  // With `out`, the result goes there instead of a new array (and `out` comes back).
  py::array Feed(const py::handle& obj, const py::handle& out) {
    py::array x = NativeArray(obj, "a stream chunk");
    return stream_->chunked() ? FeedChunks(x, out) : FeedSteps(x, out);
  }

 private:
  // Streaming sets the runner's input to one step (or chunk), which rebuilds its tensors when
  // the runner ran another shape since: refused while views of them are alive.
  Status CheckStepShape(const Runner& r) const {
    if (r.input(0).HasShape(stream_->step_shape().data(), stream_->step_shape().size())) return Status::Ok();
    return runner_->CheckNoViews("streaming");
  }

  // Runs `steps` steps or chunks from `x` under the runner's lock, into `out`: every step's
  // output, or only the last one's.
  void Run(const py::array& x, size_t steps, py::array& out, bool last_only) {
    void* dst = out.mutable_data();
    const void* in = x.data();
    auto feed = [&](Runner& r) {
      TFLSTM_RETURN_IF_ERROR(CheckStepShape(r));
      return last_only ? stream_->FeedLast(in, steps, dst) : stream_->Feed(in, steps, dst);
    };
    // A step reads each weight once: steps x the model's bytes bounds the call's work.
    const bool brief = !stream_->chunked() && steps <= kBriefBytes / model_bytes_;
    ThrowIfError(brief ? runner_->LockedBrief(feed) : runner_->Locked(feed));
  }

  // The array a call writes its result to: a new one, or the caller's `out` when it is exactly
  // what the new one would be (numpy array, dtype, shape, C order, writable) and shares no
  // memory with the input, which the call is still reading while it writes.
  py::array Result(const py::array& x, const py::ssize_t* shape, size_t rank, const py::handle& out) const {
    if (out.is_none()) return NewArray(output_numpy_, shape, rank);
    if (!py::isinstance<py::array>(out)) {
      Raise(Status(ErrorCode::kInvalidArgument,
                   "out must be a numpy.ndarray, got " + std::string(py::str(py::type::of(out).attr("__name__")))));
    }
    auto a = py::reinterpret_borrow<py::array>(out);
    bool fits = static_cast<size_t>(a.ndim()) == rank && FromNumpy(a.dtype()) == output_dtype_ && a.writeable() &&
                (py::detail::array_proxy(a.ptr())->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0;
    for (size_t d = 0; fits && d < rank; ++d) fits = a.shape(static_cast<py::ssize_t>(d)) == shape[d];
    if (!fits) {
      std::string want = "[";
      for (size_t d = 0; d < rank; ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
      Raise(Status(ErrorCode::kInvalidArgument,
                   "out must be a writable C-contiguous " + std::string(DTypeName(output_dtype_)) + " array of shape " +
                       want + "], got " + std::string(py::str(a.attr("dtype"))) + " " +
                       std::string(py::str(a.attr("shape"))) + (a.writeable() ? "" : " (read-only)")));
    }
    const auto* x0 = static_cast<const char*>(x.data());
    const auto* o0 = static_cast<const char*>(a.data());
    if (x0 < o0 + a.nbytes() && o0 < x0 + x.nbytes()) {
      Raise(Status(ErrorCode::kInvalidArgument, "out shares memory with the stream chunk; give it its own array"));
    }
    return a;
  }

  [[noreturn]] void RefuseChunk(const py::array& x, const std::string& want) const {
    Raise(Status(ErrorCode::kInvalidArgument,
                 "a stream chunk must be " + std::string(DTypeName(input_dtype_)) + " of shape " + want + ", got " +
                     std::string(py::str(x.attr("dtype"))) + " " + std::string(py::str(x.attr("shape")))));
  }

  py::array FeedChunks(const py::array& x, const py::handle& out) {
    const std::vector<int>& chunk = step_input_;
    std::vector<int> shape(x.shape(), x.shape() + x.ndim());
    size_t chunks = 0;
    if (shape == chunk) {
      chunks = 1;
    } else if (!chunk.empty() && chunk[0] == 1 && shape.size() == chunk.size() && shape[0] >= 1 &&
               std::equal(chunk.begin() + 1, chunk.end(), shape.begin() + 1)) {
      chunks = static_cast<size_t>(shape[0]);
    }
    if (chunks == 0 || FromNumpy(x.dtype()) != input_dtype_) {
      std::string want = "[";
      for (size_t d = 0; d < chunk.size(); ++d)
        want += (d ? ", " : "") + (d == 0 && chunk[0] == 1 ? std::string("k") : std::to_string(chunk[d]));
      RefuseChunk(x, want + "] (k chunks)");
    }
    const bool stack_on_first = !step_output_.empty() && step_output_[0] == 1;
    std::vector<py::ssize_t> all_shape;
    if (!stack_on_first) all_shape.push_back(static_cast<py::ssize_t>(chunks));
    for (size_t d = 0; d < step_output_.size(); ++d) {
      all_shape.push_back(d == 0 && stack_on_first ? static_cast<py::ssize_t>(chunks) : step_output_[d]);
    }
    // One chunk of a model whose output does not start with 1 comes back as that output.
    if (chunks == 1 && !stack_on_first) all_shape.erase(all_shape.begin());
    py::array all = Result(x, all_shape.data(), all_shape.size(), out);
    Run(x, chunks, all, false);
    return all;
  }

  // Per-step calls are the hot path of streaming: no temporary vectors, one numpy array made.
  py::array FeedSteps(const py::array& x, const py::handle& out) {
    const size_t features = step_input_.size() - 2;  // the step input is [1, 1, features...]
    const py::ssize_t* shape = x.shape();
    size_t rank = static_cast<size_t>(x.ndim());
    if (rank == features + 2 && shape[0] == 1) ++shape, --rank;  // [1, steps, ...] -> [steps, ...]
    bool fits = rank == features + 1 && shape[0] >= 1;
    for (size_t d = 0; fits && d < features; ++d) fits = shape[d + 1] == step_input_[d + 2];
    if (!fits || FromNumpy(x.dtype()) != input_dtype_) {
      std::string want = "[1, steps";
      for (size_t d = 2; d < step_input_.size(); ++d) want += ", " + std::to_string(step_input_[d]);
      RefuseChunk(x, want + "] or [steps, ...]");
    }
    const size_t steps = static_cast<size_t>(shape[0]);
    if (!sequence_output_) {
      py::array last = Result(x, last_step_shape_.data(), last_step_shape_.size(), out);
      Run(x, steps, last, true);
      return last;
    }
    // A sequence output ([1, 1, ...] per step) comes back as [1, steps, ...].
    sequence_shape_[1] = static_cast<py::ssize_t>(steps);
    py::array all = Result(x, sequence_shape_.data(), sequence_shape_.size(), out);
    Run(x, steps, all, false);
    return all;
  }

 public:
  void Reset() {
    ThrowIfError(runner_->Locked([&](Runner& r) {
      TFLSTM_RETURN_IF_ERROR(CheckStepShape(r));
      return stream_->Reset();
    }));
  }

  py::list State() {
    py::list out;
    for (size_t i = 0; i < stream_->state_count(); ++i) {
      py::array a(ToNumpy(state_dtypes_[i]),
                  std::vector<py::ssize_t>(state_shapes_[i].begin(), state_shapes_[i].end()));
      const std::vector<char>& s = std::as_const(*stream_).state(i);  // reading keeps the stream warm
      std::memcpy(a.mutable_data(), s.data(), s.size());
      out.append(a);
    }
    return out;
  }

  void SetState(const py::handle& given) {
    if (py::isinstance<py::str>(given) || !py::isinstance<py::sequence>(given)) {
      Raise(
          Status(ErrorCode::kInvalidArgument, "stream.state takes a list of arrays (a snapshot of stream.state), got " +
                                                  std::string(py::str(py::type::of(given).attr("__name__")))));
    }
    const auto arrays = py::reinterpret_borrow<py::sequence>(given);
    if (arrays.size() != stream_->state_count()) {
      Raise(Status(ErrorCode::kInvalidArgument, "the stream has " + std::to_string(stream_->state_count()) +
                                                    " state tensors, got " + std::to_string(arrays.size())));
    }
    std::vector<py::array> checked;
    for (size_t i = 0; i < arrays.size(); ++i) {
      py::array a = NativeArray(arrays[i], "state " + std::to_string(i));
      const std::vector<int> shape(a.shape(), a.shape() + a.ndim());
      if (shape != state_shapes_[i] || FromNumpy(a.dtype()) != state_dtypes_[i]) {
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
  bool chunked() const { return stream_->chunked(); }
  py::list state_names() const { return TextList(state_names_); }

 private:
  // Calls over at most this many model bytes keep the GIL (LockedBrief): tens of microseconds at most.
  static constexpr size_t kBriefBytes = 256 * 1024;

  py::object owner_;  // keeps the runner alive as long as the stream
  PyRunner* runner_;
  std::unique_ptr<Stream> stream_;
  std::vector<int> step_input_, step_output_;
  DType input_dtype_ = DType::kNone, output_dtype_ = DType::kNone;
  py::dtype output_numpy_;
  size_t model_bytes_ = 1;
  bool sequence_output_ = false;  // of a step stream: output [1, 1, ...] per step
  std::vector<py::ssize_t> last_step_shape_;
  std::vector<py::ssize_t> sequence_shape_;  // [1, steps, ...]: steps set per call
  std::vector<std::vector<int>> state_shapes_;
  std::vector<DType> state_dtypes_;
  std::vector<std::string> state_names_;
};

}  // namespace

void bind_stream(py::module_& m) {
  py::class_<PyStream>(m, "Stream", "Feeds a sequence to a Runner in chunks, carrying the model's state.")
      .def(
          "__call__",
          [](py::handle self, const py::handle& chunk, const py::handle& out) {
            return Self<PyStream>(self).Feed(chunk, out);
          },
          py::arg("chunk"), py::arg("out") = py::none())
      .def("reset", [](py::handle self) { Self<PyStream>(self).Reset(); })
      .def_property(
          "state", [](py::handle self) { return Self<PyStream>(self).State(); },
          [](py::handle self, const py::handle& arrays) { Self<PyStream>(self).SetState(arrays); },
          "The carried state as numpy arrays (copies); assign a snapshot to restore it")
      .def_property_readonly(
          "steps", [](py::handle self) { return Self<PyStream>(self).steps(); },
          "Steps (or chunks) fed since creation or the last reset")
      .def_property_readonly(
          "chunked", [](py::handle self) { return Self<PyStream>(self).chunked(); },
          "True when each call runs whole chunks of the model's own input shape "
          "(state in resource variables), False for one time step per invoke")
      .def_property_readonly(
          "state_names", [](py::handle self) { return Self<PyStream>(self).state_names(); },
          "The name of each state array: variable tensors, then resource variables");
  py::object runner = m.attr("Runner");
  runner.attr("stream") = py::cpp_function(
      [](py::object self) {
        Self<PyRunner>(self);  // refuses an uninitialised runner
        return PyStream(std::move(self));
      },
      py::name("stream"), py::is_method(runner), py::sibling(py::getattr(runner, "stream", py::none())),
      "A stream over this runner: feed a sequence in chunks, the model's state carried between them. Its state "
      "counts against the runner's arena_bytes budget while the stream lives");
}

}  // namespace tflstm::python
