#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model.h"
#include "numpy_types.h"
#include "status.h"
#include "tflstm/runner.h"
#include "tflstm/stream.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

std::vector<int> ShapeOf(const TensorView& v) { return std::vector<int>(v.shape, v.shape + v.rank); }

class PyRunner {
 public:
  PyRunner(const PyModel& model, int num_threads, const py::object& arena_bytes,
           const std::optional<std::string>& signature, bool quantize_io, const std::string& lstm_kernel)
      : quantize_io_(quantize_io) {
    RunnerOptions options;
    if (lstm_kernel != "tflstm" && lstm_kernel != "tflite") {
      Raise(Status(ErrorCode::kInvalidArgument, "lstm_kernel must be 'tflstm' or 'tflite', got '" + lstm_kernel + "'"));
    }
    options.lstm_kernel = lstm_kernel == "tflite" ? LstmKernel::kTflite : LstmKernel::kTflstm;
    options.num_threads = num_threads;
    options.signature = signature.value_or("");
    if (!arena_bytes.is_none()) {
      if (!py::isinstance<py::int_>(arena_bytes) || arena_bytes.cast<py::int_>() < py::int_(0)) {
        Raise(Status(ErrorCode::kInvalidArgument,
                     "arena_bytes must be None or a byte count >= 0, got " + std::string(py::repr(arena_bytes))));
      }
      options.arena_bytes = arena_bytes.cast<size_t>();
    }
    Result<std::unique_ptr<Runner>> created = Status();
    {
      py::gil_scoped_release nogil;
      created = Runner::Create(model.model, options);
    }
    if (!created.ok() && created.status().code() == ErrorCode::kUnsupportedOp) {
      py::dict extra;
      py::list ops;
      for (const OpInfo& op : model.model->UnsupportedOps()) ops.append(py::make_tuple(op.name, op.version));
      extra["ops"] = ops;
      Raise(created.status(), extra);
    }
    runner_ = Unwrap(std::move(created));
  }

  // runner(x) or runner(x1, x2, ...): positional inputs; one output comes back as an array,
  // several as a tuple.
  py::object Call(const py::args& args) {
    if (args.size() != runner_->input_count()) {
      Raise(Status(ErrorCode::kInvalidArgument, runner_->model().description() + " takes " +
                                                    std::to_string(runner_->input_count()) + " input(s), got " +
                                                    std::to_string(args.size())));
    }
    std::vector<py::array> arrays;
    for (size_t i = 0; i < args.size(); ++i) arrays.push_back(AsArray(args[i], i));
    std::unique_lock<std::mutex> lock = RunLocked(arrays);
    if (runner_->output_count() == 1) return CopyOutput(0);
    py::tuple out(runner_->output_count());
    for (size_t i = 0; i < runner_->output_count(); ++i) out[i] = CopyOutput(i);
    return std::move(out);
  }

  // run({"name": x, ...}) -> {"name": y, ...}
  py::dict Run(const py::dict& feeds) {
    std::vector<py::array> arrays(runner_->input_count());
    std::vector<bool> given(runner_->input_count(), false);
    for (auto item : feeds) {
      const std::string name = py::str(item.first);
      const size_t i = Unwrap(runner_->InputIndex(name));
      arrays[i] = AsArray(item.second, i);
      given[i] = true;
    }
    for (size_t i = 0; i < given.size(); ++i) {
      if (!given[i]) {
        Raise(Status(ErrorCode::kInvalidArgument,
                     "input " + std::to_string(i) + " ('" + runner_->input_info()[i].name + "') was not given"));
      }
    }
    std::unique_lock<std::mutex> lock = RunLocked(arrays);
    py::dict out;
    for (size_t i = 0; i < runner_->output_count(); ++i) {
      out[py::str(runner_->output_info()[i].name)] = CopyOutput(i);
    }
    return out;
  }

  // Runs `fn` on the runner with the GIL released and the runner's lock held. The lock is
  // only ever taken without the GIL, so a thread waiting for it never blocks one holding it.
  template <typename Fn>
  Status Locked(Fn&& fn) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mutex_);
    return fn(*runner_);
  }

  // A shape change rebuilds the tensors that zero-copy views point into: refuse it while any
  // view is alive, so a view can never show freed or reused memory.
  Status CheckNoViews(const char* what) const {
    const int n = views_.load();
    if (n == 0) return Status::Ok();
    return Status(ErrorCode::kInvalidArgument,
                  std::string(what) + " would rebuild the runner's tensors, but " + std::to_string(n) +
                      " zero-copy view(s) of them are alive; delete them first");
  }

  void Cancel() { runner_->Cancel(); }
  bool quantize_io() const { return quantize_io_; }
  std::atomic<int>& views() { return views_; }
  Runner& runner() { return *runner_; }
  const Runner& runner() const { return *runner_; }

  std::vector<TensorInfo> Describe(bool inputs) {
    std::vector<TensorInfo> out;
    ThrowIfError(Locked([&](Runner& r) {
      const auto& infos = inputs ? r.input_info() : r.output_info();
      for (size_t i = 0; i < infos.size(); ++i) {
        TensorInfo info = infos[i];
        info.shape = ShapeOf(inputs ? r.input(i) : r.output(i));  // the runner's current shape
        out.push_back(std::move(info));
      }
      return Status::Ok();
    }));
    return out;
  }

  MemoryStats Memory() {
    MemoryStats m;
    ThrowIfError(Locked([&](Runner& r) {
      m = r.memory();
      return Status::Ok();
    }));
    return m;
  }

  size_t Rebuilds() {
    size_t n = 0;
    ThrowIfError(Locked([&](Runner& r) {
      n = r.rebuild_count();
      return Status::Ok();
    }));
    return n;
  }

 private:
  // A C-contiguous array of the caller's data; the dtype is never converted silently, except
  // float data for a quantized input when the runner was made with quantize_io=True.
  py::array AsArray(const py::handle& obj, size_t i) const {
    py::array arr = py::array::ensure(obj, py::array::c_style);
    if (!arr) {
      Raise(Status(ErrorCode::kInvalidArgument, "input " + std::to_string(i) + " ('" +
                                                    runner_->input_info()[i].name + "') is not array-like"));
    }
    if (quantize_io_ && DTypeIsQuantized(runner_->input_info()[i].dtype) && arr.dtype().kind() == 'f') {
      arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
    }
    return arr;
  }

  std::unique_lock<std::mutex> RunLocked(const std::vector<py::array>& arrays) {
    struct Input {
      const void* data;
      size_t bytes;
      TfLiteType dtype;
      std::vector<int> shape;
    };
    std::vector<Input> inputs;
    for (const py::array& a : arrays) {
      inputs.push_back({a.data(), static_cast<size_t>(a.nbytes()), FromNumpy(a.dtype()),
                        std::vector<int>(a.shape(), a.shape() + a.ndim())});
    }
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    Status status;
    {
      py::gil_scoped_release nogil;
      lock.lock();
      for (size_t i = 0; i < inputs.size() && status.ok(); ++i) {
        const Input& in = inputs[i];
        if (!runner_->input(i).HasShape(in.shape.data(), in.shape.size())) {
          status = CheckNoViews("an input of another shape");
        }
        if (!status.ok()) break;
        const bool quantize = quantize_io_ && in.dtype == kTfLiteFloat32 && DTypeIsQuantized(runner_->input(i).dtype);
        status = quantize ? runner_->SetInputFromFloat(i, static_cast<const float*>(in.data), in.bytes / sizeof(float),
                                                       in.shape.data(), in.shape.size())
                          : runner_->SetInput(i, in.data, in.bytes, in.dtype, in.shape.data(), in.shape.size());
      }
      if (status.ok()) status = runner_->Invoke();
    }
    ThrowIfError(status);
    return lock;
  }

  py::array CopyOutput(size_t i) const {
    const TensorView v = runner_->output(i);
    std::vector<py::ssize_t> shape(v.shape, v.shape + v.rank);
    if (quantize_io_ && DTypeIsQuantized(v.dtype)) {
      py::array_t<float> out(shape);
      ThrowIfError(runner_->OutputToFloat(i, out.mutable_data(), static_cast<size_t>(out.size())));
      return std::move(out);
    }
    py::array out(ToNumpy(v.dtype), shape);
    if (v.bytes > 0) std::memcpy(out.mutable_data(), v.data, v.bytes);
    return out;
  }

  std::unique_ptr<Runner> runner_;
  std::mutex mutex_;
  std::atomic<int> views_{0};
  bool quantize_io_ = false;
};

// What keeps a zero-copy view valid: a reference to its runner (so the memory stays) and a
// count on the runner (so its shapes cannot change while the view lives).
struct ViewGuard {
  py::object owner;
  PyRunner* runner;
};

py::array View(py::object self, const py::object& key, bool input) {
  auto& r = self.cast<PyRunner&>();
  const Runner& core = r.runner();
  size_t i = 0;
  if (py::isinstance<py::str>(key)) {
    const std::string name = key.cast<std::string>();
    i = Unwrap(input ? core.InputIndex(name) : core.OutputIndex(name));
  } else {
    i = key.cast<size_t>();
    const size_t n = input ? core.input_count() : core.output_count();
    if (i >= n) {
      Raise(Status(ErrorCode::kInvalidArgument, std::string(input ? "input" : "output") + " index " +
                                                    std::to_string(i) + " is out of range (" + std::to_string(n) + ")"));
    }
  }
  const TensorView v = input ? core.input(i) : core.output(i);
  auto guard = std::make_unique<ViewGuard>(ViewGuard{self, &r});
  r.views().fetch_add(1);
  py::capsule base(guard.release(), [](void* p) {
    std::unique_ptr<ViewGuard> g(static_cast<ViewGuard*>(p));
    g->runner->views().fetch_sub(1);
  });
  std::vector<py::ssize_t> shape(v.shape, v.shape + v.rank);
  py::array arr(ToNumpy(v.dtype), shape, {}, v.data, base);
  if (!input) arr.attr("setflags")(py::arg("write") = false);
  return arr;
}

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

void bind_runner(py::module_& m) {
  py::class_<PyRunner>(m, "Runner", "Runs a Model with the TFLite interpreter; inputs and outputs live in tflstm's arena.")
      .def(py::init<const PyModel&, int, const py::object&, const std::optional<std::string>&, bool,
                    const std::string&>(),
           py::arg("model"), py::arg("num_threads") = 1, py::arg("arena_bytes") = py::none(),
           py::arg("signature") = py::none(), py::arg("quantize_io") = false, py::arg("lstm_kernel") = "tflstm")
      .def("__call__", &PyRunner::Call)
      .def("run", &PyRunner::Run, py::arg("inputs"))
      .def("invoke", [](PyRunner& self) { ThrowIfError(self.Locked([](Runner& r) { return r.Invoke(); })); },
           "Run on what the input views hold; read the results from the output views (no copies)")
      .def("stream", [](py::object self) { return PyStream(std::move(self)); },
           "A stream over this runner: feed a sequence in chunks, the LSTM state carried between them")
      .def("cancel", &PyRunner::Cancel, "Stop a run in progress on another thread (it raises CancelledError)")
      .def("input_view", [](py::object self, const py::object& key) { return View(std::move(self), key, true); },
           py::arg("key"), "A writable numpy array over input `key` (index or name), without copies")
      .def("output_view", [](py::object self, const py::object& key) { return View(std::move(self), key, false); },
           py::arg("key"), "A read-only numpy array over output `key` (index or name), without copies")
      .def_property_readonly("inputs", [](PyRunner& self) { return self.Describe(true); })
      .def_property_readonly("outputs", [](PyRunner& self) { return self.Describe(false); })
      .def_property_readonly("quantize_io", &PyRunner::quantize_io)
      .def_property_readonly("rebuilds", &PyRunner::Rebuilds,
                             "How many times a shape change rebuilt the interpreter")
      .def_property_readonly("arena_stats", &PyRunner::Memory);

  py::class_<PyStream>(m, "Stream", "Feeds a sequence to a Runner in chunks, carrying the LSTM state.")
      .def("__call__", &PyStream::Feed, py::arg("chunk"))
      .def("reset", &PyStream::Reset)
      .def_property("state", &PyStream::State, &PyStream::SetState,
                    "The carried state as numpy arrays (copies); assign a snapshot to restore it")
      .def_property_readonly("steps", &PyStream::steps);
}

}  // namespace tflstm::python
