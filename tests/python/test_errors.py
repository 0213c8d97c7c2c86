"""Bad input gives the right typed error with a message that says what and where, and the
process keeps working afterwards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tflstm
from tf_models import FEATURES, TIMESTEPS

REPRODUCERS = Path(__file__).resolve().parents[1] / "fuzz" / "reproducers"


@pytest.fixture
def float_model(converted):
    return tflstm.Model(converted("float32"))


def _x(shape=(1, TIMESTEPS, FEATURES), dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def _still_works(model: tflstm.Model):
    runner = tflstm.Runner(model)
    y = runner(_x())
    assert y.shape == (1, 4) and np.isfinite(y).all()


def test_hierarchy():
    for cls in (
        tflstm.ModelError,
        tflstm.UnsupportedOpError,
        tflstm.InputError,
        tflstm.ArenaExhaustedError,
        tflstm.InvokeError,
    ):
        assert issubclass(cls, tflstm.Error)
        assert cls.__module__ == "tflstm"
    assert issubclass(tflstm.InputError, ValueError)


def test_missing_file(tmp_path, float_model):
    path = tmp_path / "nope.tflite"
    with pytest.raises(tflstm.ModelError, match=r"cannot open model '.*nope\.tflite': No such file"):
        tflstm.Model(path)
    _still_works(float_model)


def test_empty_file(tmp_path, float_model):
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    with pytest.raises(tflstm.ModelError, match="empty"):
        tflstm.Model(str(path))
    with pytest.raises(tflstm.ModelError, match="empty"):
        tflstm.Model(b"")
    _still_works(float_model)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_bytes(converted, float_model, keep):
    data = converted("float32")
    cut = data[: int(len(data) * keep)]
    with pytest.raises(tflstm.ModelError, match=rf"model \({len(cut)} bytes\) is not a valid TFLite flatbuffer"):
        tflstm.Model(cut)
    _still_works(float_model)


def test_truncated_file(tmp_path, converted, float_model):
    path = tmp_path / "cut.tflite"
    path.write_bytes(converted("float32")[:1000])
    with pytest.raises(tflstm.ModelError, match=r"cut\.tflite"):
        tflstm.Model(path)
    _still_works(float_model)


def test_random_bytes(rng, float_model):
    for _ in range(20):
        junk = rng.integers(0, 256, size=int(rng.integers(8, 20000)), dtype=np.uint8).tobytes()
        with pytest.raises(tflstm.ModelError):
            tflstm.Model(junk)
    _still_works(float_model)


def test_tflite_broken_test_model(testdata, float_model):
    with pytest.raises(tflstm.ModelError, match=r"test_model_broken\.bin"):
        tflstm.Model(testdata / "test_model_broken.bin")
    _still_works(float_model)


def test_not_a_model_source():
    with pytest.raises(tflstm.InputError, match=r"path .* or bytes-like"):
        tflstm.Model(12345)  # type: ignore[arg-type]


def test_wrong_shape(float_model):
    runner = tflstm.Runner(float_model)
    # Batch and time may change (the runner resizes); the feature axis and the rank may not.
    with pytest.raises(
        tflstm.InputError,
        match=r"input 0 \('series'\) expects shape \[1, 12, 3\], got \[1, 12, 4\]: "
        r"dimension 2 is fixed",
    ):
        runner(_x((1, TIMESTEPS, FEATURES + 1)))
    with pytest.raises(tflstm.InputError, match=r"expects shape .*: the rank differs"):
        runner(_x((TIMESTEPS, FEATURES)))
    assert runner(_x()).shape == (1, 4)  # the same runner goes on


def test_wrong_dtype(float_model):
    runner = tflstm.Runner(float_model)
    with pytest.raises(tflstm.InputError, match=r"input 0 \('series'\) expects dtype float32, got float64"):
        runner(_x(dtype=np.float64))
    with pytest.raises(tflstm.InputError, match="expects dtype float32, got int8"):
        runner(_x(dtype=np.int8))
    assert runner(_x()).shape == (1, 4)


def test_wrong_input_count_and_names(float_model):
    runner = tflstm.Runner(float_model)
    with pytest.raises(tflstm.InputError, match=r"takes 1 input\(s\), got 2"):
        runner(_x(), _x())
    with pytest.raises(tflstm.InputError, match="no input named 'nope'; its inputs are 'series'"):
        runner.run({"nope": _x()})
    with pytest.raises(tflstm.InputError, match="was not given"):
        runner.run({})
    out = runner.run({"series": _x()})
    assert list(out) == [float_model.outputs[0].name]


def test_arena_too_small(float_model):
    need = tflstm.Runner(float_model).memory.arena_required
    with pytest.raises(tflstm.ArenaExhaustedError, match=rf"needs an arena of at least {need} bytes") as err:
        tflstm.Runner(float_model, arena_bytes=need // 2)
    assert "tensor '" in str(err.value)
    # arena_bytes bounds all the runner holds; the arena itself gets what the tensors need.
    runner = tflstm.Runner(float_model, arena_bytes=tflstm.Runner(float_model).memory.total)
    assert runner.memory.arena.budget == need
    assert runner(_x()).shape == (1, 4)
    for bad in (-1, "lots", 1.5):
        with pytest.raises(tflstm.InputError, match="arena_bytes"):
            tflstm.Runner(float_model, arena_bytes=bad)  # type: ignore[arg-type]


def test_op_version_the_runtime_lacks(converted, float_model):
    """A version no runtime has (TF 2.21's per-channel Dense marked FULLY_CONNECTED v99)."""
    model = tflstm.Model(converted("future-op-version"))
    assert ("FULLY_CONNECTED", 99) in model.ops
    assert model.unsupported_ops == [("FULLY_CONNECTED", 99)]
    with pytest.raises(tflstm.UnsupportedOpError, match="FULLY_CONNECTED version 99") as err:
        model.check()
    assert err.value.ops == [("FULLY_CONNECTED", 99)]
    with pytest.raises(tflstm.UnsupportedOpError, match="FULLY_CONNECTED version 99") as err:
        tflstm.Runner(model)
    assert err.value.ops == [("FULLY_CONNECTED", 99)]
    _still_works(float_model)


def test_newer_version_using_what_it_adds(converted, float_model):
    """FULLY_CONNECTED v13 (TensorFlow 2.18) adds int16 activations with int4 weights, which
    TFLite 2.14.1's kernel reads as int8: a node that uses it is refused, naming the release."""
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.read_model_from_bytearray(bytearray(converted("dynamic-per-channel")))
    graph = m.subgraphs[0]
    fc = [i for i, c in enumerate(m.operatorCodes) if max(c.builtinCode, c.deprecatedBuiltinCode) == 9]
    m.operatorCodes[fc[0]].version = 13
    op = next(op for op in graph.operators if op.opcodeIndex == fc[0])
    graph.tensors[op.inputs[0]].type = 7  # INT16
    graph.tensors[op.inputs[1]].type = 17  # INT4
    data = bytes(flatbuffer_utils.convert_object_to_bytearray(m))
    with pytest.raises(
        tflstm.UnsupportedOpError,
        match=r"\(FULLY_CONNECTED\) is version 13, which TensorFlow 2\.18 introduced for int16 activations "
        r"with int4 weights; this node uses that",
    ):
        tflstm.Model(data)
    _still_works(float_model)


def test_messages_name_no_build_path(float_model):
    """TFLite's checks print their source file and line (a path of the machine that built it):
    tflstm's messages name the model's ops and tensors instead."""
    model = tflstm.Model(REPRODUCERS / "comparison_of_int8_and_int32.bin")
    with pytest.raises(tflstm.Error, match=r"input1->type != input2->type \(INT8 != INT32\)") as err:
        tflstm.Runner(model)
    for build_path in (".cc:", ".h:", "tensorflow/lite/", "/.cache/"):
        assert build_path not in str(err.value)
    _still_works(float_model)


def test_bad_thread_count(float_model):
    with pytest.raises(tflstm.InputError, match="num_threads"):
        tflstm.Runner(float_model, num_threads=0)
