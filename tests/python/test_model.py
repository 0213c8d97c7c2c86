"""Model introspection agrees with TensorFlow's own view of the same bytes; models load from
any path, strided buffer or file that changes afterwards, and names that are not UTF-8 stay
usable."""

from __future__ import annotations

import os

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


def _with_input_name(data: bytes, old: bytes, new: bytes) -> bytes:
    """The model with the length-prefixed string `old` replaced in place by `new` (same length)."""
    assert len(old) == len(new)
    key = len(old).to_bytes(4, "little") + old + b"\0"
    assert data.count(key) == 1
    return data.replace(key, len(new).to_bytes(4, "little") + new + b"\0")


def test_strided_and_reversed_buffers_load_what_they_hold(converted):
    """Model(buffer) read buf.ptr for buf.size bytes whatever the strides: a reversed array read
    out of bounds (SIGSEGV), an every-other-byte slice loaded the bytes it skips."""
    data = converted("float32")
    spread = np.zeros(2 * len(data), dtype=np.uint8)
    spread[::2] = np.frombuffer(data, dtype=np.uint8)
    model = tflstm.Model(spread[::2])  # strided: the model's bytes, one in two
    assert model.size == len(data)
    assert model.inputs[0].shape == tflstm.Model(data).inputs[0].shape
    backwards = np.frombuffer(data, dtype=np.uint8)[::-1]
    with pytest.raises(tflstm.ModelError, match=rf"model \({len(data)} bytes\) is not a valid TFLite"):
        tflstm.Model(backwards)
    twice_reversed = backwards.copy()[::-1]
    assert tflstm.Model(twice_reversed).size == len(data)
    assert tflstm.Model(memoryview(np.frombuffer(data, np.uint8).reshape(-1, 4))).size == len(data)


def test_a_path_with_a_nul_byte_is_refused_not_cut(tmp_path, converted):
    path = tmp_path / "m.tflite"
    path.write_bytes(converted("float32"))
    with pytest.raises(tflstm.InputError, match="NUL byte"):
        tflstm.Model(str(path) + "\0.bak")
    # A bytes path (os.PathLike) is the file system's name, not text: this one is not UTF-8.
    odd = tmp_path / os.fsdecode(b"m\xff.tflite")
    odd.write_bytes(converted("float32"))

    class BytesPath:
        def __fspath__(self) -> bytes:
            return os.fsencode(odd)

    assert tflstm.Model(BytesPath()).size == len(converted("float32"))
    assert tflstm.Model(odd).size == len(converted("float32"))
    # Reading, not mapping, must not wait on a FIFO for a writer that never comes.
    fifo = tmp_path / "pipe.tflite"
    os.mkfifo(fifo)
    with pytest.raises(tflstm.ModelError, match="is not a regular file"):
        tflstm.Model(fifo)


def test_a_model_file_can_change_after_loading(tmp_path, converted, rng):
    """Model(path) memory-mapped the file: truncating it afterwards crashed the process
    (SIGBUS) at the next runner or call. Files are read into memory unless mmap=True."""
    data = converted("float32")
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    model = tflstm.Model(path)
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    expected = tflstm.Runner(model)(x)
    path.write_bytes(b"")  # truncated
    np.testing.assert_array_equal(tflstm.Runner(model)(x), expected)
    path.write_bytes(data[: len(data) // 2])  # rewritten
    np.testing.assert_array_equal(tflstm.Runner(model)(x), expected)
    path.unlink()
    np.testing.assert_array_equal(tflstm.Runner(model)(x), expected)
    # Mapping is an option, for models too large to copy, with its hazard in the docstring.
    path.write_bytes(data)
    mapped = tflstm.Model(path, mmap=True)
    np.testing.assert_array_equal(tflstm.Runner(mapped)(x), expected)
    assert "SIGBUS" in (tflstm.Model.__doc__ or "")
    with pytest.raises(tflstm.InputError, match="mmap"):
        tflstm.Model(data, mmap=True)
    with pytest.raises(tflstm.InputError, match="mmap must be True or False"):
        tflstm.Model(path, mmap="yes")  # type: ignore[arg-type]


def test_names_that_are_not_utf8_come_back_escaped_and_find_their_tensor(converted, rng):
    """A tensor name that is not UTF-8 made m.inputs and every refusal quoting it raise
    UnicodeDecodeError instead of tflstm's typed errors."""
    data = _with_input_name(converted("float32"), b"series", b"s\xffr\xfees")
    model = tflstm.Model(data)
    name = model.inputs[0].name
    assert name == b"s\xffr\xfees".decode("utf-8", "surrogateescape")
    assert "\\xff" in repr(model.inputs[0]) or "\\udcff" in repr(model.inputs[0])
    runner = tflstm.Runner(model)
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    expected = tflstm.Runner(tflstm.Model(converted("float32")))(x)
    np.testing.assert_array_equal(runner.run({name: x})[model.outputs[0].name], expected)
    with pytest.raises(tflstm.InputError, match=r"input 0 \('s\\xffr\\xfees'\) expects dtype float32"):
        runner(x.astype(np.float64))
    with pytest.raises(tflstm.InputError, match="input name must be text that UTF-8 can encode"):
        runner.run({"\ud800": x})  # a str no encoding can carry: refused, not UnicodeEncodeError
    assert runner.input_view(name).shape == x.shape
    assert tflstm.Runner(model, input_shapes={name: list(x.shape)}).prepared
