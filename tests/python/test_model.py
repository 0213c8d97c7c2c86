"""Model introspection agrees with TensorFlow's own view of the same bytes."""

from __future__ import annotations

import numpy as np
import pytest

import tflstm
from tf_models import reference_interpreter


@pytest.mark.parametrize("mode", ["float32", "int8", "float16", "dynamic"])
def test_inputs_and_outputs_match_tensorflow(converted, mode):
    data = converted(mode)
    model = tflstm.Model(data)
    ref = reference_interpreter(data)
    signature = ref.get_signature_runner()
    for ours, theirs, named in (
        (model.inputs, ref.get_input_details(), signature.get_input_details()),
        (model.outputs, ref.get_output_details(), signature.get_output_details()),
    ):
        assert len(ours) == len(theirs)
        by_index = {d["index"]: name for name, d in named.items()}
        for a, b in zip(ours, theirs, strict=True):
            assert a.tensor_name == b["name"]
            assert a.name == by_index[b["index"]]  # the Keras name, e.g. "series"
            assert a.dtype == np.dtype(b["dtype"])
            assert a.shape == tuple(b["shape"])
            assert a.shape_signature == tuple(b["shape_signature"])
            q = b["quantization_parameters"]
            np.testing.assert_array_equal(a.quantization.scales, q["scales"])
            np.testing.assert_array_equal(a.quantization.zero_points, q["zero_points"])
            assert bool(a.quantization) == (len(q["scales"]) > 0)
    assert model.size == len(data)


def test_int8_model_is_quantized(converted):
    model = tflstm.Model(converted("int8"))
    q = model.inputs[0].quantization
    assert model.inputs[0].dtype == np.int8
    assert q.scales.dtype == np.float32 and q.scales.shape == (1,) and q.scales[0] > 0
    assert q.zero_points.dtype == np.int64


def test_ops_and_versions(converted):
    ops = tflstm.Model(converted("float32")).ops
    assert all(isinstance(name, str) and isinstance(version, int) and version >= 1 for name, version in ops)
    names = [name for name, _ in ops]
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in names and "FULLY_CONNECTED" in names
    assert len(names) == len(set(names))


def test_check_passes_for_supported_models(converted):
    for mode in ("float32", "int8", "float16", "dynamic"):
        model = tflstm.Model(converted(mode))
        model.check()
        assert model.unsupported_ops == []


def test_load_from_path_bytes_bytearray_memoryview(tmp_path, converted):
    data = converted("float32")
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    described = set()
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        model = tflstm.Model(source)
        described.add((model.inputs[0].shape, model.outputs[0].shape, tuple(model.ops)))
    assert len(described) == 1
    assert "m.tflite" in tflstm.Model(path).description


def test_model_from_bytes_is_a_copy(converted):
    data = bytearray(converted("float32"))
    model = tflstm.Model(data)
    data[:] = bytes(len(data))  # the caller may reuse its buffer
    x = np.ones(model.inputs[0].shape, np.float32)
    assert np.isfinite(tflstm.Runner(model)(x)).all()


def test_tflite_testdata_models(testdata):
    lstm = tflstm.Model(testdata / "unidirectional_sequence_lstm.bin")
    assert ("UNIDIRECTIONAL_SEQUENCE_LSTM", 1) in lstm.ops
    multi = tflstm.Model(testdata / "multi_add.bin")
    assert len(multi.inputs) == 4 and len(multi.outputs) == 2
