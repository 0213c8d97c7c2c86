"""Latency and memory of a .tflite model as Python sees them: load, runner set-up, first run
and steady state of ``runner(x)``, numpy conversions and the GIL hand-off included; the
process's resident memory (Linux) at each stage. Needs numpy only (`tflstm bench`)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._core import InputError, Model, Runner


def sample_times(call: Callable[[], object], runs: int, warmup: int) -> list[float]:
    """Wall times of `runs` calls in seconds, sorted, after `warmup` untimed calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times


def p90(sorted_times: Sequence[float]) -> float:
    return sorted_times[min(len(sorted_times) - 1, int(0.9 * len(sorted_times)))]


def _memory_kb() -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of this process, in KiB."""
    status = Path("/proc/self/status")
    out: dict[str, int] = {}
    if status.is_file():
        for line in status.read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    if "VmHWM" not in out:  # not Linux: peak only
        import resource

        out["VmHWM"] = out["VmRSS"] = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return out


def random_inputs(runner: Runner, seed: int = 0) -> list[np.ndarray]:
    """One input per model input: normal floats, or integers in [-128, 127] that the dtype holds."""
    rng = np.random.default_rng(seed)
    xs = []
    for t in runner.inputs:
        if np.issubdtype(t.dtype, np.floating):
            xs.append(rng.normal(size=t.shape).astype(t.dtype))
        elif np.issubdtype(t.dtype, np.integer):
            info = np.iinfo(t.dtype)
            xs.append(
                rng.integers(max(info.min, -128), min(info.max, 127), size=t.shape, endpoint=True).astype(t.dtype)
            )
        else:
            xs.append(np.zeros(t.shape, t.dtype))
    return xs


def bench(
    model: str | os.PathLike[str] | bytes,
    inputs: Sequence[np.ndarray] | None = None,
    *,
    runs: int = 100,
    warmup: int = 10,
    num_threads: int = 1,
) -> dict[str, Any]:
    """Times `runner(*inputs)` (random inputs by default) and reads memory at each stage.

    Times are in microseconds, memory in bytes: `rss_*` is the process's resident memory after
    each stage, `*_rss_growth_bytes` what the stage added to it, `peak_rss_bytes` its high-water
    mark, and the `arena_bytes` ... `total_bytes` keys are the runner's own accounting."""
    if runs < 1 or warmup < 0:
        raise InputError(f"bench needs runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    before = _memory_kb()
    t0 = time.perf_counter()
    m = Model(model)
    t1 = time.perf_counter()
    after_model = _memory_kb()
    runner = Runner(m, num_threads=num_threads)
    t2 = time.perf_counter()
    after_runner = _memory_kb()
    xs = list(inputs) if inputs is not None else random_inputs(runner)
    t3 = time.perf_counter()
    runner(*xs)
    first = time.perf_counter() - t3
    after_first = _memory_kb()
    times = sample_times(lambda: runner(*xs), runs, warmup)
    after_runs = _memory_kb()
    stats = runner.memory
    us = 1e6
    return {
        "model_bytes": m.size,
        "threads": num_threads,
        "runs": runs,
        "warmup_runs": warmup,
        "load_us": (t1 - t0) * us,
        "runner_us": (t2 - t1) * us,
        "first_inference_us": first * us,
        "median_us": statistics.median(times) * us,
        "p90_us": p90(times) * us,
        "mean_us": statistics.fmean(times) * us,
        "min_us": times[0] * us,
        "arena_bytes": stats.arena.budget,
        "tflite_arena_bytes": stats.tflite_arena,
        "tflite_persistent_bytes": stats.tflite_persistent,
        "kernel_weights_bytes": stats.kernel_weights,
        "total_bytes": stats.total,
        "model_rss_growth_bytes": (after_model["VmRSS"] - before["VmRSS"]) * 1024,
        "runner_rss_growth_bytes": (after_runner["VmRSS"] - after_model["VmRSS"]) * 1024,
        "first_inference_rss_growth_bytes": (after_first["VmRSS"] - after_runner["VmRSS"]) * 1024,
        "runs_rss_growth_bytes": (after_runs["VmRSS"] - after_first["VmRSS"]) * 1024,
        "rss_bytes": after_runs["VmRSS"] * 1024,
        "peak_rss_bytes": after_runs["VmHWM"] * 1024,
    }
