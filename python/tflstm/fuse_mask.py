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
    s, sg = rewrite.s, rewrite.sg

    def writer(t: int) -> Any:
        found = [o for o in sg.operators if t in [int(i) for i in o.outputs]]
        return found[0] if len(found) == 1 else None

    kind = "GRU" if hasattr(spec, "reset_after") else "LSTM"

    def fail(why: str) -> ValueError:
        return ValueError(
            f"{kind} '{spec.name}': TensorFlow's converter wrote the mask's placeholder otherwise than tflstm "
            f"expects ({why}); remove the mask, or convert with portable=True"
        )

    mul, _, m = rewrite.binary_after(product, s.BuiltinOperator.MUL, "multiplied by the mask", fail)
    want = [batch, time]
    chain = []
    while [int(d) for d in sg.tensors[m].shape] != want:  # back through the expansion over units
        producer = writer(m)
        if producer is None or rewrite.code(producer) not in rewrite.reshapes():
            raise fail(f"the mask has shape {[int(d) for d in sg.tensors[m].shape]}, not expanded from {want}")
        chain.append(producer)
        m = int(producer.inputs[0])
    if int(sg.tensors[m].type) not in (FLOAT32, BOOL):
        raise fail("the mask is neither FLOAT32 nor BOOL")
    rewrite.unread.extend(int(op.outputs[0]) for op in chain)  # the expansion goes once no op reads it
    rewrite.dropped.append(mul)
    return m, int(mul.outputs[0])
