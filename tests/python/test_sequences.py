"""Sequence semantics: streaming with carried state, variable shapes, signatures, int8
helpers and zero-copy views, checked against Keras and tf.lite.Interpreter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tf_models as zoo
import tflstm
from tf_models import reference_interpreter

T, F = 30, 3


@pytest.fixture(scope="module")
def keras_models():
    keras = zoo.keras3()
    keras.utils.set_random_seed(7)
    sequences = keras.Sequential(
        [
            keras.Input((T, F)),
            keras.layers.LSTM(16, return_sequences=True),
            keras.layers.LSTM(16, return_sequences=True),
            keras.layers.Dense(2),
        ]
    )
    last_step = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(16), keras.layers.Dense(4)])
    return {"return_sequences": sequences, "last_step": last_step}


def _chunks(rng, total: int) -> list[tuple[int, int]]:
    cuts = sorted(rng.choice(np.arange(1, total), size=5, replace=False).tolist())
    edges = [0, 1] + [c for c in cuts if c > 1] + [total]  # a one-step chunk first, then any lengths
    return list(itertools.pairwise(edges))


@pytest.mark.parametrize("kind", ["return_sequences", "last_step"])
def test_chunked_stream_equals_the_whole_sequence(keras_models, kind, rng):
    model = keras_models[kind]
    whole_runner = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32")))
    step_model = tflstm.Model(tflstm.convert(model, "float32", timesteps=1))  # the exported step model
    assert step_model.inputs[0].shape == (1, 1, F)
    stream = tflstm.Runner(step_model).stream()
    for _ in range(2):  # and again after a reset
        x = rng.normal(size=(1, T, F)).astype(np.float32)
        whole = whole_runner(x)
        outs = [stream(x[:, a:b]) for a, b in _chunks(rng, T)]
        got = np.concatenate(outs, axis=1) if kind == "return_sequences" else outs[-1]
        assert got.shape == whole.shape
        np.testing.assert_allclose(got, whole, atol=1e-5, rtol=0)
        np.testing.assert_allclose(whole, np.asarray(model(x)), atol=1e-5, rtol=0)
        assert stream.steps == T
        stream.reset()


def test_many_streams_share_one_runner_and_snapshots_restore(keras_models, rng):
    model = keras_models["last_step"]
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32")))  # a whole-sequence model
    xs = [rng.normal(size=(1, T, F)).astype(np.float32) for _ in range(3)]
    wants = [runner(x) for x in xs]
    streams = [runner.stream() for _ in xs]  # one per "sensor", all on one runner
    outs = [None] * 3
    for a, b in [(0, 10), (10, 11), (11, T)]:  # interleaved
        for i, s in enumerate(streams):
            outs[i] = s(xs[i][0, a:b])  # [steps, features] works too
    for got, want in zip(outs, wants, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)

    s = streams[0]
    s.reset()
    s(xs[0][:, :20])
    snapshot = s.state
    assert [a.shape for a in snapshot] == [(1, 16), (1, 16)]  # the LSTM(16)'s hidden and cell state
    first = s(xs[0][:, 20:])
    s.state = snapshot
    np.testing.assert_array_equal(s(xs[0][:, 20:]), first)
    np.testing.assert_allclose(first, wants[0], atol=1e-5, rtol=0)
    with pytest.raises(tflstm.InputError, match="state 0 must be float32"):
        s.state = [a.astype(np.float64) for a in snapshot]
    with pytest.raises(tflstm.InputError, match="a stream chunk must be float32 of shape"):
        s(np.zeros((1, 4, F + 1), np.float32))


def test_variable_length_real_dataset_is_scored_without_padding():
    """JapaneseVowels: 7 to 29 frames per utterance. Each is run at its own length."""
    from tflstm.datasets import japanese_vowels

    data = japanese_vowels()
    keras = zoo.keras3()
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((None, 12)), keras.layers.LSTM(24), keras.layers.Dense(9, activation="softmax")]
    )
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32", timesteps=20)))
    xs = sorted(data.x_test[:120], key=len)  # grouped by length: a rebuild per new length only
    lengths = {len(x) for x in xs}
    assert len(lengths) > 5
    worst = 0.0
    for x in xs:
        y = runner(x[np.newaxis])
        worst = max(worst, float(np.max(np.abs(y - np.asarray(model(x[np.newaxis]))))))
    assert worst <= 1e-5
    assert runner.rebuilds <= len(lengths)


def test_batch_size_changes(keras_models, rng):
    model = keras_models["last_step"]
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32")))
    x = rng.normal(size=(4, T, F)).astype(np.float32)
    alone = np.concatenate([runner(x[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(runner(x), alone, atol=1e-5, rtol=0)
    assert runner.inputs[0].shape == (4, T, F)


def test_arena_accounts_for_new_shapes_or_reports_exhaustion(keras_models, rng):
    data = tflstm.convert(keras_models["return_sequences"], "float32")
    runner = tflstm.Runner(tflstm.Model(data))
    small = runner.memory.arena.budget
    runner(rng.normal(size=(1, 3 * T, F)).astype(np.float32))
    assert runner.memory.arena.budget > 2 * small  # the arena grew with the sequence

    bounded = tflstm.Runner(tflstm.Model(data), arena_bytes=runner.memory_plan([[1, T, F]]).total)
    x = rng.normal(size=(1, T, F)).astype(np.float32)
    before = bounded(x)
    with pytest.raises(tflstm.ArenaExhaustedError, match="more than the budget of"):
        bounded(rng.normal(size=(1, 3 * T, F)).astype(np.float32))
    np.testing.assert_array_equal(bounded(x), before)  # still working, at its old shape


def test_signatures_run_by_key_with_named_inputs_and_outputs(testdata):
    path = testdata / "multi_signatures.bin"
    model = tflstm.Model(path)
    assert set(model.signatures) == {"add", "sub"}
    assert [t.name for t in model.signatures["add"]["inputs"]] == ["x"]
    ref = reference_interpreter(path.read_bytes())
    x = np.array([1.0, 2.5, -3.0], np.float32)
    for key in ("add", "sub"):
        runner = tflstm.Runner(model, signature=key)
        out = runner.run({"x": x})
        want = ref.get_signature_runner(key)(x=x)
        assert list(out) == list(want) == ["output_0"]
        np.testing.assert_allclose(out["output_0"], want["output_0"], atol=1e-6)
    with pytest.raises(tflstm.InputError, match="no signature 'mul'; its signatures are 'add', 'sub'"):
        tflstm.Runner(model, signature="mul")


def test_int8_io_helpers_match_the_converters_own_quantization(rng):
    keras = zoo.tf_keras()
    model = zoo.seed_model(keras, units=16, classes=4)
    rep = zoo.representative(64)
    float_io = tflstm.Runner(tflstm.Model(tflstm.convert(model, "int8", rep)))  # QUANTIZE op inside
    int8_io = tflstm.Runner(tflstm.Model(tflstm.convert(model, "int8", rep, int8_io=True)), quantize_io=True)
    assert int8_io.inputs[0].dtype == np.int8
    for _ in range(5):
        x = rng.normal(size=(1, zoo.TIMESTEPS, zoo.FEATURES)).astype(np.float32)
        y = int8_io(x)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y, float_io(x), atol=1e-6, rtol=0)
    # Rounding is half away from zero, as TFLite's QUANTIZE does (numpy's round is half to even).
    q = int8_io.inputs[0].quantization
    scale, zero = float(q.scales[0]), int(q.zero_points[0])
    halves = ((np.arange(zoo.FEATURES, dtype=np.float32) - 1.0 + 0.5) * scale).reshape(1, 1, -1)
    int8_io(np.broadcast_to(halves, (1, zoo.TIMESTEPS, zoo.FEATURES)).copy())
    got = int8_io.input_view(0)[0, 0].copy()
    v = halves[0, 0] / scale
    want = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + zero, -128, 127).astype(np.int8)
    np.testing.assert_array_equal(got, want)


def test_zero_copy_views_are_safe(keras_models, rng):
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(keras_models["last_step"], "float32")))
    x = rng.normal(size=(1, T, F)).astype(np.float32)
    want = runner(x)
    inp, out = runner.input_view(0), runner.output_view(0)
    assert inp.shape == (1, T, F) and not out.flags.writeable
    inp[...] = x
    runner.invoke()
    np.testing.assert_array_equal(out, want)  # no copy: the view shows the new result
    with pytest.raises(tflstm.InputError, match=r"2 zero-copy view\(s\) of them are alive"):
        runner(rng.normal(size=(1, T + 5, F)).astype(np.float32))  # a shape change would free them
    np.testing.assert_array_equal(runner(x), want)  # the same shape is fine
    del runner  # the views keep the runner's memory alive
    np.testing.assert_array_equal(out, want)
    del inp, out


def test_free_length_sequence_with_a_dense_head_runs_at_any_length(rng):
    """A Dense over an LSTM's sequence of free length converts to a Tensordot: RESHAPEs to a
    shape computed from the input's, so TFLite sizes the model's output only while it runs.
    The runner bound that output to a block sized when it was prepared, and every length but
    the converted one failed ("Custom allocation is too small"); it is now left to TFLite, and
    no zero-copy view of it is given (its memory can move during a run)."""
    keras = zoo.keras3()
    x_in = keras.Input((None, F))
    h = keras.layers.LSTM(8, return_sequences=True)(x_in)
    model = keras.Model(x_in, keras.layers.Dense(2)(h))
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32")))
    for steps in (1, 5, 40, 3):
        x = rng.normal(size=(1, steps, F)).astype(np.float32)
        got = runner(x)
        assert got.shape == (1, steps, 2)
        np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-5, rtol=0)
    with pytest.raises(tflstm.InputError, match="sized by the model while it runs"):
        runner.output_view(0)


@pytest.mark.parametrize(("flavour", "kind"), [("keras3", "LSTM"), ("tf_keras", "LSTM"), ("keras3", "GRU")])
def test_a_stateful_model_converts_and_its_stream_carries_the_state(flavour, kind, rng):
    """stateful=True: Keras carries the layer's state from one call to the next; the converted
    model's Stream does the same (the fused LSTM and GRU ops keep their state in variable
    tensors)."""
    keras = getattr(zoo, flavour)()
    x_in = keras.Input(batch_shape=(1, None, F))
    h = getattr(keras.layers, kind)(8, stateful=True, return_sequences=True)(x_in)
    model = keras.Model(x_in, keras.layers.Dense(2)(h))
    stream = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32"))).stream()
    for layer in model.layers:
        if hasattr(layer, "reset_states"):
            layer.reset_states()
    for steps in (5, 7, 1):
        x = rng.normal(size=(1, steps, F)).astype(np.float32)
        np.testing.assert_allclose(stream(x), np.asarray(model(x)), atol=1e-5, rtol=0)


def test_a_stateful_layer_that_would_be_unrolled_is_refused():
    keras = zoo.keras3()
    x_in = keras.Input(batch_shape=(1, 6, F))
    # (A SimpleRNN the fused op runs converts stateful: test_convert_simple_rnn.py; softsign it lacks.)
    model = keras.Model(x_in, keras.layers.SimpleRNN(4, activation="softsign", stateful=True)(x_in))
    with pytest.raises(tflstm.UnsupportedLayerError, match="is stateful, but TFLite's fused SimpleRNN does not run it"):
        tflstm.convert(model, "float32")


def test_views_released_allow_shape_changes(keras_models, rng):
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(keras_models["last_step"], "float32")))
    view = runner.input_view(runner.inputs[0].name)
    sub = view[0, :2]  # a slice keeps the view's guard alive
    del view
    with pytest.raises(tflstm.InputError, match="alive"):
        runner(rng.normal(size=(1, T + 1, F)).astype(np.float32))
    del sub
    assert runner(rng.normal(size=(1, T + 1, F)).astype(np.float32)).shape == (1, 4)


@pytest.mark.parametrize("flavour", ["tf_keras", "keras3"])
def test_a_fixed_length_model_exports_a_step_model(flavour, rng):
    """Input((T, F)) fixes the length; timesteps=1 still gives the step model, checked against the
    model at its own length, and streaming it T steps gives the model's answer."""
    keras = zoo.tf_keras() if flavour == "tf_keras" else zoo.keras3()
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(12), keras.layers.Dense(3)])
    step_model = tflstm.Model(tflstm.convert(model, "float32", timesteps=1))
    assert step_model.inputs[0].shape == (1, 1, F)
    stream = tflstm.Runner(step_model).stream()
    x = rng.normal(size=(1, T, F)).astype(np.float32)
    outs = [stream(x[:, t : t + 1]) for t in range(T)]
    np.testing.assert_allclose(outs[-1], np.asarray(model(x)), atol=1e-5, rtol=0)
