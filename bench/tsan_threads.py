"""The Python API's thread contract, run by bench/tsan.sh inside a ThreadSanitizer process
(bench/python_embed.cc) over a TSan build of the extension. TensorFlow is not imported (its
uninstrumented thread pools would drown the report), so the models are TFLite's own test
models. Every result is checked against a serial run; any TSan report fails the process.

    python3 bench/tsan_threads.py TESTDATA_DIR [--rounds N]
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

import tflstm


def _in_threads(work: Callable[[int], None], n: int) -> None:
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def views_against_shape_changes(model: tflstm.Model, rounds: int, errors: list[str]) -> None:
    """Threads hold zero-copy input views while another changes the input's shape: a view
    never outlives the tensor under it (the guard counts it under the runner's lock)."""
    runner = tflstm.Runner(model)
    serial = {b: runner(np.ones((b, 2, 2), np.float32)) for b in (1, 2, 3)}

    def work(k: int) -> None:
        for i in range(rounds):
            if k == 0:
                b = 1 + i % 3
                try:
                    y = runner(np.ones((b, 2, 2), np.float32))
                except tflstm.InputError as e:  # a view is alive: the shape change is refused
                    if "zero-copy view" not in str(e):
                        errors.append(str(e))
                    continue
                if not np.array_equal(y, serial[b]):
                    errors.append(f"batch {b}: other outputs than the serial run")
            else:
                view = runner.input_view(0)
                view[...] = 1.0
                if runner.inputs[0].shape != view.shape:
                    errors.append(f"a live view of shape {view.shape} over {runner.inputs[0].shape}")
                del view

    _in_threads(work, 3)


def shared_and_own_runners(model: tflstm.Model, rounds: int, errors: list[str]) -> None:
    """Threads share one runner (calls are serialized) and have runners of their own."""
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(1 + k % 2, 5 + k, 2)).astype(np.float32) for k in range(4)]
    shared = tflstm.Runner(model)
    wants = [shared(x) for x in xs]

    def work(k: int) -> None:
        own = tflstm.Runner(model)
        for i in range(rounds):
            j = (k + i) % len(xs)
            for r in (shared, own):
                if not np.array_equal(r(xs[j]), wants[j]):
                    errors.append(f"thread {k}: other outputs than the serial run")

    _in_threads(work, 4)


def streams_sharing_a_runner(model: tflstm.Model, rounds: int, errors: list[str]) -> None:
    """Each thread streams its own sequence through its own stream on one shared runner."""
    rng = np.random.default_rng(2)
    runner = tflstm.Runner(model)
    xs = [rng.normal(size=(1, 24, 2)).astype(np.float32) for _ in range(3)]
    wants = [runner(x) for x in xs]

    def work(k: int) -> None:
        stream = runner.stream()
        for _ in range(rounds // 8 + 1):
            got = np.concatenate([stream(xs[k][:, t : t + 6]) for t in range(0, 24, 6)], axis=1)
            if not np.allclose(got, wants[k], atol=1e-6):  # steps one by one: same math, other rounding
                errors.append(f"stream {k}: other outputs than one run over the sequence")
            stream.reset()

    _in_threads(work, 3)


def cancel_while_running(model: tflstm.Model, rounds: int, errors: list[str]) -> None:
    """cancel() from other threads while calls run: a call ends or is cancelled, nothing else."""
    runner = tflstm.Runner(model)
    x = np.ones((1, 2000, 2), np.float32)
    want = runner(x)
    done = threading.Event()

    def work(k: int) -> None:
        if k > 0:
            while not done.is_set():
                runner.cancel()
            return
        for _ in range(rounds // 8 + 1):
            try:
                y = runner(x)
            except tflstm.CancelledError:
                continue
            if not np.array_equal(y, want):
                errors.append("a call that was not cancelled gave other outputs")
        done.set()

    _in_threads(work, 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("testdata", type=Path, help="TFLite's test models (<TFLite prefix>/share/tflstm-tflite/testdata)")
    p.add_argument("--rounds", type=int, default=200)
    args = p.parse_args()
    model = tflstm.Model(args.testdata / "unidirectional_sequence_lstm.bin")
    errors: list[str] = []
    for check in (views_against_shape_changes, shared_and_own_runners, streams_sharing_a_runner, cancel_while_running):
        check(model, args.rounds, errors)
        print(f"tsan_threads: {check.__name__}: {len(errors)} errors so far", flush=True)
    if errors:
        raise SystemExit("tsan_threads: " + "; ".join(errors[:5]))


if __name__ == "__main__":
    main()
