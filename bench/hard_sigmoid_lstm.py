"""A Keras 2 LSTM with its default hard_sigmoid gates, LSTM(64) over 100 steps, before and after
tflstm's fused TFLSTM_LSTM op, in one process, interleaved round by round: tflstm on
convert(..., portable=True) (the LSTM unrolled into builtin ops, fixed length: what convert gave
such an LSTM before the op), tflstm on convert(...) (the fused op), and tf.lite.Interpreter on
the portable model (the fused one is not stock TFLite's). Batch 1, 1 thread, a full sequence per
call. Not a test: the figures depend on the machine and its load (printed before and after).

    python bench/hard_sigmoid_lstm.py [--rounds 15] [--calls 50] [--mode float32|dynamic]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflstm
from lstm_peers import measure_full_sequences, tflite_call


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=50, help="calls per round and runtime")
    p.add_argument("--mode", choices=("float32", "dynamic"), default="float32")
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    args = p.parse_args()
    import tensorflow as tf
    import tf_keras as keras

    features = 8
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((args.steps, features), batch_size=1),
            keras.layers.LSTM(args.units, recurrent_activation="hard_sigmoid"),
            keras.layers.Dense(4),
        ]
    )
    unrolled = tflstm.convert(model, args.mode, portable=True)
    fused = tflstm.convert(model, args.mode)
    x = np.random.default_rng(1).normal(size=(1, args.steps, features)).astype(np.float32)
    runners = {"unrolled": tflstm.Runner(tflstm.Model(unrolled)), "fused": tflstm.Runner(tflstm.Model(fused))}
    want = np.asarray(model(x))
    for name, r in runners.items():
        err = float(np.max(np.abs(r(x) - want)))
        print(f"{name}: max |tflstm - Keras| = {err:.2g}")
    calls = {f"tflstm, {name}": (lambda r=r: r(x),) for name, r in runners.items()}
    calls["tf.lite, unrolled"] = (tflite_call(tf.lite.Interpreter, unrolled, x, reset=True),)
    what = (
        f"tflstm {tflstm.__version__} ({tflstm.ISA}), TensorFlow {tf.__version__}; {args.mode}, "
        f"LSTM({args.units}, hard_sigmoid) x {args.steps} steps + Dense(4), batch 1, 1 thread"
    )
    measure_full_sequences(calls, what, args.rounds, args.calls)


if __name__ == "__main__":
    main()
