"""A seq2seq decoder: LSTM(units, return_sequences) started from a given [h, c] (an encoder's
return_state, here model inputs) + Dense(4), teacher-forced over `steps` steps. tflstm.convert
refused such an LSTM before TFLSTM_LSTM's version 2; now it is one fused op. Compared, in one
process and interleaved round by round: tflstm on convert(...) (the fused op), tflstm on
convert(..., portable=True) (the LSTM unrolled into builtin ops), tflstm and tf.lite.Interpreter on
TensorFlow's own conversion of the same tf_keras model (TFLiteConverter.from_keras_model, no
tflstm: what a user without tflstm gets) and on the portable file. Batch 1, 1 thread, a full
sequence per call. Not a test: the figures depend on the machine and its load (printed before
and after).

    python bench/lstm_decoder_state.py [--rounds 15] [--calls 50] [--units 64] [--steps 20]
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
from lstm_peers import measure_full_sequences


def tflite_run(data: bytes, inputs: list[np.ndarray]):
    """tf.lite.Interpreter on `data`, its inputs set by name (h0, c0, target) each call."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_content=data, num_threads=1)
    interp.allocate_tensors()
    details = interp.get_input_details()
    order = [next(d["index"] for d in details if name in d["name"]) for name in ("target", "h0", "c0")]
    out = interp.get_output_details()[0]["index"]

    def run() -> np.ndarray:
        interp.reset_all_variables()
        for i, x in zip(order, inputs, strict=True):
            interp.set_tensor(i, x)
        interp.invoke()
        return interp.get_tensor(out)

    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=50, help="calls per round and runtime")
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    import tensorflow as tf
    import tf_keras as keras

    features, units = 8, args.units
    keras.utils.set_random_seed(0)
    L = keras.layers
    target = keras.Input((args.steps, features), batch_size=1, name="target")
    h0, c0 = keras.Input((units,), batch_size=1, name="h0"), keras.Input((units,), batch_size=1, name="c0")
    y = L.LSTM(units, return_sequences=True, name="decoder")(target, initial_state=[h0, c0])
    model = keras.Model([target, h0, c0], L.Dense(4, name="head")(y))
    rng = np.random.default_rng(1)
    inputs = [
        rng.normal(size=(1, args.steps, features)).astype(np.float32),
        rng.normal(scale=0.5, size=(1, units)).astype(np.float32),
        rng.normal(scale=0.5, size=(1, units)).astype(np.float32),
    ]
    want = np.asarray(model(inputs))
    fused = tflstm.convert(model, "float32")
    unrolled = tflstm.convert(model, "float32", portable=True)
    tf_own = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    ops = {name: sorted({op for op, _ in tflstm.Model(d).ops}) for name, d in (("fused", fused), ("tf", tf_own))}
    print(f"ops: tflstm fused {ops['fused']}; TensorFlow's own conversion {ops['tf']}")
    # TensorFlow makes the graph inputs h0 and c0 the builtin LSTM's variable states; its file
    # orders its inputs by name.
    own = tflstm.Model(tf_own)
    by_name = dict(zip(("target", "h0", "c0"), inputs, strict=True))
    own_inputs = [by_name[next(k for k in by_name if k in t.name)] for t in own.inputs]
    calls = {
        "tflstm, fused (TFLSTM_LSTM v2)": (tflstm.Runner(tflstm.Model(fused)), inputs),
        "tflstm, portable (unrolled)": (tflstm.Runner(tflstm.Model(unrolled)), inputs),
        "tflstm, TensorFlow's own conversion": (tflstm.Runner(own), own_inputs),
    }
    runs = {name: (lambda r=r, xs=xs: r(*xs),) for name, (r, xs) in calls.items()}
    runs["tf.lite, TensorFlow's own conversion"] = (tflite_run(tf_own, inputs),)
    runs["tf.lite, portable (unrolled)"] = (tflite_run(unrolled, inputs),)
    for name, (fn,) in runs.items():
        print(f"{name}: max |output - Keras| = {float(np.max(np.abs(np.asarray(fn()) - want))):.2g}")
    what = (
        f"tflstm {tflstm.__version__} ({tflstm.ISA}), TensorFlow {tf.__version__}; float32, decoder LSTM({units}) "
        f"x {args.steps} steps from given [h, c] + Dense(4), batch 1, 1 thread"
    )
    measure_full_sequences(runs, what, args.rounds, args.calls)


if __name__ == "__main__":
    main()
