"""Main job (interim, until the pipeline tooling lands): train a Keras LSTM, convert it in the
four quantization modes, and run every variant with tflstm's native TFLite runtime.

Data: noisy sine-wave sequences in four frequency bands, generated here (the full pipeline
demo on a recorded dataset replaces this with `tflstm demo`).
"""
from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import tflstm  # noqa: E402
from tflstm.convert import MODES, convert  # noqa: E402

TIMESTEPS, FEATURES, CLASSES = 40, 2, 4


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, CLASSES, size=n)
    t = np.arange(TIMESTEPS)[None, :]
    freq = (0.05 + 0.05 * labels)[:, None] * rng.uniform(0.9, 1.1, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x = np.stack([np.sin(2 * np.pi * freq * t + phase), np.cos(2 * np.pi * freq * t + phase)], axis=-1)
    x += rng.normal(scale=0.3, size=x.shape)
    return x.astype(np.float32), labels


def main() -> int:
    import tf_keras as keras

    rng = np.random.default_rng(0)
    x_train, y_train = make_data(2000, rng)
    x_test, y_test = make_data(400, rng)

    print("== Training a Keras LSTM classifier")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(TIMESTEPS, FEATURES), batch_size=1),
        keras.layers.LSTM(32),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    train_model = keras.Sequential([keras.Input(shape=(TIMESTEPS, FEATURES))] + model.layers)
    train_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_model.fit(x_train, y_train, epochs=4, batch_size=32, verbose=2)
    keras_pred = np.argmax(train_model.predict(x_test, verbose=0), axis=1)
    print(f"Keras test accuracy: {np.mean(keras_pred == y_test):.3f}")

    rows = []
    for mode in MODES:
        print(f"== Converting and running: {mode}", flush=True)
        data = convert(model, mode, x_train[:200] if mode == "int8" else None)
        m = tflstm.Model(data)
        m.check()
        runner = tflstm.Runner(m)
        preds, times = [], []
        for x in x_test:
            t0 = time.perf_counter()
            y = runner(x[np.newaxis])
            times.append(time.perf_counter() - t0)
            preds.append(int(np.argmax(y)))
        preds = np.array(preds)
        stats = runner.arena_stats
        rows.append((mode, len(data), np.mean(preds == y_test), np.mean(preds == keras_pred),
                     1e6 * statistics.median(times), stats.budget, stats.tflite_arena + stats.tflite_persistent))

    header = ("mode", "size (B)", "accuracy", "agrees w/ Keras", "median us", "tflstm arena", "TFLite arena")
    print()
    print("{:<9} {:>9} {:>9} {:>16} {:>10} {:>13} {:>13}".format(*header))
    for r in rows:
        print(f"{r[0]:<9} {r[1]:>9} {r[2]:>9.3f} {r[3]:>16.3f} {r[4]:>10.1f} {r[5]:>13} {r[6]:>13}")
    print(f"\nruntime: TFLite {tflstm.TFLITE_VERSION}, built for {tflstm.ISA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
