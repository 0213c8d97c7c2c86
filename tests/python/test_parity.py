"""Numerical parity: tflstm's native TFLite 2.14.1 against tf.lite.Interpreter (TF 2.21)
on LSTM models converted at test time."""

from __future__ import annotations

import numpy as np
import pytest

import tflstm
from quantize import quantize
from tf_models import FEATURES, TIMESTEPS, reference_interpreter, reference_run

FLOAT_TOLERANCE = 1e-5


def _inputs(rng, n=8):
    return [rng.normal(size=(1, TIMESTEPS, FEATURES)).astype(np.float32) for _ in range(n)]


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic"])
def test_float_outputs_match_tensorflow(converted, rng, mode):
    data = converted(mode)
    runner = tflstm.Runner(tflstm.Model(data))
    ref = reference_interpreter(data)
    worst = 0.0
    for x in _inputs(rng):
        ours = runner(x)
        theirs = reference_run(ref, x)
        assert ours.dtype == theirs.dtype == np.float32
        assert ours.shape == theirs.shape
        worst = max(worst, float(np.max(np.abs(ours - theirs))))
    assert worst <= FLOAT_TOLERANCE, f"{mode}: max abs diff {worst:g}"


def test_int8_outputs_within_one_quantization_step(converted, rng):
    data = converted("int8")
    model = tflstm.Model(data)
    assert model.inputs[0].dtype == np.int8 and model.outputs[0].dtype == np.int8
    runner = tflstm.Runner(model)
    ref = reference_interpreter(data)
    worst = 0
    for x in _inputs(rng):
        q = quantize(x, model.inputs[0])
        ours = runner(q)
        theirs = reference_run(ref, q)
        assert ours.dtype == np.int8
        worst = max(worst, int(np.max(np.abs(ours.astype(np.int32) - theirs.astype(np.int32)))))
    assert worst <= 1, f"int8: outputs differ by {worst} quantization steps"


@pytest.mark.parametrize("mode", ["float32", "int8", "float16", "dynamic"])
def test_fused_lstm_op_is_used(converted, mode):
    ops = dict(tflstm.Model(converted(mode)).ops)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops
    assert "WHILE" not in ops


def test_parity_on_tflite_testdata_lstm(testdata, rng):
    path = testdata / "unidirectional_sequence_lstm.bin"
    runner = tflstm.Runner(tflstm.Model(path))
    ref = reference_interpreter(path.read_bytes())
    for _ in range(4):
        x = rng.normal(size=runner.inputs[0].shape).astype(np.float32)
        np.testing.assert_allclose(runner(x), reference_run(ref, x), atol=FLOAT_TOLERANCE, rtol=0)
