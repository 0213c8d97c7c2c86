"""Keras masks into tflstm's fused GRU (TFLSTM_GRU options version 3): Embedding(mask_zero)
and Masking ahead of GRUs (the last step or the sequence, go_backwards, zero_output_for_mask,
Bidirectional, a stacked pair the mask reaches both of), Keras 3 and tf_keras, converted with
every GRU fused and run on tflstm's runtime against Keras on right-padded batches of varied
lengths (converted at that batch size; a row padded throughout too), in float32, float16 and
dynamic; a Stream over padded steps; and the layers a mask still stops, refused by name
(LSTMs: test_convert_lstm_mask.py).

Bounds, relative to the largest Keras output (at least 1), as test_convert_gru.py's: float32
1e-4, float16 1e-2, dynamic 5e-2."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tflstm.errors import UnsupportedLayerError
from tflstm.fuse_gru import count_gru_ops

BOUND = {"float32": 1e-4, "float16": 1e-2, "dynamic": 5e-2}
VOCAB, F = 30, 5
LENGTHS = (37, 20, 9, 1, 0)  # a padded batch: one row past the kernel's 32-step chunk, one all padding


def keras_of(flavor: str):
    return zoo.keras3() if flavor == "keras3" else zoo.tf_keras()


def padded_ids(time: int = 37, lengths=LENGTHS, seed: int = 0) -> np.ndarray:
    """Token ids [batch, time], right-padded with 0 after each row's length."""
    ids = np.random.default_rng(seed).integers(1, VOCAB, size=(len(lengths), time)).astype(np.int32)
    for row, n in enumerate(lengths):
        ids[row, n:] = 0
    return ids


def padded_features(time: int = 37, lengths=LENGTHS, seed: int = 0) -> np.ndarray:
    """Features [batch, time, F], right-padded with 0.0 (Masking's mask_value)."""
    x = np.random.default_rng(seed).normal(scale=1.5, size=(len(lengths), time, F)).astype(np.float32)
    for row, n in enumerate(lengths):
        x[row, n:] = 0.0
    return x


def assert_matches(data: bytes, model, x: np.ndarray, mode: str = "float32") -> None:
    want = np.asarray(model(x, training=False))
    got = tflstm.Runner(tflstm.Model(data))(x)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want)))
    assert err <= BOUND[mode] * scale, f"{mode}: {err:.3g} from Keras"


def assert_fused_and_matches(model, x: np.ndarray, grus: int, mode: str = "float32") -> None:
    """`model` converts at the batch of `x` with `grus` fused GRUs, and matches Keras on `x`."""
    data = tflstm.convert(model, mode, batch_size=len(x))
    assert count_gru_ops(data) == grus
    assert_matches(data, model, x, mode)


def embedded(flavor: str, seed: int, width: int = 6):
    """Keras's layers, a token-id input and its Embedding(mask_zero=True)."""
    keras = keras_of(flavor)
    keras.utils.set_random_seed(seed)
    ids = keras.Input((None,), dtype="int32", name="ids")
    return keras, ids, keras.layers.Embedding(VOCAB, width, mask_zero=True, name="embed")(ids)


def text_gru(flavor: str, **gru) -> object:
    keras, ids, e = embedded(flavor, 5, 8)
    h = keras.layers.GRU(12, name="gru", **gru)(e)
    y = h if gru.get("return_sequences") else keras.layers.Dense(3, name="head")(h)
    return keras.Model(ids, y, name=f"{flavor}_text_gru")


GRU_SETTINGS = {
    "last": {},
    "sequence": {"return_sequences": True},
    "sequence-zero_output": {"return_sequences": True, "zero_output_for_mask": True},
    "backwards-sequence": {"go_backwards": True, "return_sequences": True},
    "backwards-reset_before": {"go_backwards": True, "reset_after": False},
    "hard_sigmoid-sequence": {"recurrent_activation": "hard_sigmoid", "return_sequences": True},
}


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("case", list(GRU_SETTINGS))
def test_embedding_mask_zero_into_a_gru_matches_keras_on_a_padded_batch(flavor, case):
    assert_fused_and_matches(text_gru(flavor, **GRU_SETTINGS[case]), padded_ids(), 1)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_masking_into_a_gru_matches_keras(flavor):
    keras = keras_of(flavor)
    keras.utils.set_random_seed(6)
    L = keras.layers
    x = keras.Input((None, F))
    h = L.GRU(10, return_sequences=True)(L.Masking(mask_value=0.0)(x))
    assert_fused_and_matches(keras.Model(x, h), padded_features(), 1)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("sequences", [True, False])
def test_bidirectional_gru_over_a_mask(flavor, sequences):
    """Keras reverses the mask with the backward half's sequence, and Bidirectional sets
    zero_output_for_mask to return_sequences on both halves."""
    keras, ids, e = embedded(flavor, 7)
    L = keras.layers
    h = L.Bidirectional(L.GRU(9, return_sequences=sequences), merge_mode="concat")(e)
    assert_fused_and_matches(keras.Model(ids, h), padded_ids(), 2)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_a_stacked_pair_of_grus_both_take_the_mask(flavor):
    keras, ids, e = embedded(flavor, 8)
    L = keras.layers
    h = L.GRU(7, reset_after=False, name="upper")(L.GRU(10, return_sequences=True, name="lower")(e))
    assert_fused_and_matches(keras.Model(ids, L.Dense(2)(h)), padded_ids(), 2)


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
def test_quantized_modes_keep_the_mask_within_their_bounds(mode):
    keras, ids, e = embedded("keras3", 9, 8)
    L = keras.layers
    h = L.Bidirectional(L.GRU(8))(L.GRU(24, return_sequences=True)(e))
    assert_fused_and_matches(keras.Model(ids, L.Dense(3)(h)), padded_ids(), 3, mode)


def started_from_features(flavor: str, kind: str) -> object:
    """A `kind` (GRU or LSTM) over Embedding(mask_zero=True), its initial state a Dense of a
    second input. Keras 3 fills in a layer's mask only for a call with one tensor argument, so
    there the layer runs unmasked; tf_keras masks it."""
    keras, ids, e = embedded(flavor, 12, 8)
    L = keras.layers
    feats = keras.Input((F,), name="feats")
    h0 = L.Dense(10, activation="tanh", name="h0")(feats)
    state = h0 if kind == "GRU" else [h0, L.Dense(10, name="c0")(feats)]
    h = getattr(L, kind)(10, name="rnn")(e, initial_state=state)
    return keras.Model([ids, feats], L.Dense(3, name="head")(h), name=f"{flavor}_started_{kind}")


def assert_started_model_matches(flavor: str, kind: str) -> bytes:
    model = started_from_features(flavor, kind)
    ids = padded_ids()
    feats = np.random.default_rng(1).normal(size=(len(ids), F)).astype(np.float32)
    data = tflstm.convert(model, "float32", batch_size=len(ids))
    want = np.asarray(model([ids, feats], training=False))
    got = tflstm.Runner(tflstm.Model(data))(ids, feats)
    np.testing.assert_allclose(got, want, atol=BOUND["float32"] * max(1.0, float(np.max(np.abs(want)))))
    return data


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_a_gru_started_from_other_layers_over_a_mask_matches_keras(flavor):
    assert count_gru_ops(assert_started_model_matches(flavor, "GRU")) == 1


def test_a_stream_keeps_the_state_over_padded_steps():
    """Streamed one step per call (a Stream runs batch 1), a padded step keeps the state the
    Stream carries: padding inside the row and after it."""
    model = text_gru("keras3", return_sequences=True)
    ids = padded_ids(time=12, lengths=(9,))
    ids[0, 2:4] = 0
    data = tflstm.convert(model, "float32")
    runner = tflstm.Runner(tflstm.Model(data))
    stream = runner.stream()
    steps = np.concatenate([stream(ids[:, t : t + 1]) for t in range(ids.shape[1])], axis=1)
    np.testing.assert_allclose(steps, runner(ids), atol=1e-5)
    np.testing.assert_allclose(steps, np.asarray(model(ids)), atol=1e-4)


def test_a_mask_into_another_recurrent_layer_is_refused_by_name():
    """(An LSTM takes it: test_convert_lstm_mask.py.)"""
    keras, ids, e = embedded("keras3", 10)
    h = keras.layers.SimpleRNN(6, name="masked_rnn")(e)
    with pytest.raises(UnsupportedLayerError, match=r"masked_rnn.*Keras mask"):
        tflstm.convert(keras.Model(ids, h), "float32")


def test_a_mask_into_an_unfused_gru_is_refused_by_name():
    model = text_gru("tf_keras")
    with pytest.raises(UnsupportedLayerError, match=r"'gru'.*Keras mask"):
        tflstm.convert(model, "float32", portable=True, timesteps=8)


def test_a_masked_gru_returning_its_state_is_refused_by_name():
    keras, ids, e = embedded("keras3", 11)
    seq, state = keras.layers.GRU(6, return_state=True, name="stateful_gru")(e)
    with pytest.raises(UnsupportedLayerError, match=r"stateful_gru.*returns its state"):
        tflstm.convert(keras.Model(ids, [seq, state]), "float32")
