"""Rebuilds a Keras model (Keras 3 or tf_keras) as a tf_keras model that TFLite's converter
turns into builtin ops, with every LSTM as one fused ``UNIDIRECTIONAL_SEQUENCE_LSTM``.

The converter fuses an LSTM only when the layer is tf_keras's (Keras 2), the batch size is
fixed, and the layer takes its fused ("cuDNN") path: tanh activation, sigmoid gates, a bias,
no recurrent dropout, not unrolled. So the model's functional graph is walked as it is (several
inputs and outputs, shared layers, nested models, merge layers, Keras 3 ops on tensors) and
rebuilt on fixed-batch inputs: each Keras 3 layer becomes the tf_keras layer of the same class
from its config and weights (a tf_keras layer is reused as it is), and each recurrent layer is
put in the form that converts:
- an LSTM without bias gets a zero bias; an LSTM whose cell activation is relu, relu6, sigmoid
  or linear is built with tanh and its fused op's activation is set afterwards (see
  lstm_flatbuffer.py), as TFLite's float and hybrid kernels take that activation as a parameter;
- a GRU or SimpleRNN, which TFLite has no fused kernel for, is unrolled over the fixed number of
  steps into builtin ops;
- a layer tf_keras does not have (a custom layer, a Lambda, a Keras 3 op) runs inside a tf_keras
  layer that holds its weights, which works when its computation traces to builtin TensorFlow ops.
A copy that computes exactly what the original computes is checked on random inputs before
anything is converted.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ConversionError, UnsupportedLayerError

# Cell activations of the fused LSTM op that TFLite's float and hybrid kernels compute
# (tensor_utils::ApplyActivationToVector), as TFLite's ActivationFunctionType codes.
LSTM_ACTIVATIONS = {"linear": 0, "relu": 1, "relu6": 3, "tanh": 4, "sigmoid": 6}
_TANH = LSTM_ACTIVATIONS["tanh"]
_MASK_HELP = (
    "a Keras mask makes every recurrent layer a per-step loop with a data-dependent stop, which "
    "TFLite's fused LSTM cannot express. Remove the mask (Masking, Embedding(mask_zero=True)) and "
    "feed fixed-length windows, or keep the mask out of the exported model and run the shorter "
    "sequence itself: the runtime resizes to any length"
)
# Keyword arguments Keras records on a call that mean nothing to the rebuilt graph.
_CALL_NOISE = ("training",)


@dataclasses.dataclass
class LstmActivation:
    """A fused LSTM whose cell activation is set after conversion, found by its weights."""

    layer: str
    activation: str
    recurrent_output_weights: np.ndarray  # [units, units]: TFLite's recurrent_to_output_weights

    @property
    def code(self) -> int:
        return LSTM_ACTIVATIONS[self.activation]


@dataclasses.dataclass
class Rebuilt:
    model: Any  # the tf_keras model that converts
    lstm_ops: int  # fused LSTM ops the conversion must give (one per direction and call)
    activations: list[LstmActivation]  # fused LSTMs to set a non-tanh cell activation on
    unfused: list[str]  # recurrent layers that become plain builtin ops, described


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
    value = config.get(key, "linear")
    if value is None:
        return "linear"
    if not isinstance(value, str):
        raise UnsupportedLayerError(
            f"{_describe(layer)} uses a custom {key} {value!r}; tflstm converts built-in activations "
            "(e.g. 'tanh', 'sigmoid', 'relu', 'softmax')"
        )
    return value


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
            config[key] = _activation_name(layer, config, key)
    return config


class _Rebuilder:
    def __init__(self, batch_size: int, timesteps: int | None, faithful: bool) -> None:
        self.keras = tf_keras()
        self.batch_size = batch_size
        self.timesteps = timesteps
        # faithful: LSTMs keep their own cell activation (for the check against the original);
        # otherwise they are built with tanh so that they fuse, and listed in self.activations.
        self.faithful = faithful
        self.leaf = _tensor_types()
        self.twins: dict[int, Any] = {}
        self.pending_weights: list[tuple[Any, list[np.ndarray], Any]] = []
        self.recurrent_twins: list[tuple[Any, int]] = []  # (layer called in the graph, fused LSTM ops per call)
        self.activations: list[LstmActivation] = []
        self.unfused: list[str] = []
        self.steps: int | None = None

    # -- the graph ---------------------------------------------------------------------------
    def inputs(self, model: Any) -> list[Any]:
        if not getattr(model, "inputs", None):
            raise ConversionError(
                f"model '{model.name}' has no defined inputs: give it an Input layer "
                "(keras.Input(shape=(timesteps, features))) or build it before converting"
            )
        out = []
        for t in model.inputs:
            shape = [None if d is None else int(d) for d in tuple(t.shape)[1:]]
            if self.timesteps is not None and len(shape) == 2:
                shape[0] = self.timesteps
            if len(shape) >= 2 and self.steps is None:
                self.steps = shape[0]
            op = t._keras_history[0]
            dtype = getattr(t.dtype, "name", t.dtype)
            out.append(self.keras.Input(shape=tuple(shape), batch_size=self.batch_size, name=op.name, dtype=str(dtype)))
        return out

    def graph(self, model: Any, inputs: list[Any]) -> list[Any]:
        if len(inputs) != len(model.inputs):
            raise ConversionError(
                f"model '{model.name}' takes {len(model.inputs)} inputs but is called with {len(inputs)}"
            )
        memo: dict[tuple[int, int], list[Any]] = {}
        known = {id(t): x for t, x in zip(model.inputs, inputs, strict=True)}
        return [self.tensor(t, memo, known) for t in model.outputs]

    def tensor(self, t: Any, memo: dict[tuple[int, int], list[Any]], known: dict[int, Any]) -> Any:
        if id(t) in known:
            return known[id(t)]
        op, node_index, tensor_index = t._keras_history
        key = (id(op), node_index)
        if key not in memo:
            node = op._inbound_nodes[node_index]
            if _is_keras3(op):
                args, kwargs = node.arguments.args, dict(node.arguments.kwargs)
            else:
                args, kwargs = node.call_args, dict(node.call_kwargs)
            args = _map(args, lambda x: self.tensor(x, memo, known), self.leaf)
            kwargs = {
                k: _map(v, lambda x: self.tensor(x, memo, known), self.leaf)
                for k, v in kwargs.items()
                if k not in _CALL_NOISE and not (k == "mask" and v is None)
            }
            if "mask" in kwargs:
                raise UnsupportedLayerError(f"{_describe(op)} is called with a mask: {_MASK_HELP}")
            memo[key] = _flatten(self.call(op, args, kwargs), self.leaf[1:])
        return memo[key][tensor_index]

    def call(self, op: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        if _is_model(op):  # a nested model is inlined, its layers shared with every other call
            flat = _flatten(args, self.leaf[1:])
            outs = self.graph(op, flat)
            return outs[0] if len(outs) == 1 else outs
        twin = self.twin(op)
        try:
            return twin(*args, **kwargs)
        except ConversionError:
            raise
        except Exception as e:
            raise UnsupportedLayerError(f"{_describe(op)} could not be rebuilt in tf_keras: {e}") from e

    # -- layers ------------------------------------------------------------------------------
    def twin(self, layer: Any) -> Any:
        if id(layer) not in self.twins:
            self.twins[id(layer)] = self.make_twin(layer)
        return self.twins[id(layer)]

    def make_twin(self, layer: Any) -> Any:
        kind = type(layer).__name__
        L = self.keras.layers
        if kind == "Masking" or (kind == "Embedding" and layer.get_config().get("mask_zero")):
            raise UnsupportedLayerError(f"{_describe(layer)}: {_MASK_HELP}")
        if kind in ("LSTM", "GRU", "SimpleRNN"):
            return self.recurrent(layer, kind, layer.get_config(), layer.get_weights())
        if kind == "RNN":
            return self.cell_rnn(layer)
        if kind == "Bidirectional":
            return self.bidirectional(layer)
        if kind == "TimeDistributed":
            inner = layer.layer
            if type(inner).__name__ in ("LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional"):
                raise UnsupportedLayerError(
                    f"{_describe(layer)} wraps a recurrent layer; tflstm converts "
                    "recurrent layers over the time axis only"
                )
            if not _is_keras3(layer):
                return layer
            return self.with_weights(L.TimeDistributed(self.twin(inner), name=layer.name), [], None)
        if kind.startswith(("ConvLSTM", "ConvGRU")):
            raise UnsupportedLayerError(
                f"{_describe(layer)}: TFLite has no kernel for convolutional recurrent "
                "layers, and tflstm does not unroll them"
            )
        if not _is_keras3(layer):
            return layer  # a tf_keras layer serves the copy as it is
        cls = getattr(L, kind, None)
        builtin = type(layer).__module__.startswith("keras.src.layers")
        if cls is not None and builtin and kind != "Lambda":
            config = _clean_config(layer, cls)
            try:
                twin = cls.from_config(config)
            except Exception:  # the configs differ (e.g. MultiHeadAttention's): run the Keras 3 layer itself
                return self.traced(layer)
            return self.with_weights(twin, layer.get_weights(), layer)
        return self.traced(layer)

    def with_weights(self, twin: Any, weights: list[np.ndarray], source: Any) -> Any:
        if weights:
            self.pending_weights.append((twin, weights, source))
        return twin

    def traced(self, op: Any) -> Any:
        """A Keras 3 layer or op tf_keras has no class for, called inside a tf_keras layer: it
        runs on TensorFlow tensors, so the converter sees the ops it computes."""
        import tensorflow as tf

        keras = self.keras
        variables = [
            [np.asarray(v.numpy()) for v in getattr(op, kind, [])]
            for kind in ("trainable_variables", "non_trainable_variables")
        ]

        class Traced(keras.layers.Layer):  # type: ignore[misc, name-defined]
            def build(self, input_shape: Any) -> None:
                # The layer's variables as this layer's own weights, which the converter freezes
                # into constants; the Keras 3 layer runs on their values (stateless_call).
                self.values = [
                    [
                        self.add_weight(
                            name=f"w{i}_{j}",
                            shape=v.shape,
                            dtype=str(v.dtype),
                            trainable=False,
                            initializer=keras.initializers.Constant(v),
                        )
                        for j, v in enumerate(group)
                    ]
                    for i, group in enumerate(variables)
                ]
                super().build(input_shape)

            @tf.autograph.experimental.do_not_convert  # plain tensor code: nothing for AutoGraph to do
            def call(self, *args: Any, training: Any = None, **kwargs: Any) -> Any:
                if not any(variables):
                    return op(*args, **kwargs)
                return op.stateless_call(*self.values, *args, **kwargs)[0]

        name = getattr(op, "name", None) or type(op).__name__.lower()
        return Traced(name=f"{name}_traced")

    def recurrent(self, layer: Any, kind: str, config: dict[str, Any], weights: list[np.ndarray]) -> Any:
        """The tf_keras LSTM, GRU or SimpleRNN that converts, from the settings of `layer`."""
        L = self.keras.layers
        for flag, why in (
            ("return_state", "returns its state as extra outputs"),
            ("time_major", "is time-major"),
            ("stateful", ("is stateful (tflstm's Stream carries the state across calls: convert the stateless layer)")),
        ):
            if config.get(flag):
                raise UnsupportedLayerError(
                    f"{_describe(layer)} {why}; tflstm converts recurrent layers that "
                    "take (batch, time, features) and return only their output"
                )
        base = {
            "units": config["units"],
            "use_bias": config.get("use_bias", True),
            "return_sequences": config.get("return_sequences", False),
            "go_backwards": config.get("go_backwards", False),
            "name": layer.name,
        }
        activation = _activation_name(layer, config, "activation")
        if kind == "LSTM":
            recurrent = _activation_name(layer, config, "recurrent_activation")
            if recurrent != "sigmoid":
                raise UnsupportedLayerError(
                    f"{_describe(layer)} uses recurrent_activation '{recurrent}'; TFLite's fused LSTM computes "
                    "sigmoid gates only: retrain with recurrent_activation='sigmoid'"
                )
            if activation not in LSTM_ACTIVATIONS:
                raise UnsupportedLayerError(
                    f"{_describe(layer)} uses activation '{activation}'; TFLite's fused LSTM computes "
                    f"{', '.join(LSTM_ACTIVATIONS)} only"
                )
            units = int(config["units"])
            if not base["use_bias"]:  # the fused path needs a bias: a zero one changes nothing
                weights = [*list(weights), np.zeros(4 * units, np.float32)]
                base["use_bias"] = True
            built_activation = activation if self.faithful else "tanh"
            if activation != "tanh" and not self.faithful:
                rk = np.asarray(weights[1], np.float32)
                self.activations.append(
                    LstmActivation(base["name"], activation, np.ascontiguousarray(rk[:, 3 * units :].T))
                )
            twin = L.LSTM(activation=built_activation, recurrent_activation="sigmoid", **base)
        else:
            if self.steps is None:
                raise UnsupportedLayerError(
                    f"{_describe(layer)}: TFLite has no fused {kind} kernel, so tflstm unrolls it over a fixed "
                    "number of steps; the model's sequence length is free: convert with timesteps=N"
                )
            extra = (
                {
                    "reset_after": config.get("reset_after", True),
                    "recurrent_activation": _activation_name(layer, config, "recurrent_activation"),
                }
                if kind == "GRU"
                else {}
            )
            twin = getattr(L, kind)(activation=activation, unroll=True, **extra, **base)
            self.unfused.append(f"{base['name']} ({kind}, unrolled over {self.steps} steps into builtin ops)")
        self.recurrent_twins.append((twin, 1 if kind == "LSTM" else 0))
        return self.with_weights(twin, weights, layer)

    def cell_rnn(self, layer: Any) -> Any:
        cell = layer.cell
        kind = type(cell).__name__
        if kind not in ("LSTMCell", "GRUCell", "SimpleRNNCell"):
            raise UnsupportedLayerError(
                f"{_describe(layer)} runs a {kind}; tflstm converts RNN(LSTMCell), RNN(GRUCell) and "
                "RNN(SimpleRNNCell); for several cells, stack recurrent layers"
            )
        config = {**cell.get_config(), **{k: v for k, v in layer.get_config().items() if k != "cell"}}
        return self.recurrent(layer, kind[:-4], config, layer.get_weights())

    def bidirectional(self, layer: Any) -> Any:
        halves = []
        for part in (layer.forward_layer, layer.backward_layer):
            kind = type(part).__name__
            if kind == "RNN":
                cell = type(part.cell).__name__
                config = {**part.cell.get_config(), **part.get_config()}
                kind = cell[:-4]
            else:
                config = part.get_config()
            if kind not in ("LSTM", "GRU", "SimpleRNN"):
                raise UnsupportedLayerError(
                    f"{_describe(layer)} wraps a {kind}; tflstm converts Bidirectional LSTM, GRU and SimpleRNN"
                )
            halves.append(self.recurrent(part, kind, config, part.get_weights()))
        # Bidirectional rebuilds both halves from their configs: their weights go to its copies.
        pending = self.pending_weights[-2:]
        del self.pending_weights[-2:]
        del self.recurrent_twins[-2:]
        twin = self.keras.layers.Bidirectional(
            halves[0],
            backward_layer=halves[1],
            merge_mode=layer.get_config().get("merge_mode", "concat"),
            name=layer.name,
        )
        for (_, weights, source), half in zip(pending, (twin.forward_layer, twin.backward_layer), strict=True):
            self.pending_weights.append((half, weights, source))
        self.recurrent_twins.append((twin, 2 if type(halves[0]).__name__ == "LSTM" else 0))
        return twin

    def set_weights(self) -> None:
        for twin, weights, source in self.pending_weights:
            try:
                twin.set_weights(weights)
            except Exception as e:
                raise UnsupportedLayerError(
                    f"{_describe(source)}: its weights do not fit the rebuilt tf_keras layer: {e}"
                ) from e

    def fused_ops(self) -> int:
        """One fused op per LSTM direction and call."""
        return sum(ops * len(twin._inbound_nodes) for twin, ops in self.recurrent_twins)


def input_shape(model: Any) -> tuple[int | None, ...]:
    """The model's (first) input shape without the batch axis, e.g. (timesteps, features)."""
    shape = tuple(model.inputs[0].shape)[1:]
    return tuple(None if d is None else int(d) for d in shape)


def _build(model: Any, batch_size: int, timesteps: int | None, faithful: bool) -> tuple[Any, _Rebuilder]:
    rebuilder = _Rebuilder(batch_size, timesteps, faithful)
    try:
        with warnings.catch_warnings():
            # Reading a layer's config warns about a lambda in it as if it were being saved; a
            # lambda activation is refused by the rebuild, naming the layer.
            warnings.filterwarnings("ignore", message="The object being serialized includes a `lambda`")
            inputs = rebuilder.inputs(model)
            outputs = rebuilder.graph(model, inputs)
        copy = rebuilder.keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=model.name)
        rebuilder.set_weights()
    except ConversionError:
        raise
    except Exception as e:  # anything else Keras raises while walking or rebuilding the graph
        raise ConversionError(
            f"tflstm could not rebuild model '{getattr(model, 'name', '?')}' for conversion: {type(e).__name__}: {e}"
        ) from e
    return copy, rebuilder


def rebuild(model: Any, batch_size: int = 1, timesteps: int | None = None, check: bool = True) -> Rebuilt:
    """The tf_keras model to convert, and what its conversion must contain.

    Raises UnsupportedLayerError naming the first layer that cannot be converted, and why;
    with ``check``, ConversionError when the rebuilt model computes something else."""
    copy, rebuilder = _build(model, batch_size, timesteps, faithful=False)
    if not rebuilder.recurrent_twins:
        raise UnsupportedLayerError(
            f"model '{model.name}' has no LSTM, GRU or SimpleRNN layer; tflstm converts sequence models"
        )
    if check:
        # A model whose inputs fix the sequence length runs only at that length: the check
        # compares a copy at that length (the converted one, e.g. one step, shares its weights).
        fixed = [int(t.shape[1]) for t in model.inputs if len(tuple(t.shape)) == 3 and t.shape[1] is not None]
        check_steps = None if timesteps is not None and any(n != timesteps for n in fixed) else timesteps
        if rebuilder.activations or check_steps != timesteps:
            faithful = _build(model, batch_size, check_steps, faithful=True)[0]
        else:
            faithful = copy
        check_same_outputs(model, faithful)
    return Rebuilt(copy, rebuilder.fused_ops(), rebuilder.activations, rebuilder.unfused)


def sample_inputs(copy: Any, seed: int = 0) -> list[np.ndarray]:
    """Random inputs for each of the copy's inputs: normal floats, and integer ids every
    Embedding layer of the model accepts."""
    rng = np.random.default_rng(seed)
    vocab = [int(layer.input_dim) for layer in _all_layers(copy) if type(layer).__name__ == "Embedding"]
    out = []
    for t in copy.inputs:
        shape = tuple(int(d) if d is not None else 8 for d in t.shape)
        if t.dtype.is_integer:
            out.append(rng.integers(0, min(vocab, default=2), size=shape).astype(t.dtype.as_numpy_dtype))
        else:
            out.append(rng.normal(size=shape).astype(np.float32))
    return out


def _all_layers(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out.extend(_all_layers(layer) if _is_model(layer) else [layer])
    return out


def _as_list(y: Any) -> list[np.ndarray]:
    if isinstance(y, dict):
        return [np.asarray(v) for v in y.values()]
    if isinstance(y, (list, tuple)):
        return [np.asarray(v) for v in y]
    return [np.asarray(y)]


def check_same_outputs(original: Any, copy: Any, seed: int = 0) -> None:
    """The copy must compute what the original computes, on random inputs."""
    xs = sample_inputs(copy, seed)
    try:
        want = _as_list(original(xs if len(xs) > 1 else xs[0], training=False))
    except Exception as e:
        raise ConversionError(
            f"model '{original.name}' cannot run on inputs of shape {[x.shape for x in xs]}: {type(e).__name__}: {e}"
        ) from e
    try:
        got = _as_list(copy(xs if len(xs) > 1 else xs[0], training=False))
    except Exception as e:
        raise ConversionError(
            f"model '{original.name}': its tf_keras rebuild cannot run: {type(e).__name__}: {e}"
        ) from e
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        if w.shape != g.shape or not np.allclose(w, g, rtol=1e-4, atol=1e-5):
            diff = float(np.max(np.abs(w - g))) if w.shape == g.shape else float("inf")
            raise ConversionError(
                f"model '{original.name}': its tf_keras rebuild computes something else at output {i} "
                f"(shape {w.shape} vs {g.shape}, max abs difference {diff:.3g}); a layer setting did not carry "
                "over. Please report the model"
            )
