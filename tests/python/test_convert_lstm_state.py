"""LSTMs with explicit states convert to tflstm's fused LSTM: an LSTM called with
initial_state=[h, c] from other layers (an encoder's return_state, Dense layers on static
features) takes them as the op's initial-state inputs (options version 2), and return_state's
extra outputs are the last step (h) and the op's final-c output. TFLite's own fused LSTM keeps its
states in variables, so such an LSTM goes through TFLSTM_LSTM whatever its gates. Keras 3 and
tf_keras, free lengths, float32, float16 and dynamic, run on tflstm's runtime against Keras;
portable=True and int8 keep stock TFLite's form (the LSTM unrolled over a fixed length), which
tf.lite runs; a Bidirectional LSTM given its states is unrolled as the GRU's is.

Bounds (BOUND) and helpers as test_convert_gru_state.py's, relative to the largest Keras output (at least 1)."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from test_convert_gru_state import (
    F,
    G,
    S,
    U,
    assert_outputs_match,
    assert_tf_lite_agrees,
    gru_ops,
    randomize_biases,
    seq2seq_inputs,
)
from tflstm.fuse_lstm import LSTM_OP


def _keras(flavor: str):
    return zoo.keras3() if flavor == "keras3" else zoo.tf_keras()


def lstm_ops(data: bytes) -> list:
    """The model's TFLSTM_LSTM operators."""
    return gru_ops(data, LSTM_OP)


def seq2seq(flavor: str, timesteps: tuple[int | None, int | None] = (None, None), gate: str = "sigmoid"):
    """A teacher-forced encoder-decoder: the encoder LSTM's return_state [h, c] starts the decoder
    LSTM (return_sequences, return_state), whose sequence a Dense reads. Outputs: the Dense's
    sequence, the decoder's final h and c, the encoder's final c (Keras's order, not the ops')."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(40)
    L = keras.layers
    enc_in, dec_in = keras.Input((timesteps[0], F), name="source"), keras.Input((timesteps[1], G), name="target")
    _, enc_h, enc_c = L.LSTM(U, return_state=True, recurrent_activation=gate, name="encoder")(enc_in)
    dec, dec_h, dec_c = L.LSTM(U, return_sequences=True, return_state=True, recurrent_activation=gate, name="decoder")(
        dec_in, initial_state=[enc_h, enc_c]
    )
    model = keras.Model([enc_in, dec_in], [L.Dense(2, name="head")(dec), dec_h, dec_c, enc_c], name=f"{flavor}_s2s")
    randomize_biases(model, np.random.default_rng(1))
    return model


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_an_encoder_decoder_converts_to_fused_lstms_at_any_lengths(flavor):
    model = seq2seq(flavor)
    data = tflstm.convert(model, "float32")
    ops = lstm_ops(data)
    assert len(ops) == 2
    decoder = [op for op in ops if len(op.inputs) == 8]
    assert len(decoder) == 1 and list(decoder[0].inputs[4:6]) == [-1, -1]  # the states are inputs, not variables
    assert all(len(op.outputs) == 3 and op.outputs[2] >= 0 for op in ops)  # both give their final c
    converted = tflstm.Model(data)
    assert len(converted.state) == 2  # the encoder's h and c only
    assert [t.name for t in converted.inputs] == ["source", "target"]
    for src, dst in ((7, 9), (40, 3)):  # lengths the model was never built for, past a 32-step chunk
        assert_outputs_match(data, model, seq2seq_inputs(src, dst, seed=src), "float32")


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
def test_an_encoder_decoder_in_float16_and_dynamic(mode):
    model = seq2seq("keras3")
    data = tflstm.convert(model, mode)
    assert len(lstm_ops(data)) == 2
    assert_outputs_match(data, model, seq2seq_inputs(11, 6, seed=2), mode)


def test_hard_sigmoid_gates_and_a_fixed_length_at_batch_two():
    """Keras 3's hard_sigmoid (an LSTM TFLite's fused op cannot compute anyway), fixed lengths."""
    model = seq2seq("keras3", timesteps=(8, 6), gate="hard_sigmoid")
    data = tflstm.convert(model, "float32", batch_size=2)
    assert len(lstm_ops(data)) == 2
    assert_outputs_match(data, model, seq2seq_inputs(8, 6, seed=3, batch=2), "float32")


def conditioned(flavor: str, timesteps: int | None = None, go_backwards: bool = False):
    """Dense layers on static features as the LSTM's initial h and c (a conditioned forecaster);
    outputs [head, h, c] with return_state."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(41)
    L = keras.layers
    x, static = keras.Input((timesteps, F), name="series"), keras.Input((S,), name="static")
    h0 = L.Dense(U, activation="tanh", name="h0")(static)
    c0 = L.Dense(U, name="c0")(static)
    y, h, c = L.LSTM(U, return_state=True, go_backwards=go_backwards, name="lstm")(x, initial_state=[h0, c0])
    model = keras.Model([x, static], [L.Dense(2, name="head")(y), h, c])
    randomize_biases(model, np.random.default_rng(2))
    return model


def conditioned_inputs(t: int, seed: int, batch: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.normal(scale=1.5, size=(batch, t, F)).astype(np.float32),
        rng.normal(size=(batch, S)).astype(np.float32),
    ]


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic"])
@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_static_features_as_the_initial_state(flavor, mode):
    model = conditioned(flavor)
    data = tflstm.convert(model, mode)
    assert len(lstm_ops(data)) == 1
    assert len(tflstm.Model(data).state) == 0  # nothing to carry: every call starts from its inputs
    for t in (5, 37):
        assert_outputs_match(data, model, conditioned_inputs(t, seed=t), mode)


def test_go_backwards_and_batch_two():
    model = conditioned("keras3", timesteps=8, go_backwards=True)
    data = tflstm.convert(model, "float32", batch_size=2)
    assert_outputs_match(data, model, conditioned_inputs(8, seed=4, batch=2), "float32")


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_return_state_alone_gives_h_and_c_in_keras_order(flavor):
    """An LSTM that returns its states but starts from zero: variables, and outputs [c, y, h]
    reordered by the model as Keras orders them."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(42)
    L = keras.layers
    x = keras.Input((None, F), name="x")
    y, h, c = L.LSTM(U, return_sequences=True, return_state=True, name="lstm")(x)
    model = keras.Model(x, [c, y, h])
    randomize_biases(model, np.random.default_rng(5))
    data = tflstm.convert(model, "float32")
    assert len(lstm_ops(data)) == 1
    assert len(tflstm.Model(data).state) == 2
    rng = np.random.default_rng(6)
    assert_outputs_match(data, model, [rng.normal(size=(1, 13, F)).astype(np.float32)], "float32")


def test_rnn_of_an_lstm_cell_given_its_states():
    keras = _keras("keras3")
    keras.utils.set_random_seed(43)
    L = keras.layers
    x, static = keras.Input((None, F), name="series"), keras.Input((S,), name="static")
    h0, c0 = L.Dense(U, name="h0")(static), L.Dense(U, name="c0")(static)
    y, _, c = L.RNN(L.LSTMCell(U), return_state=True, name="rnn")(x, initial_state=[h0, c0])
    model = keras.Model([x, static], [y, c])
    randomize_biases(model, np.random.default_rng(6))
    data = tflstm.convert(model, "float32")
    assert len(lstm_ops(data)) == 1
    assert_outputs_match(data, model, conditioned_inputs(9, seed=7), "float32")


def test_a_stream_starts_every_call_from_the_given_state():
    """One input: the encoder reads the sequence, the decoder starts from its state and reads the
    same frames. The Stream carries the encoder's h and c (its variables) step to step; the
    decoder keeps none of its own: each step it starts from the encoder's state at that step, as
    Keras's decoder does when called on that step alone."""
    keras = _keras("keras3")
    keras.utils.set_random_seed(44)
    L = keras.layers
    x = keras.Input((None, F), name="x")
    _, h, c = L.LSTM(U, return_sequences=True, return_state=True, name="encoder")(x)
    dec = L.LSTM(U, name="decoder")(x, initial_state=[h, c])
    model = keras.Model(x, dec)
    randomize_biases(model, np.random.default_rng(7))
    data = tflstm.convert(model, "float32", timesteps=1)
    stream = tflstm.Runner(tflstm.Model(data)).stream()
    assert len(stream.state) == 2  # the encoder's h and c
    frames = np.random.default_rng(8).normal(size=(1, 6, F)).astype(np.float32)
    for t in range(frames.shape[1]):
        got = np.asarray(stream(frames[:, t : t + 1]))
        # Keras: the encoder over the frames so far, the decoder one step from its state.
        _, h_t, c_t = model.get_layer("encoder")(frames[:, : t + 1])
        want = np.asarray(model.get_layer("decoder")(frames[:, t : t + 1], initial_state=[h_t, c_t]))
        np.testing.assert_allclose(got.reshape(want.shape), want, atol=1e-4, err_msg=f"step {t}")


def test_portable_keeps_stock_tflite_ops_that_tf_lite_runs():
    model = seq2seq("tf_keras", timesteps=(6, 5))
    data = tflstm.convert(model, "float32", portable=True)
    assert not lstm_ops(data)
    inputs = seq2seq_inputs(6, 5, seed=5)
    assert_tf_lite_agrees(data, dict(zip(("source", "target"), inputs, strict=True)))
    assert_outputs_match(data, model, inputs, "float32")


@pytest.mark.parametrize("portable, mode", [(True, "float32"), (False, "int8")])
def test_unrolled_at_a_free_length_is_refused_naming_the_layer(portable, mode):
    """Stock TFLite's form of an LSTM that takes or gives its states is the LSTM unrolled over a
    fixed length (TFLite's fused LSTM keeps them in its variables)."""
    rep = seq2seq_inputs(6, 5)
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"layer 'encoder'.*no initial_state.*timesteps=N"):
        tflstm.convert(seq2seq("keras3"), mode, rep if mode == "int8" else None, portable=portable)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_a_bidirectional_lstm_given_its_states_is_unrolled(flavor):
    """Bidirectional(LSTM) called with initial_state stays stock TFLite's unrolled LSTMs (fixed
    length), as a Bidirectional GRU does."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(45)
    L = keras.layers
    x, static = keras.Input((7, F), name="x"), keras.Input((S,), name="static")
    states = [L.Dense(6, name=f"s{k}")(static) for k in range(4)]  # forward h, c, backward h, c
    y = L.Bidirectional(L.LSTM(6, name="lstm"), name="both_ways")(x, initial_state=states)
    model = keras.Model([x, static], y)
    randomize_biases(model, np.random.default_rng(5))
    data = tflstm.convert(model, "float32")
    assert not lstm_ops(data)
    assert_outputs_match(data, model, conditioned_inputs(7, seed=9), "float32")


def test_a_bidirectional_return_state_is_refused_naming_the_layer():
    keras = _keras("keras3")
    L = keras.layers
    x = keras.Input((8, F))
    model = keras.Model(x, L.Bidirectional(L.LSTM(4, return_state=True), name="both_ways")(x))
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"layer 'both_ways'.*LSTM layers, not Bidirectional"):
        tflstm.convert(model, "float32")
