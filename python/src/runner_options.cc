#include "runner_options.h"

#include <pybind11/stl.h>

#include <limits>
#include <stdexcept>

#include "args.h"
#include "status.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

const std::vector<OptionField> kFields = {
    {"num_threads",
     [](RunnerOptions& o, py::handle v) {
       o.num_threads = static_cast<int>(
           Integer(v, "num_threads", std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
     },
     [](const RunnerOptions& o) -> py::object { return py::int_(o.num_threads); },
     "TFLite's thread count, 1 to the core count (at least 64); -1 lets TFLite decide"},
    {"arena_bytes",
     [](RunnerOptions& o, py::handle v) {
       if (v.is_none()) {
         o.arena_bytes.reset();
       } else {
         o.arena_bytes = ByteCount(v, "arena_bytes");
       }
     },
     [](const RunnerOptions& o) -> py::object {
       return o.arena_bytes ? py::object(py::int_(*o.arena_bytes)) : py::object(py::none());
     },
     "The runner's memory budget in bytes (everything it allocates); None: what the process can still use"},
    {"signature", [](RunnerOptions& o, py::handle v) { o.signature = v.is_none() ? "" : Name(v, "signature"); },
     [](const RunnerOptions& o) -> py::object {
       return o.signature.empty() ? py::object(py::none()) : py::object(Text(o.signature));
     },
     "The signature whose subgraph runs; None: the primary subgraph"},
    {"lstm_kernel",
     [](RunnerOptions& o, py::handle v) { o.lstm_kernel = Unwrap(LstmKernelFromName(Name(v, "lstm_kernel"))); },
     [](const RunnerOptions& o) -> py::object { return py::str(LstmKernelName(o.lstm_kernel)); },
     "What runs UNIDIRECTIONAL_SEQUENCE_LSTM: 'tflstm' (tflstm's kernels) or 'tflite' (TFLite's own)"},
    {"input_shapes",
     [](RunnerOptions& o, py::handle v) {
       if (py::isinstance<py::dict>(v)) {
         Raise(Status(ErrorCode::kInvalidArgument,
                      "RunnerOptions.input_shapes takes a list of shapes (one per input): {input name: shape} "
                      "needs the model's input names, so give it to Runner(model, input_shapes=...)"));
       }
       o.input_shapes = ShapeList(v, "input_shapes");
     },
     [](const RunnerOptions& o) -> py::object { return py::cast(o.input_shapes); },
     "Shapes to prepare at, one per input; empty: the model's stored shapes"},
    {"check_finite", [](RunnerOptions& o, py::handle v) { o.check_finite = Flag(v, "check_finite"); },
     [](const RunnerOptions& o) -> py::object { return py::bool_(o.check_finite); },
     "Refuse float inputs holding NaN or Inf, naming the input and the position"},
};

const OptionField* Find(const std::string& name) {
  for (const OptionField& f : kFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

}  // namespace

const OptionField& Field(const char* name) {
  const OptionField* field = Find(name);
  if (field == nullptr) throw std::logic_error(std::string("no RunnerOptions field ") + name);  // the binding's typo
  return *field;
}

std::vector<std::vector<int>> ShapeList(py::handle given, const std::string& what) {
  std::vector<std::vector<int>> shapes;
  if (given.is_none()) return shapes;
  if (py::isinstance<py::str>(given) || !py::isinstance<py::sequence>(given)) {
    Raise(Status(ErrorCode::kInvalidArgument,
                 what + " must be None, a list of shapes (one per input) or {input name: shape}, got " +
                     std::string(py::repr(given)).substr(0, 200)));
  }
  const auto items = py::reinterpret_borrow<py::sequence>(given);
  for (size_t i = 0; i < items.size(); ++i) shapes.push_back(Shape(items[i], what + "[" + std::to_string(i) + "]"));
  return shapes;
}

void bind_runner_options(py::module_& m) {
  py::class_<RunnerOptions> cls(
      m, "RunnerOptions",
      "How a Runner runs its model: the C++ core's RunnerOptions. Each field takes its Python type or raises\n"
      "InputError naming it; validate() checks the values as Runner(model, options=...) does, before any model.");
  // The keywords and their defaults, as the signature shows them: read from RunnerOptions{}.
  std::string signature = "RunnerOptions(*";
  for (const OptionField& f : kFields) {
    signature += std::string(", ") + f.name + "=" + std::string(py::repr(f.get(RunnerOptions{})));
  }
  signature += ")";
  cls.def(py::init([](const py::args& args, const py::kwargs& kwargs) {
            if (!args.empty()) {
              Raise(Status(ErrorCode::kInvalidArgument, "RunnerOptions() takes keywords only, got " +
                                                            std::to_string(args.size()) + " positional argument(s)"));
            }
            RunnerOptions options;
            for (auto item : kwargs) {
              const std::string key = py::str(item.first);
              const OptionField* field = Find(key);
              if (field == nullptr) {
                std::string names;
                for (const OptionField& f : kFields) names += std::string(names.empty() ? "" : ", ") + f.name;
                Raise(Status(ErrorCode::kInvalidArgument,
                             "RunnerOptions() has no option '" + key + "'; the options are " + names));
              }
              field->set(options, item.second);
            }
            return options;
          }),
          signature.c_str());
  for (const OptionField& f : kFields) {
    cls.def_property(
        f.name, [get = f.get](py::handle self) { return get(Self<RunnerOptions>(self)); },
        [set = f.set](py::handle self, py::handle value) { set(Self<RunnerOptions>(self), value); }, f.doc);
  }
  cls.def(
         "validate", [](py::handle self) { ThrowIfError(Self<RunnerOptions>(self).Validate()); },
         "Raises InputError naming the first option out of range (the core's RunnerOptions::Validate); what "
         "depends on the model (signature, input_shapes, arena_bytes) is checked when the runner is made")
      .def("__repr__", [](py::handle self) {
        const RunnerOptions& o = Self<RunnerOptions>(self);
        std::string text = "RunnerOptions(";
        for (const OptionField& f : kFields) {
          text += std::string(&f == &kFields.front() ? "" : ", ") + f.name + "=" + std::string(py::repr(f.get(o)));
        }
        return text + ")";
      });
}

}  // namespace tflstm::python
