"""The tf_keras layers that stand in for Keras GRUs (and for LSTMs TFLite's fused LSTM cannot
compute, fuse_lstm.py) while TFLite's converter runs, so that fuse_gru.emit can put tflstm's
fused GRU or LSTM op in their place afterwards.

A placeholder computes x [batch, time, features] -> [batch, time, units] as one product with a
constant whose tensor is named after it (PLACEHOLDER_PREFIX + index): the converter makes it one
FULLY_CONNECTED, which emit finds by that name and rewrites into TFLSTM_GRU with the GRU's
weights. Its input is always the time-reversed x (REVERSE_V2): that keeps the converter from
folding a scale or offset computed before the GRU into the product's constant (it does so for a
MUL or ADD right before a FULLY_CONNECTED); emit feeds the GRU x itself unless it goes
backwards. What a GRU does around its recurrence stays in builtin ops: return_sequences=False
takes the last step after it, and a Bidirectional GRU is two placeholders merged as Keras
merges them. A GRU called with initial_state adds the state to every step of its product (an
ADD of the state expanded over time), which emit takes apart again: the state becomes the op's
initial-state input (an LSTM's h and c: two ADDs, h's first). return_state returns the last step
as the state (a GRU's state is its last output, as is an LSTM's h); an LSTM's c stands in as the
sequence's product over time (REDUCE_PROD: an op the converter fuses into nothing, and no layer
writes), which emit replaces by the op's final-c output. Model outputs lose their tensors' names
in the conversion, so emit finds it by its op. A GRU a Keras mask reaches multiplies its product
by the mask (see fuse_mask.py) and passes the mask on with its sequence, as Keras's GRU does
(so does an LSTM's).

The placeholder's product is not the
GRU: only the converted and rewritten model computes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import fuse_simple_rnn
from .errors import UnsupportedLayerError
from .fuse_gru import PLACEHOLDER_PREFIX, GruSpec, kind_of, op_activation, placeholder_weights
from .fuse_lstm import LstmSpec
from .fuse_simple_rnn import RnnSpec

Spec = GruSpec | LstmSpec | RnnSpec

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class GruStandIns:
    """The GRUs of one rebuild that become placeholders (when `enabled`; SimpleRNNs when
    `simple_rnns`: stock TFLite runs their op): their specs by index, for fuse_gru.emit, and the
    stand-ins called in the graph, to count the ops they give."""

    def __init__(self, enabled: bool, simple_rnns: bool = False) -> None:
        self.enabled = enabled
        self.simple_rnns = simple_rnns
        self.specs: dict[int, Spec] = {}
        self.called: list[tuple[Any, int]] = []  # (stand-in, TFLSTM_GRU ops per call)

    def spec(
        self,
        name: str,
        kind: str,
        config: dict[str, Any],
        weights: list[np.ndarray],
        activation: str,
        gate: Any,
        initial_state: bool = False,
        mask: bool = False,
        zero_output_for_mask: bool = False,
    ) -> Spec | None:
        """The GRU or LSTM as tflstm's fused op runs it (activations as the rebuild names them, see
        fuse_gru.op_activation), the SimpleRNN as UNIDIRECTIONAL_SEQUENCE_RNN does; None when it is
        not fused: another layer, not enabled (a portable or int8 conversion; for a SimpleRNN an
        int8 one), an activation the op does not compute, or a SimpleRNN given a state or a mask.
        (The rebuild asks only for LSTMs TFLite's fused LSTM cannot compute, that take or give
        their states, or that a Keras `mask` reaches.)"""
        if kind == "SimpleRNN":
            fusable = self.simple_rnns and not (initial_state or mask or config.get("return_state"))
            return fuse_simple_rnn.spec(name, config, weights, activation) if fusable else None
        if kind not in ("GRU", "LSTM") or not self.enabled:
            return None
        act, rec = op_activation(activation), op_activation(gate)
        if act is None or rec is None:
            return None
        if kind == "LSTM":
            return LstmSpec(
                name=name,
                units=int(config["units"]),
                weights=[np.asarray(w, np.float32) for w in weights],
                use_bias=bool(config.get("use_bias", True)),
                activation=act,
                recurrent_activation=rec,
                return_sequences=bool(config.get("return_sequences", False)),
                go_backwards=bool(config.get("go_backwards", False)),
                initial_state=initial_state,
                return_state=bool(config.get("return_state", False)),
                mask=mask,
                zero_output_for_mask=zero_output_for_mask,
            )
        return GruSpec(
            name=name,
            units=int(config["units"]),
            weights=[np.asarray(w, np.float32) for w in weights],
            reset_after=bool(config.get("reset_after", True)),
            use_bias=bool(config.get("use_bias", True)),
            activation=act,
            recurrent_activation=rec,
            return_sequences=bool(config.get("return_sequences", False)),
            go_backwards=bool(config.get("go_backwards", False)),
            initial_state=initial_state,
            return_state=bool(config.get("return_state", False)),
            mask=mask,
            zero_output_for_mask=zero_output_for_mask,
        )

    def placeholder(self, spec: Spec, ops: int = 1) -> Any:
        """The placeholder of `spec`, registered (giving `ops` ops per call)."""
        index = len(self.specs)
        self.specs[index] = spec
        twin = placeholder(spec, index)
        if ops:
            self.called.append((twin, ops))
        return twin

    def bidirectional(self, specs: list[Spec], merge_mode: str | None, name: str) -> Any:
        """Bidirectional(GRU) of the forward and backward `specs`, registered."""
        halves = [self.placeholder(spec, ops=0) for spec in specs]
        twin = bidirectional(halves[0], halves[1], merge_mode, name)
        self.called.append((twin, 2))
        return twin

    def ops(self) -> int:
        """One TFLSTM_GRU or TFLSTM_LSTM op per fused direction and call."""
        return sum(ops * len(twin._inbound_nodes) for twin, ops in self.called)


def placeholder(spec: Spec | Any, index: int) -> Any:
    """A tf_keras layer standing in for the GRU `spec` (a GruSpec or a Keras GRU layer): the
    sequence it returns (reversed input with go_backwards, the last step without
    return_sequences), named PLACEHOLDER_PREFIX + index."""
    import tensorflow as tf
    import tf_keras

    spec = spec if isinstance(spec, (GruSpec, LstmSpec, RnnSpec)) else GruSpec.of(spec)
    features, units = spec.features, spec.units
    lstm = isinstance(spec, LstmSpec)
    kind = kind_of(spec)

    class GruPlaceholder(tf_keras.layers.Layer):  # type: ignore[misc, name-defined]
        returns_sequences = spec.return_sequences

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.supports_masking = True

        def compute_mask(self, x: Any, mask: Any = None) -> Any:
            return mask if spec.return_sequences and not spec.return_state else None

        def call(self, x: Any, initial_state: Any = None, mask: Any = None) -> Any:
            if isinstance(x, (list, tuple)):  # tf_keras records gru(x, initial_state=h) as gru([x, h])
                x, initial_state = x[0], list(x[1:]) or initial_state
            if (initial_state is not None) != spec.initial_state:
                raise UnsupportedLayerError(
                    f"{kind} '{spec.name}' is called both with and without initial_state; tflstm converts a "
                    f"shared {kind} called the same way each time"
                )
            x = tf.reverse(x, axis=[1])  # the guard (and go_backwards's own reversal)
            y = tf.einsum("bti,iu->btu", x, tf.constant(placeholder_weights(index, features, units).T))
            if initial_state is not None:  # emit makes the states the op's inputs again (GRU: h; LSTM: h, c)
                states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
                for state in states[: 2 if lstm else 1]:
                    y = y + tf.expand_dims(state, 1)
            if isinstance(mask, (list, tuple)):  # a mask of each input: x's
                mask = mask[0]
            # (Called without its mask too when TensorFlow traces the layer on its own for a
            # SavedModel; a GRU that emit then finds without its mask's product is refused there.)
            if mask is not None and not getattr(spec, "mask", False):
                raise UnsupportedLayerError(
                    f"{kind} '{spec.name}' is called both with and without a mask; tflstm converts a shared "
                    f"{kind} called the same way each time"
                )
            if mask is not None:  # emit makes the mask the op's input (GRU: 7, LSTM: 8; fuse_mask.py)
                m = tf.cast(mask, tf.float32)
                y = y * tf.expand_dims(tf.reverse(m, axis=[1]) if spec.go_backwards else m, -1)
            out = y if spec.return_sequences else y[:, -1]
            if not spec.return_state:
                return out
            if lstm:  # c is not in the sequence: a product over time that emit makes the op's output 2
                return [out, y[:, -1], tf.reduce_prod(y, axis=1)]
            return [out, y[:, -1]]

    return GruPlaceholder(name=f"{PLACEHOLDER_PREFIX}{index}")


def bidirectional(forward: Any, backward: Any, merge_mode: str | None, name: str) -> Any:
    """A tf_keras layer standing in for Bidirectional(GRU): the two placeholders `forward` and
    `backward` (whose spec goes backwards), the backward sequence put back in time order, merged
    as Keras's Bidirectional merges them (a list of both for merge_mode None)."""
    import tensorflow as tf
    import tf_keras

    if merge_mode not in MERGE_MODES:
        raise ValueError(f"Bidirectional merge_mode {merge_mode!r} is not one of {MERGE_MODES}")

    class BidirectionalGruPlaceholder(tf_keras.layers.Layer):  # type: ignore[misc, name-defined]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.forward, self.backward = forward, backward
            self.supports_masking = True

        def compute_mask(self, x: Any, mask: Any = None) -> Any:
            return mask if _returns_sequences(forward) else None

        def call(self, x: Any, mask: Any = None) -> Any:
            masked = {} if mask is None else {"mask": mask}
            f, b = self.forward(x, **masked), self.backward(x, **masked)
            if len(b.shape) == 3:  # return_sequences: Keras reverses the backward sequence back
                b = tf.reverse(b, axis=[1])
            if merge_mode == "concat":
                return tf.concat([f, b], axis=-1)
            if merge_mode == "sum":
                return f + b
            if merge_mode == "mul":
                return f * b
            if merge_mode == "ave":
                return (f + b) / 2
            return [f, b]

    return BidirectionalGruPlaceholder(name=name)


def _returns_sequences(layer: Any) -> bool:
    """A GRU's placeholder, or a tf_keras GRU (the faithful copy), returns sequences."""
    return bool(getattr(layer, "return_sequences", getattr(layer, "returns_sequences", False)))
