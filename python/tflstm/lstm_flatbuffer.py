"""Reading and editing the fused LSTM ops of a converted TFLite flatbuffer: counting them,
setting their cell activation, and noting in the model's description what stayed unfused."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .errors import ConversionError

# The description marker `tflstm inspect` reads back (Model.description).
UNFUSED_NOTE = "tflstm: unfused recurrent layers: "
# TFLite's LSTM inputs (tensorflow/lite/kernels/lstm_shared.h).
_RECURRENT_TO_OUTPUT = 8
_MODEL_DESCRIPTION = 3  # field index in the schema's Model table


def schema() -> tuple[Any, Any]:
    from tensorflow.lite.python import schema_py_generated
    from tensorflow.lite.tools import flatbuffer_utils

    return schema_py_generated, flatbuffer_utils


def lstm_ops(model: Any) -> Iterator[tuple[Any, Any]]:
    """(subgraph, op) for every UNIDIRECTIONAL_SEQUENCE_LSTM of a flatbuffer object model."""
    s, _ = schema()
    codes = {
        i
        for i, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode) == s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    }
    for sg in model.subgraphs:
        for op in sg.operators:
            if op.opcodeIndex in codes:
                yield sg, op


def count_fused_lstms(data: bytes) -> int:
    """LSTM directions computed by fused ops in the graph: one per UNIDIRECTIONAL_SEQUENCE_LSTM,
    two per BIDIRECTIONAL_SEQUENCE_LSTM."""
    s, _ = schema()
    m = s.Model.GetRootAsModel(data, 0)
    codes = [
        max(m.OperatorCodes(i).BuiltinCode(), m.OperatorCodes(i).DeprecatedBuiltinCode())
        for i in range(m.OperatorCodesLength())
    ]
    weight = {s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM: 1, s.BuiltinOperator.BIDIRECTIONAL_SEQUENCE_LSTM: 2}
    total = 0
    for i in range(m.SubgraphsLength()):
        sg = m.Subgraphs(i)
        total += sum(weight.get(codes[sg.Operators(j).OpcodeIndex()], 0) for j in range(sg.OperatorsLength()))
    return total


def _constant(model: Any, sg: Any, index: int) -> np.ndarray | None:
    """The float value of a constant tensor, looking through a float16 DEQUANTIZE."""
    s, _ = schema()
    tensor = sg.tensors[index]
    data = model.buffers[tensor.buffer].data
    shape = tuple(int(d) for d in tensor.shape)
    if data is not None and len(data):
        dtype = {s.TensorType.FLOAT32: "<f4", s.TensorType.FLOAT16: "<f2"}.get(tensor.type)
        return None if dtype is None else np.frombuffer(bytes(data), dtype=dtype).reshape(shape).astype(np.float32)
    for op in sg.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if (
            index in list(op.outputs)
            and max(code.builtinCode, code.deprecatedBuiltinCode) == s.BuiltinOperator.DEQUANTIZE
        ):
            return _constant(model, sg, int(op.inputs[0]))
    return None


def set_cell_activations(data: bytes, activations: Sequence[Any]) -> bytes:
    """Sets each listed LSTM's fused cell activation (fusable.LstmActivation), finding its op by
    the recurrent-to-output weights, which tell the layers apart."""
    if not activations:
        return data
    _, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    done: set[int] = set()
    for sg, op in lstm_ops(model):
        weights = _constant(model, sg, int(op.inputs[_RECURRENT_TO_OUTPUT]))
        if weights is None:
            continue
        errors = [
            float(np.max(np.abs(weights - a.recurrent_output_weights)))
            if weights.shape == a.recurrent_output_weights.shape
            else np.inf
            for a in activations
        ]
        best = int(np.argmin(errors))
        scale = float(np.max(np.abs(activations[best].recurrent_output_weights))) or 1.0
        if errors[best] > 1e-3 * scale:  # float16 rounding is 5e-4 relative
            continue  # a tanh LSTM
        op.builtinOptions.fusedActivationFunction = activations[best].code
        done.add(best)
    missing = [a.layer for i, a in enumerate(activations) if i not in done]
    if missing:
        raise ConversionError(
            f"tflstm could not find the fused LSTM op of layers {missing} to set their cell activation"
        )
    return bytes(fb.convert_object_to_bytearray(model))


def note_unfused(data: bytes, unfused: Sequence[str]) -> bytes:
    """Appends the unfused recurrent layers to the model's description, for `tflstm inspect`."""
    if not unfused:
        return data
    _, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    head = model.description.decode() if isinstance(model.description, bytes) else (model.description or "")
    model.description = f"{head} {UNFUSED_NOTE}{'; '.join(unfused)}".strip()
    return bytes(fb.convert_object_to_bytearray(model))


def description(data: bytes) -> str:
    """The description string of a TFLite flatbuffer (Model field 3), read without TensorFlow
    so that `tflstm inspect` runs where only the runtime is installed."""
    try:
        table = struct.unpack_from("<I", data, 0)[0]
        vtable = table - struct.unpack_from("<i", data, table)[0]
        vtable_size = struct.unpack_from("<H", data, vtable)[0]
        slot = 4 + 2 * _MODEL_DESCRIPTION
        offset = struct.unpack_from("<H", data, vtable + slot)[0] if slot + 2 <= vtable_size else 0
        if not offset:
            return ""
        field = table + offset
        start = field + struct.unpack_from("<I", data, field)[0]
        length = struct.unpack_from("<I", data, start)[0]
        return bytes(data[start + 4 : start + 4 + length]).decode("utf-8", "replace")
    except struct.error:
        return ""  # not a flatbuffer tflstm wrote; tflstm.Model reports what is wrong with it


def unfused_layers(data: bytes) -> list[str]:
    """The unfused recurrent layers note_unfused wrote into a model's description."""
    text = description(data)
    if UNFUSED_NOTE not in text:
        return []
    return [part.strip() for part in text.split(UNFUSED_NOTE, 1)[1].split(";") if part.strip()]
