"""One state contract for every stateful model: state in resource variables (tf.Variable in a
tf.function, exported through from_concrete_functions) starts from its initial value on every
plain call, and streams of chunk models carry, snapshot, restore and reset it; all checked
against tf.lite.Interpreter."""

from __future__ import annotations

import numpy as np
import pytest

import tflstm
from tf_models import reference_interpreter, tf


def _export(module, spec) -> bytes:
    concrete = module.step.get_concrete_function(spec)
    converter = tf().lite.TFLiteConverter.from_concrete_functions([concrete], module)
    converter.experimental_enable_resource_variables = True
    return converter.convert()


@pytest.fixture(scope="module")
def leaky() -> bytes:
    """s = 0.5 * s + x; returns s. Chunks of [1, 4]."""

    class Leaky(tf().Module):
        def __init__(self):
            super().__init__()
            self.s = tf().Variable(tf().zeros([1, 4]), name="leaky_state")

        @tf().function
        def step(self, x):
            self.s.assign(0.5 * self.s + x)
            return self.s + 0.0

    return _export(Leaky(), tf().TensorSpec([1, 4], tf().float32, name="x"))


@pytest.fixture(scope="module")
def ring() -> bytes:
    """A ring buffer of the last 6 frames, as streaming audio models keep: each chunk of 2
    frames x 3 features shifts in; the output is the buffer's frame-weighted sum. The buffer
    starts from ones, not zeros, so a reset to zero would be caught."""

    class Ring(tf().Module):
        def __init__(self):
            super().__init__()
            self.buf = tf().Variable(tf().ones([1, 6, 3]), name="ring_buffer")
            self.w = tf().constant(np.arange(1, 7, dtype=np.float32).reshape(1, 6, 1))

        @tf().function
        def step(self, x):
            new = tf().concat([self.buf[:, 2:, :], x], axis=1)
            self.buf.assign(new)
            return tf().reduce_sum(new * self.w, axis=1)

    return _export(Ring(), tf().TensorSpec([1, 2, 3], tf().float32, name="frames"))


def _reference_sequence(data: bytes, chunks: list[np.ndarray]) -> list[np.ndarray]:
    """tf.lite.Interpreter invoked chunk after chunk: its resource variables carry the state."""
    interp = reference_interpreter(data)
    index = interp.get_input_details()[0]["index"]
    out = []
    for c in chunks:
        interp.set_tensor(index, c)
        interp.invoke()
        out.append(interp.get_tensor(interp.get_output_details()[0]["index"]).copy())
    return out


def _chunks(rng, shape, n):
    return [rng.normal(size=shape).astype(np.float32) for _ in range(n)]


@pytest.mark.parametrize("name,shape", [("leaky", (1, 4)), ("ring", (1, 2, 3))])
def test_model_says_where_its_state_lives(request, name, shape):
    model = tflstm.Model(request.getfixturevalue(name))
    (state,) = model.state
    assert state.resource_variable and state.dtype == np.float32
    assert state.shape == ((1, 4) if name == "leaky" else (1, 6, 3))
    assert state.bytes == 4 * int(np.prod(state.shape))
    assert {"VAR_HANDLE", "ASSIGN_VARIABLE", "READ_VARIABLE", "CALL_ONCE"} <= {op for op, _ in model.ops}


@pytest.mark.parametrize("name,shape", [("leaky", (1, 4)), ("ring", (1, 2, 3))])
def test_plain_calls_start_from_the_initial_state(request, rng, name, shape):
    data = request.getfixturevalue(name)
    runner = tflstm.Runner(tflstm.Model(data))
    x = rng.normal(size=shape).astype(np.float32)
    first = _reference_sequence(data, [x])[0]  # a fresh interpreter: the initial state
    for _ in range(3):
        np.testing.assert_array_equal(runner(x), first)


@pytest.mark.parametrize("name,shape", [("leaky", (1, 4)), ("ring", (1, 2, 3))])
def test_a_stream_of_chunks_equals_the_interpreter(request, rng, name, shape):
    data = request.getfixturevalue(name)
    chunks = _chunks(rng, shape, 7)
    want = _reference_sequence(data, chunks)
    stream = tflstm.Runner(tflstm.Model(data)).stream()
    assert stream.chunked and len(stream.state_names) == 1
    got = [stream(c) for c in chunks[:3]]
    got += list(stream(np.concatenate(chunks[3:], axis=0)))  # four chunks in one call
    assert stream.steps == 7
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.reshape(g, w.shape), w, rtol=1e-6, atol=1e-6)


def test_snapshot_restore_and_reset_are_exact(ring, rng):
    runner = tflstm.Runner(tflstm.Model(ring))
    stream = runner.stream()
    chunks = _chunks(rng, (1, 2, 3), 6)
    initial = stream.state
    np.testing.assert_array_equal(initial[0], np.ones((1, 6, 3), np.float32))  # CALL_ONCE's value
    for c in chunks[:3]:
        stream(c)
    snapshot = stream.state
    after = [stream(c) for c in chunks[3:]]
    stream.state = snapshot
    np.testing.assert_array_equal(np.stack([stream(c) for c in chunks[3:]]), np.stack(after))
    stream.reset()
    assert stream.steps == 0
    np.testing.assert_array_equal(stream.state[0], initial[0])
    np.testing.assert_array_equal(stream(chunks[0]), runner(chunks[0]))  # both from the initial state


def test_interleaved_streams_on_one_runner_equal_separate_runs(leaky, rng):
    runner = tflstm.Runner(tflstm.Model(leaky))
    a, b = runner.stream(), runner.stream()
    xa, xb = _chunks(rng, (1, 4), 5), _chunks(rng, (1, 4), 5)
    got_a, got_b = [], []
    for ca, cb in zip(xa, xb, strict=True):
        got_a.append(a(ca))
        runner(cb)  # a plain call in between touches neither stream
        got_b.append(b(cb))
    for got, xs in ((got_a, xa), (got_b, xb)):
        for g, w in zip(got, _reference_sequence(leaky, xs), strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_lstm_models_report_their_variable_tensors(converted):
    model = tflstm.Model(converted("float32"))
    assert model.state and not any(s.resource_variable for s in model.state)
    assert all(s.bytes > 0 for s in model.state)


def test_reset_refuses_to_rebuild_under_a_live_view(converted, rng):
    """stream.reset() rebuilt the runner at the stream's step shape while an input or output
    view was alive: the next write or read through the view touched freed memory."""
    model = tflstm.Model(converted("float32"))
    runner = tflstm.Runner(model)
    stream = runner.stream()
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    stream(x[:, :3])
    runner(x)  # the runner is at the whole sequence's shape again
    for make in (runner.input_view, runner.output_view):
        view = make(0)
        shape = runner.inputs[0].shape
        with pytest.raises(tflstm.InputError, match="zero-copy view"):
            stream.reset()
        with pytest.raises(tflstm.InputError, match="zero-copy view"):
            stream(x[:, :1])
        assert runner.inputs[0].shape == shape == x.shape  # not rebuilt: the view is the live tensor
        np.asarray(view).sum()
        del view
    stream.reset()  # no views: fine
    assert stream.steps == 0
    # At the step shape already, reset rebuilds nothing and a view may stay.
    view = runner.input_view(0)
    stream.reset()
    stream(x[:, :2])
    assert view.shape == (1, 1, x.shape[2])


def test_a_variable_state_that_is_a_graph_input_takes_the_value_set(rng):
    """TensorFlow's own conversion of an LSTM started from graph inputs (a decoder given its
    encoder's [h, c]) makes those inputs the fused LSTM's variable states. The runner reset its
    variables after the inputs were set, so every call ran from zeros: 0.1-0.17 off Keras with
    no error. The values set are the state each call starts from, as in tf.lite."""
    from tf_models import tf_keras

    keras = tf_keras()
    keras.utils.set_random_seed(3)
    target = keras.Input((5, 3), batch_size=1, name="target")
    h0, c0 = keras.Input((6,), batch_size=1, name="h0"), keras.Input((6,), batch_size=1, name="c0")
    y = keras.layers.LSTM(6, return_sequences=True)(target, initial_state=[h0, c0])
    model = keras.Model([target, h0, c0], keras.layers.Dense(2)(y))
    data = tf().lite.TFLiteConverter.from_keras_model(model).convert()
    converted = tflstm.Model(data)
    # The case: the LSTM's two variable states are the graph inputs h0 and c0.
    assert sorted(next(k for k in ("h0", "c0") if k in s.name) for s in converted.state) == ["c0", "h0"]
    runner = tflstm.Runner(converted)
    interp = reference_interpreter(data)
    by_name = {d["name"]: d["index"] for d in interp.get_input_details()}
    for _ in range(3):  # each call from its own state, nothing carried from the one before
        xs = {
            "target": rng.normal(size=(1, 5, 3)).astype(np.float32),
            "h0": rng.normal(scale=0.5, size=(1, 6)).astype(np.float32),
            "c0": rng.normal(scale=2.0, size=(1, 6)).astype(np.float32),
        }
        got = runner(*[xs[next(k for k in xs if k in t.name)] for t in converted.inputs])
        interp.reset_all_variables()
        for name, index in by_name.items():
            interp.set_tensor(index, xs[next(k for k in xs if k in name)])
        interp.invoke()
        np.testing.assert_allclose(got, interp.get_tensor(interp.get_output_details()[0]["index"]), atol=1e-6)
        want = np.asarray(model([xs["target"], xs["h0"], xs["c0"]]))
        np.testing.assert_allclose(got, want, atol=1e-5)
