"""Dynamic-range quantization of fused LSTM weights in a converted TFLite flatbuffer.

TF 2.21's converter leaves the weights of a fused ``UNIDIRECTIONAL_SEQUENCE_LSTM`` in float32
in dynamic-range mode, whatever its options say. TFLite's LSTM kernel has a hybrid path: float
activations, int8 weights with one scale per tensor, inputs quantized on the fly. This module
rewrites the LSTM weight tensors of a float model into that form, which is what the converter's
own dynamic-range quantizer used to emit (op version 3: asymmetric input quantization).
"""

from __future__ import annotations

import numpy as np

from .lstm_flatbuffer import lstm_ops
from .lstm_flatbuffer import schema as _schema

# Weight inputs of TFLite's LSTM ops (tensorflow/lite/kernels/lstm_shared.h): the input-to-gate
# and recurrent-to-gate matrices (1-8), the optional peepholes (9-11) and projection (16).
# Biases and layer-norm coefficients stay float32, as the hybrid kernel expects.
_WEIGHT_INPUTS = (*tuple(range(1, 12)), 16)
_HYBRID_VERSION = 3  # float input, int8 weights, asymmetric_quantize_inputs


def _symmetric_int8(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-tensor symmetric int8, as TFLite's hybrid kernels read it (zero point 0)."""
    peak = float(np.max(np.abs(w))) if w.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale


def quantize_lstm_weights(model_bytes: bytes) -> tuple[bytes, int]:
    """Returns the model with every fused LSTM's float32 weights in int8, and how many
    weight tensors were rewritten (0 when the model has no float LSTM)."""
    schema, fb = _schema()
    model = fb.convert_bytearray_to_object(bytearray(model_bytes))
    readers: dict[int, int] = {}  # buffer -> how many tensors use it
    for sg in model.subgraphs:
        for t in sg.tensors:
            readers[t.buffer] = readers.get(t.buffer, 0) + 1

    rewritten = 0
    hybrid_codes: set[int] = set()
    for sg, op in lstm_ops(model):
        inputs = list(op.inputs)
        if sg.tensors[inputs[0]].type != schema.TensorType.FLOAT32:
            continue  # already integer (full int8 model)
        for slot in _WEIGHT_INPUTS:
            if slot >= len(inputs) or inputs[slot] < 0:
                continue
            tensor = sg.tensors[inputs[slot]]
            buffer = model.buffers[tensor.buffer]
            if tensor.type != schema.TensorType.FLOAT32 or buffer.data is None:
                continue
            shape = tuple(int(d) for d in tensor.shape)
            weights = np.frombuffer(bytes(buffer.data), dtype="<f4").reshape(shape)
            q, scale = _symmetric_int8(weights)
            new_buffer = schema.BufferT()
            new_buffer.data = np.frombuffer(q.tobytes(), dtype=np.uint8)
            model.buffers.append(new_buffer)
            readers[tensor.buffer] -= 1
            if readers[tensor.buffer] == 0:
                buffer.data = None  # the float copy is gone: this is where the size goes
            tensor.buffer = len(model.buffers) - 1
            tensor.type = schema.TensorType.INT8
            quant = schema.QuantizationParametersT()
            quant.scale = [scale]
            quant.zeroPoint = [0]
            tensor.quantization = quant
            rewritten += 1
        op.builtinOptions.asymmetricQuantizeInputs = True
        hybrid_codes.add(op.opcodeIndex)
    for i in hybrid_codes:
        model.operatorCodes[i].version = max(model.operatorCodes[i].version, _HYBRID_VERSION)
    if rewritten == 0:
        return model_bytes, 0
    return bytes(fb.convert_object_to_bytearray(model)), rewritten
