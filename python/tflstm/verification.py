"""The converted .tflite checked against its source Keras model on tflstm's own runtime.

Three kinds of inputs, each compared output by output with Keras's, as the largest difference
relative to the output's scale (its largest magnitude, at least 1):
- typical: normal floats (integer ids in range for an input that feeds an Embedding);
- stress: what drives recurrent states large, which ordinary inputs do not reach: each
  sample's input held constant over time (a counting unit counts), at twice the typical scale,
  and sequences of 256 steps where the converted model's time axis is free (a fused LSTM
  resizes; an unrolled layer runs at its own length only);
- the user's representative data (its first samples), when given.

Each mode has a tolerance, relative to the output's scale:
- float32: 1e-3. The same float arithmetic in another order: 1e-6 on the test zoo; on a
  trained text generator whose cells reach |c| = 30 (textgenrnn), 8e-5 on random ids and
  4.5e-4 on held ids, where TensorFlow's own interpreter differs from Keras by as much. A
  converter fault (a cell clip, another gate function) gives 1e-1 and more.
- float16: 1e-2 (weights rounded to 11 significant bits).
- dynamic: 5e-2 (int8 weights, inputs quantized at each step) on typical and representative
  inputs.
- int8: 2.5e-1 on the representative data only, which it is calibrated on (other inputs fall
  outside the calibrated ranges by design).
Quantized modes are not held to the stress inputs: their error there says how far the states
leave the ranges they were quantized for, not that the conversion is wrong.

Past its tolerance a conversion is refused (MismatchError) with the measured difference and
what to do instead: a mode that keeps more of the model, or `tolerance=` to accept the
difference measured. A model that disagrees with its source is never returned silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import Error, Model, Runner
from .errors import ConversionError, MismatchError
from .fusable import Rebuilt
from .keras_graph import as_list, embedding_inputs
from .rebuild_check import sample_inputs

TOLERANCE = {"float32": 1e-3, "float16": 1e-2, "dynamic": 5e-2, "int8": 2.5e-1}
# Which inputs each mode is held to (see the module's docstring).
CHECKED = {
    "float32": ("typical", "stress", "long", "representative"),
    "float16": ("typical", "stress", "long", "representative"),
    "dynamic": ("typical", "representative"),
    "int8": ("representative",),
}
LONG_STEPS = 256
TYPICAL_STEPS = 16
SAMPLES = 4


@dataclasses.dataclass
class Difference:
    inputs: str  # which kind of inputs
    output: str  # the output's name
    error: float  # max abs difference / scale
    scale: float


def _held_constant(xs: list[np.ndarray], axes: Sequence[int | None], ids: Sequence[int]) -> list[np.ndarray]:
    """Each sample's first step repeated over its time axis, floats at twice their scale: a
    constant drive (the same id, for an id input) that integrates into the cell state."""
    out = []
    for i, (x, axis) in enumerate(zip(xs, axes, strict=True)):
        if axis is None:
            out.append(x)
            continue
        held = np.repeat(np.take(x, [0], axis=axis + 1), x.shape[axis + 1], axis=axis + 1)
        out.append(held if i in ids else (2.0 * held).astype(x.dtype))
    return out


def _runs(runner: Runner, xs: list[np.ndarray], batch: int) -> list[np.ndarray]:
    """The converted model on xs, `batch` samples per call."""
    chunks = []
    for i in range(0, len(xs[0]), batch):
        chunks.append(as_list(runner(*[x[i : i + batch] for x in xs])))
    return [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]


def _cases(rebuilt: Rebuilt, representative: list[np.ndarray] | None, batch_size: int) -> dict[str, list[np.ndarray]]:
    """The inputs of each kind, SAMPLES batches of each (see the module's docstring)."""
    copy = rebuilt.model
    ids = embedding_inputs(copy)
    # A free axis (a model converted for any sequence length) is compared at TYPICAL_STEPS here,
    # and at LONG_STEPS below.
    shapes = [
        [SAMPLES * batch_size, *(TYPICAL_STEPS if d is None else int(d) for d in tuple(t.shape)[1:])]
        for t in copy.inputs
    ]
    for shape, axis, length in zip(shapes, rebuilt.time_axes, rebuilt.source_lengths, strict=True):
        if axis is not None and length is not None and shape[axis + 1] != length:
            # Converted for another length than the source's fixed one (the step model): compared
            # at the source's, which the converted model resizes to (a fused LSTM does; a model
            # with unrolled layers cannot, and its rebuild was checked against the source instead).
            if rebuilt.unfused:
                return {}
            shape[axis + 1] = length
    typical = sample_inputs(copy, 0, shapes=[tuple(s) for s in shapes])
    # A fixed-length id input (tokens) has its time axis first too.
    axes = [a if a is not None or i not in ids else 0 for i, a in enumerate(rebuilt.time_axes)]
    cases = {"typical": typical, "stress": _held_constant(typical, axes, list(ids))}
    # Free where the converted model is free too (timesteps=N fixes a free axis of the source).
    free = [
        a if a is not None and tuple(t.shape)[a + 1] is None else None
        for t, a in zip(copy.inputs, rebuilt.free_axes, strict=True)
    ]
    if not rebuilt.unfused and any(a is not None for a in free):
        shapes = []
        for x, axis in zip(typical, free, strict=True):
            shape = list(x.shape)
            if axis is not None:
                shape[axis + 1] = LONG_STEPS
            shapes.append(tuple(shape))
        cases["long"] = _held_constant(sample_inputs(copy, 1, shapes=shapes), free, list(ids))
    if representative is not None:
        count = min(len(a) for a in representative)
        count = min(count - count % batch_size, 16 * batch_size)
        if count:
            cases["representative"] = [np.asarray(a[:count]) for a in representative]
    return cases


def verify(
    data: bytes,
    source: Any,
    rebuilt: Rebuilt,
    mode: str,
    representative: list[np.ndarray] | None,
    batch_size: int,
    tolerance: float | None = None,
) -> list[Difference]:
    """Runs the converted model against its source on each kind of input its mode is held to;
    refuses it (MismatchError) when an output differs past `tolerance` (default: the mode's);
    returns the largest difference measured per kind of input and output."""
    bound = TOLERANCE[mode] if tolerance is None else tolerance
    try:
        runner = Runner(Model(data), quantize_io=True, check_finite=False)
    except Error as e:
        name = rebuilt.model.name
        raise ConversionError(f"the {mode} model of '{name}' does not run on tflstm's runtime: {e}") from e
    found = []
    for kind, xs in _cases(rebuilt, representative, batch_size).items():
        if kind not in CHECKED[mode]:
            continue
        try:
            want = as_list(source(xs if len(xs) > 1 else xs[0], training=False))
        except Exception:  # e.g. representative data at a converted length the source does not take
            continue
        if any(not np.all(np.isfinite(w)) for w in want):
            continue  # the source itself overflows on these inputs: nothing to compare
        try:
            got = _runs(runner, xs, batch_size)
        except Error as e:
            raise MismatchError(
                f"the {mode} model of '{rebuilt.model.name}' cannot run on {kind} inputs of shapes "
                f"{[x.shape for x in xs]} that its Keras source runs: {e}"
            ) from e
        for name, w, g in zip(rebuilt.output_names, want, got, strict=True):
            if w.shape != g.shape:
                raise MismatchError(
                    f"the {mode} model of '{rebuilt.model.name}' gives output '{name}' of shape {g.shape} on "
                    f"{kind} inputs; its Keras source gives {w.shape}"
                )
            scale = max(1.0, float(np.max(np.abs(w))) if w.size else 1.0)
            error = float(np.max(np.abs(g.astype(np.float64) - w))) / scale if w.size else 0.0
            found.append(Difference(kind, name, error if np.isfinite(error) else float("inf"), scale))
    worst = max(found, key=lambda d: d.error, default=None)
    if worst is None or worst.error <= bound:
        return found
    raise MismatchError(
        f"the {mode} model of '{rebuilt.model.name}' differs from its Keras source by {worst.error:.3g} of the "
        f"output scale ({worst.error * worst.scale:.3g} absolute) at output '{worst.output}' on {worst.inputs} "
        f"inputs; the tolerance for {mode} is {bound:g}. {_instead(mode, worst)}"
    )


# What each mode can do instead, when its model is too far off its source.
_INSTEAD = {
    "float32": "A float32 conversion computes what Keras computes: please report the model",
    "float16": "float16 rounds the weights to 11 significant bits; mode 'float32' keeps them",
    "dynamic": "dynamic quantizes the weights to int8 and the inputs of each step; mode 'float16' keeps "
    "float weights at half the size",
    "int8": "int8 quantizes every activation to the ranges of the representative data; give data that "
    "covers what the model sees, or use mode 'dynamic' or 'float16', which keep float activations",
}


def _instead(mode: str, worst: Difference) -> str:
    # The measured difference rounded up to two significant digits: a bound that accepts it.
    if not np.isfinite(worst.error):
        return f"{_INSTEAD[mode]} (verify=False skips the check)"
    digits = 1 - int(np.floor(np.log10(worst.error)))
    accept = f"{np.ceil(worst.error * 10.0**digits) / 10.0**digits:g}"
    return f"{_INSTEAD[mode]} (convert(..., tolerance={accept}) accepts this difference, verify=False skips the check)"
