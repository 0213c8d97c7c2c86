"""Soak: the Python API under a steady mixed load for a long time, with its resident memory
sampled every second. Threads run: own runners whose input shape changes on each call (a
rebuild each time), one runner shared by two threads, streams fed in chunks of random length
with state snapshots and restores, zero-copy views taken and dropped, and runners and models
created and destroyed. Every result is checked against a serial run. After a warm-up (the
first fifth of the time) the resident memory must stay within --max-growth-mb of its level.

    python3 bench/soak.py MODEL.tflite [--seconds 600] [--max-growth-mb 8]

MODEL takes one float32 input [1, time, features] (an LSTM sequence model): e.g. a model of
the demo (python3 -m tflstm demo) or TFLite's test model unidirectional_sequence_lstm.bin.
Prints one line per 10% of the run, then a summary; exits 1 on a wrong result or growth.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import numpy as np

import tflstm


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Load:
    """The shared fixture: the model, the cases and their serial results, the counters."""

    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()
        self.model = tflstm.Model(self.data)
        features = self.model.inputs[0].shape[-1]
        rng = np.random.default_rng(0)
        self.xs = [rng.normal(size=(b, t, features)).astype(np.float32) for b in (1, 2, 3) for t in (1, 7, 30)]
        serial = tflstm.Runner(self.model)
        self.wants = [serial(x) for x in self.xs]
        self.sequence = rng.normal(size=(1, 60, features)).astype(np.float32)
        stream = serial.stream()
        self.step_wants = [stream(self.sequence[:, t : t + 1]) for t in range(60)]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"calls": 0, "stream_steps": 0, "snapshots": 0, "views": 0, "runners": 0}
        self.errors: list[str] = []

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def check(self, got: np.ndarray, want: np.ndarray, what: str) -> None:
        if not np.array_equal(got, want):
            with self.lock:
                self.errors.append(what)


def shapes_worker(load: Load, seed: int, shared: tflstm.Runner | None) -> None:
    rng = np.random.default_rng(seed)
    runner = shared or tflstm.Runner(load.model)
    while not load.stop.is_set():
        i = int(rng.integers(len(load.xs)))
        load.check(runner(load.xs[i]), load.wants[i], f"a call of shape {load.xs[i].shape}")
        load.count("calls")


def stream_worker(load: Load, seed: int) -> None:
    rng = np.random.default_rng(seed)
    runner = tflstm.Runner(load.model)
    stream = runner.stream()
    t = 0
    while not load.stop.is_set():
        n = min(int(rng.integers(1, 9)), 60 - t)
        saved = stream.state if rng.random() < 0.2 else None
        got = stream(load.sequence[:, t : t + n])
        # Stepped one at a time in both: the same bits. A model with a time axis in its output
        # gives every step's output, one without (a classifier) the last step's.
        steps = load.step_wants[t : t + n]
        want = steps[-1] if got.shape == steps[-1].shape else np.concatenate(steps, axis=1)
        load.check(got, want, f"stream steps {t}-{t + n - 1}")
        load.count("stream_steps", n)
        if saved is not None:  # back to before those steps: the next call repeats them
            stream.state = saved
            load.count("snapshots")
            continue
        t += n
        if t == 60:
            stream.reset()
            t = 0


def churn_worker(load: Load, seed: int) -> None:
    """Views taken and dropped; runners and models made and destroyed."""
    rng = np.random.default_rng(seed)
    while not load.stop.is_set():
        model = tflstm.Model(load.data)
        runner = tflstm.Runner(model)
        for _ in range(20):
            i = int(rng.integers(len(load.xs)))
            runner(load.xs[i])
            view = runner.output_view(0)
            load.check(view, load.wants[i], "an output view")
            del view
            load.count("views")
        load.count("runners")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--max-growth-mb", type=float, default=8.0)
    args = p.parse_args()

    load = Load(args.model)
    shared = tflstm.Runner(load.model)
    threads = [
        threading.Thread(target=shapes_worker, args=(load, 1, None)),
        threading.Thread(target=shapes_worker, args=(load, 2, shared)),
        threading.Thread(target=shapes_worker, args=(load, 3, shared)),
        threading.Thread(target=stream_worker, args=(load, 4)),
        threading.Thread(target=stream_worker, args=(load, 5)),
        threading.Thread(target=churn_worker, args=(load, 6)),
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    samples: list[tuple[float, float]] = []
    next_report = 0.1
    while (elapsed := time.monotonic() - t0) < args.seconds and not load.errors:
        time.sleep(1.0)
        samples.append((elapsed, resident_mb()))
        if elapsed >= next_report * args.seconds:
            print(f"soak: {elapsed:6.0f} s  rss {samples[-1][1]:7.1f} MB  {load.counts}", flush=True)
            next_report += 0.1
    load.stop.set()
    for t in threads:
        t.join()

    warm = [mb for s, mb in samples if s >= args.seconds / 5] or [resident_mb()]
    growth = max(warm) - warm[0]
    print(
        f"soak: seconds {elapsed:.0f} rss_after_warmup_mb {warm[0]:.1f} rss_max_mb {max(warm):.1f} "
        f"growth_mb {growth:.1f} errors {len(load.errors)} " + " ".join(f"{k} {v}" for k, v in load.counts.items())
    )
    if load.errors:
        raise SystemExit("soak: wrong results: " + "; ".join(load.errors[:5]))
    if growth > args.max_growth_mb:
        raise SystemExit(f"soak: resident memory grew {growth:.1f} MB after the warm-up (limit {args.max_growth_mb})")


if __name__ == "__main__":
    main()
