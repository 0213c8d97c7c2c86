"""The Keras mask of a fused GRU or LSTM (TFLSTM_GRU options version 3, input 7; TFLSTM_LSTM
options version 3, input 8), found in the converted model. The layer's placeholder
(gru_stand_ins.py) multiplies its product by the mask it is given, as float32 and expanded over
units (reversed over time first when the layer goes backwards, as Keras reverses the mask with
the sequence): y * mask[:, :, None]. The converter keeps the ops
that compute the mask (NOT_EQUAL of Embedding(mask_zero=True)'s ids, ANY(NOT_EQUAL) of Masking,
their CAST), and emit takes the MUL apart again: the [batch, time] mask becomes the op's mask
input, the MUL's output the op's output."""

from __future__ import annotations

from typing import Any

FLOAT32, BOOL = 0, 6  # TFLite's TensorType codes


def mask_input(rewrite: Any, product: int, spec: Any, batch: int, time: int) -> tuple[int, int]:
    """The mask tensor ([batch, time], FLOAT32 or BOOL) the placeholder's `product` (its output
    after any initial state) is multiplied by, and the product's tensor, which the GRU's output
    becomes; the MUL and the ops that only reshaped the product go (rewrite.dropped), the mask's
    expansion once no other GRU reads it (rewrite.unread). ValueError
    naming the GRU if the converter wrote it otherwise."""
    s, sg, model = rewrite.s, rewrite.sg, rewrite.model
    reshapes = {s.BuiltinOperator.RESHAPE, s.BuiltinOperator.EXPAND_DIMS, s.BuiltinOperator.SQUEEZE}

    def code(o: Any) -> int:
        c = model.operatorCodes[o.opcodeIndex]
        return int(max(c.builtinCode, c.deprecatedBuiltinCode))

    def readers(t: int) -> list[Any]:
        return [o for o in sg.operators if t in [int(i) for i in o.inputs]]

    def writer(t: int) -> Any:
        found = [o for o in sg.operators if t in [int(i) for i in o.outputs]]
        return found[0] if len(found) == 1 else None

    kind = "GRU" if hasattr(spec, "reset_after") else "LSTM"

    def fail(why: str) -> ValueError:
        return ValueError(
            f"{kind} '{spec.name}': TensorFlow's converter wrote the mask's placeholder otherwise than tflstm "
            f"expects ({why}); remove the mask, or convert with portable=True"
        )

    t = product
    while True:  # the product, reshaped on its way to the MUL
        after = [o for o in readers(t) if not any(o is d for d in rewrite.dropped)]
        if len(after) != 1:
            raise fail(f"its product is read by {len(after)} ops")
        if code(after[0]) == s.BuiltinOperator.MUL:
            mul = after[0]
            break
        if code(after[0]) not in reshapes:
            raise fail("its product is not multiplied by the mask")
        rewrite.dropped.append(after[0])
        t = int(after[0].outputs[0])
    options = mul.builtinOptions
    if options is not None and getattr(options, "fusedActivationFunction", 0):
        raise fail("an activation was folded into the product")
    other = [int(i) for i in mul.inputs if int(i) != t]
    if len(other) != 1:
        raise fail("its product is multiplied by itself")
    want = [batch, time]
    m, chain = other[0], []
    while [int(d) for d in sg.tensors[m].shape] != want:  # back through the expansion over units
        producer = writer(m)
        if producer is None or code(producer) not in reshapes:
            raise fail(f"the mask has shape {[int(d) for d in sg.tensors[m].shape]}, not expanded from {want}")
        chain.append(producer)
        m = int(producer.inputs[0])
    if int(sg.tensors[m].type) not in (FLOAT32, BOOL):
        raise fail("the mask is neither FLOAT32 nor BOOL")
    rewrite.unread.extend(int(op.outputs[0]) for op in chain)  # the expansion goes once no op reads it
    rewrite.dropped.append(mul)
    return m, int(mul.outputs[0])
