"""tflstm's fused GRU op (``TFLSTM_GRU``, a custom op: stock TFLite has no fused GRU) written
from a Keras GRU layer. The op's contract is cpp/src/rnn/gru_options.h's: inputs x, input
weights [3 * units, features] and recurrent weights [3 * units, units] (rows z, r, h, Keras's
gate order), input and recurrent biases [3 * units] or absent, the hidden state as a variable
tensor; options a FlexBuffers map {"version": 1, "reset_after", "time_major", "activation",
"recurrent_activation"}. Version 2 (a GRU called with initial_state) takes the initial state as
input 6, a tensor other ops compute, in place of the variable (input 5 absent): every invoke starts
from it, as Keras does. Version 3 (a GRU a Keras mask reaches: Masking, Embedding(mask_zero=True))
takes the mask [batch, time] (BOOL, as the graph computes it) as input 7: a masked row keeps its
state and outputs its previous output, or zeros with "zero_output_for_mask" (see fuse_mask.py).

``gru_model(layer, batch, timesteps)`` is one GRU layer as a model of its own (the tests compare
it with Keras); ``emit`` is the converter's emission: a GRU converted as a placeholder (see
gru_stand_ins.py), then rewritten into this op. Weights are float32, float16 (a DEQUANTIZE in
front makes them float32 once) or int8 with one scale a tensor (as TF's dynamic-range
quantization makes them: the hybrid GRU)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import fuse_mask, fuse_simple_rnn
from .fuse_lstm import LSTM_OP, LstmSpec, lstm_operands, options_bytes
from .fuse_simple_rnn import RnnSpec

GRU_OP = "TFLSTM_GRU"
OPTIONS_VERSION = 1
STATE_OPTIONS_VERSION = 2  # the version whose op may take an initial-state input
MASK_OPTIONS_VERSION = 3  # the version whose op may take a mask
# Keras's activation names -> the op's; hard_sigmoid differs between Keras 2 and 3.
_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "linear": "linear", "relu6": "relu6"}
# The rebuild's name of Keras 3's hard_sigmoid (keras_graph.py), which Keras 2 / tf_keras define otherwise.
KERAS3_HARD_SIGMOID = "hard_sigmoid (Keras 3)"
WEIGHTS = ("float32", "float16", "int8")


def activation_name(activation: Any, keras3: bool) -> str:
    """The op's name of a Keras activation (a function or its name); ValueError if the op has none."""
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))
    if name == "hard_sigmoid":
        return "hard_sigmoid_relu6" if keras3 else "hard_sigmoid"  # relu6(x + 3) / 6 and clip(0.2 x + 0.5, 0, 1)
    if name not in _ACTIVATIONS:
        raise ValueError(f"tflstm's GRU has no activation '{name}'")
    return _ACTIVATIONS[name]


def op_activation(name: str) -> str | None:
    """The op's name of an activation as the rebuild names it (KERAS3_HARD_SIGMOID for Keras 3's
    hard_sigmoid), None when the op does not compute it."""
    if name == KERAS3_HARD_SIGMOID:
        return "hard_sigmoid_relu6"
    if name == "hard_sigmoid":
        return "hard_sigmoid"
    return _ACTIVATIONS.get(name)


@dataclasses.dataclass
class GruSpec:
    """What the op needs of one GRU direction: its settings (activations by the op's names) and
    Keras's weights (kernel [features, 3 units], recurrent kernel, bias [3 units] or [2, 3 units])."""

    name: str
    units: int
    weights: list[np.ndarray]
    reset_after: bool = True
    use_bias: bool = True
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    return_sequences: bool = False
    go_backwards: bool = False
    initial_state: bool = False  # called with initial_state from other layers: the op's input 6
    return_state: bool = False  # returns its final state too (h after the last step, a builtin slice)
    mask: bool = False  # a Keras mask reaches it: the op's input 7 (version 3)
    zero_output_for_mask: bool = False  # Keras's flag (Bidirectional sets it to return_sequences)

    @property
    def features(self) -> int:
        return int(self.weights[0].shape[0])

    @classmethod
    def of(cls, layer: Any) -> GruSpec:
        """The spec of a Keras GRU layer (Keras 3 or tf_keras); ValueError if the op cannot run it."""
        config = layer.get_config()
        keras3 = not type(layer).__module__.startswith("tf_keras")
        return cls(
            name=layer.name,
            units=int(config["units"]),
            weights=[np.asarray(w) for w in layer.get_weights()],
            reset_after=bool(config.get("reset_after", True)),
            use_bias=bool(config.get("use_bias", True)),
            activation=activation_name(config.get("activation", "tanh"), keras3),
            recurrent_activation=activation_name(config.get("recurrent_activation", "sigmoid"), keras3),
            return_sequences=bool(config.get("return_sequences", False)),
            go_backwards=bool(config.get("go_backwards", False)),
        )


def gru_options(
    reset_after: bool,
    activation: str,
    recurrent_activation: str,
    time_major: bool = False,
    version: int = OPTIONS_VERSION,
    zero_output_for_mask: bool = False,
) -> bytes:
    """The op's custom options bytes (version 2 for an op with an initial-state input, 3 for one
    with a mask)."""
    masked = {"zero_output_for_mask": zero_output_for_mask} if version >= MASK_OPTIONS_VERSION else {}
    return options_bytes(
        version,
        reset_after=reset_after,
        time_major=time_major,
        activation=activation,
        recurrent_activation=recurrent_activation,
        **masked,
    )


def gru_operands(layer: Any) -> dict[str, Any]:
    """The op's weights and options from a Keras GRU (Keras 3 or tf_keras) or a GruSpec."""
    spec = layer if isinstance(layer, GruSpec) else GruSpec.of(layer)
    kernel, recurrent = spec.weights[0], spec.weights[1]
    bias = spec.weights[2] if spec.use_bias and len(spec.weights) > 2 else None
    b_in = b_rec = None
    if bias is not None:
        if bias.ndim == 2:  # reset_after: input bias, recurrent bias
            b_in, b_rec = bias[0], bias[1]
        else:
            b_in = bias
    f32 = np.float32
    return {
        "units": spec.units,
        "w": np.ascontiguousarray(np.asarray(kernel).T, dtype=f32),
        "u": np.ascontiguousarray(np.asarray(recurrent).T, dtype=f32),
        "b_in": None if b_in is None else np.asarray(b_in, dtype=f32),
        "b_rec": None if b_rec is None else np.asarray(b_rec, dtype=f32),
        "options": gru_options(
            spec.reset_after,
            spec.activation,
            spec.recurrent_activation,
            version=(
                MASK_OPTIONS_VERSION if spec.mask else STATE_OPTIONS_VERSION if spec.initial_state else OPTIONS_VERSION
            ),
            zero_output_for_mask=spec.zero_output_for_mask,
        ),
        "return_sequences": spec.return_sequences,
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
# (gru_stand_ins.py) that TFLite's converter turns into one FULLY_CONNECTED of the sequence (its
# weights a tensor named after the placeholder), and emit() rewrites that op into TFLSTM_GRU.
PLACEHOLDER_PREFIX = "tflstm_gru_"


def placeholder_weights(index: int, features: int, units: int) -> np.ndarray:
    """Placeholder index's constant as its FULLY_CONNECTED holds it ([units, features]): values
    no other constant has, so that the converter shares it with none."""
    w = np.arange(units * features, dtype=np.float32).reshape(units, features) * np.float32(1e-3)
    return w + np.float32(index + 0.5)


def emit(data: bytes, grus: dict[int, Any], weights: str = "float32") -> bytes:
    """The converted model `data` with placeholder i's FULLY_CONNECTED replaced by TFLSTM_GRU
    running grus[i] (a Keras GRU or a GruSpec; a fuse_lstm.LstmSpec: TFLSTM_LSTM; a
    fuse_simple_rnn.RnnSpec: the builtin UNIDIRECTIONAL_SEQUENCE_RNN), its state a
    new variable tensor (one per call of a shared layer); its weight matrices `weights` (WEIGHTS:
    float16 ones dequantized once by a DEQUANTIZE in front, int8 ones the hybrid kernel).
    ValueError if a placeholder is not found, or the converter folded another op into one (its
    constant, bias or activation changed)."""
    from tensorflow.lite.python import schema_py_generated as s

    if weights not in WEIGHTS:
        raise ValueError(f"GRU weights are one of {WEIGHTS}, not {weights!r}")
    specs = {i: g if isinstance(g, (GruSpec, LstmSpec, RnnSpec)) else GruSpec.of(g) for i, g in grus.items()}
    model = s.ModelT.InitFromPackedBuf(data, 0)
    codes = _Codes(model)
    found = set()
    for sg in model.subgraphs:
        operators = []
        stale: list[int] = []  # what the placeholders read
        dropped: list[Any] = []  # the ops that added an initial state to a placeholder's product
        for op in sg.operators:
            index = _placeholder_of(model, sg, op)
            if index is None or index not in specs:
                operators.append(op)
                continue
            _check_placeholder(model, sg, op, index, specs[index])
            stale += [int(op.inputs[1]), int(op.inputs[0])]  # its constant and (unless read) its guard
            rewrite = _Rewrite(model, sg, codes, index, weights)
            operators.extend(rewrite.ops(op, specs[index]))
            dropped.extend(rewrite.dropped)
            stale += rewrite.unread
            found.add(index)
        sg.operators = [op for op in operators if not any(op is d for d in dropped)]
        if dropped:  # a GRU in its placeholder's place may come before the ops computing its state
            sg.operators = _in_order(sg.operators)
        _drop_stale(model, sg, stale)
    missing = set(specs) - found
    if missing:
        raise ValueError(f"the converted model has no placeholder of GRU {sorted(missing)}")
    _drop_unused_codes(model)
    import flatbuffers

    fbb = flatbuffers.Builder(len(data) + 1024)
    fbb.Finish(model.Pack(fbb), file_identifier=b"TFL3")
    return bytes(fbb.Output())


def count_gru_ops(data: bytes, ops: tuple[str, ...] = (GRU_OP,)) -> int:
    """How many TFLSTM_GRU ops (or custom ops named `ops`, and UNIDIRECTIONAL_SEQUENCE_RNN when
    `ops` names it) a model has."""
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    rnn = s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_RNN if fuse_simple_rnn.OP in ops else None
    grus = {
        i
        for i, c in enumerate(model.operatorCodes)
        if _text(c.customCode) in ops or max(c.builtinCode, c.deprecatedBuiltinCode) == rnn
    }
    return sum(op.opcodeIndex in grus for sg in model.subgraphs for op in sg.operators)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _placeholder_of(model: Any, sg: Any, op: Any) -> int | None:
    """The index of the placeholder `op` is (a FULLY_CONNECTED whose weights are named after it)."""
    from tensorflow.lite.python import schema_py_generated as s

    c = model.operatorCodes[op.opcodeIndex]
    if max(c.builtinCode, c.deprecatedBuiltinCode) != s.BuiltinOperator.FULLY_CONNECTED:
        return None
    # The weights' name, or the product's where the converter merged the constants of a shared
    # placeholder into one (its first name is the op's own: "model/tflstm_gru_0/einsum/...").
    weights, product = _text(sg.tensors[op.inputs[1]].name), _text(sg.tensors[op.outputs[0]].name).split(";")[0]
    for name in (weights, product if "/einsum" in product else ""):
        for part in name.split("/"):
            if part.startswith(PLACEHOLDER_PREFIX) and part[len(PLACEHOLDER_PREFIX) :].isdigit():
                return int(part[len(PLACEHOLDER_PREFIX) :])
    return None


def _constant(model: Any, sg: Any, index: int) -> np.ndarray | None:
    """A constant tensor's values as float32 (an int8 one dequantized, a float16 one behind its
    DEQUANTIZE), None if it is not constant."""
    t = sg.tensors[index]
    data = model.buffers[t.buffer].data if t.buffer > 0 else None
    if data is None or not len(data):
        for op in sg.operators:  # a float16 constant's DEQUANTIZE
            if index in [int(o) for o in op.outputs] and len(op.inputs) == 1:
                return _constant(model, sg, int(op.inputs[0]))
        return None
    kinds = {0: np.float32, 1: np.float16, 2: np.int32, 9: np.int8}
    raw = np.frombuffer(bytes(bytearray(data)), kinds.get(t.type, np.uint8))
    values = raw.astype(np.float32)
    if t.type == 9 and t.quantization is not None and t.quantization.scale is not None:
        scale = np.asarray(t.quantization.scale, np.float32)
        values = (values.reshape(len(scale), -1) * scale[:, None]).reshape(-1) if len(scale) > 1 else values * scale[0]
    return values.reshape([int(d) for d in t.shape])


def _int8(model: Any, sg: Any, index: int) -> bool:
    """The tensor is int8 (the converter quantized a constant in dynamic mode)."""
    return int(sg.tensors[index].type) == 9


def _check_placeholder(model: Any, sg: Any, op: Any, index: int, spec: GruSpec | LstmSpec | RnnSpec) -> None:
    """The placeholder's FULLY_CONNECTED as the stand-in made it: its input the guard REVERSE_V2,
    its constant, no bias, no activation; the converter folds a following ADD, MUL or activation
    into such an op, which the GRU in its place would lose."""
    from tensorflow.lite.python import schema_py_generated as s

    why = ""
    producer = [p for p in sg.operators if int(op.inputs[0]) in [int(o) for o in p.outputs]]
    code = model.operatorCodes[producer[0].opcodeIndex] if producer else None
    if code is None or max(code.builtinCode, code.deprecatedBuiltinCode) != s.BuiltinOperator.REVERSE_V2:
        why = "its input is not the time-reversed sequence"
    elif len(op.inputs) > 2 and op.inputs[2] >= 0:
        why = "a bias was folded into it"
    elif op.builtinOptions is not None and getattr(op.builtinOptions, "fusedActivationFunction", 0):
        why = "an activation was folded into it"
    else:
        want = placeholder_weights(index, spec.features, spec.units)
        got = _constant(model, sg, int(op.inputs[1]))
        # Exact but for the converter's own rounding: float16, or int8 in dynamic mode (half a step).
        rounding = float(np.max(want)) / 127 if _int8(model, sg, int(op.inputs[1])) else 0.0
        if got is None or got.shape != want.shape or not np.allclose(got, want, rtol=1e-3, atol=rounding):
            why = "its constant was changed (a scale folded into it)"
    if why:
        kind = kind_of(spec)
        raise ValueError(
            f"{kind} '{spec.name}': TensorFlow's converter merged the ops around it into its placeholder ({why}); "
            f"convert with portable=True for stock TFLite's {kind}"
        )


def kind_of(spec: GruSpec | LstmSpec | RnnSpec) -> str:
    """The Keras layer a spec is of, for messages."""
    return "LSTM" if isinstance(spec, LstmSpec) else "SimpleRNN" if isinstance(spec, RnnSpec) else "GRU"


def _in_order(operators: list[Any]) -> list[Any]:
    """`operators` so that each runs after the ops that write its inputs, otherwise in their order."""
    import heapq

    writer = {int(t): k for k, op in enumerate(operators) for t in op.outputs if t >= 0}  # -1: an absent output
    waits = [{writer[int(t)] for t in op.inputs if int(t) in writer} for op in operators]
    readers: dict[int, list[int]] = {}
    for k, deps in enumerate(waits):
        for d in deps:
            readers.setdefault(d, []).append(k)
    ready = [k for k, deps in enumerate(waits) if not deps]
    heapq.heapify(ready)
    order = []
    while ready:
        k = heapq.heappop(ready)
        order.append(operators[k])
        for r in readers.get(k, []):
            waits[r].discard(k)
            if not waits[r]:
                heapq.heappush(ready, r)
    if len(order) != len(operators):
        raise ValueError("the rewritten GRUs' operators form a cycle")
    return order


def _drop_unused_codes(model: Any) -> None:
    """Drops the operator codes no operator uses any more (the placeholders' FULLY_CONNECTED, a
    guard's REVERSE_V2): the model's op list is what a selective build registers and what
    `tflstm inspect` lists."""
    ops = [op for sg in model.subgraphs for op in sg.operators]
    used = sorted({int(op.opcodeIndex) for op in ops})
    at = {old: new for new, old in enumerate(used)}
    model.operatorCodes = [model.operatorCodes[i] for i in used]
    for op in ops:
        op.opcodeIndex = at[int(op.opcodeIndex)]


def _drop_stale(model: Any, sg: Any, stale: list[int]) -> None:
    """The placeholders' weights no op reads any more: the DEQUANTIZE that made one (float16)
    goes, and their constants' data, so that the file carries only the GRU's own weights; so
    does a guard REVERSE_V2 no op reads."""
    read = {int(i) for op in sg.operators for i in op.inputs if i >= 0} | {int(i) for i in sg.outputs}
    for t in stale:
        if t in read:
            continue
        for op in list(sg.operators):
            if t in [int(o) for o in op.outputs]:
                sg.operators.remove(op)
                stale.extend(int(i) for i in op.inputs if i >= 0 and int(i) not in read)
        tensor = sg.tensors[t]
        if tensor.buffer > 0:
            model.buffers[tensor.buffer].data = None
            tensor.buffer = 0


class _Codes:
    """The model's operator codes for TFLSTM_GRU and DEQUANTIZE, added when first needed."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.found: dict[Any, int] = {}

    def __call__(self, builtin: int, custom: str | None = None, version: int = 1) -> int:
        key = custom or builtin
        for i, c in enumerate(self.model.operatorCodes):  # the converter's own code, when it has one
            same = (_text(c.customCode) or max(c.builtinCode, c.deprecatedBuiltinCode)) == key
            if key not in self.found and same and c.version == version:
                self.found[key] = i
        if key not in self.found:
            from tensorflow.lite.python import schema_py_generated as s

            c = s.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = builtin, min(builtin, 127), version
            c.customCode = custom
            self.model.operatorCodes.append(c)
            self.found[key] = len(self.model.operatorCodes) - 1
        return self.found[key]


class _Rewrite:
    """One placeholder's FULLY_CONNECTED made TFLSTM_GRU (and the DEQUANTIZEs of float16 weights)."""

    def __init__(self, model: Any, sg: Any, codes: _Codes, index: int, weights: str) -> None:
        from tensorflow.lite.python import schema_py_generated as s

        self.s, self.model, self.sg, self.codes, self.index, self.weights = s, model, sg, codes, index, weights
        self.before: list[Any] = []  # ops that must run before the GRU
        self.dropped: list[Any] = []  # ops the GRU replaces besides its placeholder
        self.unread: list[int] = []  # tensors whose ops go once no op reads them (a mask's expansion)

    def tensor(self, name: str, shape: list[int], values: np.ndarray | None = None, kind: int | None = None) -> int:
        s = self.s
        t = s.TensorT()
        t.name = f"{PLACEHOLDER_PREFIX}{self.index}/{name}".encode()
        t.shape = np.array(shape, np.int32)
        t.type = s.TensorType.FLOAT32 if kind is None else kind
        t.buffer = 0
        if values is not None:
            b = s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(values).tobytes(), np.uint8)
            self.model.buffers.append(b)
            t.buffer = len(self.model.buffers) - 1
        self.sg.tensors.append(t)
        return len(self.sg.tensors) - 1

    def matrix(self, name: str, values: np.ndarray) -> int:
        s = self.s
        shape = list(values.shape)
        if self.weights == "float16":
            half = self.tensor(f"{name}_float16", shape, values.astype(np.float16), s.TensorType.FLOAT16)
            out = self.tensor(name, shape)
            op = s.OperatorT()
            op.opcodeIndex = self.codes(s.BuiltinOperator.DEQUANTIZE, version=3)  # version 3: float16 input
            op.inputs, op.outputs = np.array([half], np.int32), np.array([out], np.int32)
            self.before.append(op)
            return out
        if self.weights == "int8":
            q, scale = _quantized(values)
            t = self.tensor(name, shape, q, s.TensorType.INT8)
            quant = s.QuantizationParametersT()
            quant.scale, quant.zeroPoint = [scale], [0]
            self.sg.tensors[t].quantization = quant
            return t
        return self.tensor(name, shape, values)

    def state(self, name: str, batch: int, units: int) -> int:
        t = self.tensor(name, [batch, units])
        self.sg.tensors[t].isVariable = True
        return t

    def operands(
        self, spec: GruSpec | LstmSpec, x: int, batch: int, initial: list[int], mask: int = -1
    ) -> tuple[list[int], bytes]:
        """The op's inputs, and its options: TFLSTM_GRU's or TFLSTM_LSTM's (fuse_lstm.py),
        starting from the tensors `initial` (GRU: h; LSTM: h, c) when given, else from variables;
        masked by the tensor `mask` when it is not -1."""
        if isinstance(spec, LstmSpec):
            lstm = lstm_operands(spec)
            bias = -1 if lstm["b"] is None else self.tensor("bias", [4 * spec.units], lstm["b"])
            weights = [self.matrix("input_weights", lstm["w"]), self.matrix("recurrent_weights", lstm["u"]), bias]
            if initial:
                states = [-1, -1, *initial]
            else:
                states = [self.state("h", batch, spec.units), self.state("c", batch, spec.units)]
                states += [-1, -1] if mask >= 0 else []
            return [x, *weights, *states, *([mask] if mask >= 0 else [])], lstm["options"]
        operands = gru_operands(spec)
        units = operands["units"]
        return [
            x,
            self.matrix("input_weights", operands["w"]),
            self.matrix("recurrent_weights", operands["u"]),
            -1 if operands["b_in"] is None else self.tensor("input_bias", [3 * units], operands["b_in"]),
            -1 if operands["b_rec"] is None else self.tensor("recurrent_bias", [3 * units], operands["b_rec"]),
            *([self.state("h", batch, units), -1] if not initial else [-1, *initial]),
            *([mask] if mask >= 0 else []),
        ][: 8 if mask >= 0 else 7 if initial else 6], operands["options"]

    def ops(self, op: Any, spec: GruSpec | LstmSpec | RnnSpec) -> list[Any]:
        s, sg = self.s, self.sg
        units = spec.units
        x = int(op.inputs[0])  # the time-reversed sequence (see _check_placeholder)
        if not spec.go_backwards:  # the sequence itself, before the guard
            x = next(int(p.inputs[0]) for p in sg.operators if x in [int(o) for o in p.outputs])
        batch = int(sg.tensors[x].shape[0])
        initial, output = self.initial_state(op, spec, batch, units) if spec.initial_state else ([], int(op.outputs[0]))
        mask = -1
        if spec.mask:
            mask, output = fuse_mask.mask_input(self, output, spec, batch, int(sg.tensors[x].shape[1]))
        if isinstance(spec, RnnSpec):  # the builtin op (no initial state, final state or mask)
            inputs, options = fuse_simple_rnn.operands(self, spec, x, batch), b""
        else:
            inputs, options = self.operands(spec, x, batch, initial, mask)
        final_c = self.final_c(output) if isinstance(spec, LstmSpec) and spec.return_state else -1
        op.outputs = np.array([output] if final_c < 0 else [output, -1, final_c], np.int32)
        # The op's output is [batch, time, units] whatever shape the placeholder's product had.
        out = sg.tensors[int(op.outputs[0])]
        x_t = sg.tensors[x]
        out.shape = np.array([batch, int(x_t.shape[1]), units], np.int32)
        if x_t.shapeSignature is not None and len(x_t.shapeSignature):
            out.shapeSignature = np.array([batch, int(x_t.shapeSignature[1]), units], np.int32)
        if isinstance(spec, RnnSpec):
            fuse_simple_rnn.make_op(self, op, spec, inputs)
            return [*self.before, op]
        op.opcodeIndex = self.codes(s.BuiltinOperator.CUSTOM, LSTM_OP if isinstance(spec, LstmSpec) else GRU_OP)
        op.inputs = np.array(inputs, np.int32)
        op.builtinOptionsType, op.builtinOptions = 0, None
        op.customOptions = np.frombuffer(options, np.uint8)
        op.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
        return [*self.before, op]

    def code(self, o: Any) -> int:
        c = self.model.operatorCodes[o.opcodeIndex]
        return int(max(c.builtinCode, c.deprecatedBuiltinCode))

    def readers(self, t: int) -> list[Any]:
        return [o for o in self.sg.operators if t in [int(i) for i in o.inputs]]

    def reshapes(self) -> set[int]:
        """The ops that only reshape a tensor on its way to another op."""
        b = self.s.BuiltinOperator
        return {b.RESHAPE, b.EXPAND_DIMS, b.SQUEEZE}

    def binary_after(self, t: int, opcode: int, what: str, fail: Any) -> tuple[Any, int, int]:
        """The `opcode` op (ADD, MUL) a placeholder's product `t` reaches through ops that only
        reshape it, the product's tensor it reads and its other operand; those reshapes go
        (self.dropped). `fail(why)` is the ValueError when the converter wrote it otherwise (the
        product not `what`: "added to the state")."""
        while True:
            after = [o for o in self.readers(t) if not any(o is d for d in self.dropped)]
            if len(after) != 1:
                raise fail(f"its product is read by {len(after)} ops")
            if self.code(after[0]) == opcode:
                op = after[0]
                break
            if self.code(after[0]) not in self.reshapes():
                raise fail(f"its product is not {what}")
            self.dropped.append(after[0])
            t = int(after[0].outputs[0])
        options = op.builtinOptions
        if options is not None and getattr(options, "fusedActivationFunction", 0):
            raise fail("an activation was folded into the op after the product")
        other = [int(i) for i in op.inputs if int(i) != t]
        if len(other) != 1:
            raise fail("both operands of the op after it are the product")
        return op, t, other[0]

    def final_c(self, output: int) -> int:
        """The tensor of an LSTM placeholder's final c (gru_stand_ins: the sequence's product over
        time, a REDUCE_PROD over axis 1), which the op's output 2 becomes (the REDUCE_PROD goes);
        -1 when no op computes it (nothing reads the final c: the converter dropped it). The
        converter may reshape the sequence to its own shape on the way (a no-op once the op gives
        [batch, time, units])."""
        s, sg = self.s, self.sg
        sequences = [output]
        for t in sequences:
            for o in self.readers(t):
                if self.code(o) == s.BuiltinOperator.RESHAPE and len(sg.tensors[int(o.outputs[0])].shape) == 3:
                    sequences.append(int(o.outputs[0]))
                    continue
                axis = _constant(self.model, sg, int(o.inputs[1])) if len(o.inputs) > 1 else None
                if self.code(o) == s.BuiltinOperator.REDUCE_PROD and axis is not None and axis.tolist() in ([1], 1):
                    self.dropped.append(o)
                    return int(o.outputs[0])
        return -1

    def initial_state(self, op: Any, spec: GruSpec | LstmSpec, batch: int, units: int) -> tuple[list[int], int]:
        """The initial states the placeholder adds to its product (gru_stand_ins: product + each
        state expanded over time; GRU: h, LSTM: h then c) and the last sum's tensor, which the
        op's output becomes; the ADDs, and the ops that only reshaped the product or a state for
        them, go (self.dropped). ValueError if the converter wrote the sums otherwise."""
        t = int(op.outputs[0])
        states = []
        for _ in range(2 if isinstance(spec, LstmSpec) else 1):
            state, t = self.state_added(t, spec, batch, units)
            states.append(state)
        return states, t

    def state_added(self, t: int, spec: GruSpec | LstmSpec, batch: int, units: int) -> tuple[int, int]:
        """The state the ADD after product `t` adds (see initial_state), and the sum's tensor."""
        s, sg, code, readers = self.s, self.sg, self.code, self.readers
        expansions = {s.BuiltinOperator.RESHAPE, s.BuiltinOperator.EXPAND_DIMS}  # a SQUEEZE may compute the state

        def fail(why: str) -> ValueError:
            kind = "LSTM" if isinstance(spec, LstmSpec) else "GRU"
            return ValueError(
                f"{kind} '{spec.name}': TensorFlow's converter wrote the initial state's placeholder otherwise than "
                f"tflstm expects ({why}); convert with portable=True for stock TFLite's {kind}"
            )

        add, t, given = self.binary_after(t, s.BuiltinOperator.ADD, "added to the state", fail)
        producer = [o for o in sg.operators if given in [int(i) for i in o.outputs]]
        if len(producer) == 1 and code(producer[0]) in expansions:
            state = int(producer[0].inputs[0])
            if len(readers(given)) == 1:
                self.dropped.append(producer[0])
        elif [int(d) for d in sg.tensors[given].shape] == [batch, units]:
            # The converter dropped the expansion and lets the ADD broadcast (batch 1: [1, units]
            # against [1, time, units]): the state is added as it is.
            state = given
        elif [int(d) for d in sg.tensors[given].shape] == [batch, 1, units]:
            # The converter folded the expansion into the op that computes the state (an
            # encoder's last step taken as [batch, 1, units] by one STRIDED_SLICE): reshape it back.
            state = self.reshaped(given, [batch, units])
        else:
            raise fail("the state is not expanded over time")
        if [int(d) for d in sg.tensors[state].shape] != [batch, units]:
            raise fail(f"the state has shape {list(sg.tensors[state].shape)}, not {[batch, units]}")
        self.dropped.append(add)
        return state, int(add.outputs[0])

    def reshaped(self, tensor: int, shape: list[int]) -> int:
        """`tensor` reshaped to `shape` by a RESHAPE that runs before the op (self.before)."""
        s = self.s
        out = self.tensor(f"state_{tensor}", shape)
        new_shape = self.tensor(f"state_{tensor}_shape", [len(shape)], np.array(shape, np.int32), s.TensorType.INT32)
        op = s.OperatorT()
        op.opcodeIndex = self.codes(s.BuiltinOperator.RESHAPE)
        op.inputs, op.outputs = np.array([tensor, new_shape], np.int32), np.array([out], np.int32)
        op.builtinOptionsType = s.BuiltinOptions.ReshapeOptions
        op.builtinOptions = s.ReshapeOptionsT()
        op.builtinOptions.newShape = list(shape)
        self.before.append(op)
        return out
