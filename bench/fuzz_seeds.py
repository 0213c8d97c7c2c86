#!/usr/bin/env python3
"""Seed models for the fuzzers: the test suite's Keras LSTMs converted by tflstm.convert in every
mode, and their one-step (streaming) models, written as <out>/<model>_<mode>[_step].tflite; and
files as TensorFlow's own converter writes them for users who convert without tflstm: a Keras 2
GRU (reset_after=False, unrolled: a SPLIT_V with a zero-size output), a dynamic-range Dense
(FULLY_CONNECTED version 12, per-channel weights) and a stateful tf.Module (resource variables).

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
        **own_op_models(keras),
    }
    for name, (model, free_time) in models.items():
        for mode in ("float32", "dynamic", "int8", "float16"):
            rep = tf_models.representative() if mode == "int8" else None
            if rep is not None and len(model.inputs) > 1:
                rep = [rep] * len(model.inputs)
            for step in (False, True) if free_time else (False,):
                try:
                    # A seed's accuracy does not matter (random weights): any that runs is kept.
                    data = tflstm.convert(
                        model, mode, rep, int8_io=mode == "int8", timesteps=1 if step else None, tolerance=float("inf")
                    )
                except tflstm.Error as exc:  # a model the converter refuses in a mode is no seed
                    print(f"skip {name} {mode}{' step' if step else ''}: {exc}", file=sys.stderr)
                    continue
                path = out / f"{name}_{mode}{'_step' if step else ''}.tflite"
                path.write_bytes(data)
                print(path)
    for name, data in tensorflow_files(keras).items():
        path = out / f"tf_{name}.tflite"
        path.write_bytes(data)
        print(path)
    return 0


def own_op_models(keras) -> dict[str, tuple[object, bool]]:
    """Models that convert to tflstm's own recurrent ops (TFLSTM_GRU, with explicit states, and
    TFLSTM_LSTM for gates TFLite's LSTM cannot compute), whose options and operands the fuzzer
    then mutates: a GRU stream, Keras 2's hard_sigmoid LSTM, a GRU seq2seq whose decoder starts
    from the encoder's state."""
    L = keras.layers
    gru = keras.Sequential(
        [keras.Input((None, tf_models.FEATURES)), L.GRU(tf_models.UNITS, reset_after=False), L.Dense(3)]
    )
    hard = keras.Sequential(
        [
            keras.Input((tf_models.TIMESTEPS, tf_models.FEATURES)),
            L.LSTM(tf_models.UNITS, recurrent_activation="hard_sigmoid", return_sequences=True),
            L.Dense(3),
        ]
    )
    enc_in = keras.Input((tf_models.TIMESTEPS, tf_models.FEATURES), name="encoder_in")
    dec_in = keras.Input((tf_models.TIMESTEPS, tf_models.FEATURES), name="decoder_in")
    _, state = L.GRU(tf_models.UNITS, return_state=True)(enc_in)
    h = L.GRU(tf_models.UNITS, return_sequences=True)(dec_in, initial_state=state)
    seq2seq = keras.Model([enc_in, dec_in], L.Dense(3)(h))
    return {"gru": (gru, True), "hard_sigmoid_lstm": (hard, False), "gru_seq2seq": (seq2seq, False)}


def tensorflow_files(keras) -> dict[str, bytes]:
    tf = tf_models.tf()
    gru = keras.Sequential(
        [
            keras.Input((6, tf_models.FEATURES), batch_size=1),
            keras.layers.GRU(tf_models.UNITS, reset_after=False, unroll=True),
            keras.layers.Dense(tf_models.CLASSES),
        ]
    )
    dense = keras.Sequential([keras.Input((64,), batch_size=2), keras.layers.Dense(32), keras.layers.Dense(4)])
    files = {"gru_reset_before": tf.lite.TFLiteConverter.from_keras_model(gru).convert()}
    converter = tf.lite.TFLiteConverter.from_keras_model(dense)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    files["dense_per_channel_dynamic"] = converter.convert()

    class Accumulator(tf.Module):
        def __init__(self) -> None:
            self.total = tf.Variable(tf.zeros([1, tf_models.FEATURES]))

        @tf.function(input_signature=[tf.TensorSpec([1, tf_models.FEATURES], tf.float32)])
        def __call__(self, x):
            y = tf.concat([self.total.read_value(), x], axis=1)
            self.total.assign_add(x)
            return y

    module = Accumulator()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.__call__.get_concrete_function()], module)
    converter.experimental_enable_resource_variables = True
    files["resource_variables"] = converter.convert()
    return files


if __name__ == "__main__":
    sys.exit(main())
