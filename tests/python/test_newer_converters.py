"""Files as TensorFlow 2.21's converter writes them for users who convert on their own (none of
tflstm.convert's workarounds): op versions newer than TFLite 2.14.1's, and tensors of no
elements. tflstm runs each and agrees with tf.lite.Interpreter (and with Keras)."""

from __future__ import annotations

import numpy as np
import pytest

import tflstm
from tf_models import reference_interpreter, reference_run, tf, tf_keras


def _tflite_convert(model) -> bytes:
    converter = tf().lite.TFLiteConverter.from_keras_model(model)
    return converter.convert()


def _dynamic_range(model) -> bytes:
    converter = tf().lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf().lite.Optimize.DEFAULT]
    return converter.convert()


def test_per_channel_dynamic_range_dense_matches_tflite():
    """An ordinary dynamic-range Dense: FULLY_CONNECTED version 12, int8 weights with a scale per
    unit (TFLite 2.14.1 registers up to version 10)."""
    keras = tf_keras()
    keras.utils.set_random_seed(11)
    model = keras.Sequential(
        [
            keras.Input((64,), batch_size=3),
            keras.layers.Dense(48, activation="relu"),
            keras.layers.Dense(40),
        ]
    )
    data = _dynamic_range(model)
    runner = tflstm.Runner(tflstm.Model(data))
    assert ("FULLY_CONNECTED", 12) in tflstm.Model(data).ops
    rng = np.random.default_rng(5)
    reference = reference_interpreter(data)
    for scale in (0.1, 1.0, 30.0):
        x = (rng.normal(size=(3, 64)) * scale).astype(np.float32)
        x[1, :] = 0  # an all-zero row: the kernel's shortcut
        want = reference_run(reference, x)
        got = runner(x)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
        # The quantized Dense stays near Keras' float one (int8 weights and inputs).
        keras_y = model(x).numpy()
        assert np.abs(got - keras_y).max() <= 0.05 * np.abs(keras_y).max()


@pytest.mark.parametrize("unroll", [False, True])
def test_gru_reset_before_with_an_empty_split_matches_tflite_and_keras(unroll):
    """Keras 2's default GRU (reset_after=False) converts to a SPLIT_V with a [1, 0] output in
    each step (in a WHILE loop's body, or in the graph when unrolled): a tensor of no elements,
    which TFLite's kernel handles."""
    keras = tf_keras()
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((12, 5), batch_size=1),
            keras.layers.GRU(8, reset_after=False, unroll=unroll),
            keras.layers.Dense(3),
        ]
    )
    data = _tflite_convert(model)
    assert ("SPLIT_V", 1) in tflstm.Model(data).ops
    runner = tflstm.Runner(tflstm.Model(data))
    reference = reference_interpreter(data)
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = rng.normal(size=(1, 12, 5)).astype(np.float32)
        got = runner(x)
        np.testing.assert_allclose(got, reference_run(reference, x), rtol=0, atol=1e-6)
        np.testing.assert_allclose(got, model(x).numpy(), rtol=0, atol=1e-5)
