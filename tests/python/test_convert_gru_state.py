"""GRUs with explicit states convert to tflstm's fused GRU: a GRU called with initial_state from
other layers (an encoder's return_state, a Dense on static features) takes it as the op's
initial-state input (options version 2), and return_state's extra output is the last step.
Keras 3 and tf_keras, free lengths, float32, float16 and dynamic, run on tflstm's runtime
against Keras; portable=True keeps stock TFLite's form, which tf.lite runs; a Bidirectional
return_state is refused, naming the layer (LSTMs' explicit states: test_convert_lstm_state.py).

Bounds as test_convert_gru.py's, relative to the largest Keras output (at least 1)."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tflstm.fuse_gru import GRU_OP

BOUND = {"float32": 1e-4, "float16": 1e-2, "dynamic": 5e-2}
F, G, S, U = 5, 3, 4, 12  # encoder and decoder features, static features, units


def _keras(flavor: str):
    return zoo.keras3() if flavor == "keras3" else zoo.tf_keras()


def gru_ops(data: bytes, custom: str = GRU_OP) -> list:
    """The model's TFLSTM_GRU operators (or those of the custom op `custom`)."""
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    codes = [c.customCode.decode() if isinstance(c.customCode, bytes) else c.customCode for c in model.operatorCodes]
    return [op for sg in model.subgraphs for op in sg.operators if codes[op.opcodeIndex] == custom]


def randomize_biases(model, rng) -> None:
    """Keras starts biases at zero: random ones, so that every bias reaches the comparison."""
    for layer in model.layers:
        for v in layer.weights:
            if "bias" in v.name:
                v.assign(rng.normal(scale=0.5, size=tuple(v.shape)).astype(np.float32))


def assert_outputs_match(data: bytes, model, inputs: list[np.ndarray], mode: str) -> None:
    got = tflstm.Runner(tflstm.Model(data))(*inputs)
    want = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    got = got if isinstance(got, (list, tuple)) else [got]
    want = [np.asarray(w) for w in (want if isinstance(want, (list, tuple)) else [want])]
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.shape == w.shape, (k, g.shape, w.shape)
        scale = max(1.0, float(np.max(np.abs(w))))
        err = float(np.max(np.abs(g - w)))
        assert err <= BOUND[mode] * scale, f"{mode}, output {k}: {err:.3g} from Keras"


def seq2seq(flavor: str, go_backwards: bool = False, timesteps: tuple[int | None, int | None] = (None, None)):
    """Encoder GRU (return_state) -> decoder GRU (initial_state, return_sequences, return_state):
    outputs the decoder's sequence, its final state and the encoder's."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(30)
    L = keras.layers
    enc_in, dec_in = keras.Input((timesteps[0], F), name="source"), keras.Input((timesteps[1], G), name="target")
    _, enc_h = L.GRU(U, return_state=True, name="gru_encoder")(enc_in)
    dec, dec_h = L.GRU(
        U,
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        reset_after=not go_backwards,
        name="gru_decoder",
    )(dec_in, initial_state=enc_h)
    model = keras.Model([enc_in, dec_in], [dec, dec_h, enc_h], name=f"{flavor}_seq2seq")
    randomize_biases(model, np.random.default_rng(1))
    return model


def seq2seq_inputs(src: int, dst: int, seed: int = 0, batch: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.normal(scale=1.5, size=(batch, src, F)).astype(np.float32),
        rng.normal(scale=1.5, size=(batch, dst, G)).astype(np.float32),
    ]


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_an_encoder_decoder_converts_to_fused_grus_at_any_lengths(flavor):
    model = seq2seq(flavor)
    data = tflstm.convert(model, "float32")
    ops = gru_ops(data)
    assert len(ops) == 2
    decoder = [op for op in ops if len(op.inputs) == 7]
    assert len(decoder) == 1 and decoder[0].inputs[5] == -1  # the state is an input, not a variable
    converted = tflstm.Model(data)
    assert len(converted.state) == 1  # the encoder's variable only
    assert [t.name for t in converted.inputs] == ["source", "target"]
    for src, dst in ((7, 9), (40, 3)):  # lengths the model was never built for, past a 32-step chunk
        assert_outputs_match(data, model, seq2seq_inputs(src, dst, seed=src), "float32")


def test_the_decoders_state_output_and_go_backwards():
    model = seq2seq("keras3", go_backwards=True)
    data = tflstm.convert(model, "float32")
    assert len(gru_ops(data)) == 2
    assert_outputs_match(data, model, seq2seq_inputs(11, 6, seed=2), "float32")


def conditioned(flavor: str, timesteps: int | None = None):
    """A Dense on static features as the GRU's initial state (a conditioned forecaster)."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(31)
    L = keras.layers
    x, static = keras.Input((timesteps, F), name="series"), keras.Input((S,), name="static")
    h0 = L.Dense(U, activation="tanh", name="h0")(static)
    y, h = L.GRU(U, return_state=True, name="gru")(x, initial_state=[h0])
    model = keras.Model([x, static], [L.Dense(2, name="head")(y), h])
    randomize_biases(model, np.random.default_rng(2))
    return model


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic"])
@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_static_features_as_the_initial_state(flavor, mode):
    model = conditioned(flavor)
    data = tflstm.convert(model, mode)
    assert len(gru_ops(data)) == 1
    assert len(tflstm.Model(data).state) == 0  # nothing to carry: every call starts from its input
    rng = np.random.default_rng(3)
    for t in (5, 37):
        x = rng.normal(scale=1.5, size=(1, t, F)).astype(np.float32)
        static = rng.normal(size=(1, S)).astype(np.float32)
        assert_outputs_match(data, model, [x, static], mode)


def test_batch_two_starts_each_row_from_its_own_state():
    model = conditioned("keras3", timesteps=8)
    data = tflstm.convert(model, "float32", batch_size=2)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 8, F)).astype(np.float32)
    static = rng.normal(size=(2, S)).astype(np.float32)
    assert_outputs_match(data, model, [x, static], "float32")


def test_portable_keeps_stock_tflite_ops_that_tf_lite_runs():
    model = seq2seq("tf_keras", timesteps=(6, 5))
    data = tflstm.convert(model, "float32", portable=True)
    assert not gru_ops(data)
    inputs = seq2seq_inputs(6, 5, seed=5)
    assert_tf_lite_agrees(data, dict(zip(("source", "target"), inputs, strict=True)))
    assert_outputs_match(data, model, inputs, "float32")


def assert_tf_lite_agrees(data: bytes, inputs: dict[str, np.ndarray]) -> None:
    """tflstm's runtime gives tf.lite's outputs on a stock TFLite model (inputs by name, in order)."""
    interp = zoo.reference_interpreter(data)
    by_name = {d["name"]: d["index"] for d in interp.get_input_details()}
    for name, x in inputs.items():
        interp.set_tensor(next(i for n, i in by_name.items() if name in n), x)
    interp.invoke()
    ours = tflstm.Runner(tflstm.Model(data))(*inputs.values())
    for k, d in enumerate(interp.get_output_details()):
        np.testing.assert_allclose(ours[k], interp.get_tensor(d["index"]), atol=1e-5)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_a_bidirectional_return_state_is_refused_naming_the_layer(flavor):
    keras = _keras(flavor)
    L = keras.layers
    x = keras.Input((8, F))
    out = L.Bidirectional(L.GRU(4, return_state=True), name="both_ways")(x)
    model = keras.Model(x, out)
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"layer 'both_ways'.*return_state for GRU layers"):
        tflstm.convert(model, "float32")


def test_a_wide_gru_started_from_a_model_input_in_dynamic_mode():
    """The state straight from a model input, and a placeholder product past 1024 weights, which
    TensorFlow's dynamic-range quantization makes int8 before the GRU takes its place."""
    keras = _keras("keras3")
    keras.utils.set_random_seed(32)
    L = keras.layers
    x, h0 = keras.Input((None, 48), name="x"), keras.Input((40,), name="h0")
    y, h = L.GRU(40, return_sequences=True, return_state=True, name="gru")(x, initial_state=h0)
    model = keras.Model([x, h0], [y, h])
    randomize_biases(model, np.random.default_rng(3))
    rng = np.random.default_rng(6)
    inputs = [rng.normal(size=(1, 13, 48)).astype(np.float32), rng.normal(scale=0.5, size=(1, 40)).astype(np.float32)]
    for mode in ("float32", "dynamic"):
        data = tflstm.convert(model, mode)
        assert len(gru_ops(data)) == 1
        assert_outputs_match(data, model, inputs, mode)


def test_a_shared_gru_given_states_gets_one_op_per_call():
    keras = _keras("tf_keras")
    keras.utils.set_random_seed(33)
    L = keras.layers
    a, b, static = keras.Input((None, F), name="a"), keras.Input((None, F), name="b"), keras.Input((S,), name="s")
    gru = L.GRU(U, name="gru")
    h0 = L.Dense(U, name="h0")(static)
    model = keras.Model([a, b, static], L.Concatenate()([gru(a, initial_state=h0), gru(b, initial_state=h0)]))
    randomize_biases(model, np.random.default_rng(4))
    data = tflstm.convert(model, "float32")
    assert len(gru_ops(data)) == 2
    rng = np.random.default_rng(7)
    inputs = [rng.normal(size=(1, 9, F)).astype(np.float32), rng.normal(size=(1, 4, F)).astype(np.float32)]
    assert_outputs_match(data, model, [*inputs, rng.normal(size=(1, S)).astype(np.float32)], "float32")


def test_portable_at_a_free_length_is_refused_naming_the_layer():
    """Stock TFLite's form of a GRU given its state is the GRU unrolled over a fixed length."""
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"layer 'gru_encoder'.*timesteps=N"):
        tflstm.convert(seq2seq("keras3"), "float32", portable=True)


@pytest.mark.parametrize("flavor", ["keras3", "tf_keras"])
def test_a_bidirectional_gru_given_its_states_is_unrolled(flavor):
    """Bidirectional(GRU) called with initial_state stays stock TFLite's unrolled GRUs (fixed length)."""
    keras = _keras(flavor)
    keras.utils.set_random_seed(34)
    L = keras.layers
    x, static = keras.Input((7, F), name="x"), keras.Input((S,), name="static")
    hf, hb = L.Dense(6, name="hf")(static), L.Dense(6, name="hb")(static)
    y = L.Bidirectional(L.GRU(6, name="gru"), name="both_ways")(x, initial_state=[hf, hb])
    model = keras.Model([x, static], y)
    randomize_biases(model, np.random.default_rng(5))
    data = tflstm.convert(model, "float32")
    assert not gru_ops(data)
    rng = np.random.default_rng(8)
    assert_outputs_match(
        data,
        model,
        [rng.normal(size=(1, 7, F)).astype(np.float32), rng.normal(size=(1, S)).astype(np.float32)],
        "float32",
    )


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic"])
def test_a_decoder_started_from_an_encoder_state_of_fixed_length(mode):
    """Fixed lengths at batch 1, the encoder's state its only use (found by bench/fuzz_seeds.py's
    GRU seq2seq): TensorFlow's converter adds the [1, units] state to the decoder's product by
    broadcasting, without the expansion over time the placeholder wrote, which emit refused
    with a ValueError; the state is taken as it is."""
    keras = zoo.tf_keras()
    keras.utils.set_random_seed(3)
    L = keras.layers
    enc_in, dec_in = keras.Input((12, F), name="encoder_in"), keras.Input((9, G), name="decoder_in")
    _, state = L.GRU(U, return_state=True)(enc_in)
    h = L.GRU(U, return_sequences=True)(dec_in, initial_state=state)
    model = keras.Model([enc_in, dec_in], L.Dense(3)(h))
    randomize_biases(model, np.random.default_rng(3))
    data = tflstm.convert(model, mode)
    assert len(gru_ops(data)) == 2
    rng = np.random.default_rng(4)
    inputs = [rng.normal(size=(1, 12, F)).astype(np.float32), rng.normal(size=(1, 9, G)).astype(np.float32)]
    assert_outputs_match(data, model, inputs, mode)
