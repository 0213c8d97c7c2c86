"""Keras masks into tflstm's fused LSTM (TFLSTM_LSTM options version 3): Embedding(mask_zero)
and Masking ahead of LSTMs (sigmoid gates, which TFLite's own fused LSTM would run unmasked, and
hard_sigmoid; the last step or the sequence, go_backwards, zero_output_for_mask, no bias),
Bidirectional, a stacked pair the mask reaches both of, Keras 3 and tf_keras, converted with every
LSTM as TFLSTM_LSTM (the builtin UNIDIRECTIONAL_SEQUENCE_LSTM takes no mask) and run on tflstm's
runtime against Keras on right-padded batches of varied lengths (a row padded throughout too), in
float32, float16 and dynamic; a Stream over padded steps; the conversions a mask still stops,
refused by name. Helpers and bounds are test_convert_gru_mask.py's."""

from __future__ import annotations

import numpy as np
import pytest

import tflstm
from test_convert_gru_mask import (
    F,
    assert_matches,
    assert_started_model_matches,
    embedded,
    keras_of,
    padded_features,
    padded_ids,
)
from tflstm.errors import UnsupportedLayerError
from tflstm.fuse_gru import count_gru_ops
from tflstm.fuse_lstm import LSTM_OP


def assert_fused_and_matches(model, x: np.ndarray, lstms: int, mode: str = "float32", grus: int = 0) -> None:
    """`model` converts at the batch of `x` with `lstms` TFLSTM_LSTM ops (and `grus` TFLSTM_GRU
    ops), and matches Keras on `x`."""
    data = tflstm.convert(model, mode, batch_size=len(x))
    assert count_gru_ops(data, (LSTM_OP,)) == lstms
    assert count_gru_ops(data) == grus
    assert_matches(data, model, x, mode)


def text_lstm(flavor: str, **lstm) -> object:
    keras, ids, e = embedded(flavor, 5, 8)
    h = keras.layers.LSTM(12, name="lstm", **lstm)(e)
    y = h if lstm.get("return_sequences") else keras.layers.Dense(3, name="head")(h)
    return keras.Model(ids, y, name=f"{flavor}_text_lstm")


LSTM_SETTINGS = {
    "last": {},
    "sequence": {"return_sequences": True},
    "sequence-zero_output": {"return_sequences": True, "zero_output_for_mask": True},
    "backwards-sequence": {"go_backwards": True, "return_sequences": True},
    "backwards-no_bias": {"go_backwards": True, "use_bias": False},
    "hard_sigmoid-sequence": {"recurrent_activation": "hard_sigmoid", "return_sequences": True},
}


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("case", list(LSTM_SETTINGS))
def test_embedding_mask_zero_into_an_lstm_matches_keras_on_a_padded_batch(flavor, case):
    assert_fused_and_matches(text_lstm(flavor, **LSTM_SETTINGS[case]), padded_ids(), 1)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_masking_into_an_lstm_matches_keras(flavor):
    keras = keras_of(flavor)
    keras.utils.set_random_seed(6)
    L = keras.layers
    x = keras.Input((None, F))
    h = L.LSTM(10, return_sequences=True)(L.Masking(mask_value=0.0)(x))
    assert_fused_and_matches(keras.Model(x, h), padded_features(), 1)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("sequences", [True, False])
def test_bidirectional_lstm_over_a_mask(flavor, sequences):
    """Keras reverses the mask with the backward half's sequence, and Bidirectional sets
    zero_output_for_mask to return_sequences on both halves."""
    keras, ids, e = embedded(flavor, 7)
    L = keras.layers
    h = L.Bidirectional(L.LSTM(9, return_sequences=sequences), merge_mode="concat")(e)
    assert_fused_and_matches(keras.Model(ids, h), padded_ids(), 2)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_a_stacked_pair_of_lstms_both_take_the_mask(flavor):
    keras, ids, e = embedded(flavor, 8)
    L = keras.layers
    h = L.LSTM(7, name="upper")(L.LSTM(10, return_sequences=True, name="lower")(e))
    assert_fused_and_matches(keras.Model(ids, L.Dense(2)(h)), padded_ids(), 2)


def test_an_lstm_and_a_gru_share_the_mask():
    keras, ids, e = embedded("keras3", 12)
    L = keras.layers
    h = L.GRU(6)(L.LSTM(10, return_sequences=True)(e))
    assert_fused_and_matches(keras.Model(ids, L.Dense(2)(h)), padded_ids(), 1, grus=1)


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
def test_quantized_modes_keep_the_mask_within_their_bounds(mode):
    keras, ids, e = embedded("keras3", 9, 8)
    L = keras.layers
    h = L.Bidirectional(L.LSTM(8))(L.LSTM(24, return_sequences=True)(e))
    assert_fused_and_matches(keras.Model(ids, L.Dense(3)(h)), padded_ids(), 3, mode)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_an_lstm_started_from_other_layers_over_a_mask_matches_keras(flavor):
    """(Keras 3 runs it unmasked: test_convert_gru_mask.started_from_features.)"""
    assert count_gru_ops(assert_started_model_matches(flavor, "LSTM"), (LSTM_OP,)) == 1


def test_a_stream_keeps_both_states_over_padded_steps():
    """Streamed one step per call (a Stream runs batch 1), a padded step keeps the h and c the
    Stream carries: padding inside the row and after it."""
    model = text_lstm("keras3", return_sequences=True)
    ids = padded_ids(time=12, lengths=(9,))
    ids[0, 2:4] = 0
    data = tflstm.convert(model, "float32")
    runner = tflstm.Runner(tflstm.Model(data))
    stream = runner.stream()
    steps = np.concatenate([stream(ids[:, t : t + 1]) for t in range(ids.shape[1])], axis=1)
    np.testing.assert_allclose(steps, runner(ids), atol=1e-5)
    np.testing.assert_allclose(steps, np.asarray(model(ids)), atol=1e-4)


def test_a_mask_into_a_portable_lstm_is_refused_by_name():
    """Stock TFLite's LSTM takes no mask."""
    with pytest.raises(UnsupportedLayerError, match=r"'lstm'.*Keras mask.*portable=True"):
        tflstm.convert(text_lstm("tf_keras"), "float32", portable=True, timesteps=8)


def test_a_mask_into_an_int8_lstm_is_refused_by_name():
    model = text_lstm("keras3")
    with pytest.raises(UnsupportedLayerError, match=r"'lstm'.*Keras mask.*mode int8"):
        tflstm.convert(model, "int8", representative_data=padded_ids(), batch_size=5)


def test_a_masked_lstm_returning_its_state_is_refused_by_name():
    keras, ids, e = embedded("keras3", 11)
    seq, h, c = keras.layers.LSTM(6, return_state=True, name="stateful_lstm")(e)
    with pytest.raises(UnsupportedLayerError, match=r"stateful_lstm.*returns its state"):
        tflstm.convert(keras.Model(ids, [seq, h, c]), "float32")
