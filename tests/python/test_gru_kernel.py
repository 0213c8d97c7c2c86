"""tflstm's fused GRU (the TFLSTM_GRU custom op, python/tflstm/fuse_gru.py writes it) against
Keras itself: Keras 3 and tf_keras GRU layers, reset_after True and False, both hard_sigmoid
definitions, with and without biases, a full sequence and the last step, run by tflstm.Runner."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tflstm.fuse_gru import gru_model

TOLERANCE = 1e-5
TIMESTEPS, FEATURES, BATCH = 37, 5, 2  # past the kernel's 32-step projection chunk


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"reset_after": False},
        {"recurrent_activation": "hard_sigmoid"},
        {"reset_after": False, "recurrent_activation": "hard_sigmoid", "activation": "relu"},
        {"use_bias": False},
        {"activation": "linear", "return_sequences": False},
    ],
    ids=["defaults", "reset_before", "hard_sigmoid", "reset_before-hard_sigmoid-relu", "no_bias", "linear-last"],
)
def test_fused_gru_matches_keras(flavor, settings, rng):
    keras = zoo.keras3() if flavor == "keras3" else zoo.tf_keras()
    keras.utils.set_random_seed(3)
    options = {"return_sequences": True, **settings}
    layer = keras.layers.GRU(21, **options)
    x = rng.normal(scale=1.5, size=(BATCH, TIMESTEPS, FEATURES)).astype(np.float32)
    layer(x)  # builds the weights
    # Random biases (Keras starts them at zero), so that every bias reaches the comparison.
    weights = [
        w if i < 2 else rng.normal(scale=0.5, size=w.shape).astype(np.float32)
        for i, w in enumerate(layer.get_weights())
    ]
    layer.set_weights(weights)
    want = np.asarray(layer(x))
    runner = tflstm.Runner(tflstm.Model(gru_model(layer, BATCH, TIMESTEPS)))
    got = runner(x)
    assert got.shape == want.shape
    worst = float(np.max(np.abs(got - want)))
    assert worst <= TOLERANCE, f"{flavor} {settings}: {worst:g} from Keras"


@pytest.mark.parametrize("reset_after", [True, False])
def test_int8_weights_stay_within_the_quantization_error_of_keras(reset_after, rng):
    """int8 weights (one scale a tensor, quantize=True): the hybrid GRU (reset_after; its
    arithmetic is checked exactly in gru_kernel_test) or the float kernel on the dequantized
    weights, within the quantization's error of Keras."""
    keras = zoo.keras3()
    keras.utils.set_random_seed(4)
    layer = keras.layers.GRU(32, reset_after=reset_after, return_sequences=True)
    x = rng.normal(size=(BATCH, TIMESTEPS, FEATURES)).astype(np.float32)
    want = np.asarray(layer(x))
    runner = tflstm.Runner(tflstm.Model(gru_model(layer, BATCH, TIMESTEPS, quantize=True)))
    worst = float(np.max(np.abs(runner(x) - want)))
    assert worst <= 0.05, worst
