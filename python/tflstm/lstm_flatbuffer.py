"""Reading and editing a converted TFLite flatbuffer: counting the fused LSTM ops, setting what
the converter writes differently from Keras (cell activation, cell clip), finding the layer of
a fused op, putting inputs and outputs in the Keras model's order, and noting in the model's
description what stayed unfused."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .errors import ConversionError

# The description marker `tflstm inspect` reads back (Model.description).
UNFUSED_NOTE = "tflstm: unfused recurrent layers: "
# TFLite's LSTM inputs (tensorflow/lite/kernels/lstm_shared.h).
_INPUT = 0
_RECURRENT_TO_OUTPUT = 8
_OUTPUT_STATE = 18
_CELL_STATE = 19
# Weights, peepholes, biases, projection and layer-norm coefficients: constants, never states.
_CONSTANT_INPUTS = (*tuple(range(1, 18)), 20, 21, 22, 23)
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
    """The float value of a constant tensor: float32, float16 (or behind a float16 DEQUANTIZE),
    or int8 dequantized (per tensor or per channel)."""
    s, _ = schema()
    tensor = sg.tensors[index]
    data = model.buffers[tensor.buffer].data
    shape = tuple(int(d) for d in tensor.shape)
    if data is not None and len(data):
        dtype = {s.TensorType.FLOAT32: "<f4", s.TensorType.FLOAT16: "<f2", s.TensorType.INT8: "i1"}.get(tensor.type)
        if dtype is None:
            return None
        value = np.frombuffer(bytes(data), dtype=dtype).reshape(shape).astype(np.float32)
        if tensor.type == s.TensorType.INT8:
            q = tensor.quantization
            if q is None or q.scale is None or not len(q.scale):
                return None
            scale = np.asarray(q.scale, np.float32)
            zero = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0], np.float32)
            axis = int(q.quantizedDimension or 0)
            if len(scale) > 1:  # per channel along `axis`
                bshape = [1] * value.ndim
                bshape[axis] = len(scale)
                scale, zero = scale.reshape(bshape), zero.reshape(bshape) if zero.size > 1 else zero
            value = (value - zero) * scale
        return value
    for op in sg.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if (
            index in list(op.outputs)
            and max(code.builtinCode, code.deprecatedBuiltinCode) == s.BuiltinOperator.DEQUANTIZE
        ):
            return _constant(model, sg, int(op.inputs[0]))
    return None


def find_layer(model: Any, sg: Any, op: Any, lstms: Sequence[Any]) -> int | None:
    """Which of `lstms` (recurrent_twins.FusedLstm) a fused LSTM op computes, by its recurrent-to-output
    weights, which tell the layers apart; None when none matches."""
    if not lstms:
        return None
    weights = _constant(model, sg, int(op.inputs[_RECURRENT_TO_OUTPUT]))
    if weights is None:
        return None
    errors = [
        float(np.max(np.abs(weights - a.recurrent_output_weights)))
        if weights.shape == a.recurrent_output_weights.shape
        else np.inf
        for a in lstms
    ]
    best = int(np.argmin(errors))
    scale = float(np.max(np.abs(lstms[best].recurrent_output_weights))) or 1.0
    # float16 rounding is 5e-4 relative; int8 (a step of 1/127 of the largest weight) 4e-3
    int8 = sg.tensors[int(op.inputs[_RECURRENT_TO_OUTPUT])].type == schema()[0].TensorType.INT8
    return best if errors[best] <= (5e-3 if int8 else 1e-3) * scale else None


def set_cell_activations(data: bytes, activations: Sequence[Any]) -> bytes:
    """Sets each listed LSTM's fused cell activation (recurrent_twins.FusedLstm), finding its op by its
    weights."""
    if not activations:
        return data
    _, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    done: set[int] = set()
    for sg, op in lstm_ops(model):
        best = find_layer(model, sg, op, activations)
        if best is None:
            continue  # a tanh LSTM
        op.builtinOptions.fusedActivationFunction = activations[best].code
        done.add(best)
    missing = [a.layer for i, a in enumerate(activations) if i not in done]
    if missing:
        raise ConversionError(
            f"tflstm could not find the fused LSTM op of layers {missing} to set their cell activation"
        )
    return bytes(fb.convert_object_to_bytearray(model))


def fix_fused_lstms(data: bytes) -> bytes:
    """Every fused LSTM as its Keras layer computes it, where TensorFlow's converter writes
    something else:
    - a cell clip: it writes cell_clip = 10 into each LSTM it fuses (ConvertKerasLSTMLayer in
      lstm_utils.cc); Keras never clips, and a cell state past 10 (counting units of text models
      reach 25) then gives other outputs;
    - a weight tied to a state: a weight matrix of zeros that has the shape of the state (units
      = batch size) is merged with the zero-initialized state variable, so the op reads the
      live state as that weight; it gets its own zeros."""
    _, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    changed = False
    for sg, op in lstm_ops(model):
        options = op.builtinOptions
        if options.cellClip or options.projClip:
            options.cellClip, options.projClip = 0.0, 0.0
            changed = True
        inputs = list(op.inputs)
        for slot in _CONSTANT_INPUTS:
            if slot < len(inputs) and inputs[slot] >= 0 and sg.tensors[inputs[slot]].isVariable:
                inputs[slot] = _zeros_like(model, sg, sg.tensors[inputs[slot]])
                changed = True
        op.inputs = np.asarray(inputs, dtype=np.int32)
    return bytes(fb.convert_object_to_bytearray(model)) if changed else data


def _zeros_like(model: Any, sg: Any, tensor: Any) -> int:
    """A new constant tensor of zeros of `tensor`'s shape and type; returns its index."""
    s, _ = schema()
    width = {s.TensorType.FLOAT32: 4, s.TensorType.FLOAT16: 2, s.TensorType.INT8: 1, s.TensorType.INT16: 2}
    buffer = s.BufferT()
    count = int(np.prod([int(d) for d in tensor.shape]))
    buffer.data = np.zeros(count * width[tensor.type], dtype=np.uint8)
    model.buffers.append(buffer)
    zeros = s.TensorT()
    zeros.shape = np.asarray(tensor.shape, dtype=np.int32)
    zeros.type = tensor.type
    zeros.buffer = len(model.buffers) - 1
    zeros.name = (tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)) + "/zeros"
    zeros.quantization = tensor.quantization
    sg.tensors.append(zeros)
    return len(sg.tensors) - 1


# The int16 cell state scales TFLite's integer LSTM computes with: tanh of the cell runs for
# 0..6 integer bits (ApplyTanh), i.e. scales 2^-15 (range +-1) to 2^-9 (range +-64). Outside
# them it writes nothing and the output ignores the cell (TensorFlow's interpreter too).
CELL_SCALE_MIN, CELL_SCALE_MAX = 2.0**-15, 2.0**-9


def widen_cell_scales(data: bytes, lstms: Sequence[Any], peaks: dict[str, float]) -> bytes:
    """Each full-integer fused LSTM's int16 cell state scaled to hold the peak its layer reaches
    (rebuild_check.cell_state_peaks), where the converter's calibration scaled it for less: a power of
    two, as TFLite's integer kernel requires, which derives its other cell scales from it. The
    scale is then kept within CELL_SCALE_MIN..CELL_SCALE_MAX: TensorFlow's calibration sees
    the state carried from one representative sample into the next, so a cell that counts can
    come out scaled for +-512 or more, where the kernel no longer computes tanh of the cell at
    all; a cell past +-64 saturates there instead (tanh(64) is 1 in float32)."""
    s, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    changed = False
    for sg, op in lstm_ops(model):
        inputs = list(op.inputs)
        if len(inputs) <= _CELL_STATE or inputs[_CELL_STATE] < 0:
            continue
        cell = sg.tensors[inputs[_CELL_STATE]]
        if cell.type != s.TensorType.INT16 or cell.quantization is None or cell.quantization.scale is None:
            continue
        best = find_layer(model, sg, op, lstms)
        peak = peaks.get(lstms[best].layer, 0.0) if best is not None else 0.0
        now = float(cell.quantization.scale[0])
        scale = max(now, 2.0 ** np.ceil(np.log2(peak * 1.01)) / 32768.0 if peak > 0 else 0.0)
        scale = min(max(scale, CELL_SCALE_MIN), CELL_SCALE_MAX)
        if scale != now:
            cell.quantization.scale = [float(scale)]
            changed = True
    return bytes(fb.convert_object_to_bytearray(model)) if changed else data


def _scale_and_zero_point(tensor: Any) -> tuple[float, int] | None:
    q = tensor.quantization
    if q is None or q.scale is None or q.zeroPoint is None or len(q.scale) != 1:
        return None
    return float(q.scale[0]), int(q.zeroPoint[0])


def requantize_lstm_outputs(data: bytes) -> bytes:
    """Each full-integer fused LSTM made consistent with what TFLite's integer kernel computes.
    The kernel quantizes the hidden state with the scale of its last intermediate tensor
    (effective_hidden_scale_intermediate) and writes those int8 values into the output state,
    which the next step reads with the output state's own scale, and into the output, read with
    the output's. TensorFlow's quantizer can scale the three differently: it gives the output
    the scale of the op it feeds where that op needs one scale for all operands (a
    CONCATENATION, through slices, reshapes and tiles), and calibrates the state on its own.
    An encoder whose state a decoder concatenates with its input came out 0.92 of the output
    scale off Keras (TensorFlow's interpreter alike). The hidden state takes the output state's
    scale (newer TFLite kernels read one, 2.14's the other); an output scaled otherwise gets a
    QUANTIZE (int8 to int8) after the LSTM."""
    s, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    quantize = None
    changed = False
    for sg, op in list(lstm_ops(model)):
        inputs = list(op.inputs)
        if len(inputs) <= _OUTPUT_STATE or inputs[_OUTPUT_STATE] < 0:
            continue
        out = sg.tensors[int(op.outputs[0])]
        state = sg.tensors[inputs[_OUTPUT_STATE]]
        if out.type != s.TensorType.INT8 or state.type != s.TensorType.INT8:
            continue
        want, have = _scale_and_zero_point(state), _scale_and_zero_point(out)
        if want is None or have is None:
            continue
        between = list(op.intermediates) if op.intermediates is not None else []
        hidden = sg.tensors[between[4]] if len(between) == 5 else None
        if hidden is not None and hidden.quantization is not None and _scale_and_zero_point(hidden) != want:
            hidden.quantization.scale, hidden.quantization.zeroPoint = [want[0]], [want[1]]
            changed = True
        if want == have:
            continue
        if quantize is None:
            quantize = _opcode(model, s.BuiltinOperator.QUANTIZE, version=1)  # int8 to int8 is version 1
        written = s.TensorT()
        written.shape, written.type, written.buffer = list(out.shape), out.type, _empty_buffer(model)
        written.shapeSignature = None if out.shapeSignature is None else list(out.shapeSignature)
        name = out.name.decode() if isinstance(out.name, bytes) else str(out.name)
        written.name = (name + "/hidden_state_scale").encode()
        written.quantization = s.QuantizationParametersT()
        written.quantization.scale, written.quantization.zeroPoint = [want[0]], [want[1]]
        sg.tensors.append(written)
        requant = s.OperatorT()
        requant.opcodeIndex = quantize
        requant.inputs, requant.outputs = [len(sg.tensors) - 1], [int(op.outputs[0])]
        op.outputs = [len(sg.tensors) - 1, *list(op.outputs)[1:]]
        sg.operators.insert(sg.operators.index(op) + 1, requant)
        changed = True
    return bytes(fb.convert_object_to_bytearray(model)) if changed else data


def _opcode(model: Any, builtin: int, version: int) -> int:
    """The index of an operator code for `builtin` of at least `version`, added if missing."""
    s, _ = schema()
    for i, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            code.version = max(code.version, version)
            return i
    code = s.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), version
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _empty_buffer(model: Any) -> int:
    s, _ = schema()
    model.buffers.append(s.BufferT())
    return len(model.buffers) - 1


def cell_state_scales(data: bytes) -> list[float]:
    """The scale of each fused LSTM's int16 cell state, in model order (full-integer LSTMs)."""
    s, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    scales = []
    for sg, op in lstm_ops(model):
        inputs = list(op.inputs)
        if len(inputs) > _CELL_STATE and inputs[_CELL_STATE] >= 0:
            cell = sg.tensors[inputs[_CELL_STATE]]
            q = _scale_and_zero_point(cell)
            if cell.type == s.TensorType.INT16 and q is not None:
                scales.append(q[0])
    return scales


def int8_cell_states(data: bytes, lstms: Sequence[Any]) -> list[str]:
    """The layers (recurrent_twins.FusedLstm names) of full-integer fused LSTMs whose cell state
    TensorFlow's quantizer made int8: TFLite's integer kernel needs it int16 and refuses it."""
    s, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    found = []
    for sg, op in lstm_ops(model):
        inputs = list(op.inputs)
        if sg.tensors[inputs[_INPUT]].type != s.TensorType.INT8 or len(inputs) <= _CELL_STATE:
            continue
        if inputs[_CELL_STATE] >= 0 and sg.tensors[inputs[_CELL_STATE]].type == s.TensorType.INT8:
            best = find_layer(model, sg, op, lstms)
            found.append(lstms[best].layer if best is not None else f"the LSTM computing '{_name(sg, op)}'")
    return found


def _name(sg: Any, op: Any) -> str:
    name = sg.tensors[int(op.outputs[0])].name
    return name.decode() if isinstance(name, bytes) else str(name)


def order_io(data: bytes, input_names: Sequence[str], output_names: Sequence[str]) -> bytes:
    """The main subgraph's inputs and outputs (what a positional call takes and returns) and its
    signature's in the Keras model's order; TensorFlow's converter sorts them by name."""
    _, fb = schema()
    model = fb.convert_bytearray_to_object(bytearray(data))
    if not model.signatureDefs or len(model.signatureDefs) != 1:
        return data
    sig = model.signatureDefs[0]
    sg = model.subgraphs[sig.subgraphIndex or 0]
    changed = False
    for maps, names, attr in ((sig.inputs, input_names, "inputs"), (sig.outputs, output_names, "outputs")):
        by_name = {(m.name.decode() if isinstance(m.name, bytes) else m.name): m for m in maps or []}
        if sorted(by_name) != sorted(names) or len(set(names)) != len(names):
            raise ConversionError(
                f"the converted model's signature has {attr} {sorted(by_name)}; the Keras model's are {list(names)}"
            )
        ordered = [by_name[n] for n in names]
        indices = [int(m.tensorIndex) for m in ordered]
        if sorted(indices) != sorted(int(i) for i in getattr(sg, attr)):
            raise ConversionError(f"the converted model's signature {attr} are not its subgraph's {attr}")
        if indices != [int(i) for i in getattr(sg, attr)] or ordered != list(maps):
            setattr(sg, attr, np.asarray(indices, dtype=np.int32))
            if attr == "inputs":
                sig.inputs = ordered
            else:
                sig.outputs = ordered
            changed = True
    return bytes(fb.convert_object_to_bytearray(model)) if changed else data


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
