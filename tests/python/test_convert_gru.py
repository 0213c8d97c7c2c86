"""tflstm.convert emits tflstm's fused GRU (the TFLSTM_GRU custom op) for Keras GRU layers:
Keras 3 and tf_keras, reset_after True and False, both hard_sigmoid definitions, with and without
bias, the last step or the whole sequence, go_backwards, Bidirectional, in float32, float16 and
dynamic; read from the flatbuffer's operator codes, run on tflstm's runtime against Keras at
lengths other than any the model was built for, and streamed step by step. portable=True keeps
stock TFLite's form, which tf.lite.Interpreter runs. The Keras 2-era GRUs (.h5 files, Keras 2's
default GRU, Bidirectional GRU stacks) are in test_keras2_zoo.py.

Bounds, relative to the largest Keras output (at least 1): those of test_zoo.py and the
converter's own verification: float32 1e-4 (the same float arithmetic in another order),
float16 1e-2 (weights rounded to 11 significant bits), dynamic 5e-2 (int8 weights, inputs
quantized at each step)."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tflstm.fuse_gru import GRU_OP

BOUND = {"float32": 1e-4, "float16": 1e-2, "dynamic": 5e-2}
F = 5
LENGTHS = (9, 41)  # two lengths, the second past the kernel's 32-step projection chunk


def opcodes(data: bytes) -> list[str]:
    """The flatbuffer's operator codes: a custom op's name, else the builtin's."""
    from tensorflow.lite.python import schema_py_generated as s

    names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    model = s.ModelT.InitFromPackedBuf(data, 0)
    out = []
    for c in model.operatorCodes:
        custom = c.customCode.decode() if isinstance(c.customCode, bytes) else c.customCode
        out.append(custom or names[max(c.builtinCode, c.deprecatedBuiltinCode)])
    return out


def gru_count(data: bytes) -> int:
    """TFLSTM_GRU nodes in the model."""
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    codes = opcodes(data)
    return sum(codes[op.opcodeIndex] == GRU_OP for sg in model.subgraphs for op in sg.operators)


def randomize_biases(model, rng) -> None:
    """Keras starts biases at zero: random ones, so that every bias reaches the comparison."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([w if w.ndim == 2 else rng.normal(scale=0.5, size=w.shape) for w in weights])
            weights = layer.get_weights()
            if "gru" in layer.name and len(weights) == 3 and weights[2].ndim == 2:  # [input, recurrent] biases
                weights[2] = rng.normal(scale=0.5, size=weights[2].shape).astype(np.float32)
                layer.set_weights(weights)


def gru_model(flavor: str, settings: dict, timesteps: int | None = None, seed: int = 3, kind: str = "GRU"):
    """A model of one GRU (or one recurrent layer of class `kind`, named "rnn")."""
    keras = zoo.keras3() if flavor == "keras3" else zoo.tf_keras()
    keras.utils.set_random_seed(seed)
    x = keras.Input((timesteps, F), name="x")
    h = getattr(keras.layers, kind)(12, name="gru" if kind == "GRU" else "rnn", **settings)(x)
    # A sequence is the output itself: a Dense on a free-length sequence is a Tensordot whose
    # output shape is computed at run time, which tflstm's runner does not size (nor for an LSTM).
    y = h if settings.get("return_sequences") else keras.layers.Dense(3, name="head")(h)
    model = keras.Model(x, y, name=f"{flavor}_{kind.lower()}")
    randomize_biases(model, np.random.default_rng(seed))
    return model


def assert_matches(data: bytes, model, mode: str, lengths=LENGTHS, batch: int = 1) -> None:
    runner = tflstm.Runner(tflstm.Model(data))
    for t in lengths:
        x = np.random.default_rng(t).normal(scale=1.5, size=(batch, t, F)).astype(np.float32)
        want = np.asarray(model(x, training=False))
        got = runner(x)
        assert got.shape == want.shape, (t, got.shape, want.shape)
        scale = max(1.0, float(np.max(np.abs(want))))
        err = float(np.max(np.abs(got - want)))
        assert err <= BOUND[mode] * scale, f"{mode}, {t} steps: {err:.3g} from Keras"


SETTINGS = {
    "defaults": {},
    "reset_before": {"reset_after": False},
    "hard_sigmoid": {"recurrent_activation": "hard_sigmoid"},
    "reset_before-hard_sigmoid-relu": {
        "reset_after": False,
        "recurrent_activation": "hard_sigmoid",
        "activation": "relu",
    },
    "no_bias-sequence": {"use_bias": False, "return_sequences": True},
    "backwards-sequence": {"go_backwards": True, "return_sequences": True},
    "backwards-reset_before": {"go_backwards": True, "reset_after": False},
}


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
@pytest.mark.parametrize("case", list(SETTINGS))
def test_gru_converts_to_the_fused_op_and_matches_keras_at_any_length(flavor, case):
    model = gru_model(flavor, SETTINGS[case])
    data = tflstm.convert(model, "float32")
    assert GRU_OP in opcodes(data)
    assert gru_count(data) == 1
    assert_matches(data, model, "float32")


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
@pytest.mark.parametrize(
    ("flavor", "case"),
    [("keras3", "defaults"), ("tf_keras", "reset_before-hard_sigmoid-relu"), ("keras3", "hard_sigmoid")],
)
def test_quantized_modes_fuse_the_gru_and_stay_within_their_bounds(flavor, case, mode):
    model = gru_model(flavor, SETTINGS[case])
    data = tflstm.convert(model, mode)
    assert gru_count(data) == 1
    if mode == "float16":  # float16 weights, dequantized once in front of the op
        assert "DEQUANTIZE" in opcodes(data)
    assert_matches(data, model, mode)
    assert len(data) < len(tflstm.convert(model, "float32", verify=False))


def test_a_wide_gru_in_dynamic_mode():
    """A placeholder product past 1024 weights, which TensorFlow's dynamic-range quantization
    makes int8 before the GRU takes its place."""
    keras = zoo.keras3()
    keras.utils.set_random_seed(8)
    x = keras.Input((None, F))
    h = keras.layers.GRU(40, return_sequences=True)(keras.layers.Dense(48)(x))
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.GRU(8)(h)))
    data = tflstm.convert(model, "dynamic")
    assert gru_count(data) == 2
    assert_matches(data, model, "dynamic")


def assert_stream_matches(data: bytes, model) -> None:
    """The converted sequence model streamed one step per call gives the whole sequence's outputs
    (its state carried), Keras's, and from a reset the first steps again."""
    runner = tflstm.Runner(tflstm.Model(data))
    x = np.random.default_rng(0).normal(size=(1, 23, F)).astype(np.float32)
    whole = runner(x)
    stream = runner.stream()
    steps = np.concatenate([stream(x[:, t : t + 1]) for t in range(x.shape[1])], axis=1)
    np.testing.assert_allclose(steps, whole, atol=1e-5)
    np.testing.assert_allclose(steps, np.asarray(model(x)), atol=1e-4)
    stream.reset()  # and from a zero state again
    np.testing.assert_allclose(stream(x[:, :5]), whole[:, :5], atol=1e-5)


def test_a_stream_step_by_step_matches_the_whole_sequence():
    model = gru_model("keras3", {"return_sequences": True})
    assert_stream_matches(tflstm.convert(model, "float32"), model)


@pytest.mark.parametrize("merge_mode", ["concat", "ave"])
@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_bidirectional_gru_is_two_fused_ops(flavor, merge_mode):
    keras = zoo.keras3() if flavor == "keras3" else zoo.tf_keras()
    keras.utils.set_random_seed(7)
    L = keras.layers
    x = keras.Input((None, F))
    h = L.Bidirectional(L.GRU(10, return_sequences=True, name="gru_a"), merge_mode=merge_mode)(x)
    h = L.Bidirectional(L.GRU(6, reset_after=False, recurrent_activation="hard_sigmoid", name="gru_b"))(h)
    model = keras.Model(x, L.Dense(2)(h))
    randomize_biases(model, np.random.default_rng(1))
    for mode in ("float32", "dynamic"):
        data = tflstm.convert(model, mode)
        assert gru_count(data) == 4
        assert_matches(data, model, mode)


def test_sequential_and_subclassed_models_fuse_their_grus():
    keras = zoo.keras3()
    keras.utils.set_random_seed(2)
    L = keras.layers
    seq = keras.Sequential([keras.Input((None, F)), L.GRU(8, return_sequences=True), L.GRU(4), L.Dense(2)])
    data = tflstm.convert(seq, "float32")
    assert gru_count(data) == 2
    assert_matches(data, seq, "float32")

    class Tagger(keras.Model):
        def __init__(self):
            super().__init__()
            self.gru = L.GRU(7, return_sequences=True)
            self.head = L.Dense(3)

        def call(self, x):
            return self.head(self.gru(x))

    tagger = Tagger()
    tagger(np.zeros((1, 6, F), np.float32))
    data = tflstm.convert(tagger, "float32")
    assert gru_count(data) == 1
    runner = tflstm.Runner(tflstm.Model(data))
    x = np.random.default_rng(3).normal(size=(1, 6, F)).astype(np.float32)
    np.testing.assert_allclose(runner(x), np.asarray(tagger(x)), atol=1e-4)


def shared_layer_model(kind: str):
    """A Keras 3 model that calls one recurrent layer of class `kind` on each of two inputs."""
    keras = zoo.keras3()
    keras.utils.set_random_seed(4)
    L = keras.layers
    a, b = keras.Input((None, F), name="a"), keras.Input((None, F), name="b")
    layer = getattr(L, kind)(6)
    return keras.Model([a, b], L.Dense(2)(L.Concatenate()([layer(a), layer(b)])))


def test_a_shared_gru_gets_one_op_and_one_state_per_call():
    model = shared_layer_model("GRU")
    data = tflstm.convert(model, "float32")
    assert gru_count(data) == 2
    assert len(tflstm.Model(data).state) == 2
    runner = tflstm.Runner(tflstm.Model(data))
    xa, xb = (np.random.default_rng(s).normal(size=(1, 11, F)).astype(np.float32) for s in (1, 2))
    np.testing.assert_allclose(runner(xa, xb), np.asarray(model([xa, xb])), atol=1e-4)


def test_portable_keeps_stock_tflite_ops_that_tf_lite_runs():
    model = gru_model("tf_keras", SETTINGS["reset_before-hard_sigmoid-relu"], timesteps=8)
    data = tflstm.convert(model, "float32", portable=True)
    codes = opcodes(data)
    assert GRU_OP not in codes and "CUSTOM" not in codes, codes
    x = np.random.default_rng(5).normal(size=(1, 8, F)).astype(np.float32)
    interp = zoo.reference_interpreter(data)
    want = zoo.reference_run(interp, x)
    np.testing.assert_allclose(tflstm.Runner(tflstm.Model(data))(x), want, atol=1e-5)
    np.testing.assert_allclose(want, np.asarray(model(x)), atol=1e-4)


def test_tf_lite_cannot_run_the_fused_gru_but_tflstm_can():
    """Why portable exists: stock TFLite has no TFLSTM_GRU."""
    model = gru_model("keras3", {}, timesteps=8)
    data = tflstm.convert(model, "float32")
    with pytest.raises(RuntimeError, match=GRU_OP):
        zoo.reference_interpreter(data)


def test_int8_keeps_the_stock_gru():
    model = gru_model("keras3", {}, timesteps=8)
    rep = np.random.default_rng(6).normal(size=(32, 8, F)).astype(np.float32)
    data = tflstm.convert(model, "int8", rep)
    assert GRU_OP not in opcodes(data)


def test_a_gru_whose_activation_the_op_lacks_stays_unrolled():
    model = gru_model("keras3", {"activation": "softsign"}, timesteps=8)
    data = tflstm.convert(model, "float32")
    assert GRU_OP not in opcodes(data)
    assert_matches(data, model, "float32", lengths=(8,))
