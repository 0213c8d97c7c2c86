"""The converter's GRU emission (python/tflstm/fuse_gru.py): a tf_keras model whose GRU is
replaced by its placeholder (gru_stand_ins.py), converted by TFLite's converter, then rewritten into
TFLSTM_GRU, computes what the Keras model with the GRU computes (tflstm.Runner against Keras),
and its stream carries the GRU's state."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tflstm import fuse_gru, gru_stand_ins

T, F = 12, 4


def _models(reset_after: bool, return_sequences: bool, timesteps: int = T):
    keras = zoo.tf_keras()
    keras.utils.set_random_seed(5)
    inputs = keras.Input((timesteps, F), batch_size=1)
    gru = keras.layers.GRU(9, reset_after=reset_after, return_sequences=return_sequences)
    head = keras.layers.Dense(3)
    reference = keras.Model(inputs, head(gru(inputs)))
    rng = np.random.default_rng(1)
    gru.set_weights(
        [
            w if i < 2 else rng.normal(scale=0.5, size=w.shape).astype(np.float32)
            for i, w in enumerate(gru.get_weights())
        ]
    )
    stand_in = keras.Model(inputs, head(gru_stand_ins.placeholder(gru, 0)(inputs)))
    return reference, stand_in, gru


def _convert(model) -> bytes:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.mark.parametrize("reset_after,return_sequences", [(True, False), (False, True)])
def test_emitted_gru_matches_keras(reset_after, return_sequences, rng):
    reference, stand_in, gru = _models(reset_after, return_sequences)
    data = fuse_gru.emit(_convert(stand_in), {0: gru})
    runner = tflstm.Runner(tflstm.Model(data))
    for _ in range(3):
        x = rng.normal(size=(1, T, F)).astype(np.float32)
        worst = float(np.max(np.abs(runner(x) - reference(x).numpy())))
        assert worst <= 1e-5, worst


def test_emitted_gru_streams_its_state(rng):
    reference, _, gru = _models(True, False)
    _, stand_in, step_gru = _models(True, False, timesteps=1)
    step_gru.set_weights(gru.get_weights())
    stream = tflstm.Runner(tflstm.Model(fuse_gru.emit(_convert(stand_in), {0: step_gru}))).stream()
    x = rng.normal(size=(1, T, F)).astype(np.float32)
    for t in range(T):
        y = stream(x[:, t : t + 1])
    assert float(np.max(np.abs(y - reference(x).numpy()))) <= 1e-5


def test_a_missing_placeholder_is_refused():
    _, stand_in, gru = _models(True, False)
    with pytest.raises(ValueError, match=r"no placeholder of GRU \[1\]"):
        fuse_gru.emit(_convert(stand_in), {0: gru, 1: gru})
