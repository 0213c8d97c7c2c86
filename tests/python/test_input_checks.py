"""Inputs TFLite would silently mis-handle: NaN and Inf in float inputs (refused by default,
naming the input and the position), and models that cannot be prepared at their stored shape
(prepared at the first call's shapes, or at input_shapes given up front)."""

from __future__ import annotations

import numpy as np
import pytest

import tflstm
from tf_models import FEATURES, TIMESTEPS, reference_interpreter, tf


@pytest.mark.parametrize("mode", ["float32", "dynamic", "float16"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused_naming_where(converted, mode, bad, rng):
    model = tflstm.Model(converted(mode))
    runner = tflstm.Runner(model)
    x = rng.normal(size=(1, TIMESTEPS, FEATURES)).astype(np.float32)
    good = runner(x)
    x[0, 7, 2] = bad
    kind = "NaN" if np.isnan(bad) else "Inf"
    with pytest.raises(tflstm.InputError, match=rf"input 0 \('series'\) holds {kind} at \[0, 7, 2\]"):
        runner(x)
    # Unchecked, TFLite 2.14.1 gives a confident finite answer: the failure the check prevents.
    raw = tflstm.Runner(model, check_finite=False)(x)
    assert np.all(np.isfinite(raw))
    x[0, 7, 2] = 0.0
    np.testing.assert_array_equal(runner(x[:, :, :]), tflstm.Runner(model)(x))
    assert good.shape == raw.shape


def test_a_stream_refuses_a_non_finite_step_and_keeps_its_state(converted, rng):
    stream = tflstm.Runner(tflstm.Model(converted("float32"))).stream()
    x = rng.normal(size=(1, 6, FEATURES)).astype(np.float32)
    stream(x[:, :3])
    before = stream.state
    bad = x[:, 3:].copy()
    bad[0, 1, 0] = np.nan
    with pytest.raises(tflstm.InputError, match="holds NaN"):
        stream(bad)
    for a, b in zip(stream.state, before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert stream.steps == 3


@pytest.fixture(scope="module")
def conv_front_end() -> bytes:
    """A Conv1D front end over a free time axis: stored as [1, 1, 3], which a 5-wide valid
    convolution cannot take."""
    import tf_keras as keras

    keras.utils.set_random_seed(5)
    inputs = keras.Input(shape=(None, 3), batch_size=1, name="audio")
    h = keras.layers.Conv1D(8, 5, activation="relu")(inputs)
    h = keras.layers.GlobalAveragePooling1D()(h)
    outputs = keras.layers.Dense(2)(h)
    return tf().lite.TFLiteConverter.from_keras_model(keras.Model(inputs, outputs)).convert()


def _reference(data: bytes, x: np.ndarray) -> np.ndarray:
    interp = reference_interpreter(data, allocate=False)  # it cannot allocate at [1, 1, 3] either
    index = interp.get_input_details()[0]["index"]
    interp.resize_tensor_input(index, x.shape, strict=True)
    interp.allocate_tensors()
    interp.set_tensor(index, x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def test_a_model_unpreparable_at_its_stored_shape_prepares_at_the_first_call(conv_front_end, rng):
    model = tflstm.Model(conv_front_end)
    assert model.inputs[0].shape_signature == (1, -1, 3)
    runner = tflstm.Runner(model)
    assert not runner.prepared
    with pytest.raises(tflstm.InputError, match="not prepared yet"):
        runner.input_view(0)
    x = rng.normal(size=(1, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(runner(x), _reference(conv_front_end, x), rtol=1e-5, atol=1e-6)
    assert runner.prepared and runner.inputs[0].shape == (1, 40, 3)
    # A length the convolution cannot take is the caller's error, typed, and the runner stays usable.
    with pytest.raises(tflstm.InputError, match=r"cannot prepare .* for input shapes \[1, 2, 3\]"):
        runner(rng.normal(size=(1, 2, 3)).astype(np.float32))
    np.testing.assert_allclose(runner(x), _reference(conv_front_end, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shapes", [[(1, 32, 3)], {"audio": (1, 32, 3)}])
def test_input_shapes_prepare_up_front(conv_front_end, shapes, rng):
    runner = tflstm.Runner(tflstm.Model(conv_front_end), input_shapes=shapes)
    assert runner.prepared and runner.rebuilds == 0
    view = runner.input_view(0)
    x = rng.normal(size=(1, 32, 3)).astype(np.float32)
    view[...] = x
    runner.invoke()
    np.testing.assert_allclose(runner.output_view(0), _reference(conv_front_end, x), rtol=1e-5, atol=1e-6)
    del view


def test_bad_input_shapes_are_typed_errors(conv_front_end):
    model = tflstm.Model(conv_front_end)
    with pytest.raises(tflstm.InputError, match="takes 1 input"):
        tflstm.Runner(model, input_shapes=[(1, 8, 3), (1, 8, 3)])
    with pytest.raises(tflstm.InputError, match="dimension 2 is fixed"):
        tflstm.Runner(model, input_shapes=[(1, 8, 4)])
    with pytest.raises(tflstm.InputError, match="'nope', which is not an input"):
        tflstm.Runner(model, input_shapes={"nope": (1, 8, 3)})
    with pytest.raises(tflstm.InputError, match=r"cannot prepare .* \[1, 3, 3\]"):
        tflstm.Runner(model, input_shapes=[(1, 3, 3)])
