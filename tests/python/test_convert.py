"""tflstm.convert on models written the way users write them, in Keras 3 and tf_keras, in every
mode: the LSTMs become the fused op, the runtime can run the result, and the native outputs
match tf.lite.Interpreter on the same bytes."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tf_models import convert_or_refusal, reference_interpreter, reference_run
from tflstm.lstm_flatbuffer import count_fused_lstms
from tflstm.verification import TOLERANCE

MODELS = {
    "seed-keras3": lambda: zoo.seed_model(zoo.keras3(), units=16),
    "seed-tf_keras": lambda: zoo.seed_model(zoo.tf_keras(), units=16),
    "stacked-keras3": lambda: zoo.stacked_model(zoo.keras3()),
    "bidirectional-tf_keras": lambda: zoo.bidirectional_model(zoo.tf_keras()),
}
LSTM_OPS = {"seed-keras3": 1, "seed-tf_keras": 1, "stacked-keras3": 2, "bidirectional-tf_keras": 3}


REFUSED: dict[tuple[str, str], str | None] = {}  # each conversion's MismatchError, if refused


@pytest.fixture(scope="module")
def conversions():
    cache: dict[tuple[str, str], tuple[object, bytes]] = {}

    def get(name: str, mode: str):
        if (name, "model") not in cache:
            cache[(name, "model")] = (MODELS[name](), b"")
        model = cache[(name, "model")][0]
        if (name, mode) not in cache:
            rep = zoo.representative(64) if mode == "int8" else None
            data, REFUSED[(name, mode)] = convert_or_refusal(model, mode, rep)
            cache[(name, mode)] = (model, data)
        return cache[(name, mode)]

    return get


@pytest.mark.parametrize("mode", tflstm.MODES)
@pytest.mark.parametrize("name", list(MODELS))
def test_converts_to_fused_lstm_and_matches_tensorflow(conversions, name, mode, rng):
    keras_model, data = conversions(name, mode)
    model = tflstm.Model(data)
    ops = [op for op, _ in model.ops]
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops
    assert not [op for op in ops if op in ("WHILE", "CUSTOM") or op.startswith("Flex")], ops
    assert count_fused_lstms(data) == LSTM_OPS[name]
    model.check()  # the linked TFLite 2.14.1 runs every (op, version)

    runner = tflstm.Runner(model)
    ref = reference_interpreter(data)
    for _ in range(3):
        x = rng.normal(size=(1, zoo.TIMESTEPS, zoo.FEATURES)).astype(np.float32)
        ours, theirs = runner(x), reference_run(ref, x)
        assert ours.shape == theirs.shape
        # int8 has float inputs and outputs here; both runtimes run the same integer kernels.
        np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)
        if mode == "float32":  # and the float model computes what Keras computes
            np.testing.assert_allclose(ours, np.asarray(keras_model(x, training=False)), atol=1e-4, rtol=0)
    # The conversion was refused exactly when the model is off its Keras source past the mode's
    # tolerance on the data it was calibrated on (int8 of the stacked per-step regression is,
    # with TensorFlow's interpreter alike).
    rep = zoo.representative(16)
    want = np.asarray(keras_model(rep, training=False))
    got = np.concatenate([runner(rep[i : i + 1]) for i in range(len(rep))])
    off = float(np.max(np.abs(got - want))) / max(1.0, float(np.max(np.abs(want))))
    assert bool(REFUSED[(name, mode)]) == (mode in ("int8", "dynamic") and off > TOLERANCE[mode]), (off, REFUSED)


def _weight_dtypes(data: bytes, op_name: str) -> list[str]:
    """dtypes of the rank-2 constant inputs (weight matrices) of every `op_name` op."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    code = getattr(schema.BuiltinOperator, op_name)
    out = []
    sg = m.subgraphs[0]
    for op in sg.operators:
        if m.operatorCodes[op.opcodeIndex].builtinCode != code:
            continue
        for i in op.inputs:
            if (
                i >= 0
                and sg.tensors[i].shape is not None
                and len(sg.tensors[i].shape) == 2
                and m.buffers[sg.tensors[i].buffer].data is not None
            ):
                out.append(names[sg.tensors[i].type])
    return out


@pytest.fixture(scope="module")
def lstm64():
    """An LSTM(64) classifier (the seed's model) in every mode."""
    model = zoo.seed_model(zoo.keras3(), timesteps=50, features=6, units=64, classes=4)
    rep = np.random.default_rng(0).normal(size=(64, 50, 6)).astype(np.float32)
    return model, {mode: tflstm.convert(model, mode, rep if mode == "int8" else None) for mode in tflstm.MODES}


def test_each_mode_really_shrinks_the_model(lstm64):
    _, data = lstm64
    size = {mode: len(b) for mode, b in data.items()}
    assert size["dynamic"] <= 0.35 * size["float32"], size
    assert size["int8"] <= 0.35 * size["float32"], size
    assert size["float16"] <= 0.55 * size["float32"], size
    assert set(_weight_dtypes(data["float32"], "UNIDIRECTIONAL_SEQUENCE_LSTM")) == {"FLOAT32"}
    assert set(_weight_dtypes(data["dynamic"], "UNIDIRECTIONAL_SEQUENCE_LSTM")) == {"INT8"}
    assert set(_weight_dtypes(data["int8"], "UNIDIRECTIONAL_SEQUENCE_LSTM")) == {"INT8"}


def test_dynamic_range_lstm_runs_the_hybrid_kernel_accurately(lstm64, rng):
    keras_model, data = lstm64
    model = tflstm.Model(data["dynamic"])
    assert ("UNIDIRECTIONAL_SEQUENCE_LSTM", 3) in model.ops  # hybrid, asymmetric input quantization
    x = rng.normal(size=(16, 50, 6)).astype(np.float32)
    want = np.asarray(keras_model(x, training=False))
    runner = tflstm.Runner(model)
    got = np.concatenate([runner(x[i : i + 1]) for i in range(len(x))])
    assert np.max(np.abs(got - want)) < 0.02
    assert np.mean(np.argmax(got, 1) == np.argmax(want, 1)) >= 0.9


def test_unsupported_layer_is_named_with_the_reason():
    keras = zoo.keras3()
    model = keras.Sequential(
        [
            keras.Input((zoo.TIMESTEPS, zoo.FEATURES)),
            keras.layers.Masking(name="my_mask"),
            keras.layers.LSTM(8, name="my_lstm"),
            keras.layers.Dense(2),
        ]
    )
    # The mask reaches an LSTM, which only tflstm's fused op takes (test_convert_lstm_mask.py), not
    # stock TFLite's (portable=True).
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"layer 'my_lstm' \(LSTM\).*Keras mask.*fixed-length"):
        tflstm.convert(model, "float32", portable=True)


def test_model_without_lstm_is_refused():
    keras = zoo.tf_keras()
    model = keras.Sequential(
        [keras.Input((zoo.TIMESTEPS, zoo.FEATURES)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    with pytest.raises(tflstm.UnsupportedLayerError, match="has no LSTM, GRU or SimpleRNN layer"):
        tflstm.convert(model, "float32")


def test_int8_needs_representative_data(conversions):
    model, _ = conversions("seed-tf_keras", "float32")
    with pytest.raises(tflstm.ConversionError, match="int8 conversion needs representative_data"):
        tflstm.convert(model, "int8")


def test_representative_data_of_the_wrong_shape(conversions):
    model, _ = conversions("seed-tf_keras", "float32")
    bad = np.zeros((10, zoo.TIMESTEPS, zoo.FEATURES + 1), np.float32)
    with pytest.raises(
        tflstm.ConversionError,
        match=r"shape \(10, 12, 4\); the model takes samples of shape "
        r"\('N', 12, 3\)",
    ):
        tflstm.convert(model, "int8", bad)


def test_unknown_mode(conversions):
    model, _ = conversions("seed-tf_keras", "float32")
    with pytest.raises(tflstm.ConversionError, match="unknown conversion mode 'int4'"):
        tflstm.convert(model, "int4")
