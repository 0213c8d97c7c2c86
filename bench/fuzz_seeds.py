#!/usr/bin/env python3
"""Seed models for the fuzzers: the test suite's Keras LSTMs converted by tflstm.convert in every
mode, and their one-step (streaming) models, written as <out>/<model>_<mode>[_step].tflite.

    python3 bench/fuzz_seeds.py OUT_DIR

Needs tflstm importable and TensorFlow (the `convert` extra). Nothing is committed: bench/fuzz.sh
generates these into its output folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))

import tf_models


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    import tflstm

    keras = tf_models.tf_keras()
    keras.utils.set_random_seed(6)
    # A step model needs a free time axis to export; the others have a fixed one.
    streaming = keras.Sequential(
        [
            keras.Input((None, tf_models.FEATURES)),
            keras.layers.LSTM(tf_models.UNITS, return_sequences=True),
            keras.layers.LSTM(tf_models.UNITS),
            keras.layers.Dense(tf_models.CLASSES),
        ]
    )
    models = {
        "classifier": (tf_models.build_classifier(), False),
        "stacked": (tf_models.stacked_model(keras), False),
        "bidirectional": (tf_models.bidirectional_model(keras), False),
        "streaming": (streaming, True),
    }
    for name, (model, free_time) in models.items():
        for mode in ("float32", "dynamic", "int8", "float16"):
            rep = tf_models.representative() if mode == "int8" else None
            for step in (False, True) if free_time else (False,):
                try:
                    data = tflstm.convert(model, mode, rep, int8_io=mode == "int8", timesteps=1 if step else None)
                except tflstm.Error as exc:  # a model the converter refuses in a mode is no seed
                    print(f"skip {name} {mode}{' step' if step else ''}: {exc}", file=sys.stderr)
                    continue
                path = out / f"{name}_{mode}{'_step' if step else ''}.tflite"
                path.write_bytes(data)
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
