"""A Keras SimpleRNN as stock TFLite's fused ``UNIDIRECTIONAL_SEQUENCE_RNN``: inputs x
[batch, time, features], input weights [units, features], recurrent weights [units, units], a bias
[units] (the op needs one: a zero one for use_bias=False) and the hidden state [batch, units] as a
variable tensor; options SequenceRNNOptions (time_major, the activation as TFLite's fused
activation, asymmetric_quantize_inputs). Float32 weights run tflstm's fused kernel
(cpp/src/rnn/simple_rnn_op.cc), float16 ones behind a DEQUANTIZE, int8 ones with one scale (mode
dynamic) TFLite's hybrid kernel (op version 3: inputs quantized per row asymmetrically).

The converter emits it as it does tflstm's fused GRU: a placeholder stands in for the SimpleRNN
(gru_stand_ins.py) and fuse_gru.emit rewrites it into this op. Stock TFLite and tf.lite run it."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

OP = "UNIDIRECTIONAL_SEQUENCE_RNN"
# Activations of the op that a Keras activation names, as the flatbuffer's ActivationFunctionType
# (TFLite's kernels, and tflstm's, apply them to each step's sum). Its schema has no sigmoid:
# TFLite reads any other code as none.
ACTIVATIONS = {"linear": 0, "relu": 1, "relu6": 3, "tanh": 4}


@dataclasses.dataclass
class RnnSpec:
    """What the op needs of one SimpleRNN direction: its settings and Keras's weights (kernel
    [features, units], recurrent kernel [units, units], bias [units] when use_bias)."""

    name: str
    units: int
    weights: list[np.ndarray]
    use_bias: bool = True
    activation: str = "tanh"
    return_sequences: bool = False
    go_backwards: bool = False
    # What the fused GRU and LSTM ops also take; a SimpleRNN so called is not fused (unrolled or refused).
    initial_state: bool = False
    return_state: bool = False
    mask: bool = False

    @property
    def features(self) -> int:
        return int(self.weights[0].shape[0])


def spec(name: str, config: dict[str, Any], weights: list[np.ndarray], activation: str) -> RnnSpec | None:
    """The SimpleRNN as the op runs it; None when the op has not its activation."""
    if activation not in ACTIVATIONS:
        return None
    return RnnSpec(
        name=name,
        units=int(config["units"]),
        weights=[np.asarray(w, np.float32) for w in weights],
        use_bias=bool(config.get("use_bias", True)),
        activation=activation,
        return_sequences=bool(config.get("return_sequences", False)),
        go_backwards=bool(config.get("go_backwards", False)),
    )


def operands(rewrite: Any, spec: RnnSpec, x: int, batch: int) -> list[int]:
    """The op's inputs, written by `rewrite` (fuse_gru's: its weights in the conversion's form)."""
    kernel, recurrent = spec.weights[0], spec.weights[1]
    bias = spec.weights[2] if spec.use_bias and len(spec.weights) > 2 else np.zeros(spec.units, np.float32)
    return [
        x,
        rewrite.matrix("input_weights", np.ascontiguousarray(kernel.T, np.float32)),
        rewrite.matrix("recurrent_weights", np.ascontiguousarray(recurrent.T, np.float32)),
        rewrite.tensor("bias", [spec.units], np.asarray(bias, np.float32)),
        rewrite.state("h", batch, spec.units),
    ]


def make_op(rewrite: Any, op: Any, spec: RnnSpec, inputs: list[int]) -> None:
    """`op` made UNIDIRECTIONAL_SEQUENCE_RNN over `inputs`: version 3 (hybrid, asymmetric inputs)
    for int8 weights, else 1."""
    s = rewrite.s
    hybrid = rewrite.weights == "int8"
    op.opcodeIndex = rewrite.codes(s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_RNN, version=3 if hybrid else 1)
    op.inputs = np.array(inputs, np.int32)
    op.builtinOptionsType = s.BuiltinOptions.SequenceRNNOptions
    options = s.SequenceRNNOptionsT()
    options.timeMajor = False
    options.fusedActivationFunction = ACTIVATIONS[spec.activation]
    options.asymmetricQuantizeInputs = hybrid
    op.builtinOptions = options
    op.customOptions, op.customOptionsFormat = None, 0
