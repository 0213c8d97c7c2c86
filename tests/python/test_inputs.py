"""Calls that change the shapes of several inputs: every new shape is applied in one rebuild
before any data is written, checked against tf.lite.Interpreter; and zero-copy views against
shape changes on other threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import tflstm
from tf_models import reference_interpreter, tf


def _from_function(fn, n_inputs: int) -> bytes:
    """A model of `n_inputs` float32 inputs of shape [-1, 4], converted from a tf.function."""
    spec = [tf().TensorSpec([None, 4], tf().float32, name=name) for name in "abc"[:n_inputs]]
    module = tf().Module()
    module.f = tf().function(fn, input_signature=spec)
    concrete = module.f.get_concrete_function()
    return tf().lite.TFLiteConverter.from_concrete_functions([concrete], module).convert()


@pytest.fixture(scope="module")
def fma_model() -> bytes:
    return _from_function(lambda a, b, c: a + b * c, 3)


@pytest.fixture(scope="module")
def add_model() -> bytes:
    return _from_function(lambda a, b: a + b, 2)


def _reference(data: bytes, named: dict[str, np.ndarray]) -> np.ndarray:
    """tf.lite.Interpreter through its signature runner, which resizes the inputs it is given."""
    (out,) = reference_interpreter(data).get_signature_runner()(**named).values()
    return out


def _ordered(runner: tflstm.Runner, named: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The feeds in the model's input order (the converter may order the inputs its own way)."""
    return [named[t.name] for t in runner.inputs]


def test_a_new_batch_on_every_input_is_right_on_the_first_call(fma_model, rng):
    runner = tflstm.Runner(tflstm.Model(fma_model))
    names = [t.name for t in runner.inputs]
    assert sorted(names) == ["a", "b", "c"]
    feeds = {
        "a": np.full((2, 4), 1.0, np.float32),
        "b": np.full((2, 4), 2.0, np.float32),
        "c": np.full((2, 4), 3.0, np.float32),
    }
    got = runner(*_ordered(runner, feeds))
    np.testing.assert_array_equal(got, np.full((2, 4), 7.0, np.float32))
    assert runner.rebuilds == 1  # three inputs changed, one rebuild
    for batch in (5, 1, 3):
        feeds = {n: rng.normal(size=(batch, 4)).astype(np.float32) for n in "abc"}
        want = _reference(fma_model, feeds)
        np.testing.assert_allclose(runner(*_ordered(runner, feeds)), want, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(runner.run(feeds)[runner.outputs[0].name], want, rtol=1e-6, atol=1e-6)
    assert runner.rebuilds == 4


def test_inputs_that_must_agree_resize_together(add_model, rng):
    # ADD broadcasts, but [3, 4] and [2, 4] are not broadcastable: a runner that resized one
    # input at a time would pass through that pair and refuse a valid call.
    runner = tflstm.Runner(tflstm.Model(add_model))
    for batch in (3, 2, 3):
        a, b = (rng.normal(size=(batch, 4)).astype(np.float32) for _ in range(2))
        np.testing.assert_allclose(runner.run({"a": a, "b": b})[runner.outputs[0].name], a + b, rtol=1e-6)
    assert runner.rebuilds == 3


def test_a_bad_input_among_several_changes_nothing(add_model, rng):
    runner = tflstm.Runner(tflstm.Model(add_model))
    a, b = (rng.normal(size=(2, 4)).astype(np.float32) for _ in range(2))
    want = runner.run({"a": a, "b": b})
    with pytest.raises(tflstm.InputError, match=r"input \d \('b'\) expects dtype float32, got float64"):
        runner.run({"a": np.zeros((3, 4), np.float32), "b": np.zeros((3, 4))})
    with pytest.raises(tflstm.InputError, match=r"input \d \('b'\) was not given"):
        runner.run({"a": a})
    with pytest.raises(tflstm.InputError, match=r"takes 2 input\(s\), got 3"):
        runner(a, b, b)
    assert runner.rebuilds == 1
    assert runner.run({"a": a, "b": b}).keys() == want.keys()
    np.testing.assert_array_equal(runner.run({"a": a, "b": b})[runner.outputs[0].name], want[runner.outputs[0].name])


def test_views_and_shape_changes_on_other_threads(add_model):
    """A view is counted under the runner's lock before it is read: while it lives, no call on
    another thread can rebuild the tensor under it."""
    runner = tflstm.Runner(tflstm.Model(add_model))
    errors: list[str] = []
    refused = [0]

    def viewer() -> None:
        for i in range(400):
            view = runner.input_view(i % 2)
            shape = view.shape
            view[...] = 1.0  # writes into the runner's tensor: it must still be that tensor
            now = runner.inputs[i % 2].shape
            if now != shape:
                errors.append(f"a live view of shape {shape} over an input of shape {now}")
            del view
            time.sleep(0)  # a moment with no view of this thread's, for the resizer to get in

    viewers = [threading.Thread(target=viewer), threading.Thread(target=viewer)]

    def resizer() -> None:
        # 400 calls, and on until one has rebuilt: on a loaded machine the two viewers can keep
        # a view alive through all 400, and a test of shape changes must see one.
        i = 0
        while i < 400 or (runner.rebuilds == 0 and i < 100_000):
            i += 1
            batch = 1 + i % 3
            x = np.ones((batch, 4), np.float32)
            try:
                y = runner(x, x)
            except tflstm.InputError as e:
                if "zero-copy view" not in str(e):
                    errors.append(str(e))
                refused[0] += 1
                continue
            if y.shape != (batch, 4) or not np.all(y == 2.0):
                errors.append(f"batch {batch}: wrong output")

    threads = [*viewers, threading.Thread(target=resizer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert runner.rebuilds > 0  # shapes did change while views came and went


def test_arrays_in_the_other_byte_order_give_the_same_answers(converted, rng):
    """dtype('>f4') was taken as float32 without swapping its bytes: finite, wrong answers in
    calls, stream chunks and state restores."""
    model = tflstm.Model(converted("float32"))
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    swapped = x.astype(">f4")
    assert swapped.tobytes() != x.tobytes()
    runner = tflstm.Runner(model)
    expected = runner(x)
    np.testing.assert_array_equal(runner(swapped), expected)
    np.testing.assert_array_equal(runner.run({model.inputs[0].name: swapped})[model.outputs[0].name], expected)
    np.testing.assert_array_equal(runner(x[:, ::-1].copy()[:, ::-1]), expected)  # strided too

    stream = tflstm.Runner(model).stream()
    reference = tflstm.Runner(model).stream()
    half = x.shape[1] // 2
    np.testing.assert_array_equal(stream(swapped[:, :half]), reference(x[:, :half]))
    snapshot = [s.astype(s.dtype.newbyteorder(">")) for s in reference.state]
    stream.reset()
    stream.state = snapshot
    np.testing.assert_array_equal(stream(swapped[:, half:]), reference(x[:, half:]))


def test_quantize_io_refuses_nan_and_inf_before_quantizing(converted, rng):
    """quantize_io=True on an int8-input model turned NaN and +-Inf into finite int8 values:
    the float guard ran on the quantized tensor."""
    model = tflstm.Model(converted("int8"))
    assert model.inputs[0].dtype == np.int8
    runner = tflstm.Runner(model, quantize_io=True)
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    good = runner(x)
    for bad in (np.nan, np.inf, -np.inf):
        x[0, 3, 1] = bad
        kind = "NaN" if np.isnan(bad) else "Inf"
        with pytest.raises(tflstm.InputError, match=rf"input 0 \('series'\) holds {kind} at \[0, 3, 1\]"):
            runner(x)
        with pytest.raises(tflstm.InputError, match=f"holds {kind}"):
            runner(x.astype(np.float64))
    x[0, 3, 1] = 0.0
    assert runner(x).shape == good.shape
    # check_finite=False quantizes them as TFLite's QUANTIZE would: clamped, NaN to the zero point.
    x[0, 3, 1] = np.inf
    assert tflstm.Runner(model, quantize_io=True, check_finite=False)(x).shape == good.shape
