"""TFLite's FULLY_CONNECTED as tflstm runs it, against tf.lite.Interpreter with its builtin
kernels and with XNNPACK, and ai-edge-litert: a Dense 256 -> 512 -> 512 -> 4 model (the other
ops of a model, after its LSTM), batch 1, 1 thread, one process, interleaved; float32, or
converted as tflstm.convert does to dynamic-range or full-integer form (--mode). The figure depends
on how TFLite was built for tflstm (on x86, Eigen and ruy rather than NEON_2_SSE's GEMV: see the
README). Not a test: the figures depend on the machine.

    python bench/dense_peers.py [--rounds 9] [--calls 500] [--mode float32|dynamic|int8]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import tflstm
from lstm_peers import measure, tflite_call


def tflite_model(model, mode: str, sample: np.ndarray) -> bytes:
    """The model converted as tflstm.convert converts the layers after an LSTM (which it needs)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "dynamic":
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    if mode == "int8":
        converter.representative_dataset = lambda: ([row[None]] for row in sample)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(converter.convert())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=500, help="calls per round and peer")
    p.add_argument("--mode", choices=("float32", "dynamic", "int8"), default="float32", help="the model's conversion")
    args = p.parse_args()
    import ai_edge_litert.interpreter as litert
    import tensorflow as tf

    keras = tf.keras
    x_in = keras.Input((256,), batch_size=1)
    h = keras.layers.Dense(512, activation="relu")(x_in)
    h = keras.layers.Dense(512, activation="relu")(h)
    model = keras.Model(x_in, keras.layers.Dense(4, activation="softmax")(h))
    rng = np.random.default_rng(0)
    sample = rng.normal(size=(256, 256)).astype(np.float32)
    data = tflite_model(model, args.mode, sample)
    x = rng.normal(size=(1, 256)).astype(np.float32)
    runner = tflstm.Runner(tflstm.Model(data))
    builtin = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES

    def without_delegates(**kw):
        return tf.lite.Interpreter(**kw, experimental_op_resolver_type=builtin)

    calls = {
        "tflstm": (lambda: runner(x),),
        "tf.lite.Interpreter, builtin kernels": (tflite_call(without_delegates, data, x, reset=False),),
        "tf.lite.Interpreter, XNNPACK": (tflite_call(tf.lite.Interpreter, data, x, reset=False),),
        "ai-edge-litert": (tflite_call(litert.Interpreter, data, x, reset=False),),
    }
    reference = model.predict(x, verbose=0)
    tolerance = 1e-5 if args.mode == "float32" else 0.05  # quantized: the quantization's error
    for name, (fn,) in calls.items():  # every peer computes the same function
        err = float(np.max(np.abs(fn() - reference)))
        if err > tolerance:
            raise SystemExit(f"{name} differs from Keras by {err:g}")
    print(
        f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}; "
        f"{args.mode}, median of {args.rounds} rounds x {args.calls} calls"
    )
    results = measure(calls, args.rounds, args.calls)
    best = min(r[0] for r in results.values())
    print(f"| runtime | Dense 256-512-512-4 {args.mode}, batch 1 (us) | x best |\n|---|---|---|")
    for name, (t,) in results.items():
        print(f"| {name} | {t:.1f} | {t / best:.2f} |")


if __name__ == "__main__":
    main()
