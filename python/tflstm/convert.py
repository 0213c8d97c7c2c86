"""Keras model -> TFLite flatbuffer bytes that the linked runtime (TFLite 2.14.1) can run.

TensorFlow is an optional dependency (``pip install tflstm[convert]``), imported only here.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

import numpy as np

MODES = ("float32", "dynamic", "int8", "float16")


def _tensorflow() -> Any:
    # tf_keras (Keras 2) is what converts an LSTM layer into the fused
    # UNIDIRECTIONAL_SEQUENCE_LSTM op; it must be chosen before TensorFlow is imported.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("tflstm.convert needs TensorFlow: pip install 'tflstm[convert]'") from e
    return tf


def _representative(data: np.ndarray | Iterable[Any]) -> Callable[[], Iterable[list[np.ndarray]]]:
    if isinstance(data, np.ndarray):
        samples = data.astype(np.float32)

        def gen() -> Iterable[list[np.ndarray]]:
            for x in samples:
                yield [x[np.newaxis]]

        return gen
    return lambda: ([np.asarray(x, np.float32)] if not isinstance(x, (list, tuple)) else list(x) for x in data)


def convert(
    model: Any,
    mode: str = "float32",
    representative_data: np.ndarray | Iterable[Any] | None = None,
    *,
    int8_io: bool = False,
) -> bytes:
    """Convert a Keras model to TFLite bytes.

    mode: ``float32``; ``dynamic`` (dynamic-range: int8 weights, float activations);
    ``int8`` (full integer; needs ``representative_data``, samples of the model's input
    with the batch axis first; ``int8_io`` makes the inputs and outputs int8 too);
    ``float16`` (float16 weights).
    """
    if mode not in MODES:
        raise ValueError(f"unknown conversion mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "int8" and representative_data is None:
        raise ValueError("int8 conversion needs representative_data: a few hundred input samples "
                         "(batch axis first) to calibrate the activation ranges")
    tf = _tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        converter.representative_dataset = _representative(representative_data)  # type: ignore[arg-type]
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    elif mode == "dynamic":
        # Per-channel dense quantization emits FULLY_CONNECTED version 12, which TFLite 2.14
        # cannot run; per-tensor gives version 9.
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return bytes(converter.convert())
