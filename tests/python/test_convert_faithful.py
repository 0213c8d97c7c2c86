"""What a converted model computes is what its Keras source computes: no cell clip, gate
functions as the source defines them, ids for Embedding inputs of any dtype, inputs and outputs
in Keras's order, subclassed models; what cannot convert is refused at convert, naming the layer;
and the converter's own verification refuses or warns with the measured difference."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import tflstm
from tf_models import convert_or_refusal
from tflstm.lstm_flatbuffer import count_fused_lstms, lstm_ops, schema, unfused_layers
from tflstm.verification import TOLERANCE


def _keras(flavour: str):
    if flavour == "keras3":
        import keras

        return keras
    import tf_keras

    return tf_keras


def _clip_model(keras, exact: bool = True):
    """The issue's reproduction: every gate open (bias 20), the cell input tanh(10 x) = +-1, so
    the cell counts to 20 and back to 5. Not `exact`: small weights where it has zeros and gate
    biases of 6, which int8 represents (TFLite's int8 bias scale is the input's times the
    weight's: a zero weight leaves no room for a bias of 20)."""
    x = keras.Input((35, 1), name="x")
    lstm = keras.layers.LSTM(1, name="counter")
    model = keras.Model(x, lstm(x))
    if exact:
        kernel, recurrent, bias = [[0, 0, 10, 0]], [[0, 0, 0, 0]], [20, 20, 0, 20]
    else:
        kernel, recurrent, bias = [[0.5, 0.5, 10, 0.5]], [[0.1, 0.1, 0.1, 0.1]], [6, 6, 0, 6]
    lstm.set_weights([np.array(w, np.float32) for w in (kernel, recurrent, bias)])
    return model


def _clip_input() -> np.ndarray:
    return np.concatenate([np.ones(20), -np.ones(15)]).astype(np.float32).reshape(1, 35, 1)


def _cell_clips(data: bytes) -> list[float]:
    _, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    return [op.builtinOptions.cellClip for _, op in lstm_ops(model)]


# Every mode from Keras 3; tf_keras's LSTM converts through the same path, float32 shows it (all
# of them with TFLSTM_ZOO_ALL=1: each conversion takes seconds).
CLIP_CASES = [("keras3", mode) for mode in tflstm.MODES] + [
    ("tf_keras", mode) for mode in tflstm.MODES if mode == "float32" or os.environ.get("TFLSTM_ZOO_ALL") == "1"
]


@pytest.mark.parametrize(("flavour", "mode"), CLIP_CASES)
def test_no_cell_clip_in_any_mode(flavour, mode):
    model = _clip_model(_keras(flavour), exact=mode != "int8")
    x = _clip_input()
    want = float(np.asarray(model(x, training=False))[0, 0])
    assert want > 0.99  # Keras: the cell counts up to about 20 and ends near 5, h = tanh(5)
    data = tflstm.convert(model, mode, x if mode == "int8" else None)
    assert _cell_clips(data) == [0.0]
    got = float(tflstm.Runner(tflstm.Model(data))(x)[0, 0])
    # With TensorFlow's clip at 10 the cell ends near 10 - 15 = -5: h = -0.9999.
    assert abs(got - want) <= TOLERANCE[mode], (mode, got, want)


def test_int8_of_the_exact_reproduction_is_refused_with_what_to_do():
    """Its zero weights leave the int8 biases no range (see _clip_model): the verification
    refuses it, says by how much it is off and what to do instead; the tolerance it offers
    is accepted, and a tighter one is not."""
    model, x = _clip_model(_keras("keras3")), _clip_input()
    with pytest.raises(tflstm.MismatchError, match=r"int8 model .* differs from its Keras source by") as refused:
        tflstm.convert(model, "int8", x)
    message = str(refused.value)
    assert "use mode 'dynamic' or 'float16'" in message
    offered = float(re.search(r"tolerance=([0-9.e+-]+)\)", message).group(1))
    measured = float(re.search(r"by ([0-9.e+-]+) of the output scale", message).group(1))
    assert 0.25 < measured <= offered
    data = tflstm.convert(model, "int8", x, tolerance=offered)
    assert tflstm.Model(data).inputs[0].shape == (1, *x.shape[1:])
    with pytest.raises(tflstm.MismatchError, match=rf"the tolerance for int8 is {measured / 2:g}"):
        tflstm.convert(model, "int8", x, tolerance=float(f"{measured / 2:g}"))


def test_the_verification_refuses_a_float32_model_that_disagrees():
    """The converted bytes of one model checked against another of the same shapes: the
    verifier measures the difference and refuses, saying where."""
    from tflstm.fusable import rebuild
    from tflstm.verification import verify

    keras = _keras("keras3")
    source = _clip_model(keras)
    other = _clip_model(keras)
    other.get_layer("counter").set_weights([w * 0.5 for w in source.get_layer("counter").get_weights()])
    data = tflstm.convert(other, "float32")
    with pytest.raises(tflstm.MismatchError, match=r"differs from its Keras source by .* at output 'counter' on"):
        verify(data, source, rebuild(source), "float32", [_clip_input()], 1)
    with pytest.raises(tflstm.MismatchError, match=r"the int8 model of .* tolerance for int8 is 0.25"):
        int8 = tflstm.convert(other, "int8", _clip_input(), verify=False)
        verify(int8, source, rebuild(source), "int8", [_clip_input()], 1)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("flavour", ["keras3", "tf_keras"])
def test_hard_sigmoid_gates_compute_as_their_source_defines_them(flavour, kind, rng):
    keras = _keras(flavour)
    x = keras.Input((9, 3), name="x")
    layer = getattr(keras.layers, kind)(5, recurrent_activation="hard_sigmoid", name="gated")
    model = keras.Model(x, keras.layers.Dense(2, name="out")(layer(x)))
    # Weights large enough that gates reach both the linear part and the clipped ends.
    model.set_weights([2.0 * rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    xs = rng.normal(size=(8, 9, 3)).astype(np.float32)
    # Each runs as tflstm's fused op (TFLSTM_GRU, TFLSTM_LSTM), or (portable) unrolled into builtin ops.
    for portable in (False, True):
        data = tflstm.convert(model, "float32", portable=portable)
        fused = not portable
        assert unfused_layers(data) == ([] if fused else [f"gated ({kind}, unrolled over 9 steps into builtin ops)"])
        assert ((f"TFLSTM_{kind}", 1) in tflstm.Model(data).ops) == fused
        runner = tflstm.Runner(tflstm.Model(data))
        got = np.concatenate([runner(xs[i : i + 1]) for i in range(8)])
        np.testing.assert_allclose(got, np.asarray(model(xs, training=False)), atol=1e-4, rtol=0)


def test_embedding_behind_a_float32_input(rng):
    """Every Keras 2 `.h5` text model: ids arrive as float32."""
    keras = _keras("keras3")
    x = keras.Input((7,), name="chars")  # float32
    h = keras.layers.Embedding(40, 4)(x)
    model = keras.Model(x, keras.layers.Dense(3, name="out")(keras.layers.LSTM(6)(h)))
    data = tflstm.convert(model, "float32")
    ids = rng.integers(0, 40, size=(5, 7)).astype(np.float32)
    runner = tflstm.Runner(tflstm.Model(data))
    got = np.concatenate([runner(ids[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(got, np.asarray(model(ids)), atol=1e-4, rtol=0)


def test_timesteps_fixes_a_free_axis_of_any_rank(rng):
    keras = _keras("keras3")
    L = keras.layers
    # Ids on (None,): the portable GRU is unrolled over the given length (the fused one takes any).
    ids = keras.Input((None,), dtype="int32", name="ids")
    model = keras.Model(ids, L.Dense(2)(L.GRU(4, name="gru_ids")(L.Embedding(20, 3)(ids))))
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'gru_ids'.*free: convert with timesteps=N"):
        tflstm.convert(model, "float32", portable=True)
    data = tflstm.convert(model, "float32", timesteps=6, portable=True)
    assert tflstm.Model(data).inputs[0].shape == (1, 6)
    # A spectrogram (time, bins, channels) with a free time axis, and a static input of rank 1.
    spec, static = keras.Input((None, 8, 2), name="spectrogram"), keras.Input((3,), name="static")
    h = L.GRU(4, name="gru_spec")(L.TimeDistributed(L.Flatten())(spec))
    model = keras.Model([spec, static], L.Dense(2, name="out")(L.Concatenate()([h, static])))
    data = tflstm.convert(model, "float32", timesteps={"spectrogram": 5})
    assert [t.shape for t in tflstm.Model(data).inputs] == [(1, 5, 8, 2), (1, 3)]
    xs = [rng.normal(size=(1, 5, 8, 2)).astype(np.float32), rng.normal(size=(1, 3)).astype(np.float32)]
    np.testing.assert_allclose(tflstm.Runner(tflstm.Model(data))(*xs), np.asarray(model(xs)), atol=1e-4, rtol=0)
    with pytest.raises(tflstm.ConversionError, match=r"timesteps names inputs \['nope'\]"):
        tflstm.convert(model, "float32", timesteps={"nope": 5})


def _encoder_decoder(keras):
    L = keras.layers
    enc, dec = keras.Input((6, 3), name="encoder_in"), keras.Input((4, 2), name="decoder_in")
    summary = L.RepeatVector(4)(L.LSTM(5, name="encoder")(enc))
    h = L.LSTM(5, return_sequences=True, name="decoder")(L.Concatenate()([dec, summary]))
    heads = [L.Dense(3, name="zz_token")(h), L.Dense(1, name="aa_stop")(L.GlobalAveragePooling1D()(h))]
    return keras.Model([enc, dec], heads)


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_positional_inputs_and_outputs_follow_the_keras_model(mode, rng):
    from tf_models import reference_interpreter

    model = _encoder_decoder(_keras("keras3"))
    rep = [rng.normal(size=(32, 6, 3)).astype(np.float32), rng.normal(size=(32, 4, 2)).astype(np.float32)]
    # int8 of these stacked LSTMs may be off its Keras source (TensorFlow's interpreter alike):
    # what is tested here is the order, against TensorFlow's interpreter by name.
    data, _ = convert_or_refusal(model, mode, rep if mode == "int8" else None)
    converted = tflstm.Model(data)
    assert [t.name for t in converted.inputs] == ["encoder_in", "decoder_in"]
    assert [t.name for t in converted.outputs] == ["zz_token", "aa_stop"]
    sig = converted.signatures["serving_default"]
    assert sorted(t.name for t in sig["inputs"]) == ["decoder_in", "encoder_in"]  # names kept
    enc, dec = rep[0][:1], rep[1][:1]
    token, stop = tflstm.Runner(converted)(enc, dec)
    by_name = reference_interpreter(data).get_signature_runner()(encoder_in=enc, decoder_in=dec)
    # int8: a few steps of the output apart at most, where XNNPACK's int8 MEAN (the pooled head)
    # rescales in float and TFLite's kernel in fixed point (docs/kernels.md); seen: up to 0.0035,
    # and 1.5e-8 with TFLSTM_XNNPACK=off.
    atol = 1e-5 if mode == "float32" else 1e-2
    np.testing.assert_allclose(token, by_name["zz_token"], atol=atol, rtol=0)
    np.testing.assert_allclose(stop, by_name["aa_stop"], atol=atol, rtol=0)
    if mode == "float32":
        want = model([enc, dec])
        np.testing.assert_allclose(token, np.asarray(want[0]), atol=1e-4, rtol=0)
        np.testing.assert_allclose(stop, np.asarray(want[1]), atol=1e-4, rtol=0)


def _with_int8_cell_state(data: bytes, layer_index: int) -> bytes:
    """The int8 model as the issue saw TensorFlow write it for a stacked LSTM: one LSTM's cell
    state INT8 (TensorFlow 2.21 here writes INT16 for every stacked variant tried)."""
    s, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    sg, op = list(lstm_ops(model))[layer_index]
    sg.tensors[int(op.inputs[19])].type = s.TensorType.INT8
    return bytes(fb.convert_object_to_bytearray(model))


def test_int8_refuses_an_lstm_given_an_int8_cell_state(rng):
    from tflstm.converter import _refuse_int8_cell_states
    from tflstm.fusable import rebuild

    keras = _keras("keras3")
    L = keras.layers
    x = keras.Input((8, 3), name="x")
    first = L.LSTM(6, return_sequences=True, name="first")(x)
    second = L.LSTM(6, name="second")(first)
    model = keras.Model(x, L.Dense(2)(L.Concatenate()([second, L.GlobalAveragePooling1D()(first)])))
    rep = rng.normal(size=(32, 8, 3)).astype(np.float32)
    data, _ = convert_or_refusal(model, "int8", rep)  # stacked int8: see above
    _refuse_int8_cell_states(data, rebuild(model))  # as TensorFlow 2.21 writes it: int16, accepted
    broken = _with_int8_cell_state(data, 1)
    with pytest.raises(tflstm.ModelError, match="cell state"):  # what the runtime would say at load
        tflstm.Model(broken)
    with pytest.raises(tflstm.UnsupportedLayerError, match=r"'second'.*int16\. Convert this model in mode dynamic"):
        _refuse_int8_cell_states(broken, rebuild(model))


def test_subclassed_tf_keras_model_unwrapped(rng):
    import keras2_zoo

    keras = _keras("tf_keras")
    model = keras2_zoo._subclassed_class(keras)(name="built")
    model.build((None, 7, keras2_zoo.F))
    model(np.zeros((1, 7, keras2_zoo.F), np.float32))
    data = tflstm.convert(model, "float32")
    assert count_fused_lstms(data) == 2
    x = rng.normal(size=(1, 7, keras2_zoo.F)).astype(np.float32)
    np.testing.assert_allclose(tflstm.Runner(tflstm.Model(data))(x), np.asarray(model(x)), atol=1e-4, rtol=0)


def _subclassed(flavour: str):
    """Two subclassed models as users write them: a tagger over token ids (a masked
    Bidirectional GRU, the last step taken by indexing) and a forecaster called on a list of two
    inputs (an encoder LSTM's state starts the decoder). Registered, so that they load from
    .keras files."""
    import tensorflow as tf

    keras = _keras(flavour)
    L = keras.layers
    mean = keras.ops.mean if flavour == "keras3" else tf.reduce_mean

    @keras.saving.register_keras_serializable(package=f"tflstm_tests_{flavour}")
    class Tagger(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embed = L.Embedding(40, 8, mask_zero=True)
            self.rnn = L.Bidirectional(L.GRU(10, return_sequences=True))
            self.head = L.Dense(5)

        def call(self, ids):
            h = self.rnn(self.embed(ids))
            return self.head(h[:, -1, :]) + mean(self.head(h), axis=1)

    @keras.saving.register_keras_serializable(package=f"tflstm_tests_{flavour}")
    class Forecaster(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.encoder = L.LSTM(16, return_state=True)
            self.decoder = L.LSTM(16, return_sequences=True)
            self.head = L.Dense(1)

        def call(self, inputs):
            past, future = inputs
            _, h, c = self.encoder(past)
            return self.head(self.decoder(future, initial_state=[h, c]))

    return Tagger, Forecaster


@pytest.mark.parametrize("flavour, source", [("keras3", "model"), ("keras3", "file"), ("tf_keras", "model")])
def test_subclassed_models_on_ids_and_on_a_list_of_inputs(rng, tmp_path, flavour, source):
    """A subclassed model's input shapes are recorded (a list of them for call(self, [a, b])),
    their dtypes by tf_keras only: under Keras 3 an input that feeds an Embedding converts as
    int32 ids."""
    keras = _keras(flavour)
    keras.utils.set_random_seed(3)
    tagger, forecaster = (cls(name=cls.__name__.lower()) for cls in _subclassed(flavour))
    ids = rng.integers(1, 40, size=(1, 12)).astype(np.int32)
    ids[0, 9:] = 0
    series = [rng.normal(size=(1, 24, 3)).astype(np.float32), rng.normal(size=(1, 6, 2)).astype(np.float32)]
    for model, inputs in ((tagger, [ids]), (forecaster, series)):
        want = np.asarray(model(inputs if len(inputs) > 1 else inputs[0]))
        src = model
        if source == "file":
            src = str(tmp_path / f"{model.name}.keras")
            model.save(src)
        got = tflstm.Runner(tflstm.Model(tflstm.convert(src, "float32")))(*inputs)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0, err_msg=model.name)


def test_unbuilt_subclassed_model_says_how_to_build_it():
    import keras2_zoo

    model = keras2_zoo._subclassed_class(_keras("keras3"))(name="unbuilt")
    with pytest.raises(tflstm.ConversionError, match=r"'unbuilt' has no defined inputs.*call it on a batch"):
        tflstm.convert(model, "float32")
