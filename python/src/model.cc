#include "model.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "args.h"
#include "dtype.h"
#include "status.h"

namespace py = pybind11;

namespace tflstm::python {

namespace {

py::tuple ToTuple(const std::vector<int>& v) {
  py::tuple t(v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = v[i];
  return t;
}

py::list OpList(const std::vector<OpInfo>& ops) {
  py::list out;
  for (const OpInfo& op : ops) out.append(py::make_tuple(Text(op.name), op.version));
  return out;
}

// repr() text: names shown with their invalid bytes escaped.
std::string Shown(const std::string& bytes) {
  return py::str(py::bytes(bytes).attr("decode")("utf-8", "backslashreplace"));
}

// Bytes-like data in its logical order: a strided or reversed buffer (a numpy slice) is copied
// element by element, never read past its ends.
Result<std::shared_ptr<const Model>> FromBuffer(py::handle source) {
  Py_buffer view;
  if (PyObject_GetBuffer(source.ptr(), &view, PyBUF_FULL_RO) != 0) throw py::error_already_set();
  std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> release(&view, PyBuffer_Release);
  const auto size = static_cast<size_t>(view.len);
  if (PyBuffer_IsContiguous(&view, 'C')) {
    py::gil_scoped_release nogil;
    return Model::FromBytes(view.buf, size);
  }
  std::vector<char> contiguous(size);
  if (PyBuffer_ToContiguous(contiguous.data(), &view, view.len, 'C') != 0) throw py::error_already_set();
  py::gil_scoped_release nogil;
  return Model::FromBytes(contiguous.data(), size);
}

PyModel Load(const py::object& source, const py::object& mmap) {
  const bool map = Flag(mmap, "mmap");
  Result<std::shared_ptr<const Model>> result = Status(ErrorCode::kInvalidArgument, "");
  if (py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__")) {
    // The file system's bytes (os.fsencode): a name that is not UTF-8 opens the file it names.
    const auto os = py::module_::import("os");
    const std::string path = py::bytes(os.attr("fsencode")(os.attr("fspath")(source)));
    py::gil_scoped_release nogil;
    result = Model::FromFile(path, map ? ModelFile::kMemoryMap : ModelFile::kRead);
  } else if (PyObject_CheckBuffer(source.ptr())) {
    if (map) Raise(Status(ErrorCode::kInvalidArgument, "mmap=True needs a path, not bytes"));
    result = FromBuffer(source);
  } else {
    Raise(Status(ErrorCode::kInvalidArgument, "Model() takes a path (str or os.PathLike) or bytes-like data, got " +
                                                  std::string(py::str(py::type::of(source).attr("__name__")))));
  }
  return PyModel{Unwrap(std::move(result))};
}

const Model& Core(py::handle self) { return *Self<PyModel>(self).model; }

}  // namespace

void RaiseForModel(const Status& status, const Model& model) {
  py::dict extra;
  if (status.code() == ErrorCode::kUnsupportedOp) extra["ops"] = OpList(model.UnsupportedOps());
  Raise(status, extra);
}

void bind_model(py::module_& m) {
  py::class_<Quantization>(m, "Quantization", "Quantization parameters of a tensor (empty when not quantized).")
      .def_property_readonly("scales",
                             [](py::handle self) {
                               return py::array(py::cast(Self<Quantization>(self).scales)).attr("astype")("float32");
                             })
      .def_property_readonly("zero_points",
                             [](py::handle self) {
                               return py::array(py::cast(Self<Quantization>(self).zero_points)).attr("astype")("int64");
                             })
      .def_property_readonly("quantized_dimension",
                             [](py::handle self) { return Self<Quantization>(self).quantized_dimension; })
      .def("__bool__", [](py::handle self) { return !Self<Quantization>(self).scales.empty(); })
      .def("__repr__", [](py::handle self) {
        const Quantization& q = Self<Quantization>(self);
        if (q.scales.empty()) return std::string("Quantization(none)");
        if (q.scales.size() == 1) {
          return "Quantization(scale=" + std::to_string(q.scales[0]) +
                 ", zero_point=" + std::to_string(q.zero_points.empty() ? 0 : q.zero_points[0]) + ")";
        }
        return "Quantization(" + std::to_string(q.scales.size()) + " channels on axis " +
               std::to_string(q.quantized_dimension) + ")";
      });

  py::class_<TensorInfo>(m, "TensorInfo", "Name, dtype, shape and quantization of a model input or output.")
      .def_property_readonly("name", [](py::handle self) { return Text(Self<TensorInfo>(self).name); })
      .def_property_readonly("tensor_name", [](py::handle self) { return Text(Self<TensorInfo>(self).tensor_name); })
      .def_property_readonly("index", [](py::handle self) { return Self<TensorInfo>(self).index; })
      .def_property_readonly("dtype", [](py::handle self) { return ToNumpy(Self<TensorInfo>(self).dtype); })
      .def_property_readonly("shape", [](py::handle self) { return ToTuple(Self<TensorInfo>(self).shape); })
      .def_property_readonly("shape_signature",
                             [](py::handle self) { return ToTuple(Self<TensorInfo>(self).shape_signature); })
      .def_property_readonly("quantization", [](py::handle self) { return Self<TensorInfo>(self).quantization; })
      .def("__repr__", [](py::handle self) {
        const TensorInfo& t = Self<TensorInfo>(self);
        return "TensorInfo(name='" + Shown(t.name) + "', dtype=" + DTypeName(t.dtype) +
               ", shape=" + std::string(py::repr(ToTuple(t.shape))) + ")";
      });

  py::class_<StateInfo>(m, "StateInfo",
                        "State a model keeps between invokes: a variable tensor or a resource variable.")
      .def_property_readonly("name", [](py::handle self) { return Text(Self<StateInfo>(self).name); })
      .def_property_readonly("resource_variable",
                             [](py::handle self) { return Self<StateInfo>(self).resource_variable; })
      .def_property_readonly("dtype", [](py::handle self) { return ToNumpy(Self<StateInfo>(self).dtype); })
      .def_property_readonly("shape", [](py::handle self) { return ToTuple(Self<StateInfo>(self).shape); })
      .def_property_readonly("bytes", [](py::handle self) { return Self<StateInfo>(self).bytes(); })
      .def("__repr__", [](py::handle self) {
        const StateInfo& s = Self<StateInfo>(self);
        return "StateInfo(name='" + Shown(s.name) + "', " +
               (s.resource_variable ? "resource variable" : "variable tensor") + ", dtype=" + DTypeName(s.dtype) +
               ", shape=" + std::string(py::repr(ToTuple(s.shape))) + ")";
      });

  py::class_<PyModel>(m, "Model",
                      "A verified TFLite model, loaded from a file or from bytes.\n\n"
                      "A file is read into memory: it may change or go once the model is loaded. mmap=True maps\n"
                      "it instead (no copy), but then the file must stay unchanged for as long as the model\n"
                      "lives: a file truncated or rewritten under the mapping kills the process (SIGBUS) or\n"
                      "changes the model under its runners.")
      .def(py::init(&Load), py::arg("source"), py::kw_only(), py::arg("mmap") = false)
      .def_property_readonly("inputs", [](py::handle self) { return Core(self).inputs(); })
      .def_property_readonly("outputs", [](py::handle self) { return Core(self).outputs(); })
      .def_property_readonly(
          "signatures",
          [](py::handle self) {
            py::dict out;
            for (const SignatureInfo& sig : Core(self).signatures()) {
              py::dict entry;
              entry["inputs"] = sig.inputs;
              entry["outputs"] = sig.outputs;
              out[Text(sig.key)] = entry;
            }
            return out;
          },
          "{key: {'inputs': [TensorInfo], 'outputs': [TensorInfo]}} for each signature of the model")
      .def_property_readonly(
          "state", [](py::handle self) { return Core(self).state(); },
          "Where the model keeps state between invokes: [StateInfo], empty when stateless")
      .def_property_readonly(
          "ops", [](py::handle self) { return OpList(Core(self).ops()); },
          "[(op_name, version), ...] for every operator code in the model")
      .def_property_readonly(
          "unsupported_ops", [](py::handle self) { return OpList(Core(self).UnsupportedOps()); },
          "The (op_name, version) pairs the linked TFLite runtime cannot run")
      .def(
          "check",
          [](py::handle self) {
            const Status status = Core(self).Check();
            if (!status.ok()) RaiseForModel(status, Core(self));
          },
          "Raises UnsupportedOpError naming every (op, version) the runtime lacks.")
      .def_property_readonly(
          "size", [](py::handle self) { return Core(self).size_bytes(); }, "Size in bytes")
      .def_property_readonly("description", [](py::handle self) { return Text(Core(self).description()); })
      .def("__repr__", [](py::handle self) {
        const Model& model = Core(self);
        return "<tflstm.Model " + Shown(model.description()) + ", " + std::to_string(model.inputs().size()) +
               " inputs, " + std::to_string(model.outputs().size()) + " outputs>";
      });
}

}  // namespace tflstm::python
