#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model.h"
#include "numpy_types.h"
#include "status.h"
#include "tflstm/runner.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

class PyRunner {
 public:
  PyRunner(const PyModel& model, int num_threads, const py::object& arena_bytes) {
    RunnerOptions options;
    options.num_threads = num_threads;
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
                     "input " + std::to_string(i) + " ('" + runner_->input(i).name + "') was not given"));
      }
    }
    std::unique_lock<std::mutex> lock = RunLocked(arrays);
    py::dict out;
    for (size_t i = 0; i < runner_->output_count(); ++i) out[py::str(runner_->output(i).name)] = CopyOutput(i);
    return out;
  }

  MemoryStats memory() const { return runner_->memory(); }
  const Runner& runner() const { return *runner_; }

 private:
  // A C-contiguous array of the caller's data; the dtype is never converted silently.
  py::array AsArray(const py::handle& obj, size_t i) const {
    py::array arr = py::array::ensure(obj, py::array::c_style);
    if (!arr) {
      Raise(Status(ErrorCode::kInvalidArgument, "input " + std::to_string(i) + " ('" + runner_->input(i).name +
                                                    "') is not array-like"));
    }
    return arr;
  }

  // Sets the inputs and invokes with the GIL released. The runner's lock is only ever taken
  // without the GIL, so a thread waiting for it never blocks one that holds it.
  std::unique_lock<std::mutex> RunLocked(const std::vector<py::array>& arrays) {
    struct Input {
      const void* data;
      size_t bytes;
      TfLiteType dtype;
      std::vector<int> shape;
    };
    std::vector<Input> inputs;
    for (const py::array& a : arrays) {
      std::vector<int> shape(a.shape(), a.shape() + a.ndim());
      TfLiteType dtype = FromNumpy(a.dtype());
      inputs.push_back({a.data(), static_cast<size_t>(a.nbytes()), dtype, std::move(shape)});
    }
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    Status status;
    {
      py::gil_scoped_release nogil;
      lock.lock();
      for (size_t i = 0; i < inputs.size() && status.ok(); ++i) {
        const Input& in = inputs[i];
        status = runner_->SetInput(i, in.data, in.bytes, in.dtype, in.shape.data(), in.shape.size());
      }
      if (status.ok()) status = runner_->Invoke();
    }
    ThrowIfError(status);
    return lock;
  }

  py::array CopyOutput(size_t i) const {
    const TensorView v = runner_->output(i);
    std::vector<py::ssize_t> shape(v.shape, v.shape + v.rank);
    py::array out(ToNumpy(v.dtype), shape);
    if (v.bytes > 0) std::memcpy(out.mutable_data(), v.data, v.bytes);
    return out;
  }

  std::unique_ptr<Runner> runner_;
  std::mutex mutex_;
};

std::vector<TensorInfo> Describe(const Runner& r, bool inputs) {
  std::vector<TensorInfo> out;
  const auto& model_side = inputs ? r.model().inputs() : r.model().outputs();
  const size_t n = inputs ? r.input_count() : r.output_count();
  for (size_t i = 0; i < n; ++i) {
    const TensorView v = inputs ? r.input(i) : r.output(i);
    TensorInfo info = i < model_side.size() ? model_side[i] : TensorInfo{};
    info.shape.assign(v.shape, v.shape + v.rank);  // the runner's current shape
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

void bind_runner(py::module_& m) {
  py::class_<PyRunner>(m, "Runner", "Runs a Model with the TFLite interpreter; inputs and outputs live in tflstm's arena.")
      .def(py::init<const PyModel&, int, const py::object&>(), py::arg("model"), py::arg("num_threads") = 1,
           py::arg("arena_bytes") = py::none())
      .def("__call__", &PyRunner::Call)
      .def("run", &PyRunner::Run, py::arg("inputs"))
      .def_property_readonly("inputs", [](const PyRunner& self) { return Describe(self.runner(), true); })
      .def_property_readonly("outputs", [](const PyRunner& self) { return Describe(self.runner(), false); })
      .def_property_readonly("arena_stats", &PyRunner::memory);
}

}  // namespace tflstm::python
