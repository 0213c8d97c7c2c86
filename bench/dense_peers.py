"""TFLite's float FULLY_CONNECTED as tflstm runs it, against tf.lite.Interpreter with its builtin
kernels and with XNNPACK, and ai-edge-litert: a Dense 256 -> 512 -> 512 -> 4 model (the other
float ops of a model, after its LSTM), batch 1, 1 thread, one process, interleaved. The figure
depends on how TFLite was built for tflstm (on x86, NEON_2_SSE's GEMV, ruy or Eigen: see the
README). Not a test: the figures depend on the machine.

    python bench/dense_peers.py [--rounds 9] [--calls 500]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import tflstm
from lstm_peers import measure, tflite_call


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=500, help="calls per round and peer")
    args = p.parse_args()
    import ai_edge_litert.interpreter as litert
    import tensorflow as tf

    keras = tf.keras
    x_in = keras.Input((256,), batch_size=1)
    h = keras.layers.Dense(512, activation="relu")(x_in)
    h = keras.layers.Dense(512, activation="relu")(h)
    model = keras.Model(x_in, keras.layers.Dense(4, activation="softmax")(h))
    data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    x = np.random.default_rng(0).normal(size=(1, 256)).astype(np.float32)
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
    for name, (fn,) in calls.items():  # every peer computes the same function
        err = float(np.max(np.abs(fn() - reference)))
        if err > 1e-5:
            raise SystemExit(f"{name} differs from Keras by {err:g}")
    print(f"tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), TensorFlow {tf.__version__}")
    results = measure(calls, args.rounds, args.calls)
    best = min(r[0] for r in results.values())
    print("| runtime | Dense 256-512-512-4, batch 1 (us) | x best |\n|---|---|---|")
    for name, (t,) in results.items():
        print(f"| {name} | {t:.1f} | {t / best:.2f} |")


if __name__ == "__main__":
    main()
