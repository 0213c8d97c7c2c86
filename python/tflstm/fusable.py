"""Rebuilds a Keras sequence model in the form that TFLite's converter fuses.

The converter turns an LSTM layer into the builtin ``UNIDIRECTIONAL_SEQUENCE_LSTM`` only when
the layer is tf_keras's (Keras 2) and the batch size is fixed. A Keras 3 LSTM, or a tf_keras
model with a free batch axis (the usual ``input_shape=(timesteps, features)``), gives a WHILE
loop or fails to convert. So every model is rebuilt here as a tf_keras model with a fixed batch
size and the same weights, layer by layer, and the copy is checked to compute the same thing.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from .errors import UnsupportedLayerError

SUPPORTED = ("LSTM", "Bidirectional(LSTM)", "Dense", "TimeDistributed(Dense)", "Activation", "Flatten",
             "Dropout and other layers that do nothing at inference")
# Layers that are the identity at inference time: they are left out of the copy.
_INFERENCE_IDENTITY = {"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                       "ActivityRegularization"}
_WHY_NOT = {
    "GRU": "TFLite has no fused GRU kernel, so the converter would emit a WHILE loop of small ops",
    "SimpleRNN": "TFLite 2.14's fused RNN op does not match Keras's SimpleRNN, so the converter would "
                 "emit a WHILE loop of small ops",
    "Masking": "masking needs the per-step WHILE loop; pad or trim sequences instead",
    "ConvLSTM1D": "TFLite has no fused ConvLSTM kernel",
    "ConvLSTM2D": "TFLite has no fused ConvLSTM kernel",
}


def tf_keras() -> Any:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        import tf_keras as keras
    except ImportError as e:
        raise ImportError("conversion needs tf-keras and TensorFlow: pip install 'tflstm[convert]'") from e
    return keras


def _activation(layer: Any, key: str) -> str:
    value = layer.get_config().get(key, "linear")
    if value is None:
        return "linear"
    if not isinstance(value, str):
        raise UnsupportedLayerError(
            f"layer '{layer.name}' ({type(layer).__name__}) uses a custom {key} {value!r}; "
            "tflstm converts built-in activations only (e.g. 'tanh', 'sigmoid', 'relu', 'softmax')")
    return value


def _lstm(keras: Any, layer: Any, **overrides: Any) -> Any:
    config = layer.get_config()
    for flag, why in (("return_state", "returns its state as extra outputs"), ("time_major", "is time-major")):
        if config.get(flag):
            raise UnsupportedLayerError(f"LSTM layer '{layer.name}' {why}; tflstm converts LSTM layers "
                                        "that take (batch, time, features) and return only their output")
    return keras.layers.LSTM(
        units=config["units"],
        activation=_activation(layer, "activation"),
        recurrent_activation=_activation(layer, "recurrent_activation"),
        use_bias=config.get("use_bias", True),
        return_sequences=config.get("return_sequences", False),
        go_backwards=config.get("go_backwards", False),
        name=layer.name,
        **overrides,
    )


def _copy_layer(keras: Any, layer: Any) -> Any | None:
    """The tf_keras twin of `layer` (weights set later), or None when it is dropped."""
    kind = type(layer).__name__
    if kind == "InputLayer" or kind in _INFERENCE_IDENTITY:
        return None
    if kind == "LSTM":
        return _lstm(keras, layer)
    if kind == "Bidirectional":
        inner = (layer.forward_layer, layer.backward_layer)
        if any(type(x).__name__ != "LSTM" for x in inner):
            raise UnsupportedLayerError(
                f"layer '{layer.name}' is a Bidirectional {type(layer.forward_layer).__name__}; "
                "tflstm converts Bidirectional(LSTM) only")
        return keras.layers.Bidirectional(
            _lstm(keras, inner[0]),
            backward_layer=_lstm(keras, inner[1]),
            merge_mode=layer.get_config().get("merge_mode", "concat"),
            name=layer.name,
        )
    if kind == "Dense":
        config = layer.get_config()
        return keras.layers.Dense(config["units"], activation=_activation(layer, "activation"),
                                  use_bias=config.get("use_bias", True), name=layer.name)
    if kind == "TimeDistributed" and type(layer.layer).__name__ == "Dense":
        return keras.layers.TimeDistributed(_copy_layer(keras, layer.layer), name=layer.name)
    if kind == "Activation":
        return keras.layers.Activation(_activation(layer, "activation"), name=layer.name)
    if kind == "Flatten":
        return keras.layers.Flatten(name=layer.name)
    why = _WHY_NOT.get(kind, "it has no fused TFLite equivalent that tflstm knows")
    raise UnsupportedLayerError(
        f"layer '{layer.name}' ({kind}) cannot be converted to fused TFLite ops: {why}. "
        f"tflstm converts: {', '.join(SUPPORTED)}")


def _chain(model: Any) -> list[Any]:
    """The model's layers in order; a Sequential or a functional single chain."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedLayerError(
            f"model '{model.name}' has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "tflstm converts single-input, single-output sequence models")
    return list(model.layers)


def input_shape(model: Any) -> tuple[int | None, ...]:
    """The model's input shape without the batch axis, e.g. (timesteps, features)."""
    shape = tuple(model.inputs[0].shape)[1:]
    return tuple(None if d is None else int(d) for d in shape)


def fusable_copy(model: Any, batch_size: int = 1, check: Callable[[Any, Any], None] | None = None,
                 timesteps: int | None = None) -> Any:
    """A tf_keras copy of `model` with a fixed batch size, whose LSTM layers the converter fuses.
    ``timesteps`` overrides the model's sequence length (1 gives the step model of a stream).

    Raises UnsupportedLayerError naming the first layer that cannot be converted, and why.
    """
    keras = tf_keras()
    shape = input_shape(model)
    if timesteps is not None and len(shape) == 2:
        shape = (timesteps, shape[1])
    if len(shape) != 2:
        raise UnsupportedLayerError(
            f"model '{model.name}' takes input of shape {('batch',) + shape}; tflstm converts sequence "
            "models whose input is (batch, timesteps, features)")
    pairs = []
    for layer in _chain(model):
        twin = _copy_layer(keras, layer)
        if twin is not None:
            pairs.append((layer, twin))
    if not any(type(twin).__name__ in ("LSTM", "Bidirectional") for _, twin in pairs):
        raise UnsupportedLayerError(f"model '{model.name}' has no LSTM layer")
    inputs = keras.Input(shape=shape, batch_size=batch_size, name=model.inputs[0].name.split(":")[0])
    h = inputs
    for _, twin in pairs:
        h = twin(h)
    copy = keras.Model(inputs, h, name=model.name)
    for layer, twin in pairs:
        twin.set_weights(layer.get_weights())
    if check is not None:
        check(model, copy)
    return copy


def check_same_outputs(original: Any, copy: Any, seed: int = 0) -> None:
    """The copy must compute what the original computes: this catches a functional model that is
    not a plain chain, or a layer setting the copy does not carry over."""
    shape = tuple(int(d) if d is not None else 8 for d in copy.inputs[0].shape)
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    want = np.asarray(original(x, training=False))
    got = np.asarray(copy(x, training=False))
    if want.shape != got.shape or not np.allclose(want, got, rtol=1e-4, atol=1e-5):
        diff = float(np.max(np.abs(want - got))) if want.shape == got.shape else float("inf")
        raise UnsupportedLayerError(
            f"model '{original.name}' is not a plain chain of supported layers: its layer-by-layer copy "
            f"computes something else (max abs difference {diff:.3g}). tflstm converts Sequential "
            f"models and functional models that are a single chain of: {', '.join(SUPPORTED)}")
