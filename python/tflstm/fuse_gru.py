"""tflstm's fused GRU op (``TFLSTM_GRU``, a custom op: stock TFLite has no fused GRU) written
from a Keras GRU layer. The op's contract is cpp/src/rnn/gru_options.h's: inputs x, input
weights [3 * units, features] and recurrent weights [3 * units, units] (rows z, r, h, Keras's
gate order), input and recurrent biases [3 * units] or absent, the hidden state as a variable
tensor; options a FlexBuffers map {"version": 1, "reset_after", "time_major", "activation",
"recurrent_activation"}.

``gru_model(layer, batch, timesteps)`` is one GRU layer as a model of its own (the tests compare
it with Keras); ``placeholder`` and ``emit`` are the converter's emission (a GRU converted as a
placeholder, then rewritten into this op). With ``quantize`` the weight matrices are int8 with one
scale a tensor (as TF's dynamic-range quantization makes them): the hybrid GRU."""

from __future__ import annotations

from typing import Any

import numpy as np

GRU_OP = "TFLSTM_GRU"
OPTIONS_VERSION = 1
# Keras's activation names -> the op's; hard_sigmoid differs between Keras 2 and 3.
_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "linear": "linear", "relu6": "relu6"}


def activation_name(activation: Any, keras3: bool) -> str:
    """The op's name of a Keras activation (a function or its name); ValueError if the op has none."""
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))
    if name == "hard_sigmoid":
        return "hard_sigmoid_relu6" if keras3 else "hard_sigmoid"  # relu6(x + 3) / 6 and clip(0.2 x + 0.5, 0, 1)
    if name not in _ACTIVATIONS:
        raise ValueError(f"tflstm's GRU has no activation '{name}'")
    return _ACTIVATIONS[name]


def gru_options(reset_after: bool, activation: str, recurrent_activation: str, time_major: bool = False) -> bytes:
    """The op's custom options bytes."""
    from flatbuffers import flexbuffers

    b = flexbuffers.Builder()
    with b.Map():
        b.Int("version", OPTIONS_VERSION)
        b.Bool("reset_after", reset_after)
        b.Bool("time_major", time_major)
        b.String("activation", activation)
        b.String("recurrent_activation", recurrent_activation)
    return bytes(b.Finish())


def gru_operands(layer: Any) -> dict[str, Any]:
    """The op's weights and options from a Keras GRU (Keras 3 or tf_keras)."""
    config = layer.get_config()
    weights = layer.get_weights()
    keras3 = not type(layer).__module__.startswith("tf_keras")
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if config.get("use_bias", True) and len(weights) > 2 else None
    reset_after = bool(config.get("reset_after", True))
    b_in = b_rec = None
    if bias is not None:
        if bias.ndim == 2:  # reset_after: input bias, recurrent bias
            b_in, b_rec = bias[0], bias[1]
        else:
            b_in = bias
    f32 = np.float32
    return {
        "units": int(config["units"]),
        "w": np.ascontiguousarray(kernel.T, dtype=f32),
        "u": np.ascontiguousarray(recurrent.T, dtype=f32),
        "b_in": None if b_in is None else np.asarray(b_in, dtype=f32),
        "b_rec": None if b_rec is None else np.asarray(b_rec, dtype=f32),
        "options": gru_options(
            reset_after,
            activation_name(config.get("activation", "tanh"), keras3),
            activation_name(config.get("recurrent_activation", "sigmoid"), keras3),
        ),
        "return_sequences": bool(config.get("return_sequences", False)),
    }


def _quantized(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric int8 with one scale (max |w| / 127), as TF's dynamic-range quantization."""
    scale = float(np.max(np.abs(w))) / 127 or 1.0
    return np.round(w / np.float32(scale)).astype(np.int8), scale


def _weight(s: Any, t: Any, values: np.ndarray, quantize: bool) -> np.ndarray:
    """Sets `t` up for `values` (int8 and its scale with `quantize`); returns the stored array."""
    if not quantize:
        return np.ascontiguousarray(values, np.float32)
    q, scale = _quantized(values)
    t.type = s.TensorType.INT8
    t.quantization = s.QuantizationParametersT()
    t.quantization.scale, t.quantization.zeroPoint = [scale], [0]
    return q


def gru_model(layer: Any, batch: int, timesteps: int, quantize: bool = False) -> bytes:
    """One Keras GRU layer as a TFLite model: x [batch, timesteps, features] -> the layer's output
    (every step's h, or the last one's through STRIDED_SLICE), h carried in a variable tensor."""
    from tensorflow.lite.python import schema_py_generated as s

    ops = gru_operands(layer)
    units = ops["units"]
    features = ops["w"].shape[1]
    model = s.ModelT()
    model.version = 3
    model.buffers = [s.BufferT()]
    sg = s.SubGraphT()
    sg.tensors, sg.operators = [], []
    model.operatorCodes = []

    def tensor(
        name: str, shape: list[int], data: np.ndarray | None = None, variable: bool = False, kind=None, q=False
    ) -> int:
        t = s.TensorT()
        t.name = name
        t.shape = shape
        t.type = s.TensorType.FLOAT32 if kind is None else kind
        t.isVariable = variable
        t.buffer = 0
        if q:
            data = _weight(s, t, data, True)
        if data is not None:
            b = s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            model.buffers.append(b)
            t.buffer = len(model.buffers) - 1
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    def code(builtin: int, custom: str | None = None) -> int:
        c = s.OperatorCodeT()
        c.builtinCode = builtin
        c.deprecatedBuiltinCode = min(builtin, 127)
        c.version = 1
        c.customCode = custom
        model.operatorCodes.append(c)
        return len(model.operatorCodes) - 1

    x = tensor("x", [batch, timesteps, features])
    inputs = [
        x,
        tensor("gru/input_weights", [3 * units, features], ops["w"], q=quantize),
        tensor("gru/recurrent_weights", [3 * units, units], ops["u"], q=quantize),
        -1 if ops["b_in"] is None else tensor("gru/input_bias", [3 * units], ops["b_in"]),
        -1 if ops["b_rec"] is None else tensor("gru/recurrent_bias", [3 * units], ops["b_rec"]),
        tensor("gru/h", [batch, units], variable=True),
    ]
    seq = tensor("gru/sequence", [batch, timesteps, units])
    op = s.OperatorT()
    op.opcodeIndex = code(s.BuiltinOperator.CUSTOM, GRU_OP)
    op.inputs, op.outputs = inputs, [seq]
    op.customOptions = list(ops["options"])
    op.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
    sg.operators.append(op)
    out = seq
    if not ops["return_sequences"]:  # the last step: x[:, -1, :]
        i32 = s.TensorType.INT32
        begin = tensor("begin", [3], np.array([0, -1, 0], np.int32), kind=i32)
        end = tensor("end", [3], np.array([0, 0, 0], np.int32), kind=i32)
        strides = tensor("strides", [3], np.array([1, 1, 1], np.int32), kind=i32)
        out = tensor("gru/last", [batch, units])
        sl = s.OperatorT()
        sl.opcodeIndex = code(s.BuiltinOperator.STRIDED_SLICE)
        sl.inputs, sl.outputs = [seq, begin, end, strides], [out]
        sl.builtinOptionsType = s.BuiltinOptions.StridedSliceOptions
        sl.builtinOptions = s.StridedSliceOptionsT()
        sl.builtinOptions.beginMask, sl.builtinOptions.endMask, sl.builtinOptions.shrinkAxisMask = 0b101, 0b111, 0b010
        sg.operators.append(sl)
    sg.inputs, sg.outputs = [x], [out]
    model.subgraphs = [sg]
    import flatbuffers

    fbb = flatbuffers.Builder(1024)
    fbb.Finish(model.Pack(fbb), file_identifier=b"TFL3")
    return bytes(fbb.Output())


# The converter's emission: each GRU of the rebuilt tf_keras model is replaced by a placeholder
# that TFLite's converter turns into one FULLY_CONNECTED of the sequence (its weights a tensor
# named after the placeholder), and emit() rewrites that op into TFLSTM_GRU with the GRU's weights.
PLACEHOLDER_PREFIX = "tflstm_gru_"


def placeholder(layer: Any, index: int) -> Any:
    """A tf_keras layer standing in for the Keras GRU `layer` during conversion: x [batch, time,
    features] -> [batch, time, units] (the GRU's sequence; its last step is taken after it when
    the GRU returns one step). Named PLACEHOLDER_PREFIX + index."""
    import tensorflow as tf
    import tf_keras

    units = int(layer.get_config()["units"])
    features = int(layer.get_weights()[0].shape[0])

    class GruPlaceholder(tf_keras.layers.Layer):
        def call(self, x):
            # Distinct values, so that the converter shares this constant with no other.
            w = np.arange(features * units, dtype=np.float32).reshape(features, units) * np.float32(1e-3) + index + 0.5
            return tf.einsum("bti,iu->btu", x, tf.constant(w))

    return GruPlaceholder(name=f"{PLACEHOLDER_PREFIX}{index}")


def emit(data: bytes, grus: dict[int, Any], quantize: bool = False) -> bytes:
    """The converted model `data` with placeholder i's FULLY_CONNECTED replaced by TFLSTM_GRU
    running grus[i] (a Keras GRU), its state a new variable tensor; int8 weight matrices with
    `quantize` (the hybrid GRU). ValueError if a placeholder is not found or a GRU setting has no
    fused form."""
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    code = s.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = s.BuiltinOperator.CUSTOM, 32, 1
    code.customCode = GRU_OP
    model.operatorCodes.append(code)
    gru_code = len(model.operatorCodes) - 1
    found = set()
    for sg in model.subgraphs:
        for op in sg.operators:
            c = model.operatorCodes[op.opcodeIndex]
            if max(c.builtinCode, c.deprecatedBuiltinCode) != s.BuiltinOperator.FULLY_CONNECTED:
                continue
            w = sg.tensors[op.inputs[1]]
            name = w.name.decode() if isinstance(w.name, bytes) else str(w.name)
            index = _placeholder_index(name)
            if index is None or index not in grus:
                continue
            _rewrite(model, sg, op, grus[index], gru_code, index, quantize)
            found.add(index)
    missing = set(grus) - found
    if missing:
        raise ValueError(f"the converted model has no placeholder of GRU {sorted(missing)}")
    import flatbuffers

    fbb = flatbuffers.Builder(len(data) + 1024)
    fbb.Finish(model.Pack(fbb), file_identifier=b"TFL3")
    return bytes(fbb.Output())


def _placeholder_index(name: str) -> int | None:
    for part in name.split("/"):
        if part.startswith(PLACEHOLDER_PREFIX) and part[len(PLACEHOLDER_PREFIX) :].isdigit():
            return int(part[len(PLACEHOLDER_PREFIX) :])
    return None


def _rewrite(model: Any, sg: Any, op: Any, layer: Any, gru_code: int, index: int, quantize: bool) -> None:
    from tensorflow.lite.python import schema_py_generated as s

    ops = gru_operands(layer)
    if layer.get_config().get("go_backwards", False):
        raise ValueError(f"GRU {index} runs backwards; tflstm's fused GRU runs forwards")
    x = int(op.inputs[0])
    batch = int(sg.tensors[x].shape[0])
    units = ops["units"]

    def tensor(name: str, shape: list[int], values: np.ndarray | None, variable: bool = False, q=False) -> int:
        t = s.TensorT()
        t.name = f"{PLACEHOLDER_PREFIX}{index}/{name}".encode()
        t.shape = np.array(shape, np.int32)
        t.type = s.TensorType.FLOAT32
        t.isVariable = variable
        t.buffer = 0
        if values is not None:
            values = _weight(s, t, values, q)
            b = s.BufferT()
            b.data = np.frombuffer(values.tobytes(), np.uint8)
            model.buffers.append(b)
            t.buffer = len(model.buffers) - 1
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    inputs = [
        x,
        tensor("input_weights", [3 * units, ops["w"].shape[1]], ops["w"], q=quantize),
        tensor("recurrent_weights", [3 * units, units], ops["u"], q=quantize),
        -1 if ops["b_in"] is None else tensor("input_bias", [3 * units], ops["b_in"]),
        -1 if ops["b_rec"] is None else tensor("recurrent_bias", [3 * units], ops["b_rec"]),
        tensor("h", [batch, units], None, variable=True),
    ]
    op.opcodeIndex = gru_code
    op.inputs = np.array(inputs, np.int32)
    op.builtinOptionsType, op.builtinOptions = 0, None
    op.customOptions = np.frombuffer(ops["options"], np.uint8)
    op.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
