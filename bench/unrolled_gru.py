"""A GRU unrolled into some 1000 small builtin nodes (FULLY_CONNECTED, SPLIT, SPLIT_V, ADD, MUL,
SUB, LOGISTIC, TANH per step), as tflstm runs every portable model and every int8 GRU, against
tf.lite.Interpreter with XNNPACK (its default: one delegate runs the whole graph), without it
(TFLite's builtin kernels) and ai-edge-litert, on the same .tflite file: the per-node cost of
tflstm's path (TFLite's interpreter loop, tflstm's own kernels and XNNPACK operators per node).
Input((100, 6), batch 1) -> GRU(64) -> Dense(4), tflstm.convert(..., portable=True) in float32
and full-integer int8 (float input and output, calibrated on random samples). One process,
interleaved rounds, 1 thread, the median of single calls. Not a test: the figures depend on the
machine; read the ratio to tf.lite (XNNPACK) of the same run.

    python bench/unrolled_gru.py [--rounds 9] [--calls 200] [--modes float32,int8] [--save DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflstm
from other_ops import check_peers, measure, table, tflite_peers


def gru_dense(keras):
    x_in = keras.Input((100, 6), batch_size=1)
    return keras.Model(x_in, keras.layers.Dense(4)(keras.layers.GRU(64)(x_in)), name="gru_unrolled")


def converted(mode: str):
    """(Keras model, its unrolled .tflite in `mode`, one input)."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = gru_dense(tf.keras)
    rng = np.random.default_rng(0)
    sample = rng.normal(size=(64, 100, 6)).astype(np.float32)
    data = tflstm.convert(model, mode, representative_data=sample if mode == "int8" else None, portable=True)
    return model, bytes(data), sample[:1].copy()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=200, help="calls per round and peer")
    p.add_argument("--modes", default="float32,int8", help="comma-separated: float32, int8")
    p.add_argument("--save", metavar="DIR", help="write each converted model there")
    args = p.parse_args()
    import tensorflow as tf

    print(
        f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}; "
        f"batch 1, 1 thread, median of {args.rounds} rounds x {args.calls} single calls, interleaved; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    for mode in args.modes.split(","):
        model, data, x = converted(mode)
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            (Path(args.save) / f"gru_unrolled_{mode}.tflite").write_bytes(data)
        calls = tflite_peers(data, x)
        check_peers(calls, model.predict(x, verbose=0), 1e-4 if mode == "float32" else 0.1, f"the {mode} GRU")
        builtin = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        plain = tf.lite.Interpreter(model_content=data, experimental_op_resolver_type=builtin)
        ops = Counter(d["op_name"] for d in plain._get_ops_details())
        nodes = sum(ops.values())
        print()
        title = f"gru_unrolled {mode} ({nodes} nodes: " + ", ".join(f"{op} {n}" for op, n in ops.most_common()) + "):"
        print(table(title, measure(calls, args.rounds, args.calls)))


if __name__ == "__main__":
    main()
