"""tflstm.convert writes each Keras SimpleRNN (Keras 3 and tf_keras, RNN(SimpleRNNCell),
Bidirectional in every merge mode, stacked, stateful) as stock TFLite's fused
UNIDIRECTIONAL_SEQUENCE_RNN, one per direction, in float32, float16 and dynamic: any sequence
length, the hidden state a variable tensor that a Stream carries. Each form is run on tflstm's
runtime against Keras, and tf.lite.Interpreter runs the same file (the op is stock) against
tflstm's runtime, at lengths other than the model's. What the op cannot compute stays as before:
portable=True and int8 unroll, and a masked SimpleRNN or one returning its state is refused
naming the layer.

Bounds: float32 1e-5, absolute and relative to the largest Keras output (at least 1); float16
1e-2 and dynamic 5e-2 (weights rounded; the converter's own bounds). tflstm against tf.lite on
the same file: 1e-5 in every mode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from test_convert_gru import gru_model, opcodes, randomize_biases, shared_layer_model
from test_convert_gru_mask import keras_of
from tflstm.lstm_flatbuffer import unfused_layers

RNN_OP = "UNIDIRECTIONAL_SEQUENCE_RNN"
BOUND = {"float32": 1e-5, "float16": 1e-2, "dynamic": 5e-2}
F = 5
LENGTHS = (9, 41)  # neither the model's length nor one another's


def rnn_count(data: bytes) -> int:
    """UNIDIRECTIONAL_SEQUENCE_RNN nodes in the model."""
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    codes = opcodes(data)
    return sum(codes[op.opcodeIndex] == RNN_OP for sg in model.subgraphs for op in sg.operators)


def rnn_model(flavor: str, settings: dict, timesteps: int | None = None, seed: int = 3):
    """A model of one SimpleRNN(12) named "rnn" (a Dense head unless it returns its sequence)."""
    return gru_model(flavor, settings, timesteps, seed, kind="SimpleRNN")


def inputs(t: int, batch: int = 1, count: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(t)
    return [rng.normal(scale=1.5, size=(batch, t, F)).astype(np.float32) for _ in range(count)]


def tf_lite_run(data: bytes, xs: list[np.ndarray]) -> list[np.ndarray]:
    """tf.lite.Interpreter on the same file, resized to the inputs' shapes, from zero state."""
    interp = zoo.reference_interpreter(data, allocate=False)
    details = interp.get_input_details()
    for d, x in zip(details, xs, strict=True):
        interp.resize_tensor_input(d["index"], x.shape)
    interp.allocate_tensors()
    interp.reset_all_variables()
    for d, x in zip(details, xs, strict=True):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def within(got: np.ndarray, want: np.ndarray, bound: float, what: str) -> None:
    assert got.shape == want.shape, (what, got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want)))
    assert err <= bound * scale, f"{what}: {err:.3g} apart (bound {bound} x {scale:.3g})"


def assert_matches(data: bytes, model, mode: str, lengths=LENGTHS, count: int = 1, lite: bool = True) -> None:
    """tflstm's runtime against Keras, and (`lite`: no tflstm op in it) tf.lite on the same file
    against tflstm's runtime."""
    runner = tflstm.Runner(tflstm.Model(data))
    for t in lengths:
        xs = inputs(t, count=count)
        want = model(xs if count > 1 else xs[0], training=False)
        want = [np.asarray(w) for w in (want if isinstance(want, (list, tuple)) else [want])]
        got = runner(*xs)
        got = list(got) if isinstance(got, (list, tuple)) else [got]
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            within(g, w, BOUND[mode], f"{mode}, {t} steps, tflstm against Keras")
        for g, li in zip(got, tf_lite_run(data, xs), strict=True) if lite else []:
            within(g, li, 1e-5, f"{mode}, {t} steps, tflstm against tf.lite")


SETTINGS = {
    "defaults": {},
    "relu": {"activation": "relu"},
    "linear-sequence": {"activation": "linear", "return_sequences": True},
    "no_bias-sequence": {"use_bias": False, "return_sequences": True},
    "backwards": {"go_backwards": True},
    "backwards-sequence": {"go_backwards": True, "return_sequences": True},
}


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("case", list(SETTINGS))
def test_simple_rnn_is_one_fused_op_that_keras_and_tf_lite_agree_with(flavor, case):
    model = rnn_model(flavor, SETTINGS[case])
    data = tflstm.convert(model, "float32")  # no timesteps: the length is free
    assert rnn_count(data) == 1
    assert unfused_layers(data) == []
    assert_matches(data, model, "float32")


def test_keras3_relu6():
    model = rnn_model("keras3", {"activation": "relu6", "return_sequences": True})
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 1
    assert_matches(data, model, "float32")


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
@pytest.mark.parametrize(("flavor", "case"), [("keras3", "defaults"), ("tf_keras", "backwards-sequence")])
def test_quantized_modes_fuse_the_simple_rnn(flavor, case, mode):
    model = rnn_model(flavor, SETTINGS[case])
    data = tflstm.convert(model, mode)
    ops = tflstm.Model(data).ops
    # float16: weights dequantized once in front of the op; dynamic: int8 weights, TFLite's hybrid
    # kernel with inputs quantized asymmetrically (version 3)
    assert rnn_count(data) == 1 and (RNN_OP, 3 if mode == "dynamic" else 1) in ops
    assert any(op == "DEQUANTIZE" for op, _ in ops) == (mode == "float16")
    assert_matches(data, model, mode)


def test_dynamic_mode_gives_the_op_int8_weights():
    """A SimpleRNN wide enough that TensorFlow's dynamic-range quantization quantizes its
    placeholder (past 1024 weights): the op runs TFLite's hybrid kernel (version 3)."""
    keras = zoo.keras3()
    keras.utils.set_random_seed(8)
    x = keras.Input((None, F))
    h = keras.layers.SimpleRNN(40, return_sequences=True)(x)
    model = keras.Model(x, keras.layers.SimpleRNN(48, return_sequences=True)(h))
    data = tflstm.convert(model, "dynamic")
    assert rnn_count(data) == 2
    assert (RNN_OP, 3) in tflstm.Model(data).ops
    assert_matches(data, model, "dynamic")


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_bidirectional_simple_rnn_is_two_fused_ops(flavor, merge_mode):
    keras = keras_of(flavor)
    keras.utils.set_random_seed(7)
    L = keras.layers
    x = keras.Input((None, F))
    h = L.Bidirectional(L.SimpleRNN(10, return_sequences=True), merge_mode=merge_mode)(x)
    model = keras.Model(x, h)
    randomize_biases(model, np.random.default_rng(1))
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 2
    assert_matches(data, model, "float32")


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_stacked_cell_and_bidirectional_layers(flavor):
    keras = keras_of(flavor)
    keras.utils.set_random_seed(5)
    L = keras.layers
    x = keras.Input((None, F))
    h = L.SimpleRNN(8, return_sequences=True, activation="relu")(x)
    h = L.RNN(L.SimpleRNNCell(7), return_sequences=True)(h)
    h = L.Bidirectional(L.RNN(L.SimpleRNNCell(6, activation="linear")))(h)
    model = keras.Model(x, L.Dense(2)(h))
    randomize_biases(model, np.random.default_rng(2))
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 4
    assert_matches(data, model, "float32")


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("settings", [{}, {"return_sequences": True, "go_backwards": True}])
def test_stacked_rnn_cells_are_the_stack_of_fused_layers(flavor, settings):
    """RNN(StackedRNNCells([...])) is the layers it stacks, each fused: a SimpleRNN and an LSTM
    (stock ops: tf.lite runs the file), and with a GRU cell tflstm's TFLSTM_GRU."""
    keras = keras_of(flavor)
    keras.utils.set_random_seed(6)
    L = keras.layers
    x = keras.Input((None, F))
    stock = L.RNN(L.StackedRNNCells([L.SimpleRNNCell(8), L.LSTMCell(6)]), **settings)(x)
    model = keras.Model(x, stock if settings else L.Dense(2)(stock))
    randomize_biases(model, np.random.default_rng(3))
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 1 and "UNIDIRECTIONAL_SEQUENCE_LSTM" in opcodes(data)
    assert unfused_layers(data) == []
    assert_matches(data, model, "float32")

    cells = [L.GRUCell(5), L.SimpleRNNCell(4, activation="relu"), L.SimpleRNNCell(3)]
    mixed = keras.Model(x, L.RNN(L.StackedRNNCells(cells), **settings)(x))
    randomize_biases(mixed, np.random.default_rng(4))
    data = tflstm.convert(mixed, "float32")
    assert rnn_count(data) == 2 and opcodes(data).count("TFLSTM_GRU") == 1
    assert_matches(data, mixed, "float32", lite=False)


def test_stacked_rnn_cells_with_states_are_refused_by_name():
    keras = zoo.keras3()
    L = keras.layers
    x = keras.Input((None, F))
    cells = L.StackedRNNCells([L.SimpleRNNCell(4), L.SimpleRNNCell(3)])
    model = keras.Model(x, L.RNN(cells, return_state=True, name="stack")(x)[0])
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'stack'.*StackedRNNCells.*states"):
        tflstm.convert(model, "float32")


def test_a_keras2_h5_file_converts_to_the_fused_op(tmp_path):
    model = rnn_model("tf_keras", {"return_sequences": True, "activation": "relu"})
    path = tmp_path / "rnn.h5"
    with warnings.catch_warnings():  # (tf_keras calls .h5 legacy: Keras 2-era models come so)
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        model.save(path)
    data = tflstm.convert(str(path), "float32")
    assert rnn_count(data) == 1
    assert_matches(data, model, "float32")


def test_a_shared_simple_rnn_gets_one_op_and_one_state_per_call():
    model = shared_layer_model("SimpleRNN")
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 2
    assert len(tflstm.Model(data).state) == 2
    assert_matches(data, model, "float32", count=2)


@pytest.mark.parametrize("stateful", [False, True])
def test_a_stream_step_by_step_matches_the_whole_sequence(stateful):
    """The state is the op's variable: a Stream carries it from call to call (so a stateful
    SimpleRNN converts, as a stateful GRU or LSTM does), and a reset starts from zeros again."""
    keras = zoo.keras3()
    keras.utils.set_random_seed(9)
    x_in = keras.Input((None, F), batch_size=1)
    model = keras.Model(x_in, keras.layers.SimpleRNN(7, return_sequences=True, stateful=stateful)(x_in))
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 1
    runner = tflstm.Runner(tflstm.Model(data))
    x = inputs(23)[0]
    whole = runner(x)
    stream = runner.stream()
    steps = np.concatenate([stream(x[:, t : t + 1]) for t in range(x.shape[1])], axis=1)
    np.testing.assert_allclose(steps, whole, atol=1e-5, rtol=1e-5)
    if stateful:  # the stateful layer carries its state over calls as the stream does
        model.layers[-1].reset_states()
        want = np.concatenate([np.asarray(model(x[:, t : t + 1])) for t in range(x.shape[1])], axis=1)
    else:
        want = np.asarray(model(x))
    np.testing.assert_allclose(steps, want, atol=1e-5, rtol=1e-5)
    stream.reset()
    np.testing.assert_allclose(stream(x[:, :5]), whole[:, :5], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", ["float32", "dynamic"])
def test_portable_keeps_the_fused_op_which_is_stock(mode):
    """portable=True keeps GRUs in stock ops; TFLite's fused SimpleRNN is one."""
    model = rnn_model("tf_keras", {"return_sequences": True})
    data = tflstm.convert(model, mode, portable=True)
    assert rnn_count(data) == 1
    assert "TFLSTM_GRU" not in opcodes(data) and "CUSTOM" not in opcodes(data)
    assert_matches(data, model, mode)


def test_int8_keeps_the_unrolled_form():
    """(TFLite has no full-integer UNIDIRECTIONAL_SEQUENCE_RNN.)"""
    model = rnn_model("keras3", {}, timesteps=8)
    rep = np.random.default_rng(6).normal(size=(32, 8, F)).astype(np.float32)
    data = tflstm.convert(model, "int8", rep)
    assert rnn_count(data) == 0
    assert unfused_layers(data) == ["rnn (SimpleRNN, unrolled over 8 steps into builtin ops)"]


@pytest.mark.parametrize("activation", ["sigmoid", "softsign"])
def test_an_activation_the_op_lacks_stays_unrolled(activation):
    """(The flatbuffer's fused activations have no sigmoid: TFLite would read it as none.)"""
    model = rnn_model("keras3", {"activation": activation}, timesteps=8)
    data = tflstm.convert(model, "float32")
    assert rnn_count(data) == 0
    assert unfused_layers(data) == ["rnn (SimpleRNN, unrolled over 8 steps into builtin ops)"]
    assert_matches(data, model, "float32", lengths=(8,))
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'rnn'.*timesteps=N"):
        tflstm.convert(rnn_model("keras3", {"activation": activation}), "float32")


def test_refusals_still_name_the_layer():
    keras = zoo.keras3()
    L = keras.layers
    x = keras.Input((None, F))
    masked = keras.Model(x, L.SimpleRNN(4, name="masked_rnn")(L.Masking()(x)))
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'masked_rnn'.*mask"):
        tflstm.convert(masked, "float32")
    stated = keras.Model(x, L.SimpleRNN(4, return_state=True, name="stated_rnn")(x))
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'stated_rnn'.*return_state"):
        tflstm.convert(stated, "float32")
