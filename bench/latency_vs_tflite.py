"""Latency of tflstm against tf.lite.Interpreter (TensorFlow from PyPI) on the same LSTM
models, in the same run, reported as ratios. Not a test: numbers depend on the machine.

    python bench/latency_vs_tflite.py [--units 64] [--timesteps 50] [--runs 300]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import tflstm
from tflstm import MODES, convert
from tflstm.profiling import time_calls


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--timesteps", type=int, default=50)
    p.add_argument("--features", type=int, default=6)
    p.add_argument("--runs", type=int, default=300)
    args = p.parse_args()

    from tflstm.converter import tensorflow

    tf = tensorflow()  # imported quietly
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((args.timesteps, args.features), batch_size=1),
            keras.layers.LSTM(args.units),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    rng = np.random.default_rng(0)
    calib = rng.normal(size=(64, args.timesteps, args.features)).astype(np.float32)
    x = rng.normal(size=(1, args.timesteps, args.features)).astype(np.float32)

    print(
        f"LSTM({args.units}) over {args.timesteps} steps x {args.features} features, batch 1, 1 thread, "
        f"{args.runs} runs; tflstm {tflstm.__version__} (TFLite {tflstm.TFLITE_VERSION}, {tflstm.ISA}), "
        f"TensorFlow {tf.__version__}"
    )
    print(
        f"{'mode':<9} {'tflstm med ms':>14} {'p90':>8} {'tf.lite med ms':>15} {'p90':>8} {'ratio':>6}"
        f" {'tf.lite+XNNPACK':>16} {'ratio':>6}"
    )
    for mode in MODES:
        data = convert(model, mode, calib if mode == "int8" else None)
        runner = tflstm.Runner(tflstm.Model(data), num_threads=1)
        ours = time_calls(lambda runner=runner: runner(x), args.runs)
        peers = []
        for resolver in (
            tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            tf.lite.experimental.OpResolverType.AUTO,
        ):
            interp = tf.lite.Interpreter(model_content=data, num_threads=1, experimental_op_resolver_type=resolver)
            interp.allocate_tensors()
            i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]

            def run(interp=interp, i=i, o=o):
                interp.reset_all_variables()  # the same stateless run that tflstm does
                interp.set_tensor(i, x)
                interp.invoke()
                return interp.get_tensor(o)

            peers.append(time_calls(run, args.runs))
        print(
            f"{mode:<9} {ours[0]:>14.3f} {ours[1]:>8.3f} {peers[0][0]:>15.3f} {peers[0][1]:>8.3f} "
            f"{peers[0][0] / ours[0]:>6.2f} {peers[1][0]:>16.3f} {peers[1][0] / ours[0]:>6.2f}"
        )
    print("ratio = peer median / tflstm median (above 1: tflstm is faster)")


if __name__ == "__main__":
    main()
