#include "runner.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <utility>

#include "args.h"
#include "dtype.h"
#include "runner_options.h"
#include "status.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

// What keeps a zero-copy view valid: a reference to its runner (so the memory stays) and a
// count on the runner (so its shapes cannot change while the view lives).
struct ViewGuard {
  py::object owner;
  PyRunner* runner;
};

py::array View(const py::object& self, const py::object& key, bool input) {
  auto& r = Self<PyRunner>(self);
  const Runner& core = r.runner();
  size_t i = 0;
  if (py::isinstance<py::str>(key)) {
    const std::string name = Name(key, "key");
    i = Unwrap(input ? core.InputIndex(name) : core.OutputIndex(name));
  } else {
    const auto index = static_cast<size_t>(Integer(key, "key (a name or an index)", 0, INT64_MAX));
    i = Unwrap(input ? core.InputIndex(index) : core.OutputIndex(index));
  }
  // The tensor is read and the view counted under the runner's lock: a call on another thread
  // either rebuilt before (the view sees the new tensor) or sees the count and refuses to.
  TensorView v;
  ThrowIfError(r.Locked([&](const Runner& locked) {
    TFLSTM_RETURN_IF_ERROR(locked.CheckPrepared());
    v = input ? locked.input(i) : locked.output(i);
    if (v.dtype == DType::kString) {  // TFLite's packed strings are no numpy elements
      return Status(ErrorCode::kInvalidArgument, std::string(input ? "input" : "output") + " '" + v.name +
                                                     "' holds strings: tflstm offers no view of them");
    }
    if (!v.fixed) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(input ? "input" : "output") + " '" + v.name +
                        "' is sized by the model while it runs, so its memory can move: tflstm offers no view of "
                        "it; read it from the call's results");
    }
    r.views().fetch_add(1);
    return Status::Ok();
  }));
  auto guard = std::make_unique<ViewGuard>(ViewGuard{self, &r});
  py::capsule base;
  try {
    base = py::capsule(guard.get(), [](void* p) {
      std::unique_ptr<ViewGuard> g(static_cast<ViewGuard*>(p));
      g->runner->views().fetch_sub(1);
    });
  } catch (...) {
    r.views().fetch_sub(1);
    throw;
  }
  guard.release();  // the capsule owns it now
  std::vector<py::ssize_t> shape(v.shape, v.shape + v.rank);
  py::array arr(ToNumpy(v.dtype), shape, {}, v.data, base);
  if (!input) arr.attr("setflags")(py::arg("write") = false);
  return arr;
}

// A string tensor as tf.lite.Interpreter gives it: an object array of bytes. TFLite packs it as
// a count, count + 1 offsets into the buffer, then the characters; each is checked against it.
py::array StringsToNumpy(const TensorView& v, const std::vector<py::ssize_t>& shape) {
  size_t elements = 1;
  for (const py::ssize_t d : shape) elements *= static_cast<size_t>(d);
  py::array out(py::dtype("O"), shape);
  auto* cells = static_cast<PyObject**>(out.mutable_data());
  const auto* raw = static_cast<const char*>(v.data);
  int32_t count = 0;
  if (raw != nullptr && v.bytes >= sizeof(int32_t)) std::memcpy(&count, raw, sizeof count);
  const size_t header = sizeof(int32_t) * (static_cast<size_t>(std::max(count, 0)) + 2);
  if (raw == nullptr || count < 0 || static_cast<size_t>(count) != elements || header > v.bytes) {
    ThrowIfError(Status(ErrorCode::kRuntimeError, "output '" + std::string(v.name) + "' holds no valid strings"));
  }
  for (size_t k = 0; k < elements; ++k) {
    int32_t begin = 0, end = 0;
    std::memcpy(&begin, raw + sizeof(int32_t) * (k + 1), sizeof begin);
    std::memcpy(&end, raw + sizeof(int32_t) * (k + 2), sizeof end);
    if (begin < 0 || end < begin || static_cast<size_t>(end) > v.bytes) {
      ThrowIfError(Status(ErrorCode::kRuntimeError, "output '" + std::string(v.name) + "' string " + std::to_string(k) +
                                                        " lies outside its buffer"));
    }
    py::bytes item(raw + begin, static_cast<size_t>(end - begin));
    Py_XDECREF(cells[k]);  // numpy filled the array with None
    cells[k] = item.release().ptr();
  }
  return out;
}

}  // namespace

namespace {

// input_shapes=[shape, ...] in input order, or {name: shape}; names are those of the inputs
// the runner will have (its signature's, when it runs one).
std::vector<std::vector<int>> InputShapes(const Model& model, const std::string& signature, const py::handle& given,
                                          const char* what) {
  if (!py::isinstance<py::dict>(given)) return ShapeList(given, what);
  const std::vector<TensorInfo>* infos = &model.inputs();
  if (!signature.empty()) infos = &Unwrap(model.Signature(signature))->inputs;
  std::vector<std::vector<int>> shapes(infos->size());
  std::vector<bool> named(infos->size(), false);
  for (auto item : given.cast<py::dict>()) {
    const std::string name = Name(item.first, std::string(what) + " key");
    size_t i = 0;
    while (i < infos->size() && (*infos)[i].name != name && (*infos)[i].tensor_name != name) ++i;
    if (i == infos->size()) {
      Raise(Status(ErrorCode::kInvalidArgument,
                   std::string(what) + " names '" + name + "', which is not an input of " + model.description()));
    }
    shapes[i] = Shape(item.second, std::string(what) + "['" + name + "']");
    named[i] = true;
  }
  for (size_t i = 0; i < named.size(); ++i) {
    if (!named[i]) shapes[i] = (*infos)[i].shape;  // the stored shape for an input left out
  }
  return shapes;
}

// Runner(model, options=RunnerOptions(...)) or Runner(model, num_threads=..., ...): the keywords
// fill a RunnerOptions, each converted or refused with an InputError naming it. Whether the values
// are in range is the core's to say (Runner::Create validates them).
std::unique_ptr<PyRunner> MakeRunner(const py::object& model, const py::object& num_threads,
                                     const py::object& arena_bytes, const py::object& signature,
                                     const py::object& quantize_io, const py::object& lstm_kernel,
                                     const py::object& input_shapes, const py::object& check_finite,
                                     const py::object& given) {
  if (!py::isinstance<PyModel>(model)) {
    Raise(Status(ErrorCode::kInvalidArgument,
                 "Runner() takes a tflstm.Model, got " + std::string(py::str(py::type::of(model).attr("__name__")))));
  }
  const PyModel& m = Self<PyModel>(model);
  const std::pair<const char*, const py::object*> keywords[] = {
      {"num_threads", &num_threads}, {"arena_bytes", &arena_bytes},   {"signature", &signature},
      {"lstm_kernel", &lstm_kernel}, {"check_finite", &check_finite}, {"input_shapes", &input_shapes},
  };
  RunnerOptions options;
  if (!given.is_none()) {
    if (!py::isinstance<RunnerOptions>(given)) {
      Raise(Status(ErrorCode::kInvalidArgument, "options must be a tflstm.RunnerOptions, got " +
                                                    std::string(py::str(py::type::of(given).attr("__name__")))));
    }
    for (const auto& [name, value] : keywords) {
      if (!Unset(*value)) {
        Raise(Status(ErrorCode::kInvalidArgument, std::string("Runner() takes options=RunnerOptions(...) or the "
                                                              "option keywords, not both: ") +
                                                      name + " was given with options"));
      }
    }
    options = Self<RunnerOptions>(given);
  }
  for (const auto& [name, value] : keywords) {
    if (Unset(*value)) continue;
    if (value == &input_shapes) {  // {name: shape} too, with the names of the signature set above
      options.input_shapes = InputShapes(*m.model, options.signature, input_shapes, "input_shapes");
    } else {
      Field(name).set(options, *value);
    }
  }
  return std::make_unique<PyRunner>(m, options, Flag(quantize_io, "quantize_io"));
}

}  // namespace

PyRunner::PyRunner(const PyModel& model, const RunnerOptions& options, bool quantize_io)
    : quantize_io_(quantize_io), signature_(options.signature) {
  Result<std::unique_ptr<Runner>> created = Status();
  {
    py::gil_scoped_release nogil;
    created = Runner::Create(model.model, options);
  }
  if (!created.ok()) RaiseForModel(created.status(), *model.model);
  runner_ = std::move(created).value();
}

py::object PyRunner::Call(const py::args& args) {
  ThrowIfError(runner_->CheckInputCount(args.size()));
  std::vector<py::object> arrays;
  for (size_t i = 0; i < args.size(); ++i) arrays.push_back(AsArray(args[i], i));
  std::unique_lock<std::mutex> lock = RunLocked(arrays);
  if (runner_->output_count() == 1) return CopyOutput(0);
  py::tuple out(runner_->output_count());
  for (size_t i = 0; i < runner_->output_count(); ++i) out[i] = CopyOutput(i);
  return std::move(out);
}

py::dict PyRunner::Run(const py::handle& given) {
  if (!py::isinstance<py::dict>(given)) {
    Raise(Status(ErrorCode::kInvalidArgument,
                 "run() takes {input name: array}, got " + std::string(py::str(py::type::of(given).attr("__name__")))));
  }
  const auto feeds = py::reinterpret_borrow<py::dict>(given);
  std::vector<py::object> arrays(runner_->input_count(), py::none());  // None: not given
  for (auto item : feeds) {
    const size_t i = Unwrap(runner_->InputIndex(Name(item.first, "an input name")));
    arrays[i] = AsArray(item.second, i);
  }
  std::unique_lock<std::mutex> lock = RunLocked(arrays);
  py::dict out;
  for (size_t i = 0; i < runner_->output_count(); ++i) {
    out[Text(runner_->output_info()[i].name)] = CopyOutput(i);
  }
  return out;
}

Status PyRunner::CheckNoViews(const char* what) const {
  const int n = views_.load();
  if (n == 0) return Status::Ok();
  return Status(ErrorCode::kInvalidArgument, std::string(what) + " would rebuild the runner's tensors, but " +
                                                 std::to_string(n) +
                                                 " zero-copy view(s) of them are alive; delete them first");
}

std::vector<TensorInfo> PyRunner::Describe(bool inputs) {
  std::vector<TensorInfo> out;
  ThrowIfError(Locked([&](const Runner& r) {
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

MemoryStats PyRunner::Plan(const std::vector<std::vector<int>>& shapes) {
  MemoryStats m;
  ThrowIfError(Locked([&](Runner& r) {
    auto plan = r.PlanFor(shapes);
    if (!plan.ok()) return plan.status();
    m = plan.value();
    return Status::Ok();
  }));
  return m;
}

MemoryStats PyRunner::Memory() {
  MemoryStats m;
  ThrowIfError(Locked([&](const Runner& r) {
    m = r.memory();
    return Status::Ok();
  }));
  return m;
}

std::vector<std::string> PyRunner::LstmKernels() {
  std::vector<std::string> kernels;
  ThrowIfError(Locked([&](const Runner& r) {
    kernels = r.lstm_kernels();
    return Status::Ok();
  }));
  return kernels;
}

std::vector<std::pair<std::string, std::string>> PyRunner::NodeKernels() {
  std::vector<std::pair<std::string, std::string>> kernels;
  ThrowIfError(Locked([&](const Runner& r) {
    for (NodeKernelName& k : r.node_kernels()) kernels.emplace_back(std::move(k.op), std::move(k.kernel));
    return Status::Ok();
  }));
  return kernels;
}

bool PyRunner::Prepared() {
  bool prepared = false;
  ThrowIfError(Locked([&](const Runner& r) {
    prepared = r.prepared();
    return Status::Ok();
  }));
  return prepared;
}

size_t PyRunner::Rebuilds() {
  size_t n = 0;
  ThrowIfError(Locked([&](const Runner& r) {
    n = r.rebuild_count();
    return Status::Ok();
  }));
  return n;
}

// A C-contiguous array of the caller's data in the machine's byte order; the dtype is never
// converted silently, except float data for a quantized input when the runner was made with
// quantize_io=True.
py::array PyRunner::AsArray(const py::handle& obj, size_t i) const {
  py::array arr = NativeArray(obj, runner_->InputLabel(i));
  if (quantize_io_ && DTypeIsQuantized(runner_->input_info()[i].dtype) && arr.dtype().kind() == 'f') {
    arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
  }
  if (FromNumpy(arr.dtype()) == DType::kNone) {  // object, str, datetime: no tensor type at all
    Raise(Status(ErrorCode::kInvalidArgument, runner_->InputLabel(i) + " expects dtype " +
                                                  DTypeName(runner_->input_info()[i].dtype) + ", got " +
                                                  std::string(py::str(arr.dtype()))));
  }
  return arr;
}

std::unique_lock<std::mutex> PyRunner::RunLocked(const std::vector<py::object>& arrays) {
  std::vector<std::vector<int>> shapes(arrays.size());
  std::vector<InputData> inputs(arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].is_none()) continue;  // the core names it
    const auto a = py::reinterpret_borrow<py::array>(arrays[i]);
    shapes[i].assign(a.shape(), a.shape() + a.ndim());
    inputs[i] = {a.data(), static_cast<size_t>(a.nbytes()), FromNumpy(a.dtype()), shapes[i].data(), shapes[i].size()};
  }
  std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
  Status status;
  {
    py::gil_scoped_release nogil;
    lock.lock();
    for (size_t i = 0; i < inputs.size() && status.ok(); ++i) {
      if (inputs[i].data != nullptr && !runner_->input(i).HasShape(inputs[i].shape, inputs[i].rank)) {
        status = CheckNoViews("an input of another shape");
      }
    }
    if (status.ok()) status = runner_->SetInputs(inputs, quantize_io_);
    if (status.ok()) status = runner_->Invoke();
  }
  ThrowIfError(status);
  return lock;
}

py::array PyRunner::CopyOutput(size_t i) const {
  const TensorView v = runner_->output(i);
  std::vector<py::ssize_t> shape(v.shape, v.shape + v.rank);
  if (quantize_io_ && DTypeIsQuantized(v.dtype)) {
    py::array_t<float> out(shape);
    ThrowIfError(runner_->OutputToFloat(i, out.mutable_data(), static_cast<size_t>(out.size())));
    return std::move(out);
  }
  if (v.dtype == DType::kString) return StringsToNumpy(v, shape);
  py::array out(ToNumpy(v.dtype), shape);
  if (v.bytes > 0) std::memcpy(out.mutable_data(), v.data, v.bytes);
  return out;
}

namespace {

// An option keyword of Runner(): left out (Ellipsis), it keeps RunnerOptions' default, which the
// signature shows (`shown` keeps that text until pybind11 has copied it).
py::arg_v Option(const char* name, std::deque<std::string>& shown) {
  shown.push_back(py::repr(Field(name).get(RunnerOptions{})));
  return py::arg_v(name, py::ellipsis(), shown.back().c_str());
}

}  // namespace

void bind_runner(py::module_& m) {
  std::deque<std::string> shown;  // the option keywords' defaults, as the signature shows them
  py::class_<PyRunner>(m, "Runner",
                       "Runs a Model with the TFLite interpreter; inputs and outputs live in tflstm's arena.\n\n"
                       "arena_bytes is the runner's memory budget: everything it allocates (tflstm's arena,\n"
                       "TFLite's arenas and heap tensors, tflstm's kernels' packed weights and scratch, the\n"
                       "state of its streams). A plan over it is refused with ArenaExhaustedError before the\n"
                       "memory is used, when the runner is made, before each shape change and for each new\n"
                       "stream. Without it, the limit is the memory the process can still use.")
      .def(py::init(&MakeRunner), py::arg("model"), Option("num_threads", shown), Option("arena_bytes", shown),
           Option("signature", shown), py::arg("quantize_io") = false, Option("lstm_kernel", shown), py::kw_only(),
           Option("input_shapes", shown), Option("check_finite", shown), py::arg("options") = py::none())
      .def("__call__", [](py::handle self, const py::args& args) { return Self<PyRunner>(self).Call(args); })
      .def(
          "run", [](py::handle self, const py::object& inputs) { return Self<PyRunner>(self).Run(inputs); },
          py::arg("inputs"))
      .def(
          "invoke",
          [](py::handle self) { ThrowIfError(Self<PyRunner>(self).Locked([](Runner& r) { return r.Invoke(); })); },
          "Run on what the input views hold; read the results from the output views (no copies)")
      .def(
          "cancel", [](py::handle self) { Self<PyRunner>(self).Cancel(); },
          "Stop a run in progress on another thread (it raises CancelledError)")
      .def(
          "input_view", [](const py::object& self, const py::object& key) { return View(self, key, true); },
          py::arg("key"), "A writable numpy array over input `key` (index or name), without copies")
      .def(
          "output_view", [](const py::object& self, const py::object& key) { return View(self, key, false); },
          py::arg("key"), "A read-only numpy array over output `key` (index or name), without copies")
      .def(
          "memory_plan",
          [](py::handle self, const py::object& input_shapes) {
            PyRunner& r = Self<PyRunner>(self);
            return r.Plan(InputShapes(r.runner().model(), r.signature(), input_shapes, "input_shapes"));
          },
          py::arg("input_shapes"),
          "MemoryStats of the runner at these input shapes (a list, one per input, or {name: shape}), "
          "measured on an interpreter built for them and dropped: nothing is run and the runner is unchanged. "
          "Its total is what arena_bytes must allow for a call at these shapes.")
      .def_property_readonly("inputs", [](py::handle self) { return Self<PyRunner>(self).Describe(true); })
      .def_property_readonly("outputs", [](py::handle self) { return Self<PyRunner>(self).Describe(false); })
      .def_property_readonly("quantize_io", [](py::handle self) { return Self<PyRunner>(self).quantize_io(); })
      .def_property_readonly(
          "prepared", [](py::handle self) { return Self<PyRunner>(self).Prepared(); },
          "False while a model that cannot be prepared at its stored shapes waits for inputs")
      .def_property_readonly(
          "rebuilds", [](py::handle self) { return Self<PyRunner>(self).Rebuilds(); },
          "How many times a shape change rebuilt the interpreter")
      .def_property_readonly(
          "memory", [](py::handle self) { return Self<PyRunner>(self).Memory(); },
          "MemoryStats: what the runner holds now")
      .def_property_readonly(
          "lstm_kernels", [](py::handle self) { return Self<PyRunner>(self).LstmKernels(); },
          "The kernel each fused LSTM node runs, in execution order: tflstm's, named by its "
          "instruction set ('avx2', 'hybrid-avx2', 'int8-avx2', ...), or 'tflite' where TFLite's "
          "own kernel runs it")
      .def_property_readonly(
          "node_kernels", [](py::handle self) { return Self<PyRunner>(self).NodeKernels(); },
          "(op, kernel) of every node in execution order: tflstm's kernel family ('xnnpack', "
          "'avx2', 'gru-avx2', ...) or 'tflite' where TFLite's own kernel runs the op")
      .def_property_readonly(
          "arena_stats",
          [](py::handle self) {
            PyRunner& r = Self<PyRunner>(self);
            py::module_::import("warnings")
                .attr("warn")("Runner.arena_stats is deprecated: use Runner.memory",
                              py::module_::import("builtins").attr("DeprecationWarning"), 2);
            return r.Memory();
          },
          "Deprecated name of `memory`");
}

}  // namespace tflstm::python
