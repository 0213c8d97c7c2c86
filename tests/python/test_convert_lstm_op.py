"""tflstm.convert emits tflstm's fused LSTM (the TFLSTM_LSTM custom op) for Keras LSTMs whose
gates TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM cannot compute: Keras 2's default hard_sigmoid
(clip(0.2 x + 0.5, 0, 1)) and Keras 3's (relu6(x + 3) / 6), a cell activation the builtin lacks;
Keras 3 and tf_keras, the last step or the whole sequence, go_backwards, no bias, RNN(LSTMCell),
Bidirectional, float32, float16 and dynamic. Each runs on tflstm's runtime against Keras at
lengths the model was not built for (9 and 41, past the kernel's 32-step projection chunk) and
streamed step by step. portable=True keeps the unrolled builtin form, which tf.lite.Interpreter
runs; int8 keeps it too. LSTMs with sigmoid gates stay TFLite's builtin fused LSTM.

Bounds, relative to the largest Keras output (at least 1), and lengths as test_convert_gru.py's
assert_matches checks them: float32 1e-4, float16 1e-2, dynamic 5e-2."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from test_convert_gru import F, assert_matches, assert_stream_matches, opcodes, randomize_biases
from tflstm.fuse_gru import count_gru_ops
from tflstm.fuse_lstm import LSTM_OP
from tflstm.lstm_flatbuffer import count_fused_lstms, unfused_layers


def lstm_count(data: bytes) -> int:
    return count_gru_ops(data, (LSTM_OP,))


def lstm_model(flavor: str, settings: dict, timesteps: int | None = None, seed: int = 3, cell: bool = False):
    keras = zoo.keras3() if flavor == "keras3" else zoo.tf_keras()
    keras.utils.set_random_seed(seed)
    L = keras.layers
    x = keras.Input((timesteps, F), name="x")
    settings = {"recurrent_activation": "hard_sigmoid", **settings}
    if cell:
        sequence = settings.pop("return_sequences", False)
        backwards = settings.pop("go_backwards", False)
        layer = L.RNN(L.LSTMCell(12, **settings), return_sequences=sequence, go_backwards=backwards, name="lstm")
    else:
        layer = L.LSTM(12, name="lstm", **settings)
    h = layer(x)
    y = h if settings.get("return_sequences") or (cell and sequence) else L.Dense(3, name="head")(h)
    model = keras.Model(x, y, name=f"{flavor}_lstm")
    randomize_biases(model, np.random.default_rng(seed))
    # Weights large enough that the hard gates reach both their linear part and their clipped ends.
    lstm = model.get_layer("lstm")
    lstm.set_weights([w * np.float32(1.5) if w.ndim == 2 else w for w in lstm.get_weights()])
    return model


SETTINGS = {
    "last": {},
    "sequence": {"return_sequences": True},
    "backwards": {"go_backwards": True},
    "backwards-sequence": {"go_backwards": True, "return_sequences": True},
    "no_bias-sequence": {"use_bias": False, "return_sequences": True},
    "hard_sigmoid_cell": {"activation": "hard_sigmoid", "recurrent_activation": "sigmoid"},
    "relu6-hard_sigmoid": {"activation": "relu6"},
    # TFLite's fused LSTM has no sigmoid cell (the flatbuffer's code 6 reads as none)
    "sigmoid_cell": {"activation": "sigmoid", "recurrent_activation": "sigmoid"},
}


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("case", list(SETTINGS))
def test_lstm_converts_to_the_fused_op_and_matches_keras_at_any_length(flavor, case):
    model = lstm_model(flavor, SETTINGS[case])
    data = tflstm.convert(model, "float32")
    assert LSTM_OP in opcodes(data)
    assert lstm_count(data) == 1 and count_fused_lstms(data) == 0
    assert unfused_layers(data) == []
    assert_matches(data, model, "float32")


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_rnn_of_an_lstm_cell_is_the_fused_op(flavor):
    model = lstm_model(flavor, {"return_sequences": True}, cell=True)
    data = tflstm.convert(model, "float32")
    assert lstm_count(data) == 1
    assert_matches(data, model, "float32")


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
@pytest.mark.parametrize(("flavor", "case"), [("tf_keras", "last"), ("keras3", "sequence")])
def test_quantized_modes_fuse_the_lstm_and_stay_within_their_bounds(flavor, case, mode):
    model = lstm_model(flavor, SETTINGS[case])
    data = tflstm.convert(model, mode)
    assert lstm_count(data) == 1
    if mode == "float16":
        assert "DEQUANTIZE" in opcodes(data)
    assert_matches(data, model, mode)
    assert len(data) < len(tflstm.convert(model, "float32", verify=False))


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_bidirectional_lstm_is_two_fused_ops(flavor):
    keras = zoo.keras3() if flavor == "keras3" else zoo.tf_keras()
    keras.utils.set_random_seed(7)
    L = keras.layers
    x = keras.Input((None, F))
    h = L.Bidirectional(L.LSTM(10, recurrent_activation="hard_sigmoid", return_sequences=True, name="a"))(x)
    h = L.Bidirectional(L.LSTM(6, recurrent_activation="hard_sigmoid", name="b"), merge_mode="ave")(h)
    model = keras.Model(x, L.Dense(2)(h))
    randomize_biases(model, np.random.default_rng(1))
    for mode in ("float32", "dynamic"):
        data = tflstm.convert(model, mode)
        assert lstm_count(data) == 4
        assert_matches(data, model, mode)


def test_a_stream_step_by_step_matches_the_whole_sequence():
    model = lstm_model("tf_keras", {"return_sequences": True})
    assert_stream_matches(tflstm.convert(model, "float32"), model)


def test_sigmoid_gates_stay_the_builtin_lstm():
    model = lstm_model("keras3", {"recurrent_activation": "sigmoid"})
    data = tflstm.convert(model, "float32")
    assert lstm_count(data) == 0 and count_fused_lstms(data) == 1


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_portable_keeps_the_unrolled_lstm_that_tf_lite_runs(flavor):
    model = lstm_model(flavor, {"return_sequences": True}, timesteps=9)
    data = tflstm.convert(model, "float32", portable=True)
    codes = opcodes(data)
    assert LSTM_OP not in codes and "CUSTOM" not in codes, codes
    assert unfused_layers(data) == ["lstm (LSTM, unrolled over 9 steps into builtin ops)"]
    x = np.random.default_rng(5).normal(size=(1, 9, F)).astype(np.float32)
    interp = zoo.reference_interpreter(data)
    want = zoo.reference_run(interp, x)
    np.testing.assert_allclose(tflstm.Runner(tflstm.Model(data))(x), want, atol=1e-5)
    np.testing.assert_allclose(want, np.asarray(model(x)), atol=1e-4)
    fused = tflstm.convert(model, "float32")
    np.testing.assert_allclose(tflstm.Runner(tflstm.Model(fused))(x), want, atol=1e-4)
    with pytest.raises(RuntimeError, match=LSTM_OP):  # stock TFLite has no TFLSTM_LSTM
        zoo.reference_interpreter(fused)


def test_int8_keeps_the_unrolled_lstm():
    model = lstm_model("keras3", {}, timesteps=8)
    rep = np.random.default_rng(6).normal(size=(32, 8, F)).astype(np.float32)
    data = tflstm.convert(model, "int8", rep)
    assert LSTM_OP not in opcodes(data)
    assert len(unfused_layers(data)) == 1


def test_inspect_says_the_model_needs_tflstms_runtime(tmp_path, capsys):
    from tflstm import cli

    model = lstm_model("tf_keras", {})
    data = tflstm.convert(model, "float32")
    info = cli.describe(tflstm.Model(data), data)
    assert info["tflstm_ops"] == [LSTM_OP]
    kernels = [n["kernel"] for n in info["node_kernels"] if n["op"] == LSTM_OP]
    assert len(kernels) == 1 and kernels[0] in ("avx512", "avx2", "neon", "portable"), info["node_kernels"]
    assert info["memory"]["kernel_weights_bytes"] > 0  # the op's packed weights are counted
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    assert cli.main(["inspect", str(path)]) == 0
    assert f"needs tflstm's runtime: stock TFLite cannot run {LSTM_OP}" in capsys.readouterr().out
