"""Keras LSTM models built and converted at test time with TensorFlow from PyPI.

The models are written the way users write them, in Keras 3 and in tf_keras; tflstm.convert
rebuilds each into the form the converter fuses.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

TIMESTEPS, FEATURES, UNITS, CLASSES = 12, 3, 16, 4


def tf():
    import tensorflow

    return tensorflow


def build_classifier(seed: int = 0):
    """An LSTM classifier with random (untrained) weights: parity does not need training."""
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(TIMESTEPS, FEATURES), batch_size=1, name="series")
    h = keras.layers.LSTM(UNITS, return_sequences=True)(inputs)
    h = keras.layers.LSTM(UNITS)(h)
    # 16 x 128 weights: above the converter's 1024-element threshold for quantizing a tensor,
    # so dynamic-range mode really gives a hybrid FULLY_CONNECTED.
    h = keras.layers.Dense(128, activation="relu")(h)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="probs")(h)
    return keras.Model(inputs, outputs)


def seed_model(keras, timesteps: int = TIMESTEPS, features: int = FEATURES, units: int = 64, classes: int = 10):
    """The seed's Example 1 as written: no fixed batch size, input_shape on the LSTM."""
    keras.utils.set_random_seed(3)
    return keras.Sequential(
        [
            keras.layers.LSTM(units, input_shape=(timesteps, features)),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )


def stacked_model(keras):
    """Stacked LSTMs returning sequences, with Dropout, and a per-step Dense head."""
    keras.utils.set_random_seed(4)
    return keras.Sequential(
        [
            keras.Input((TIMESTEPS, FEATURES)),
            keras.layers.LSTM(UNITS, return_sequences=True),
            keras.layers.Dropout(0.2),
            keras.layers.LSTM(UNITS, return_sequences=True),
            keras.layers.Dense(2),
        ]
    )


def bidirectional_model(keras):
    keras.utils.set_random_seed(5)
    inputs = keras.Input((TIMESTEPS, FEATURES), name="series")
    h = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True))(inputs)
    h = keras.layers.LSTM(UNITS)(h)
    return keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(h))


def keras3():
    import keras

    assert keras.__version__.startswith("3"), keras.__version__
    return keras


def tf_keras():
    import tf_keras

    return tf_keras


def representative(n: int = 32, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, TIMESTEPS, FEATURES)).astype(np.float32)


def convert(model, mode: str) -> bytes:
    """tflstm.convert's modes (int8 with int8 inputs and outputs), plus TensorFlow's own
    per-channel dynamic-range conversion (FULLY_CONNECTED version 12), and that file with its
    FULLY_CONNECTED marked version 99, a version no runtime has, for the error tests."""
    if mode not in ("dynamic-per-channel", "future-op-version"):
        from tflstm import convert as tflstm_convert

        return tflstm_convert(model, mode, representative() if mode == "int8" else None, int8_io=mode == "int8")
    converter = tf().lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf().lite.Optimize.DEFAULT]
    data = converter.convert()
    if mode == "future-op-version":
        from tensorflow.lite.tools import flatbuffer_utils

        m = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
        for code in m.operatorCodes:
            if max(code.builtinCode, code.deprecatedBuiltinCode) == 9:  # FULLY_CONNECTED
                code.version = 99
        data = bytes(flatbuffer_utils.convert_object_to_bytearray(m))
    return data


def convert_or_refusal(model, mode: str, representative_data=None, **kwargs) -> tuple[bytes, str | None]:
    """tflstm.convert, and when it refuses the model as too far off its Keras source
    (MismatchError), the refusal's message with the model converted at the tolerance that the
    message offers (which must then be accepted)."""
    import re

    import tflstm

    try:
        return tflstm.convert(model, mode, representative_data, **kwargs), None
    except tflstm.MismatchError as e:
        offered = re.search(r"tolerance=([0-9.e+-]+)\)", str(e))
        assert offered, str(e)
        return tflstm.convert(model, mode, representative_data, tolerance=float(offered.group(1)), **kwargs), str(e)


def reference_interpreter(model_bytes: bytes, allocate: bool = True):
    """TensorFlow's own interpreter, with no default delegate, as the numerical reference;
    allocated at the stored shapes unless `allocate` is false (the caller resizes first)."""
    lite = tf().lite
    interp = lite.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    if allocate:
        interp.allocate_tensors()
    return interp


def reference_run(interp, x: np.ndarray) -> np.ndarray:
    """One stateless run: the fused LSTM's state variables start from zero, as in tflstm."""
    interp.reset_all_variables()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])
