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
- an LSTM whose gates are not sigmoid (Keras 2's hard_sigmoid) or whose cell activation TFLite's
  fused op does not compute becomes a placeholder the same way, replaced by tflstm's TFLSTM_LSTM
  custom op (fuse_lstm.py), unless the conversion is portable;
- a SimpleRNN (and RNN(SimpleRNNCell), Bidirectional of it) whose activation TFLite's fused
  UNIDIRECTIONAL_SEQUENCE_RNN computes becomes a placeholder the same way, replaced by that stock
  op (fuse_simple_rnn.py), in float32, float16 and dynamic conversions, portable or not;
- RNN(StackedRNNCells) becomes the layers it stacks, each as above;
- any other GRU, such LSTM or SimpleRNN (portable, int8, an activation the ops lack) is unrolled
  over the fixed number of steps into builtin ops, each gate function computed as its source
  Keras defines it (see keras_graph.gate_function; recurrent_twins.py builds them);
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
import types
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import gru_stand_ins
from .errors import ConversionError, UnsupportedLayerError
from .keras_graph import (
    Timesteps,
    _built_input_shapes,
    _called_input_dtypes,
    _clean_config,
    _describe,
    _flatten,
    _is_functional,
    _is_keras3,
    _map,
    _model_classes,
    _tensor_types,
    _time_steps,
    embedding_inputs,
    tf_keras,
)
from .rebuild_check import check_same_outputs
from .recurrent_twins import MASK_HELP, FusedLstm, RecurrentTwins

# Activations whose definition differs between tf_keras (Keras 2) and Keras 3 (KERAS3_HARD_SIGMOID):
# the rebuilt layer computes the source's. Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6.
# Keyword arguments Keras records on a call that mean nothing to the rebuilt graph.
_CALL_NOISE = ("training",)


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
    # placeholder index -> the GRU (or LSTM TFLite's fused LSTM cannot compute) it stands for
    grus: dict[int, gru_stand_ins.Spec] = dataclasses.field(default_factory=dict)
    gru_ops: int = 0  # TFLSTM_GRU, TFLSTM_LSTM, UNIDIRECTIONAL_SEQUENCE_RNN ops emitted (per direction and call)

    @property
    def activations(self) -> list[FusedLstm]:
        """Fused LSTMs to set a non-tanh cell activation on."""
        return [lstm for lstm in self.lstms if lstm.activation != "tanh"]


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


class _Rebuilder(RecurrentTwins):
    def __init__(
        self, batch_size: int, timesteps: Timesteps, faithful: bool, fuse_grus: bool = False, fuse_rnns: bool = False
    ) -> None:
        self.keras = tf_keras()
        self.batch_size = batch_size
        self.timesteps = timesteps
        # faithful: LSTMs keep their own cell activation (for the check against the original);
        # otherwise they are built with tanh so that they fuse, and listed in self.lstms.
        self.faithful = faithful
        # fuse_grus: GRUs the fused op computes become placeholders (as real GRUs when faithful);
        # fuse_rnns: SimpleRNNs TFLite's fused op computes, so too.
        self.gru = gru_stand_ins.GruStandIns(fuse_grus, fuse_rnns)
        self.given_state = False  # the layer being rebuilt is called with a state from other layers
        # A Keras 3 subclassed model's inputs that feed an Embedding: token ids, int32 (Keras 3
        # records no dtype for them; _build finds them in a first rebuild).
        self.id_inputs: frozenset[int] = frozenset()
        self.masked = False  # a Keras mask reaches the layer being rebuilt (tf_keras recomputes it)
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
        listed = bool(shapes[0]) and all(isinstance(d, (list, tuple)) for d in shapes[0])  # call(self, [a, b])
        each = list(shapes[0]) if listed else shapes
        dtypes = _called_input_dtypes(model) or [
            "int32" if i in self.id_inputs else "float32" for i in range(len(each))
        ]
        return [
            (f"{name}_{i}" if listed else name, list(shape[1:]), dtype)
            for i, (shape, dtype) in enumerate(zip(each, dtypes, strict=True))
        ]

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
            _drop_implicit_mask(args, kwargs)
            args = _map(args, lambda x: self.tensor(x, memo, known), self.leaf)
            kwargs = {k: _map(v, lambda x: self.tensor(x, memo, known), self.leaf) for k, v in kwargs.items()}
            memo[key] = _flatten(self.call(op, args, kwargs), self.leaf[1:])
        return memo[key][tensor_index]

    def call(self, op: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        """`op` called on rebuilt tensors: a layer's twin, a model inlined or run."""
        kwargs = {k: v for k, v in kwargs.items() if k not in _CALL_NOISE and not (k == "mask" and v is None)}
        if "mask" in kwargs:
            raise UnsupportedLayerError(
                f"{_describe(op)} is called with a mask other layers compute; tflstm converts the masks of "
                f"Masking and Embedding(mask_zero=True) layers. {MASK_HELP}"
            )
        if _is_functional(op):  # a nested model is inlined, its layers shared with every other call
            flat = _flatten(args, self.leaf[1:])
            outs = self.graph(op, flat)
            return outs[0] if len(outs) == 1 else outs
        if isinstance(op, _model_classes()):
            return self.subclassed(op, args[0] if len(args) == 1 else args, kwargs)
        self.given_state = self.called_with_state(op, args, kwargs)
        first = _flatten(args, self.leaf[1:])
        self.masked = bool(first) and getattr(first[0], "_keras_mask", None) is not None
        if self.masked and _is_keras3(op) and self.keras3_passes_no_mask(op, args, kwargs):
            self.masked = False
            kwargs = {**kwargs, "mask": None}  # tf_keras would fill it in from the input
        self.steps = _time_steps(args, self.leaf[1:])
        twin = self.twin(op)
        try:
            return twin(*args, **kwargs)
        except ConversionError:
            raise
        except Exception as e:
            raise UnsupportedLayerError(f"{_describe(op)} could not be rebuilt in tf_keras: {e}") from e

    def keras3_passes_no_mask(self, op: Any, args: Any, kwargs: dict[str, Any]) -> bool:
        """True where Keras 3 runs `op` without its input's mask: it fills in `mask` only for a call
        with one tensor argument (Layer.__call__), so a GRU or LSTM called with `initial_state=`
        from other layers runs unmasked (its output still carries the mask on); tf_keras would
        mask it."""
        if "mask" not in inspect.signature(op.call).parameters:
            return False
        given = [*args, *(v for k, v in kwargs.items() if k != "mask")]
        return sum(1 for a in given if _flatten(a, self.leaf[1:])) > 1

    def called_with_state(self, op: Any, args: Any, kwargs: dict[str, Any]) -> bool:
        """True for a layer called with a state other layers compute: a GRU or LSTM so called
        becomes tflstm's fused op with initial-state inputs (TFLite's fused LSTM takes its state
        from its own variables only); a Bidirectional one, and any in a portable or int8
        conversion, is unrolled."""
        return bool(_flatten([kwargs.get("initial_state"), *_flatten(args, self.leaf[1:])[1:]], self.leaf[1:]))

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

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                return super().__call__(*_frozen(args), **_frozen(kwargs))

            @tf.autograph.experimental.do_not_convert  # plain tensor code: nothing for AutoGraph to do
            def call(self, *args: Any, training: Any = None, **kwargs: Any) -> Any:
                args, kwargs = _thawed(args), _thawed(kwargs)
                if not any(variables):
                    return op(*args, **kwargs)
                return op.stateless_call(*self.values, *args, **kwargs)[0]

        name = getattr(op, "name", None) or type(op).__name__.lower()
        return Traced(name=f"{name}_traced")

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


_SLICE, _ELLIPSIS = "tflstm.slice", "tflstm.ellipsis"


def _frozen(value: Any) -> Any:
    """`value` with its slices and Ellipsis as tuples: TensorFlow traces a call's arguments (a
    Keras 3 `x[:, -1]` is GetItem(x, (slice, -1, slice))) and cannot trace those objects."""
    if isinstance(value, slice):
        return (_SLICE, _frozen(value.start), _frozen(value.stop), _frozen(value.step))
    if value is Ellipsis:
        return (_ELLIPSIS,)
    if isinstance(value, (list, tuple)):
        return type(value)(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _thawed(value: Any) -> Any:
    """The arguments _frozen made traceable, as they were."""
    if isinstance(value, tuple) and value and isinstance(value[0], str) and value[0] in (_SLICE, _ELLIPSIS):
        return slice(*(_thawed(v) for v in value[1:])) if value[0] == _SLICE else Ellipsis
    if isinstance(value, (list, tuple)):
        return type(value)(_thawed(v) for v in value)
    if isinstance(value, dict):
        return {k: _thawed(v) for k, v in value.items()}
    return value


def _drop_implicit_mask(args: Any, kwargs: dict[str, Any]) -> None:
    """Drops the mask Keras 3 records on a call when it is the one its input carries (Masking's,
    Embedding(mask_zero=True)'s, passed on by the layers between): the rebuilt tf_keras layers
    compute and pass on the same mask themselves."""
    mask = kwargs.get("mask")
    if mask is None:
        return
    first = args[0] if args else None
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(mask, (list, tuple)):
        flat = args[0] if args and isinstance(args[0], (list, tuple)) else args
        implicit = all(m is None or m is getattr(a, "_keras_mask", None) for m, a in zip(mask, flat, strict=False))
    else:
        implicit = mask is getattr(first, "_keras_mask", None)
    if implicit:
        del kwargs["mask"]


def _build(
    model: Any,
    batch_size: int,
    timesteps: Timesteps,
    faithful: bool,
    fuse_grus: bool,
    fuse_rnns: bool,
    id_inputs: frozenset[int] | None = None,
) -> tuple[Any, _Rebuilder]:
    rebuilder = _Rebuilder(batch_size, timesteps, faithful, fuse_grus, fuse_rnns)
    rebuilder.id_inputs = id_inputs or frozenset()
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
    if id_inputs is None and _is_keras3(model) and not _is_functional(model):
        ids = frozenset(embedding_inputs(copy))
        if ids:
            return _build(model, batch_size, timesteps, faithful, fuse_grus, fuse_rnns, ids)
    return copy, rebuilder


def rebuild(
    model: Any,
    batch_size: int = 1,
    timesteps: Timesteps = None,
    check: bool = True,
    fuse_grus: bool = False,
    fuse_rnns: bool | None = None,
) -> Rebuilt:
    """The tf_keras model to convert, and what its conversion must contain; with ``fuse_grus``
    each GRU the fused op computes is a placeholder (Rebuilt.grus) for fuse_gru.emit, and with
    ``fuse_rnns`` (default: as ``fuse_grus``) each SimpleRNN TFLite's fused op computes.

    Raises UnsupportedLayerError naming the first layer that cannot be converted, and why;
    with ``check``, ConversionError when the rebuilt model computes something else."""
    fuse_rnns = fuse_grus if fuse_rnns is None else fuse_rnns
    copy, rebuilder = _build(model, batch_size, timesteps, False, fuse_grus, fuse_rnns)
    if not rebuilder.recurrent_twins and not rebuilder.gru.specs:
        raise UnsupportedLayerError(
            f"model '{model.name}' has no LSTM, GRU or SimpleRNN layer; tflstm converts sequence models"
        )
    if check:
        # A model whose inputs fix the sequence length runs only at that length: the check
        # compares a copy at that length (the converted one, e.g. one step, shares its weights).
        check_steps = None if rebuilder.resized else timesteps
        if any(lstm.activation != "tanh" for lstm in rebuilder.lstms) or rebuilder.resized or rebuilder.gru.specs:
            faithful = _build(model, batch_size, check_steps, True, fuse_grus, fuse_rnns)[0]
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
