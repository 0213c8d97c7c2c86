"""Threads: the GIL is released while a model runs, one model serves many runners, a runner
shared by threads is serialized, num_threads is honoured, and a run can be cancelled."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import tf_models as zoo
import tflstm


@pytest.fixture(scope="module")
def heavy_model():
    """An LSTM(128) over 400 steps: a run takes milliseconds."""
    keras = zoo.tf_keras()
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((None, 8)), keras.layers.LSTM(128), keras.layers.Dense(4)])
    return tflstm.Model(tflstm.convert(model, "float32", timesteps=8))  # runners resize to 400 steps


def _run_many(runner, x, n):
    for _ in range(n):
        runner(x)


def test_two_threads_with_their_own_runners_agree_with_serial_runs(heavy_model):
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(1, 400, 8)).astype(np.float32) for _ in range(2)]
    runners = [tflstm.Runner(heavy_model) for _ in range(2)]
    wants = [r(x) for r, x in zip(runners, xs, strict=True)]
    gots: list[list[np.ndarray]] = [[], []]

    def work(i: int) -> None:
        for _ in range(20):
            gots[i].append(runners[i](xs[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(gots, wants, strict=True):
        assert len(got) == 20
        for g in got:
            np.testing.assert_array_equal(g, want)


def test_one_runner_used_by_many_threads_is_serialized(heavy_model):
    runner = tflstm.Runner(heavy_model)
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(1, 400, 8)).astype(np.float32) for _ in range(4)]
    wants = [runner(x) for x in xs]
    errors: list[str] = []

    def worker(k: int) -> None:
        for i in range(6):
            j = (k + i) % len(xs)
            got = runner(xs[j])
            if not np.array_equal(got, wants[j]):
                errors.append(f"thread {k} run {i}: wrong output")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _resident_bytes() -> int:
    """This process's resident memory now (not its peak, which stops growing once TensorFlow
    has been imported)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_one_model_serves_many_runners_in_the_memory_they_report(heavy_model):
    x = np.zeros((1, 8, 8), np.float32)
    before = _resident_bytes()
    runners = [tflstm.Runner(heavy_model) for _ in range(20)]
    for r in runners:
        r(x)  # touch every runner's memory
    grown = _resident_bytes() - before
    # Each runner holds its arenas and the LSTM weights its kernel packed, no other copy of the
    # model; the process grows by what the runners report, not more.
    stats = runners[0].memory
    assert 0 < stats.kernel_weights <= heavy_model.size
    assert stats.total - stats.kernel_weights < heavy_model.size
    assert grown < 20 * stats.total + 4 * heavy_model.size, f"{grown} bytes for 20 runners, {stats}"


def _threads_of_this_process() -> int:
    return len(os.listdir("/proc/self/task"))


def test_num_threads_is_honoured():
    """With num_threads=3, TFLite's kernels start worker threads; with 1 they do not. The model
    has a Conv1D ahead of its LSTM: TFLite's float CONV_2D runs on Eigen's thread pool, while its
    FULLY_CONNECTED at batch 1 stays on one thread on x86 (Eigen's GEMV, as TFLite is built there)
    and tflstm's LSTM kernel is single-threaded."""
    keras = zoo.tf_keras()
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((4, 512)),
            keras.layers.Conv1D(256, 3, padding="same"),
            keras.layers.LSTM(64),
            keras.layers.Dense(8),
        ]
    )
    data = tflstm.Model(tflstm.convert(model, "float32"))
    x = np.ones((1, 4, 512), np.float32)
    base = _threads_of_this_process()
    one = tflstm.Runner(data, num_threads=1)
    y1 = one(x)
    assert _threads_of_this_process() == base
    three = tflstm.Runner(data, num_threads=3)
    y3 = three(x)
    assert _threads_of_this_process() >= base + 2
    np.testing.assert_allclose(y3, y1, atol=1e-5)


def test_a_long_run_can_be_cancelled(heavy_model):
    """Also the proof that a call releases the GIL: the canceller is Python code, so it can only
    reach cancel() while the call runs if the call let go of the GIL (a cancel before the call
    starts is forgotten: each call starts uncancelled)."""
    runner = tflstm.Runner(heavy_model)
    keras = zoo.tf_keras()
    keras.utils.set_random_seed(5)
    # Cancellation is checked between ops: many long ops make a run worth cancelling.
    layers = [keras.Input((None, 8))] + [keras.layers.LSTM(32, return_sequences=True) for _ in range(5)]
    # Converted for short sequences (fast to convert), run on a long one (the runner resizes).
    long_runner = tflstm.Runner(tflstm.Model(tflstm.convert(keras.Sequential(layers), "float32", timesteps=8)))
    x = np.ones((1, 20000, 8), np.float32)
    done = threading.Event()

    def cancel_until_done() -> None:
        while not done.is_set():
            long_runner.cancel()
            time.sleep(0.001)

    canceller = threading.Thread(target=cancel_until_done)
    canceller.start()
    try:
        t0 = time.perf_counter()
        with pytest.raises(tflstm.CancelledError, match="was cancelled"):
            long_runner(x)
        cancelled_after = time.perf_counter() - t0
    finally:
        done.set()
        canceller.join()
    t0 = time.perf_counter()
    assert long_runner(x).shape == (1, 20000, 32)  # works again afterwards
    full = time.perf_counter() - t0
    assert cancelled_after < full / 2
    assert isinstance(tflstm.CancelledError("x"), tflstm.InvokeError)
    runner(np.ones((1, 400, 8), np.float32))  # other runners were never affected


def test_thread_counts_are_bounded_and_cannot_hang_under_an_address_space_limit(tmp_path):
    """num_threads=100000 allocated without bound; num_threads=1000 under a 4 GiB RLIMIT_AS hung
    forever (Eigen's pool waiting for threads whose stacks did not fit). Counts above
    64 (or the core count, when larger) are refused; the largest allowed runs under the limit."""
    keras = zoo.tf_keras()
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [keras.Input((4, 64)), keras.layers.Conv1D(32, 3, padding="same"), keras.layers.LSTM(8), keras.layers.Dense(2)]
    )
    path = tmp_path / "conv.tflite"
    path.write_bytes(tflstm.convert(model, "float32"))
    child = f"""
import resource, sys
import numpy as np
import tflstm
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
model = tflstm.Model({str(path)!r})
for n in (1000, 100000, 2**31):
    try:
        tflstm.Runner(model, num_threads=n)
        sys.exit(f"num_threads={{n}} was accepted")
    except tflstm.InputError as e:
        # 2**31 is no C int (the binding says so); the others are out of the core's range
        want = "an int from -2147483648 to 2147483647" if n >= 2**31 else "-1 (TFLite's choice) or 1 to"
        assert f"num_threads must be {{want}}" in str(e), e
most = max(64, __import__("os").cpu_count() or 1)
y = tflstm.Runner(model, num_threads=most)(np.ones((1, 4, 64), np.float32))
print("ok", most, y.shape)
"""
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok")
