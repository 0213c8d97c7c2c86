"""The Keras 3 zoo (keras_zoo.py) through tflstm.convert in every mode: each model becomes
builtin ops only, with one fused LSTM op per LSTM direction and call, runs on tflstm's native
runtime, and matches Keras's own predict.

Bounds against Keras, relative to the largest Keras output of the model (outputs are softmax
probabilities or values of order 1):
- float32: 1e-4 absolute; the same float arithmetic in another order.
- float16: weights rounded to 11 significant bits (relative error 2^-11 ~ 5e-4 each); over a
  few layers and 6 steps that stays well under 1e-2.
- dynamic: int8 weights with one scale per tensor (error up to scale/2, ~0.4% of the largest
  weight) and inputs quantized on the fly at each step, compounding over the steps: 5e-2.
- int8: every activation is int8 too (1/256 of its calibrated range per step, for every layer;
  the LSTM cell state int16), calibrated on 32 samples other than the test's, with untrained
  weights that saturate: 2.5e-1. Most models stay under 1e-2; the deepest (two stacked
  Bidirectional layers: four int8 LSTMs, two deep, over a sequence output) measured 0.19.
Measured worst cases are in the README's conversion section.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import keras_zoo as zoo
import tflstm
from tflstm.fuse_gru import count_gru_ops
from tflstm.lstm_flatbuffer import count_fused_lstms, unfused_layers

BOUND = {"float32": 1e-4, "float16": 1e-2, "dynamic": 5e-2, "int8": 2.5e-1}
MODELS = list(zoo.BUILDERS)
# A TF conversion takes seconds per LSTM on 2 cores, so by default the quantized modes run on a
# subset that covers what the quantizers treat differently: a convolution front end, integer
# token ids, two inputs, two outputs, an unrolled GRU, a relu LSTM (Bidirectional is in every
# mode in test_convert.py). TFLSTM_ZOO_ALL=1 runs every model in every mode.
QUANTIZED = (
    MODELS
    if os.environ.get("TFLSTM_ZOO_ALL") == "1"
    else ["conv1d_lstm", "embedding_lstm", "static_features", "two_outputs", "gru", "relu_lstm"]
)
CASES = [(name, "float32") for name in MODELS] + [(name, mode) for mode in tflstm.MODES[1:] for name in QUANTIZED]


def _unfused_names(model, mode: str = "float32") -> list[str]:
    """The model's own names for its recurrent layers that no fused kernel runs (Keras numbers a
    repeated name: gru, gru_1, ...): GRUs and SimpleRNNs in int8, which has no fused GRU or
    SimpleRNN."""
    kinds = ("GRU", "SimpleRNN") if mode == "int8" else ()
    return [layer.name for layer in model.layers if type(layer).__name__ in kinds]


def _simple_rnns(model, mode: str) -> int:
    """UNIDIRECTIONAL_SEQUENCE_RNN ops the conversion holds: one per SimpleRNN, none in int8."""
    return 0 if mode == "int8" else sum(type(layer).__name__ == "SimpleRNN" for layer in model.layers)


def _grus(model, mode: str) -> int:
    """TFLSTM_GRU ops the conversion holds: one per GRU, none in int8."""
    return 0 if mode == "int8" else sum(type(layer).__name__ == "GRU" for layer in model.layers)


SAMPLES = 4


@pytest.fixture(scope="module")
def zoo_models():
    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = zoo.build(name)
        return cache[name]

    return get


def _feed(model, xs):
    return xs if len(xs) > 1 else xs[0]


def keras_outputs(model, xs) -> dict[str, np.ndarray]:
    ys = model.predict(_feed(model, xs), verbose=0)
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    names = [t._keras_history[0].name for t in model.outputs]  # the output layers: the signature's names
    return dict(zip(names, (np.asarray(y) for y in ys), strict=True))


def native_outputs(data: bytes, model, xs) -> dict[str, np.ndarray]:
    """Runs each sample on its own (the model is converted for batch 1), inputs and outputs by name."""
    runner = tflstm.Runner(tflstm.Model(data))
    names = [t._keras_history[0].name for t in model.inputs]
    runs = [runner.run({n: x[i : i + 1] for n, x in zip(names, xs, strict=True)}) for i in range(len(xs[0]))]
    return {k: np.concatenate([r[k] for r in runs]) for k in runs[0]}


def _unused_op_codes(data: bytes) -> list[int]:
    """The model's operator codes that no operator uses."""
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    used = {int(op.opcodeIndex) for sg in model.subgraphs for op in sg.operators}
    return [i for i in range(len(model.operatorCodes)) if i not in used]


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_zoo_model_converts_fused_and_matches_keras(zoo_models, name, mode):
    if mode == "int8" and name == "relu_lstm":
        pytest.skip("refused: the full-integer LSTM kernel computes tanh only (test_int8_refuses_relu_lstm)")
    model = zoo_models(name)
    rep = zoo.sample(model, 32, seed=2) if mode == "int8" else None
    data = tflstm.convert(model, mode, None if rep is None else _feed(model, rep))

    converted = tflstm.Model(data)
    ops = [op for op, _ in converted.ops]
    assert not [
        op
        for op in ops
        if op in ("WHILE", "CUSTOM", "CALL_ONCE") or op.startswith("Flex") or "TENSOR_LIST" in op or "TensorList" in op
    ], ops
    assert count_fused_lstms(data) == zoo.FUSED[name]
    assert count_gru_ops(data) == _grus(model, mode)
    assert count_gru_ops(data, ("UNIDIRECTIONAL_SEQUENCE_RNN",)) == _simple_rnns(model, mode)
    assert not _unused_op_codes(data)  # what `inspect` lists and a selective build registers
    assert [u.split(" ")[0] for u in unfused_layers(data)] == _unfused_names(model, mode)
    converted.check()  # the linked TFLite 2.14.1 runs every (op, version)

    xs = zoo.sample(model, SAMPLES)
    want = keras_outputs(model, xs)
    got = native_outputs(data, model, xs)
    assert sorted(got) == sorted(want)
    scale = max(1.0, max(float(np.max(np.abs(w))) for w in want.values()))
    for key in want:
        assert got[key].shape == want[key].shape, key
        err = float(np.max(np.abs(got[key] - want[key])))
        assert err <= BOUND[mode] * scale, f"{key}: max abs error {err:.3g} in mode {mode}"


def test_int8_refuses_relu_lstm(zoo_models):
    model = zoo_models("relu_lstm")
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'lstm\w*' \(relu\).*tanh only"):
        tflstm.convert(model, "int8", zoo.sample(model, 8)[0])


def _keras():
    import keras

    return keras


@pytest.mark.parametrize(
    "case",
    ["masking", "mask_zero", "custom_activation", "python_lambda", "return_state", "conv_lstm"],
)
def test_refused_layers_are_named(case):
    keras = _keras()
    L = keras.layers
    x = keras.Input((zoo.T, zoo.F))
    if case == "masking":  # a mask into a SimpleRNN (GRUs and LSTMs take it: test_convert_*_mask.py)
        h, layer = L.SimpleRNN(4, name="masked_rnn")(L.Masking(name="pad_mask")(x)), "masked_rnn"
    elif case == "mask_zero":
        x = keras.Input((zoo.T,), dtype="int32")
        h, layer = L.SimpleRNN(4, name="token_rnn")(L.Embedding(10, 3, mask_zero=True, name="tokens")(x)), "token_rnn"
    elif case == "custom_activation":
        h, layer = L.LSTM(4, activation=lambda t: t * 0.5, name="odd")(x), "odd"
    elif case == "python_lambda":  # numpy on a graph tensor: does not trace
        fn = L.Lambda(lambda t: np.asarray(t) * 2, output_shape=(zoo.T, zoo.F), name="numpy_fn")
        h, layer = L.LSTM(4)(fn(x)), "numpy_fn"
    elif case == "return_state":  # an LSTM's converts (test_convert_lstm_state.py); a Bidirectional's not
        h, layer = L.Bidirectional(L.LSTM(4, return_state=True), name="both_states")(x)[0], "both_states"
    else:
        h = L.Reshape((zoo.T, zoo.F, 1, 1))(x)
        h, layer = L.Flatten()(L.ConvLSTM2D(2, (1, 1), name="conv_lstm")(h)), "conv_lstm"
    model = keras.Model(x, L.Dense(2)(h))
    with pytest.raises(tflstm.UnsupportedLayerError, match=rf"layer '{layer}'"):
        tflstm.convert(model, "float32")


def test_custom_layer_that_traces_to_builtin_ops_converts():
    keras = _keras()

    class Gain(keras.layers.Layer):
        def build(self, shape):
            self.gain = self.add_weight(shape=(shape[-1],), initializer="random_normal")

        def call(self, t):
            return keras.ops.tanh(t * self.gain)

    x = keras.Input((zoo.T, zoo.F), name="series")
    model = keras.Model(x, keras.layers.Dense(2, name="out")(Gain(name="gain")(keras.layers.LSTM(4)(x))))
    data = tflstm.convert(model, "float32")
    assert count_fused_lstms(data) == 1
    xs = zoo.sample(model, 3)
    np.testing.assert_allclose(native_outputs(data, model, xs)["out"], keras_outputs(model, xs)["out"], atol=1e-4)


def test_portable_gru_with_free_length_needs_timesteps():
    keras = _keras()
    x = keras.Input((None, zoo.F))
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.GRU(4, name="free_gru")(x)))
    assert count_gru_ops(tflstm.convert(model, "float32")) == 1  # fused: any length
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'free_gru'.*timesteps=N"):
        tflstm.convert(model, "float32", portable=True)
    data = tflstm.convert(model, "float32", timesteps=zoo.T, portable=True)
    assert unfused_layers(data) == [f"free_gru (GRU, unrolled over {zoo.T} steps into builtin ops)"]


def test_profile_says_which_layers_are_unfused():
    # (A SimpleRNN is fused; one whose activation TFLite's fused SimpleRNN lacks is unrolled.)
    keras = zoo._keras()
    keras.utils.set_random_seed(0)
    x_in = zoo.seq()
    rnn = "soft_rnn"
    model = keras.Model(x_in, zoo.head(keras.layers.SimpleRNN(zoo.U, activation="softsign", name=rnn)(x_in)))
    zoo.randomize(model, 0)
    x = zoo.sample(model, 6)[0]
    y = np.argmax(model.predict(x, verbose=0), axis=-1)
    report = tflstm.profile(model, x, y, modes=["float32"], runs=3, progress=None)
    assert report.unfused == [f"{rnn} (SimpleRNN, unrolled over {zoo.T} steps into builtin ops)"]
    assert f"unfused: {rnn} (SimpleRNN" in report.table()
    assert report.to_dict()["unfused"] == report.unfused
    assert report.rows[0].agreement == 1.0  # float32 picks Keras's class for every sample
