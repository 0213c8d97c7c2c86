"""A stream's one-step calls, the hot path of streaming: the result written into the caller's
`out` array, and steps that skip re-entering the runner while nothing else touched it (the
runner's epoch), each checked against Keras on the whole sequence."""

from __future__ import annotations

import numpy as np
import pytest

import tf_models as zoo
import tflstm

T, F = 12, 3


@pytest.fixture(scope="module")
def models():
    keras = zoo.keras3()
    keras.utils.set_random_seed(11)
    last = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(8), keras.layers.Dense(4)])
    seq = keras.Sequential([keras.Input((T, F)), keras.layers.GRU(8, return_sequences=True)])
    return {"last_step": last, "return_sequences": seq}


def _sequence(rng) -> np.ndarray:
    return rng.normal(size=(1, T, F)).astype(np.float32)


@pytest.mark.parametrize("kind", ["last_step", "return_sequences"])
def test_out_takes_each_result_as_a_new_array_would(models, kind, rng):
    model = models[kind]
    x = _sequence(rng)
    want = np.asarray(model(x))
    stream = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32"))).stream()
    fresh = [stream(x[:, t : t + 1]) for t in range(T)]
    stream.reset()
    out = np.empty_like(fresh[0])
    got = []
    for t in range(T):
        assert stream(x[:, t : t + 1], out) is out  # positional: no keyword handling per call
        got.append(out.copy())
    for a, b in zip(got, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    if kind == "last_step":
        np.testing.assert_allclose(got[-1], want, atol=1e-5, rtol=0)
    else:
        np.testing.assert_allclose(np.concatenate(got, axis=1), want, atol=1e-5, rtol=0)
        stream.reset()
        whole = np.empty((1, T, want.shape[-1]), np.float32)
        assert stream(x, out=whole) is whole  # several steps: [1, steps, ...]
        np.testing.assert_allclose(whole, want, atol=1e-5, rtol=0)


def test_an_unfit_out_is_refused_and_the_stream_carries_on(models, rng):
    model = models["last_step"]
    x = _sequence(rng)
    want = np.asarray(model(x))
    stream = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32"))).stream()
    for t in range(T - 1):
        stream(x[:, t : t + 1])
    step = x[:, T - 1 :]
    read_only = np.empty((1, 4), np.float32)
    read_only.flags.writeable = False
    for bad, message in [
        (np.empty((1, 4), np.float64), r"must be a writable C-contiguous float32 array of shape \[1, 4\], got float64"),
        (np.empty((4,), np.float32), r"of shape \[1, 4\], got float32 \(4,\)"),
        (np.empty((4, 2), np.float32)[:, :1].T, r"got float32 \(1, 4\)"),  # strided
        (read_only, r"\(read-only\)"),
        ([[0.0] * 4], "out must be a numpy.ndarray, got list"),
    ]:
        with pytest.raises(tflstm.InputError, match=message):
            stream(step, out=bad)
    shared = np.zeros(8, np.float32)
    with pytest.raises(tflstm.InputError, match="out shares memory with the stream chunk"):
        stream(shared[:3].reshape(1, 1, 3), out=shared[2:6].reshape(1, 4))
    assert stream.steps == T - 1  # nothing ran
    np.testing.assert_allclose(stream(step), want, atol=1e-5, rtol=0)


def test_steps_follow_every_change_made_to_the_runner_between_them(models, rng):
    """Each change between two steps of stream `a` (a plain call that resizes the runner and
    resets its state, another stream's steps, a restored snapshot, a reset) must put a's own
    state back before its next step."""
    model = models["last_step"]
    xa, xb = _sequence(rng), _sequence(rng)
    runner = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32")))
    a, b = runner.stream(), runner.stream()
    snapshot, after_snapshot = None, None
    for t in range(T):
        got = a(xa[:, t : t + 1])
        if t == 4:
            snapshot = a.state
        if t == 5:
            after_snapshot = got
        if t % 3 == 0:
            runner(xb)  # the whole sequence: another shape, and a reset state
        got_b = b(xb[:, t : t + 1])
    np.testing.assert_allclose(got, np.asarray(model(xa)), atol=1e-5, rtol=0)
    np.testing.assert_allclose(got_b, np.asarray(model(xb)), atol=1e-5, rtol=0)
    a.state = snapshot  # back to after step 4
    np.testing.assert_array_equal(a(xa[:, 5:6]), after_snapshot)
    a.reset()
    for t in range(T):
        got = a(xa[:, t : t + 1])
        b.reset()
    np.testing.assert_allclose(got, np.asarray(model(xa)), atol=1e-5, rtol=0)
