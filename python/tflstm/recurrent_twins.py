"""The recurrent layers of the rebuild (fusable.py): each Keras LSTM, GRU, SimpleRNN, RNN(cell)
and Bidirectional in the tf_keras form that converts (a fused LSTM, a placeholder for tflstm's
fused GRU, for its fused LSTM with gates TFLite's cannot compute or for TFLite's fused SimpleRNN,
or builtin ops unrolled over fixed steps), as methods the rebuilder inherits."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import fuse_simple_rnn, gru_stand_ins
from .errors import UnsupportedLayerError
from .keras_graph import _activation_name, _describe, gate_function

# Why a Keras mask reaching a layer other than tflstm's fused GRU or LSTM does not convert yet.
MASK_HELP = (
    "tflstm's fused GRU and LSTM ops take a Keras mask (Masking, Embedding(mask_zero=True)) in float32, "
    "float16 and dynamic conversions; SimpleRNNs, and GRUs and LSTMs the fused ops do not run (portable=True, "
    "mode int8, activations the fused ops lack), do not yet: remove the mask and feed fixed-length windows, "
    "or convert in float32, float16 or dynamic"
)

# Cell activations of the fused LSTM op that TFLite's float and hybrid kernels compute
# (tensor_utils::ApplyActivationToVector) and the flatbuffer can name, as for the fused
# SimpleRNN (a sigmoid cell is tflstm's TFLSTM_LSTM: the schema has no sigmoid).
LSTM_ACTIVATIONS = fuse_simple_rnn.ACTIVATIONS


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


class RecurrentTwins:
    """The rebuilder's recurrent layers (mixed into fusable's rebuilder, whose state they use)."""

    def recurrent(
        self,
        layer: Any,
        kind: str,
        config: dict[str, Any],
        weights: list[np.ndarray],
        fusable: bool = True,
        name: str | None = None,
    ) -> Any:
        """The tf_keras LSTM, GRU or SimpleRNN that converts, from the settings of `layer`
        (a GRU not fused unless `fusable`), named `name` (default: the layer's)."""
        name = name or layer.name
        L = self.keras.layers
        if config.get("time_major"):
            raise UnsupportedLayerError(
                f"{_describe(layer)} is time-major; tflstm converts recurrent layers that take (batch, time, features)"
            )
        if config.get("return_state") and kind == "SimpleRNN":
            raise UnsupportedLayerError(
                f"{_describe(layer)} returns its state as extra outputs; tflstm converts return_state for GRUs "
                "and LSTMs"
            )
        # An LSTM that takes or gives its states: TFLite's fused LSTM keeps them in its own
        # variables, so tflstm's fused op (or, portable and int8, the LSTM unrolled) computes it.
        explicit_states = kind == "LSTM" and (self.given_state or bool(config.get("return_state")))
        base = {
            "units": config["units"],
            "use_bias": config.get("use_bias", True),
            "return_sequences": config.get("return_sequences", False),
            "go_backwards": config.get("go_backwards", False),
            "name": name,
        }
        if config.get("return_state"):
            base["return_state"] = True
        activation = _activation_name(layer, config, "activation")
        gate = _activation_name(layer, config, "recurrent_activation") if kind != "SimpleRNN" else None
        zero_output = bool(getattr(layer, "zero_output_for_mask", config.get("zero_output_for_mask", False)))
        if zero_output:
            base["zero_output_for_mask"] = True
        spec = (
            self.gru.spec(
                name,
                kind,
                config,
                weights,
                activation,
                gate,
                initial_state=self.given_state,
                mask=self.masked,
                zero_output_for_mask=zero_output,
            )
            if fusable
            else None
        )
        self.refuse_mask(layer, kind, spec)
        if self.builtin_lstm(kind, gate, activation) and not explicit_states and not self.masked:
            # (TFLite's fused LSTM takes no mask: a masked LSTM is tflstm's fused op, or refused)
            # stateful=True converts too: the fused op keeps its state in variable tensors, which a
            # runner's Stream carries from one call to the next as the stateful layer does.
            twin, weights = self.fused_lstm(base, activation, weights)
        elif spec is not None and not self.faithful:
            return self.gru.placeholder(spec)
        elif spec is not None:  # the GRU or LSTM itself, for the check against the source
            extra = {"reset_after": config.get("reset_after", True)} if kind == "GRU" else {}
            if gate is not None:  # (a SimpleRNN has none)
                extra["recurrent_activation"] = gate_function(gate)
            twin = getattr(L, kind)(activation=gate_function(activation), **extra, **base)
            self.recurrent_twins.append((twin, 0))
        elif config.get("stateful"):
            raise UnsupportedLayerError(
                f"{_describe(layer)} is stateful, but {self.unfused_reason(kind, gate, activation, explicit_states)}: "
                "unrolled "
                "into builtin ops it would keep no state between calls. Convert the layer with stateful=False "
                "and feed each call the whole sequence"
            )
        else:
            # No fused kernel computes it in stock TFLite (a portable or int8 conversion, or an
            # activation tflstm's ops lack): plain builtin ops, one step after another.
            if self.steps is None:
                fixed = "" if self.timesteps is None else f" after timesteps={self.timesteps!r}"
                raise UnsupportedLayerError(
                    f"{_describe(layer)}: {self.unfused_reason(kind, gate, activation, explicit_states)}, so tflstm "
                    "unrolls it "
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

    def refuse_mask(self, layer: Any, kind: str, spec: Any) -> None:
        """A Keras mask reaches only a fused GRU or LSTM (UnsupportedLayerError otherwise)."""
        if self.masked and (kind not in ("GRU", "LSTM") or spec is None):
            raise UnsupportedLayerError(f"{_describe(layer)} is given a Keras mask: {MASK_HELP}")
        if self.masked and getattr(spec, "return_state", False):
            raise UnsupportedLayerError(
                f"{_describe(layer)} is given a Keras mask and returns its state: tflstm's fused GRU and LSTM "
                "convert the one or the other; return the sequence (return_sequences=True) and take the state from it"
            )

    @staticmethod
    def builtin_lstm(kind: str, gate: str | None, activation: str) -> bool:
        """An LSTM TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM computes (others become tflstm's
        TFLSTM_LSTM where the conversion allows it, else builtin ops unrolled)."""
        return kind == "LSTM" and gate == "sigmoid" and activation in LSTM_ACTIVATIONS

    @staticmethod
    def unfused_reason(kind: str, gate: str | None, activation: str, explicit_states: bool = False) -> str:
        if kind == "LSTM" and explicit_states:
            return (
                "TFLite's fused LSTM keeps its states in its own variables (it takes no initial_state and gives no "
                "return_state), and tflstm's fused LSTM does not run it here (portable=True, mode int8, or an "
                "activation it lacks)"
            )
        if kind == "SimpleRNN":
            return (
                "TFLite's fused SimpleRNN does not run it here (mode int8, an initial_state, or an activation "
                f"other than {', '.join(fuse_simple_rnn.ACTIVATIONS)}: {activation})"
            )
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
        if kind == "StackedRNNCells":
            return self.stacked_cells(layer)
        self.refuse_cell(layer, kind)
        config = {**cell.get_config(), **{k: v for k, v in layer.get_config().items() if k != "cell"}}
        return self.recurrent(layer, kind[:-4], config, layer.get_weights())

    @staticmethod
    def refuse_cell(layer: Any, kind: str) -> None:
        if kind not in ("LSTMCell", "GRUCell", "SimpleRNNCell"):
            raise UnsupportedLayerError(
                f"{_describe(layer)} runs a {kind}; tflstm converts RNN(LSTMCell), RNN(GRUCell), "
                "RNN(SimpleRNNCell) and RNN(StackedRNNCells) of them"
            )

    def stacked_cells(self, layer: Any) -> Any:
        """RNN(StackedRNNCells([...])) as the stack of layers it computes, named after it (name_0,
        name_1, ...): each cell a layer that returns its sequence to the next, the first going
        backwards when the RNN does (the others read its sequence in the order it gave it, as the
        cells do), the last returning what the RNN returns. A call of it calls them in turn."""
        config = {k: v for k, v in layer.get_config().items() if k != "cell"}
        if config.get("return_state") or self.given_state:
            raise UnsupportedLayerError(
                f"{_describe(layer)} runs StackedRNNCells {'returning' if config.get('return_state') else 'given'} "
                "their states; tflstm converts it without states given or returned (stack recurrent layers for that)"
            )
        cells = list(layer.cell.cells)
        twins = []
        for i, cell in enumerate(cells):
            self.refuse_cell(layer, type(cell).__name__)
            last = i == len(cells) - 1
            settings = {
                **cell.get_config(),
                **config,
                "return_sequences": bool(config.get("return_sequences", False)) if last else True,
                "go_backwards": bool(config.get("go_backwards", False)) and i == 0,
            }
            kind = type(cell).__name__[:-4]
            twins.append(self.recurrent(layer, kind, settings, cell.get_weights(), name=f"{layer.name}_{i}"))

        def stack(*args: Any, **kwargs: Any) -> Any:
            x = twins[0](*args, **kwargs)
            for twin in twins[1:]:
                x = twin(x)
            return x

        return stack

    def bidirectional(self, layer: Any) -> Any:
        if layer.get_config().get("layer", {}).get("config", {}).get("return_state") or getattr(
            layer.forward_layer, "return_state", False
        ):
            raise UnsupportedLayerError(
                f"{_describe(layer)} returns its states as extra outputs; tflstm converts return_state for "
                "GRU layers and LSTM layers, not Bidirectional ones: return the sequences (return_sequences=True) "
                "and take the last step of each direction"
            )
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
        for part, kind, config in parts:  # a Bidirectional GRU given its states is unrolled
            halves.append(self.recurrent(part, kind, config, part.get_weights(), fusable=not self.given_state))
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
        """Bidirectional(GRU), or Bidirectional(LSTM) TFLite's LSTM cannot compute, as two of
        tflstm's fused ops merged in builtin ops; None when a half is not fused so."""
        merge_mode = layer.get_config().get("merge_mode", "concat")
        if merge_mode not in gru_stand_ins.MERGE_MODES or self.given_state:
            return None
        specs = []
        for part, kind, config in parts:
            activation = _activation_name(part, config, "activation")
            gate = _activation_name(part, config, "recurrent_activation")
            if self.builtin_lstm(kind, gate, activation) and not self.masked:
                return None
            zero_output = bool(getattr(part, "zero_output_for_mask", False))
            specs.append(
                self.gru.spec(
                    part.name,
                    kind,
                    config,
                    part.get_weights(),
                    activation,
                    gate,
                    mask=self.masked,
                    zero_output_for_mask=zero_output,
                )
            )
        if None in specs:
            return None
        if self.faithful:  # the GRUs themselves in the same merge (tf_keras's cannot rebuild a function gate)
            halves = [self.recurrent(part, kind, config, part.get_weights()) for part, kind, config in parts]
            return gru_stand_ins.bidirectional(halves[0], halves[1], merge_mode, layer.name)
        return self.gru.bidirectional(specs, merge_mode, layer.name)
