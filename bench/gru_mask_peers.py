"""A padded text GRU (Embedding(mask_zero=True) -> GRU -> Dense, a Keras 3 model) on tflstm's
fused GRU with its mask (tflstm.convert: TFLSTM_GRU options version 3) against
tf.lite.Interpreter on TensorFlow's own conversion of the same Keras model (TFLiteConverter
from the Keras model at the batch's fixed shape: with the mask, TensorFlow writes the GRU as a
WHILE loop), in one process,
interleaved, one thread, a right-padded batch of token ids per call. Both are checked against
Keras first. Not a test: the figures depend on the machine. Measurement: lstm_peers.measure.

    python bench/gru_mask_peers.py [--rounds 7] [--calls 30] [--batch 8] [--time 100] [--units 64]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflstm
from lstm_peers import measure

VOCAB = 1000


def text_gru(units: int, batch: int | None = None, time: int | None = None):
    import keras

    keras.utils.set_random_seed(0)
    ids = keras.Input((time,), batch_size=batch, dtype="int32")
    h = keras.layers.GRU(units)(keras.layers.Embedding(VOCAB, 32, mask_zero=True)(ids))
    return keras.Model(ids, keras.layers.Dense(4)(h))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=30, help="calls per round and peer")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--time", type=int, default=100)
    p.add_argument("--units", type=int, default=64)
    a = p.parse_args()
    import tensorflow as tf

    model = text_gru(a.units)
    rng = np.random.default_rng(1)
    ids = rng.integers(1, VOCAB, size=(a.batch, a.time)).astype(np.int32)
    for row, n in enumerate(rng.integers(a.time // 4, a.time + 1, size=a.batch)):
        ids[row, n:] = 0  # right-padded: lengths from a quarter to all of the steps
    want = np.asarray(model(ids))

    fused = tflstm.Runner(tflstm.Model(tflstm.convert(model, "float32", batch_size=a.batch)))
    calls = {"tflstm fused GRU + mask": lambda: fused(ids)}

    # TensorFlow's own conversion of the same Keras model at the batch's fixed shape (at a free
    # shape it cannot lower the GRU's tensor lists to builtin ops).
    fixed = text_gru(a.units, a.batch, a.time)
    fixed.set_weights(model.get_weights())
    data = tf.lite.TFLiteConverter.from_keras_model(fixed).convert()
    interp = tf.lite.Interpreter(model_content=data, num_threads=1)
    i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    interp.allocate_tensors()

    def tf_lite() -> np.ndarray:
        interp.set_tensor(i, ids)
        interp.invoke()
        return interp.get_tensor(o)

    calls["tf.lite.Interpreter (TensorFlow's conversion)"] = tf_lite
    for name, fn_ in calls.items():
        err = float(np.max(np.abs(fn_() - want)))
        print(f"{name}: {err:.2g} from Keras")
    results = measure({k: (v,) for k, v in calls.items()}, a.rounds, a.calls)
    best = min(r[0] for r in results.values())
    print(
        f"Padded text GRU({a.units}), batch {a.batch} x {a.time} steps, float32, 1 thread; "
        f"median of {a.rounds} rounds x {a.calls} calls"
    )
    print("| runtime | per call (us) | x best |\n|---|---|---|")
    for name, (us,) in results.items():
        print(f"| {name} | {us:.0f} | {us / best:.2f} |")


if __name__ == "__main__":
    main()
