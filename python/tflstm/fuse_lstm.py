"""tflstm's fused LSTM op for the LSTMs TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM cannot compute
(``TFLSTM_LSTM``, a custom op): Keras 2's default gate hard_sigmoid (clip(0.2 x + 0.5, 0, 1)),
Keras 3's (relu6(x + 3) / 6), or a cell activation the builtin lacks. The op's contract is
cpp/src/rnn/lstm_options.h's: inputs x, input weights [4 * units, features] and recurrent
weights [4 * units, units] (rows i, f, c, o: Keras's gate order, TFLite's too), a bias
[4 * units] or absent, h and c as variable tensors; options a FlexBuffers map {"version": 1,
"time_major", "activation", "recurrent_activation"}. Version 2 (an LSTM called with
initial_state=[h, c] from other layers, or with return_state) takes the initial h and c as inputs
6 and 7, tensors other ops compute, in place of the variables (inputs 4 and 5 absent), and gives
the final h and c as outputs 1 and 2 (either may be absent). Version 3 (an LSTM a Keras mask
reaches: Masking, Embedding(mask_zero=True)) takes the mask [batch, time] as input 8, after the
initial-state slots (absent, -1, when the states are variables): a masked row keeps h and c and
outputs its previous output, or zeros with "zero_output_for_mask" (see fuse_mask.py); TFLite's
UNIDIRECTIONAL_SEQUENCE_LSTM takes no mask, so every masked LSTM becomes this op.

Such an LSTM is converted as the GRU is (gru_stand_ins.py: a placeholder TFLite's converter makes
one FULLY_CONNECTED; fuse_gru.emit rewrites it into this op with its weights in float32, float16
or int8)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

LSTM_OP = "TFLSTM_LSTM"
OPTIONS_VERSION = 1
STATE_OPTIONS_VERSION = 2  # the version whose op may take initial states and give final ones
MASK_OPTIONS_VERSION = 3  # the version whose op may take a mask (input 8)


@dataclasses.dataclass
class LstmSpec:
    """What the op needs of one LSTM direction: its settings (activations by the op's names, see
    fuse_gru.op_activation) and Keras's weights (kernel [features, 4 units], recurrent kernel
    [units, 4 units], bias [4 units])."""

    name: str
    units: int
    weights: list[np.ndarray]
    use_bias: bool = True
    activation: str = "tanh"
    recurrent_activation: str = "hard_sigmoid"
    return_sequences: bool = False
    go_backwards: bool = False
    initial_state: bool = False  # called with initial_state=[h, c] from other layers: the op's inputs 6, 7
    return_state: bool = False  # returns its final h (a builtin slice of the sequence) and c (the op's output 2)
    mask: bool = False  # a Keras mask reaches it: the op's input 8 (version 3)
    zero_output_for_mask: bool = False  # Keras's flag (Bidirectional sets it to return_sequences)

    @property
    def features(self) -> int:
        return int(self.weights[0].shape[0])


def options_bytes(version: int, **fields: bool | str) -> bytes:
    """tflstm's custom ops' options (TFLSTM_GRU's, TFLSTM_LSTM's): a FlexBuffers map of
    `version` and the flags and activation names `fields`."""
    from flatbuffers import flexbuffers

    b = flexbuffers.Builder()
    with b.Map():
        b.Int("version", version)
        for key, value in fields.items():
            b.Bool(key, value) if isinstance(value, bool) else b.String(key, value)
    return bytes(b.Finish())


def lstm_options(
    activation: str,
    recurrent_activation: str,
    time_major: bool = False,
    version: int = OPTIONS_VERSION,
    zero_output_for_mask: bool = False,
) -> bytes:
    """The op's custom options bytes (version 2 for an op with explicit states, 3 for one with a
    mask)."""
    masked = {"zero_output_for_mask": zero_output_for_mask} if version >= MASK_OPTIONS_VERSION else {}
    return options_bytes(
        version, time_major=time_major, activation=activation, recurrent_activation=recurrent_activation, **masked
    )


def lstm_operands(spec: LstmSpec) -> dict[str, Any]:
    """The op's weights ([4 units, cols] float32) and options."""
    bias = spec.weights[2] if spec.use_bias and len(spec.weights) > 2 else None
    return {
        "w": np.ascontiguousarray(np.asarray(spec.weights[0]).T, dtype=np.float32),
        "u": np.ascontiguousarray(np.asarray(spec.weights[1]).T, dtype=np.float32),
        "b": None if bias is None else np.asarray(bias, dtype=np.float32),
        "options": lstm_options(
            spec.activation,
            spec.recurrent_activation,
            version=(
                MASK_OPTIONS_VERSION
                if spec.mask
                else STATE_OPTIONS_VERSION
                if spec.initial_state or spec.return_state
                else OPTIONS_VERSION
            ),
            zero_output_for_mask=spec.zero_output_for_mask,
        ),
    }
