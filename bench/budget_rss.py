"""Does arena_bytes bound what a runner makes the process grow by? Each case runs in a fresh
child process: it loads the model and makes its input (the baseline), then makes a Runner with
a budget and calls it once; the child reports its resident memory before, its peak (VmHWM, reset
after the baseline) and what the runner says it holds. Growth = peak - baseline; the claim is growth <= budget + C,
C a constant of the process (TFLite's interpreter objects, thread stacks, numpy's output).

    python3 bench/budget_rss.py [--big-gb 4] [--long-steps 100000]

Cases (models converted with TensorFlow once, cached in ~/.cache/tflstm/bench):
  tile: y = mean(t * (t + 1)) with t = tile(x [1, 4], [1, n]), a plan of --big-gb GB in TFLite's
        arena, with a budget of 64 MiB (refused) and with a budget of exactly its plan (runs);
  lstm: LSTM(128, return_sequences) -> LSTM(128) -> Dense(4) over [1, --long-steps, 8], with a
        budget of 64 MiB, and with exactly its plan.
Prints one line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CACHE = Path(os.environ.get("TFLSTM_CACHE") or Path.home() / ".cache" / "tflstm") / "bench"


def status_mb(key: str) -> float:
    """VmRSS (resident now) or VmHWM (its peak since exec, or since reset_peak()) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current resident size


def tile_model(n: int) -> bytes:
    """y = mean(t * (t + 1)), t = tile(x [1, 4], [1, n]): three tensors of 16 n bytes alive at the
    multiplication, all in TFLite's arena (each under the validator's 2 GiB per tensor)."""
    path = CACHE / f"tile_mul_{n}.tflite"
    if not path.exists():
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
        def f(x):
            t = tf.tile(x, [1, n])
            return tf.reduce_mean(t * (t + 1.0))

        converter = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()])
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(converter.convert())
    return path.read_bytes()


def lstm_model() -> bytes:
    path = CACHE / "lstm128x2.tflite"
    if not path.exists():
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        import tf_keras as keras

        import tflstm

        keras.utils.set_random_seed(0)
        m = keras.Sequential(
            [
                keras.Input((100, 8), batch_size=1),
                keras.layers.LSTM(128, return_sequences=True),
                keras.layers.LSTM(128),
                keras.layers.Dense(4),
            ]
        )
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tflstm.convert(m, "float32"))
    return path.read_bytes()


def child(spec: dict) -> dict:
    import numpy as np

    import tflstm

    model = tflstm.Model(Path(spec["model"]))
    x = np.random.default_rng(0).normal(size=spec["shape"]).astype(np.float32)
    plan = None
    if spec["budget"] == "plan":
        plan = tflstm.Runner(model).memory_plan([spec["shape"]]).total
    budget = plan if plan is not None else spec["budget"]
    import gc

    gc.collect()
    before = status_mb("VmRSS")
    reset_peak()
    out: dict = {"budget_mb": budget / 2**20, "baseline_mb": before}
    try:
        runner = tflstm.Runner(model, arena_bytes=budget, input_shapes=[spec["shape"]])
        runner(x)
        out["held_mb"] = runner.memory.total / 2**20
        out["result"] = "ran"
    except tflstm.ArenaExhaustedError as e:
        out["result"] = "refused: " + str(e)[:160]
    out["peak_mb"] = status_mb("VmHWM")
    out["growth_mb"] = out["peak_mb"] - before
    return out


def run_case(name: str, model: bytes, shape: list[int], budget) -> None:
    path = CACHE / f"{name}.tflite"
    path.write_bytes(model)
    spec = {"model": str(path), "shape": shape, "budget": budget}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        print(f"{name}: child failed ({proc.returncode}): {proc.stderr[-800:]}")
        return
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    held = f", runner holds {r['held_mb']:.1f} MiB" if "held_mb" in r else ""
    print(
        f"{name:<12} budget {r['budget_mb']:9.1f} MiB: {r['result'][:110]}; "
        f"growth {r['growth_mb']:8.1f} MiB (baseline {r['baseline_mb']:.0f}, peak {r['peak_mb']:.0f}){held}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child")
    parser.add_argument("--big-gb", type=float, default=4)
    parser.add_argument("--long-steps", type=int, default=100000)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    n = int(args.big_gb * 2**30 / 3 / 16)
    tile = tile_model(n)
    lstm = lstm_model()
    long_shape = [1, args.long_steps, 8]
    run_case("tile", tile, [1, 4], 64 * 2**20)
    run_case("tile", tile, [1, 4], "plan")
    run_case("lstm-long", lstm, long_shape, 64 * 2**20)
    run_case("lstm-long", lstm, long_shape, "plan")


if __name__ == "__main__":
    main()
