"""Reading Keras models (Keras 3 and tf_keras) as graphs, for the rebuild (fusable.py): the
tf_keras module, layer kinds and descriptions, nested structures of tensors, layer configs,
activations as their source computes them, input shapes, and which inputs feed an Embedding."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .errors import UnsupportedLayerError
from .fuse_gru import KERAS3_HARD_SIGMOID


def tf_keras() -> Any:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        import tf_keras as keras
    except ImportError as e:
        raise ImportError("conversion needs tf-keras and TensorFlow: pip install 'tflstm[convert]'") from e
    return keras


def _is_keras3(obj: Any) -> bool:
    import keras as keras3

    return isinstance(obj, keras3.Operation)


def _describe(layer: Any) -> str:
    return f"layer '{getattr(layer, 'name', '?')}' ({type(layer).__name__})"


def _tensor_types() -> tuple[type, ...]:
    import keras as keras3
    from tf_keras.src.engine.keras_tensor import KerasTensor

    return (keras3.KerasTensor, KerasTensor)


def _map(structure: Any, f: Callable[[Any], Any], leaf: tuple[type, ...]) -> Any:
    if isinstance(structure, leaf):
        return f(structure)
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(s, f, leaf) for s in structure)
    if isinstance(structure, dict):
        return {k: _map(v, f, leaf) for k, v in structure.items()}
    return structure


def _flatten(structure: Any, leaf: tuple[type, ...]) -> list[Any]:
    out: list[Any] = []
    _map(structure, out.append, leaf)
    return out


def _is_model(op: Any) -> bool:
    return hasattr(op, "layers") and hasattr(op, "outputs") and hasattr(op, "inputs")


def _activation_name(layer: Any, config: dict[str, Any], key: str) -> str:
    """The activation as the source computes it: hard_sigmoid of a Keras 3 layer is Keras 3's."""
    value = config.get(key, "linear")
    if value is None:
        return "linear"
    if not isinstance(value, str):
        raise UnsupportedLayerError(
            f"{_describe(layer)} uses a custom {key} {value!r}; tflstm converts built-in activations "
            "(e.g. 'tanh', 'sigmoid', 'relu', 'softmax')"
        )
    if value == "hard_sigmoid" and _is_keras3(layer):
        return KERAS3_HARD_SIGMOID
    return value


def _keras3_hard_sigmoid(x: Any) -> Any:
    """keras.activations.hard_sigmoid of Keras 3 on TensorFlow, op for op: relu6(x + 3) / 6."""
    import tensorflow as tf

    return tf.nn.relu6(x + tf.constant(3.0, x.dtype)) / tf.constant(6.0, x.dtype)


def gate_function(name: str) -> Any:
    """What a rebuilt tf_keras layer takes as its activation to compute `name` as its source did:
    the name itself where tf_keras defines it the same way, else the function."""
    return _keras3_hard_sigmoid if name == KERAS3_HARD_SIGMOID else name


def _clean_config(layer: Any, cls: type) -> dict[str, Any]:
    """The layer's config in the form cls (the tf_keras class) takes. Initializers, regularizers
    and constraints do not matter once the weights are copied; any other setting the tf_keras
    class does not know must be at the Keras 3 default, or the copy would compute something else."""
    config = dict(layer.get_config())
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        config["dtype"] = dtype.get("config", {}).get("name", "float32")
    accepted = set(inspect.signature(cls.__init__).parameters) | {"name", "trainable", "dtype"}
    defaults = {k: p.default for k, p in inspect.signature(type(layer).__init__).parameters.items()}
    for key in list(config):
        if key.endswith(("_initializer", "_regularizer", "_constraint")) or key == "seed":
            del config[key]
        elif key not in accepted:
            value = config.pop(key)
            if key in defaults and value != defaults[key] and value not in (None, False, 0):
                raise UnsupportedLayerError(
                    f"{_describe(layer)} sets {key}={value!r}, which tf_keras's {cls.__name__} does not "
                    "have; tflstm cannot rebuild it"
                )
    for key in ("activation", "recurrent_activation"):
        if key in config:
            config[key] = gate_function(_activation_name(layer, config, key))
    return config


Timesteps = int | Mapping[str, int] | None


def _model_classes() -> tuple[type, ...]:
    import keras as keras3

    return (keras3.Model, tf_keras().Model)


def _is_functional(op: Any) -> bool:
    """A model with a graph of layers to walk (functional, Sequential), not Python code."""
    try:
        return _is_model(op) and bool(op.outputs) and bool(op.inputs)
    except AttributeError:  # an unbuilt Sequential
        return False


def _built_input_shapes(model: Any) -> list[Any]:
    """The input shapes a subclassed model was built or first called with (batch axis first),
    one per argument of its call(): a shape, or a list of shapes for an argument that is a list
    of inputs. With the dtypes where tf_keras recorded them (Keras 3 records none): None or one
    per input."""
    shapes = getattr(model, "_build_shapes_dict", None)  # Keras 3
    if shapes:
        return [tuple(s) for s in shapes.values()]
    spec = getattr(model, "_saved_model_inputs_spec", None)  # tf_keras, once called: its first argument
    if spec is not None:
        return [[tuple(s.shape) for s in spec] if isinstance(spec, (list, tuple)) else tuple(spec.shape)]
    shape = getattr(model, "_build_input_shape", None)  # tf_keras, built
    if shape is not None:
        return [tuple(shape)]
    return []


def _called_input_dtypes(model: Any) -> list[str] | None:
    """The dtypes (int32 or float32) of the inputs a tf_keras subclassed model was first called
    with; None when not recorded (Keras 3, or built without a call)."""
    spec = getattr(model, "_saved_model_inputs_spec", None)
    if spec is None:
        return None
    # int32 ids or float32 values, whatever width the first call's arrays had (numpy's float64)
    return ["int32" if s.dtype.is_integer else "float32" for s in (spec if isinstance(spec, (list, tuple)) else [spec])]


def _time_steps(args: Any, leaf: tuple[type, ...]) -> int | None:
    """The static length of a recurrent layer's input (batch, time, ...), None when free."""
    flat = _flatten(args, leaf)
    if not flat or len(tuple(flat[0].shape)) < 2:
        return None
    d = tuple(flat[0].shape)[1]
    return None if d is None else int(d)


def input_shape(model: Any) -> tuple[int | None, ...]:
    """The model's (first) input shape without the batch axis, e.g. (timesteps, features)."""
    shape = tuple(model.inputs[0].shape)[1:]
    return tuple(None if d is None else int(d) for d in shape)


def embedding_inputs(copy: Any) -> dict[int, int]:
    """The inputs of a rebuilt model that feed an Embedding (directly or through layers of one
    input: a cast, a reshape), and the smallest vocabulary each feeds: their values are ids,
    whatever their dtype (a Keras 2 text model's Input is float32)."""
    position = {id(t._keras_history.layer): i for i, t in enumerate(copy.inputs)}
    vocab: dict[int, int] = {}
    for layer in _all_layers(copy):
        if type(layer).__name__ != "Embedding":
            continue
        for node in layer._inbound_nodes:
            ts = _flatten(node.input_tensors, _tensor_types()[1:])
            while len(ts) == 1:
                history = ts[0]._keras_history
                if id(history.layer) in position:
                    i = position[id(history.layer)]
                    vocab[i] = min(vocab.get(i, layer.input_dim), int(layer.input_dim))
                    break
                if type(history.layer).__name__ == "InputLayer":
                    break
                ts = _flatten(history.layer._inbound_nodes[history.node_index].input_tensors, _tensor_types()[1:])
    return vocab


def _all_layers(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out.extend(_all_layers(layer) if _is_model(layer) else [layer])
    return out


def as_list(y: Any) -> list[np.ndarray]:
    """A model's outputs (one, a list, or a dict) as a list of arrays."""
    if isinstance(y, dict):
        return [np.asarray(v) for v in y.values()]
    if isinstance(y, (list, tuple)):
        return [np.asarray(v) for v in y]
    return [np.asarray(y)]
