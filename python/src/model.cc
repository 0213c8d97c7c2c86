#include "model.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

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
  for (const OpInfo& op : ops) out.append(py::make_tuple(op.name, op.version));
  return out;
}

PyModel Load(const py::object& source) {
  Result<std::shared_ptr<const Model>> result = Status(ErrorCode::kInvalidArgument, "");
  if (py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__")) {
    const std::string path = py::str(py::module_::import("os").attr("fspath")(source));
    py::gil_scoped_release nogil;
    result = Model::FromFile(path);
  } else if (PyObject_CheckBuffer(source.ptr())) {
    py::buffer_info buf = py::reinterpret_borrow<py::buffer>(source).request();
    const size_t size = static_cast<size_t>(buf.size * buf.itemsize);
    py::gil_scoped_release nogil;
    result = Model::FromBytes(buf.ptr, size);
  } else {
    Raise(Status(ErrorCode::kInvalidArgument, "Model() takes a path (str or os.PathLike) or bytes-like data, got " +
                                                  std::string(py::str(py::type::of(source).attr("__name__")))));
  }
  return PyModel{Unwrap(std::move(result))};
}

}  // namespace

void RaiseForModel(const Status& status, const Model& model) {
  py::dict extra;
  if (status.code() == ErrorCode::kUnsupportedOp) extra["ops"] = OpList(model.UnsupportedOps());
  Raise(status, extra);
}

void bind_model(py::module_& m) {
  py::class_<Quantization>(m, "Quantization", "Quantization parameters of a tensor (empty when not quantized).")
      .def_property_readonly(
          "scales", [](const Quantization& q) { return py::array(py::cast(q.scales)).attr("astype")("float32"); })
      .def_property_readonly(
          "zero_points",
          [](const Quantization& q) { return py::array(py::cast(q.zero_points)).attr("astype")("int64"); })
      .def_readonly("quantized_dimension", &Quantization::quantized_dimension)
      .def("__bool__", [](const Quantization& q) { return !q.scales.empty(); })
      .def("__repr__", [](const Quantization& q) {
        if (q.scales.empty()) return std::string("Quantization(none)");
        if (q.scales.size() == 1) {
          return "Quantization(scale=" + std::to_string(q.scales[0]) +
                 ", zero_point=" + std::to_string(q.zero_points.empty() ? 0 : q.zero_points[0]) + ")";
        }
        return "Quantization(" + std::to_string(q.scales.size()) + " channels on axis " +
               std::to_string(q.quantized_dimension) + ")";
      });

  py::class_<TensorInfo>(m, "TensorInfo", "Name, dtype, shape and quantization of a model input or output.")
      .def_readonly("name", &TensorInfo::name)
      .def_readonly("tensor_name", &TensorInfo::tensor_name)
      .def_readonly("index", &TensorInfo::index)
      .def_property_readonly("dtype", [](const TensorInfo& t) { return ToNumpy(t.dtype); })
      .def_property_readonly("shape", [](const TensorInfo& t) { return ToTuple(t.shape); })
      .def_property_readonly("shape_signature", [](const TensorInfo& t) { return ToTuple(t.shape_signature); })
      .def_readonly("quantization", &TensorInfo::quantization)
      .def("__repr__", [](const TensorInfo& t) {
        return "TensorInfo(name='" + t.name + "', dtype=" + DTypeName(t.dtype) +
               ", shape=" + std::string(py::repr(ToTuple(t.shape))) + ")";
      });

  py::class_<StateInfo>(m, "StateInfo",
                        "State a model keeps between invokes: a variable tensor or a resource variable.")
      .def_readonly("name", &StateInfo::name)
      .def_readonly("resource_variable", &StateInfo::resource_variable)
      .def_property_readonly("dtype", [](const StateInfo& s) { return ToNumpy(s.dtype); })
      .def_property_readonly("shape", [](const StateInfo& s) { return ToTuple(s.shape); })
      .def_property_readonly("bytes", &StateInfo::bytes)
      .def("__repr__", [](const StateInfo& s) {
        return "StateInfo(name='" + s.name + "', " + (s.resource_variable ? "resource variable" : "variable tensor") +
               ", dtype=" + DTypeName(s.dtype) + ", shape=" + std::string(py::repr(ToTuple(s.shape))) + ")";
      });

  py::class_<PyModel>(m, "Model", "A verified TFLite model, loaded from a file (memory-mapped) or from bytes.")
      .def(py::init(&Load), py::arg("source"))
      .def_property_readonly("inputs", [](const PyModel& self) { return self.model->inputs(); })
      .def_property_readonly("outputs", [](const PyModel& self) { return self.model->outputs(); })
      .def_property_readonly(
          "signatures",
          [](const PyModel& self) {
            py::dict out;
            for (const SignatureInfo& sig : self.model->signatures()) {
              py::dict entry;
              entry["inputs"] = sig.inputs;
              entry["outputs"] = sig.outputs;
              out[py::str(sig.key)] = entry;
            }
            return out;
          },
          "{key: {'inputs': [TensorInfo], 'outputs': [TensorInfo]}} for each signature of the model")
      .def_property_readonly(
          "state", [](const PyModel& self) { return self.model->state(); },
          "Where the model keeps state between invokes: [StateInfo], empty when stateless")
      .def_property_readonly(
          "ops", [](const PyModel& self) { return OpList(self.model->ops()); },
          "[(op_name, version), ...] for every operator code in the model")
      .def_property_readonly(
          "unsupported_ops", [](const PyModel& self) { return OpList(self.model->UnsupportedOps()); },
          "The (op_name, version) pairs the linked TFLite runtime cannot run")
      .def(
          "check",
          [](const PyModel& self) {
            const Status status = self.model->Check();
            if (!status.ok()) RaiseForModel(status, *self.model);
          },
          "Raises UnsupportedOpError naming every (op, version) the runtime lacks.")
      .def_property_readonly(
          "size", [](const PyModel& self) { return self.model->size_bytes(); }, "Size in bytes")
      .def_property_readonly("description", [](const PyModel& self) { return self.model->description(); })
      .def("__repr__", [](const PyModel& self) {
        return "<tflstm.Model " + self.model->description() + ", " + std::to_string(self.model->inputs().size()) +
               " inputs, " + std::to_string(self.model->outputs().size()) + " outputs>";
      });
}

}  // namespace tflstm::python
