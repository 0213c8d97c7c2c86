"""Trained models that PyPI packages ship as data, converted as their users would: textgenrnn
2.0.0's pretrained text generator (a Keras 2 `.hdf5` of CuDNN-compatible LSTM weights, ids fed
as float32, attention in a custom layer). The package is only read, never imported (its own
imports want TensorFlow 1-era modules): `pip install --no-deps textgenrnn==2.0.0` provides it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

import tflstm
from tf_models import convert_or_refusal
from tflstm.fusable import rebuild
from tflstm.rebuild_check import cell_state_peaks

TEXTS = [
    "The quick brown fox jumps over the lazy dog again and again",
    "tflstm runs Keras LSTMs on embedded Linux",
    "Once upon a time there was a ",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  # one character held: the cell counts
]


def _package() -> Path:
    spec = importlib.util.find_spec("textgenrnn")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("textgenrnn is not installed (pip install --no-deps textgenrnn==2.0.0)")
    return Path(next(iter(spec.submodule_search_locations)))


def _attention_class(keras):
    K = keras.backend

    class AttentionWeightedAverage(keras.layers.Layer):
        """textgenrnn's layer (AttentionWeightedAverage.py), as its users carry it along."""

        def build(self, input_shape):
            self.W = self.add_weight(shape=(input_shape[2], 1), name=f"{self.name}_W", initializer="uniform")
            super().build(input_shape)

        def call(self, x):
            logits = K.dot(x, self.W)
            x_shape = K.shape(x)
            logits = K.reshape(logits, (x_shape[0], x_shape[1]))
            ai = K.exp(logits - K.max(logits, axis=-1, keepdims=True))
            att_weights = ai / (K.sum(ai, axis=1, keepdims=True) + K.epsilon())
            return K.sum(x * K.expand_dims(att_weights), axis=1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[2])

    return AttentionWeightedAverage


@pytest.fixture(scope="module")
def textgenrnn():
    """The model as textgenrnn_model() builds it on a CPU (model.py), with its shipped weights."""
    import tf_keras as keras

    root = _package()
    vocab = json.loads((root / "textgenrnn_vocab.json").read_text())
    L = keras.layers
    ids = keras.Input(shape=(40,), name="input")  # float32, as Keras 2 made it
    embedded = L.Embedding(len(vocab) + 1, 100, name="embedding")(ids)
    rnn_1 = L.LSTM(128, return_sequences=True, recurrent_activation="sigmoid", name="rnn_1")(embedded)
    rnn_2 = L.LSTM(128, return_sequences=True, recurrent_activation="sigmoid", name="rnn_2")(rnn_1)
    attention = _attention_class(keras)(name="attention")(L.concatenate([embedded, rnn_1, rnn_2], name="rnn_concat"))
    model = keras.Model(ids, L.Dense(len(vocab) + 1, activation="softmax", name="output")(attention))
    model.load_weights(str(root / "textgenrnn_weights.hdf5"), by_name=True)
    encoded = [[vocab.get(c, 0) for c in text][-40:] for text in TEXTS]
    x = np.array([[0] * (40 - len(e)) + e for e in encoded], np.float32)  # pad_sequences: zeros first
    return model, x


def test_its_cells_pass_the_clip_tensorflow_wrote(textgenrnn):
    model, x = textgenrnn
    peaks = cell_state_peaks(rebuild(model), [x])
    assert max(peaks.values()) > 10.0, peaks  # what cell_clip = 10 cut off


def test_pretrained_text_generator_agrees_with_keras_in_float32(textgenrnn):
    model, x = textgenrnn
    data = tflstm.convert(model, "float32")  # verified on the runtime: no MismatchError
    runner = tflstm.Runner(tflstm.Model(data))
    got = np.concatenate([runner(x[i : i + 1]) for i in range(len(x))])
    want = np.asarray(model(x))
    assert float(np.max(np.abs(got - want))) <= 1e-4  # measured 3e-6
    assert (np.argmax(got, 1) == np.argmax(want, 1)).all()  # the same next character


@pytest.mark.parametrize("mode", ["dynamic", "float16"])
def test_quantized_text_generator_is_refused_with_how_far_it_is_off(textgenrnn, mode):
    """Its large cell states make the rounded weights count: dynamic-range is off by 0.16 in a
    next-character probability on these texts (0.71 on random ids), float16 by 1e-3 (0.14 on
    random ids). The conversion refuses the model with the measured difference, and returns it
    at the tolerance its message offers."""
    model, x = textgenrnn
    data, refused = convert_or_refusal(model, mode)
    assert refused and re.search(rf"the {mode} model .* differs from its Keras source by", refused), refused
    runner = tflstm.Runner(tflstm.Model(data))
    got = np.concatenate([runner(x[i : i + 1]) for i in range(len(x))])
    err = float(np.max(np.abs(got - np.asarray(model(x)))))
    assert err > 1e-4  # rounded weights do change the outputs
    if mode == "float16":
        assert err <= 1e-2
