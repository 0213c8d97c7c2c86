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
- a GRU (and a Bidirectional GRU) whose activations tflstm's fused GRU computes becomes a
  placeholder (gru_stand_ins.py) that the converter's output then has replaced by the
  TFLSTM_GRU custom op (fuse_gru.py), unless the conversion is portable (stock TFLite only);
- any other GRU, a SimpleRNN, which TFLite has no fused kernel for, and an LSTM whose gates are
  not sigmoid (Keras 2's hard_sigmoid) or whose cell activation the fused op does not compute,
  are unrolled over the fixed number of steps into builtin ops, each gate function computed as
  its source Keras defines it (see gate_function);
- a subclassed model's call() runs on the rebuilt layers (its own Python code, tf_keras twins in
  place of its layers);
- a layer tf_keras does not have (a custom layer, a Lambda, a Keras 3 op) runs inside a tf_keras
  layer that holds its weights, which works when its computation traces to builtin TensorFlow ops.
A copy that computes exactly what the original computes is checked on random inputs before
anything is converted.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import gru_stand_ins
from .errors import ConversionError, UnsupportedLayerError
from .fuse_gru import KERAS3_HARD_SIGMOID, GruSpec

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
# Activations whose definition differs between tf_keras (Keras 2) and Keras 3 (KERAS3_HARD_SIGMOID):
# the rebuilt layer computes the source's. Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6.
# Keyword arguments Keras records on a call that mean nothing to the rebuilt graph.
_CALL_NOISE = ("training",)


@dataclasses.dataclass
class FusedLstm:
    """An LSTM layer (one direction) that becomes a fused op, found in the converted flatbuffer
    by its weights (lstm_flatbuffer.find_layer) to set what the converter does not write."""

    layer: str
    activation: str  # its cell activation, set on the op after conversion when not tanh
    recurrent_output_weights: np.ndarray  # [units, units]: TFLite's recurrent_to_output_weights

    @property
    def code(self) -> int:
        return LSTM_ACTIVATIONS[self.activation]


@dataclasses.dataclass
class Rebuilt:
    model: Any  # the tf_keras model that converts
    lstm_ops: int  # fused LSTM ops the conversion must give (one per direction and call)
    lstms: list[FusedLstm]  # every fused LSTM direction
    unfused: list[str]  # recurrent layers that become plain builtin ops, described
    input_names: list[str]  # the source model's inputs and outputs, in its order
    output_names: list[str]
    time_axes: list[int | None]  # each input's time axis (batch axis not counted), None for static features
    free_axes: list[int | None]  # the time axis where the source model's length is free
    source_lengths: list[int | None]  # the source's fixed length on the time axis (None: free or none)
    grus: dict[int, GruSpec] = dataclasses.field(default_factory=dict)  # placeholder index -> the GRU it stands for
    gru_ops: int = 0  # TFLSTM_GRU ops the emission must give (one per direction and call)

    @property
    def activations(self) -> list[FusedLstm]:
        """Fused LSTMs to set a non-tanh cell activation on."""
        return [lstm for lstm in self.lstms if lstm.activation != "tanh"]


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


def _built_input_shapes(model: Any) -> list[tuple[int | None, ...]]:
    """The input shapes a subclassed model was built or first called with (batch axis first)."""
    shapes = getattr(model, "_build_shapes_dict", None)  # Keras 3
    if shapes:
        return [tuple(s) for s in shapes.values()]
    spec = getattr(model, "_saved_model_inputs_spec", None)  # tf_keras, once called
    if spec is not None:
        return [tuple(s.shape) for s in (spec if isinstance(spec, (list, tuple)) else [spec])]
    shape = getattr(model, "_build_input_shape", None)  # tf_keras, built
    if shape is not None:
        return [tuple(shape)]
    return []


def _time_steps(args: Any, leaf: tuple[type, ...]) -> int | None:
    """The static length of a recurrent layer's input (batch, time, ...), None when free."""
    flat = _flatten(args, leaf)
    if not flat or len(tuple(flat[0].shape)) < 2:
        return None
    d = tuple(flat[0].shape)[1]
    return None if d is None else int(d)


class _Twins:
    """Stands in for `self` in a subclassed model's call(): its layers, models and methods are
    those of the rebuilt graph (tf_keras twins), its other attributes its own."""

    def __init__(self, model: Any, rebuilder: _Rebuilder) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_rebuilder", rebuilder)

    def __getattr__(self, name: str) -> Any:
        model, rebuilder = self._model, self._rebuilder
        method = getattr(type(model), name, None)
        if inspect.isfunction(method):  # a helper method calls the twins too
            return types.MethodType(method, self)
        return rebuilder.swapped(getattr(model, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise UnsupportedLayerError(
            f"model '{self._model.name}' sets attribute '{name}' in call(); tflstm converts a call() "
            "that computes its outputs from its inputs and layers"
        )


class _Rebuilder:
    def __init__(self, batch_size: int, timesteps: Timesteps, faithful: bool, fuse_grus: bool = False) -> None:
        self.keras = tf_keras()
        self.batch_size = batch_size
        self.timesteps = timesteps
        # faithful: LSTMs keep their own cell activation (for the check against the original);
        # otherwise they are built with tanh so that they fuse, and listed in self.lstms.
        self.faithful = faithful
        # fuse_grus: GRUs the fused op computes become placeholders (as real GRUs when faithful).
        self.gru = gru_stand_ins.GruStandIns(fuse_grus)
        self.given_state = False  # the layer being rebuilt is called with a state from other layers
        self.leaf = _tensor_types()
        self.twins: dict[int, Any] = {}
        self.pending_weights: list[tuple[Any, list[np.ndarray], Any]] = []
        self.recurrent_twins: list[tuple[Any, int]] = []  # (layer called in the graph, fused LSTM ops per call)
        self.lstms: list[FusedLstm] = []
        self.unfused: list[str] = []
        self.steps: int | None = None  # the static length of the recurrent layer being rebuilt
        self.resized = False  # timesteps changed an input's fixed length
        self.input_names: list[str] = []
        self.time_axes: list[int | None] = []
        self.free_axes: list[int | None] = []
        self.source_lengths: list[int | None] = []

    # -- the graph ---------------------------------------------------------------------------
    def _timesteps_for(self, name: str) -> int | None:
        if isinstance(self.timesteps, Mapping):
            return self.timesteps.get(name)
        return self.timesteps

    def input_specs(self, model: Any) -> list[tuple[str, list[int | None], str]]:
        """(name, shape without the batch axis, dtype) of each input, in the model's order."""
        if _is_functional(model):
            return [
                (t._keras_history[0].name, list(tuple(t.shape)[1:]), str(getattr(t.dtype, "name", t.dtype)))
                for t in model.inputs
            ]
        shapes = _built_input_shapes(model) if isinstance(model, _model_classes()) else []
        if not shapes:
            raise ConversionError(
                f"model '{model.name}' has no defined inputs: give it an Input layer "
                "(keras.Input(shape=(timesteps, features))), or build it (model.build((None, timesteps, "
                "features)), or call it on a batch) before converting"
            )
        if len(shapes) > 1:
            raise ConversionError(
                f"subclassed model '{model.name}' takes {len(shapes)} inputs: call it on keras.Input "
                "tensors in a functional model (keras.Model(inputs, model(inputs))) and convert that"
            )
        params = list(inspect.signature(type(model).call).parameters)  # (self, inputs, ...)
        name = params[1] if len(params) > 1 else "inputs"
        return [(name, list(shapes[0][1:]), "float32")]

    def inputs(self, model: Any) -> list[Any]:
        out = []
        names = list(self.timesteps) if isinstance(self.timesteps, Mapping) else []
        specs = self.input_specs(model)
        unknown = sorted(set(names) - {n for n, _, _ in specs})
        if unknown:
            raise ConversionError(
                f"timesteps names inputs {unknown}; the model's inputs are {[n for n, _, _ in specs]}"
            )
        for name, dims, dtype in specs:
            shape = [None if d is None else int(d) for d in dims]
            steps = self._timesteps_for(name)
            # timesteps sets an input's time axis: its first free axis, or the first axis of a
            # fixed-length sequence (e.g. the one-step model for streaming); a fixed vector of
            # static features has none.
            axis = next((i for i, d in enumerate(shape) if d is None), 0 if len(shape) >= 2 else None)
            self.time_axes.append(axis)
            self.free_axes.append(axis if axis is not None and shape[axis] is None else None)
            self.source_lengths.append(shape[axis] if axis is not None else None)
            if steps is not None and axis is not None:
                self.resized = self.resized or shape[axis] not in (None, steps)
                shape[axis] = steps
            self.input_names.append(name)
            out.append(self.keras.Input(shape=tuple(shape), batch_size=self.batch_size, name=name, dtype=dtype))
        return out

    def graph(self, model: Any, inputs: list[Any]) -> list[Any]:
        if not _is_functional(model):
            outs = self.subclassed(model, inputs if len(inputs) > 1 else inputs[0], {})
            return _flatten(outs, self.leaf[1:])
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
            kwargs = {k: _map(v, lambda x: self.tensor(x, memo, known), self.leaf) for k, v in kwargs.items()}
            memo[key] = _flatten(self.call(op, args, kwargs), self.leaf[1:])
        return memo[key][tensor_index]

    def call(self, op: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        """`op` called on rebuilt tensors: a layer's twin, a model inlined or run."""
        kwargs = {k: v for k, v in kwargs.items() if k not in _CALL_NOISE and not (k == "mask" and v is None)}
        if "mask" in kwargs:
            raise UnsupportedLayerError(f"{_describe(op)} is called with a mask: {_MASK_HELP}")
        if _is_functional(op):  # a nested model is inlined, its layers shared with every other call
            flat = _flatten(args, self.leaf[1:])
            outs = self.graph(op, flat)
            return outs[0] if len(outs) == 1 else outs
        if isinstance(op, _model_classes()):
            return self.subclassed(op, args[0] if len(args) == 1 else args, kwargs)
        self.given_state = self.refuse_given_state(op, args, kwargs)
        self.steps = _time_steps(args, self.leaf[1:])
        twin = self.twin(op)
        try:
            return twin(*args, **kwargs)
        except ConversionError:
            raise
        except Exception as e:
            raise UnsupportedLayerError(f"{_describe(op)} could not be rebuilt in tf_keras: {e}") from e

    def refuse_given_state(self, op: Any, args: Any, kwargs: dict[str, Any]) -> bool:
        """An LSTM's state computed by other layers: TFLite's fused LSTM takes its state from
        its own variables only (the fused form that takes it is the recurrent kernels' work).
        True for another layer called with a state (a GRU so called is not fused)."""
        kind = type(op).__name__
        if kind == "RNN":
            kind = type(op.cell).__name__[:-4]
        elif kind == "Bidirectional":
            kind = type(op.forward_layer).__name__
        state = _flatten([kwargs.get("initial_state"), *_flatten(args, self.leaf[1:])[1:]], self.leaf[1:])
        if kind != "LSTM":
            return bool(state)
        if state:
            raise UnsupportedLayerError(
                f"{_describe(op)} takes its initial_state from other layers; TFLite's fused LSTM starts from "
                "its own state (zero, or what a tflstm Stream carries). Convert the LSTM without "
                "initial_state, or run the layers that compute the state as a separate model and feed "
                "their result to a Stream's state"
            )

    def subclassed(self, model: Any, inputs: Any, kwargs: dict[str, Any]) -> Any:
        """A subclassed model's call() run on rebuilt tensors, with the twins of its layers."""
        try:
            return type(model).call(_Twins(model, self), inputs, **kwargs)
        except ConversionError:
            raise
        except Exception as e:
            raise UnsupportedLayerError(
                f"subclassed model '{model.name}' ({type(model).__name__}): its call() could not run on the "
                f"rebuilt tf_keras layers: {type(e).__name__}: {e}"
            ) from e

    def swapped(self, value: Any) -> Any:
        """An attribute of a subclassed model as its call() sees it in the rebuilt graph."""
        import keras as keras3

        if isinstance(value, (keras3.Operation, self.keras.layers.Layer)):
            return lambda *args, **kwargs: self.call(value, args, kwargs)
        if isinstance(value, keras3.Variable):
            return np.asarray(value.numpy())
        if isinstance(value, (list, tuple)):
            return type(value)(self.swapped(v) for v in value)
        if isinstance(value, dict):
            return {k: self.swapped(v) for k, v in value.items()}
        return value

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
        gate = _activation_name(layer, config, "recurrent_activation") if kind != "SimpleRNN" else None
        spec = None if self.given_state else self.gru.spec(layer.name, kind, config, weights, activation, gate)
        if kind == "LSTM" and gate == "sigmoid" and activation in LSTM_ACTIVATIONS:
            # stateful=True converts too: the fused op keeps its state in variable tensors, which a
            # runner's Stream carries from one call to the next as the stateful layer does.
            twin, weights = self.fused_lstm(base, activation, weights)
        elif spec is not None and not self.faithful:
            return self.gru.placeholder(spec)
        elif spec is not None:  # the GRU itself, for the check against the source
            twin = L.GRU(
                activation=gate_function(activation),
                recurrent_activation=gate_function(gate),
                reset_after=spec.reset_after,
                **base,
            )
            self.recurrent_twins.append((twin, 0))
        elif config.get("stateful"):
            raise UnsupportedLayerError(
                f"{_describe(layer)} is stateful, but {self.unfused_reason(kind, gate, activation)}: unrolled "
                "into builtin ops it would keep no state between calls. Convert the layer with stateful=False "
                "and feed each call the whole sequence"
            )
        else:
            # No fused kernel computes it in stock TFLite: plain builtin ops, one step after another.
            # A fused form with another gate function (a tflstm op) would be chosen here, built
            # with sigmoid gates so that it fuses and its gate set on the op after conversion, as
            # fused_lstm does for the cell activation.
            if self.steps is None:
                fixed = "" if self.timesteps is None else f" after timesteps={self.timesteps!r}"
                raise UnsupportedLayerError(
                    f"{_describe(layer)}: {self.unfused_reason(kind, gate, activation)}, so tflstm unrolls it "
                    f"over a fixed number of steps; the sequence length reaching it is free{fixed}: convert with "
                    "timesteps=N (or a dict {input name: N} for each input with a free time axis)"
                )
            extra = {"recurrent_activation": gate_function(gate)} if gate is not None else {}
            if kind == "GRU":
                extra["reset_after"] = config.get("reset_after", True)
                if not extra["reset_after"]:
                    # The same GRU computed gate by gate: the default form splits a product of
                    # two gates' width into three, one of them empty, which no op should run on.
                    extra["implementation"] = 1
            twin = getattr(L, kind)(activation=gate_function(activation), unroll=True, **extra, **base)
            self.unfused.append(f"{base['name']} ({kind}, unrolled over {self.steps} steps into builtin ops)")
            self.recurrent_twins.append((twin, 0))
        return self.with_weights(twin, weights, layer)

    @staticmethod
    def unfused_reason(kind: str, gate: str | None, activation: str) -> str:
        if kind != "LSTM":
            return f"TFLite has no fused {kind} kernel"
        if gate != "sigmoid":
            return f"TFLite's fused LSTM computes sigmoid gates, not {gate}"
        return f"TFLite's fused LSTM computes the cell activations {', '.join(LSTM_ACTIVATIONS)}, not {activation}"

    def fused_lstm(
        self, base: dict[str, Any], activation: str, weights: list[np.ndarray]
    ) -> tuple[Any, list[np.ndarray]]:
        """The tf_keras LSTM the converter fuses (sigmoid gates, a bias, tanh: a fused LSTM whose
        cell activation is another gets it set on the op after conversion, see lstm_flatbuffer),
        and its weights."""
        units = int(base["units"])
        if not base["use_bias"]:  # the fused path needs a bias: a zero one changes nothing
            weights = [*list(weights), np.zeros(4 * units, np.float32)]
            base["use_bias"] = True
        if len(weights) >= 2:
            rk = np.asarray(weights[1], np.float32)
            self.lstms.append(FusedLstm(base["name"], activation, np.ascontiguousarray(rk[:, 3 * units :].T)))
        built_activation = activation if self.faithful else "tanh"
        twin = self.keras.layers.LSTM(activation=built_activation, recurrent_activation="sigmoid", **base)
        self.recurrent_twins.append((twin, 1))
        return twin, weights

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
        first_lstm = len(self.lstms)
        parts = []
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
            parts.append((part, kind, config))
        fused = self.bidirectional_gru(layer, parts)
        if fused is not None:
            return fused
        for part, kind, config in parts:
            halves.append(self.recurrent(part, kind, config, part.get_weights()))
        # Bidirectional rebuilds both halves from their configs: their weights go to its copies.
        pending = self.pending_weights[-2:]
        del self.pending_weights[-2:]
        twins = self.recurrent_twins[-2:]
        del self.recurrent_twins[-2:]
        twin = self.keras.layers.Bidirectional(
            halves[0],
            backward_layer=halves[1],
            merge_mode=layer.get_config().get("merge_mode", "concat"),
            name=layer.name,
        )
        for (_, weights, source), half in zip(pending, (twin.forward_layer, twin.backward_layer), strict=True):
            self.pending_weights.append((half, weights, source))
        self.recurrent_twins.append((twin, sum(ops for _, ops in twins)))
        for lstm in self.lstms[first_lstm:]:
            lstm.layer = f"{layer.name}/{lstm.layer}"
        return twin

    def bidirectional_gru(self, layer: Any, parts: list[tuple[Any, str, dict[str, Any]]]) -> Any:
        """Bidirectional(GRU) as two fused GRUs merged in builtin ops, None when a half is not fused."""
        merge_mode = layer.get_config().get("merge_mode", "concat")
        if merge_mode not in gru_stand_ins.MERGE_MODES or self.given_state:
            return None
        specs = []
        for part, kind, config in parts:
            activation = _activation_name(part, config, "activation")
            gate = _activation_name(part, config, "recurrent_activation")
            specs.append(self.gru.spec(part.name, kind, config, part.get_weights(), activation, gate))
        if None in specs:
            return None
        if self.faithful:  # the GRUs themselves in the same merge (tf_keras's cannot rebuild a function gate)
            halves = [self.recurrent(part, kind, config, part.get_weights()) for part, kind, config in parts]
            return gru_stand_ins.bidirectional(halves[0], halves[1], merge_mode, layer.name)
        return self.gru.bidirectional(specs, merge_mode, layer.name)

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


def _build(
    model: Any, batch_size: int, timesteps: Timesteps, faithful: bool, fuse_grus: bool
) -> tuple[Any, _Rebuilder]:
    rebuilder = _Rebuilder(batch_size, timesteps, faithful, fuse_grus)
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


def rebuild(
    model: Any, batch_size: int = 1, timesteps: Timesteps = None, check: bool = True, fuse_grus: bool = False
) -> Rebuilt:
    """The tf_keras model to convert, and what its conversion must contain; with ``fuse_grus``
    each GRU the fused op computes is a placeholder (Rebuilt.grus) for fuse_gru.emit.

    Raises UnsupportedLayerError naming the first layer that cannot be converted, and why;
    with ``check``, ConversionError when the rebuilt model computes something else."""
    copy, rebuilder = _build(model, batch_size, timesteps, False, fuse_grus)
    if not rebuilder.recurrent_twins and not rebuilder.gru.specs:
        raise UnsupportedLayerError(
            f"model '{model.name}' has no LSTM, GRU or SimpleRNN layer; tflstm converts sequence models"
        )
    if check:
        # A model whose inputs fix the sequence length runs only at that length: the check
        # compares a copy at that length (the converted one, e.g. one step, shares its weights).
        check_steps = None if rebuilder.resized else timesteps
        if any(lstm.activation != "tanh" for lstm in rebuilder.lstms) or rebuilder.resized or rebuilder.gru.specs:
            faithful = _build(model, batch_size, check_steps, True, fuse_grus)[0]
        else:
            faithful = copy
        check_same_outputs(model, faithful)
    return Rebuilt(
        copy,
        rebuilder.fused_ops(),
        rebuilder.lstms,
        rebuilder.unfused,
        rebuilder.input_names,
        list(copy.output_names),
        rebuilder.time_axes,
        rebuilder.free_axes,
        rebuilder.source_lengths,
        rebuilder.gru.specs,
        rebuilder.gru.ops(),
    )


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


def sample_inputs(
    copy: Any, seed: int = 0, steps: int = 8, shapes: Sequence[tuple[int, ...]] | None = None, scale: float = 1.0
) -> list[np.ndarray]:
    """Random inputs for each of the copy's inputs, of its shapes or of `shapes` (batch axis
    first; a free axis, None, gets `steps`): normal floats times `scale`, and for an input that feeds an
    Embedding integer ids that it accepts, in the input's dtype."""
    rng = np.random.default_rng(seed)
    ids = embedding_inputs(copy)
    vocab = min(ids.values(), default=2)
    out = []
    for i, t in enumerate(copy.inputs):
        dims = shapes[i] if shapes is not None else tuple(t.shape)
        shape = tuple(int(d) if d is not None else steps for d in dims)
        dtype = t.dtype.as_numpy_dtype
        if i in ids or t.dtype.is_integer:
            out.append(rng.integers(0, ids.get(i, vocab), size=shape).astype(dtype))
        else:
            out.append((scale * rng.normal(size=shape)).astype(dtype))
    return out


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


def check_same_outputs(original: Any, copy: Any, seed: int = 0) -> None:
    """The copy must compute what the original computes, on random inputs."""
    xs = sample_inputs(copy, seed)
    try:
        want = as_list(original(xs if len(xs) > 1 else xs[0], training=False))
    except Exception as e:
        raise ConversionError(
            f"model '{original.name}' cannot run on inputs of shape {[x.shape for x in xs]}: {type(e).__name__}: {e}"
        ) from e
    try:
        got = as_list(copy(xs if len(xs) > 1 else xs[0], training=False))
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


def cell_state_peaks(rebuilt: Rebuilt, samples: list[np.ndarray]) -> dict[str, float]:
    """The largest |cell state| each fused LSTM (FusedLstm.layer) reaches on `samples` at any
    step. TensorFlow's calibration sees the state only between invocations (a whole sequence
    each), not the peak inside a sequence, and scales the int16 cell state for that."""
    copy = rebuilt.model
    keras = tf_keras()
    peaks: dict[str, float] = {}
    for lstm in rebuilt.lstms:
        outer, _, inner = lstm.layer.partition("/")
        layer = copy.get_layer(outer)
        if inner:  # one direction of a Bidirectional
            layer = layer.forward_layer if inner == layer.forward_layer.name else layer.backward_layer
            nodes = copy.get_layer(outer)._inbound_nodes
        else:
            nodes = layer._inbound_nodes
        kernel, recurrent, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
        for node in nodes:
            x = _flatten(node.input_tensors, _tensor_types()[1:])[0]
            xs = np.asarray(keras.Model(copy.inputs, x)(samples if len(samples) > 1 else samples[0]), np.float64)
            if layer.go_backwards:
                xs = xs[:, ::-1]
            peaks[lstm.layer] = max(peaks.get(lstm.layer, 0.0), _lstm_cell_peak(xs, kernel, recurrent, bias))
    return peaks


def _lstm_cell_peak(xs: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> float:
    """Keras's LSTM step (gates i, f, c, o; sigmoid gates, tanh) over xs (batch, time,
    features) from a zero state: the largest |c| on the way."""
    units = recurrent.shape[0]
    h = np.zeros((len(xs), units))
    c = np.zeros((len(xs), units))
    peak = 0.0
    for t in range(xs.shape[1]):
        z = xs[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        peak = max(peak, float(np.max(np.abs(c))))
    return peak


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
