"""The rebuilt model measured against its source: random inputs of its shapes (ids for an
input that feeds an Embedding), the check that it computes what the source computes, and the
peak of each fused LSTM's cell state on given inputs (the int8 cell scale, see
lstm_flatbuffer.widen_cell_scales)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConversionError
from .keras_graph import _flatten, _tensor_types, as_list, embedding_inputs, tf_keras

if TYPE_CHECKING:
    from .fusable import Rebuilt


def sample_inputs(
    copy: Any, seed: int = 0, steps: int = 8, shapes: Sequence[tuple[int, ...]] | None = None, scale: float = 1.0
) -> list[np.ndarray]:
    """Random inputs for each of the copy's inputs, of its shapes or of `shapes` (batch axis
    first; a free axis, None, gets `steps`): normal floats times `scale`, and for an input that feeds an
    Embedding integer ids that it accepts, in the input's dtype."""
    rng = np.random.default_rng(seed)
    ids = embedding_inputs(copy)
    vocab = min(ids.values(), default=2)
    out = []
    for i, t in enumerate(copy.inputs):
        dims = shapes[i] if shapes is not None else tuple(t.shape)
        shape = tuple(int(d) if d is not None else steps for d in dims)
        dtype = t.dtype.as_numpy_dtype
        if i in ids or t.dtype.is_integer:
            out.append(rng.integers(0, ids.get(i, vocab), size=shape).astype(dtype))
        else:
            out.append((scale * rng.normal(size=shape)).astype(dtype))
    return out


def _outputs(model: Any, xs: list[np.ndarray], failure: str) -> list[np.ndarray]:
    try:
        return as_list(model(xs if len(xs) > 1 else xs[0], training=False))
    except Exception as e:  # whatever Keras raises, named
        raise ConversionError(f"{failure}: {type(e).__name__}: {e}") from e


def check_same_outputs(original: Any, copy: Any, seed: int = 0) -> None:
    """The copy must compute what the original computes, on random inputs."""
    xs = sample_inputs(copy, seed)
    want = _outputs(original, xs, f"model '{original.name}' cannot run on inputs of shape {[x.shape for x in xs]}")
    got = _outputs(copy, xs, f"model '{original.name}': its tf_keras rebuild cannot run")
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        if w.shape != g.shape or not np.allclose(w, g, rtol=1e-4, atol=1e-5):
            diff = float(np.max(np.abs(w - g))) if w.shape == g.shape else float("inf")
            raise ConversionError(
                f"model '{original.name}': its tf_keras rebuild computes something else at output {i} "
                f"(shape {w.shape} vs {g.shape}, max abs difference {diff:.3g}); a layer setting did not carry "
                "over. Please report the model"
            )


def cell_state_peaks(rebuilt: Rebuilt, samples: list[np.ndarray]) -> dict[str, float]:
    """The largest |cell state| each fused LSTM (FusedLstm.layer) reaches on `samples` at any
    step. TensorFlow's calibration sees the state only between invocations (a whole sequence
    each), not the peak inside a sequence, and scales the int16 cell state for that."""
    copy = rebuilt.model
    keras = tf_keras()
    peaks: dict[str, float] = {}
    for lstm in rebuilt.lstms:
        outer, _, inner = lstm.layer.partition("/")
        layer = copy.get_layer(outer)
        if inner:  # one direction of a Bidirectional
            layer = layer.forward_layer if inner == layer.forward_layer.name else layer.backward_layer
            nodes = copy.get_layer(outer)._inbound_nodes
        else:
            nodes = layer._inbound_nodes
        kernel, recurrent, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
        for node in nodes:
            x = _flatten(node.input_tensors, _tensor_types()[1:])[0]
            xs = np.asarray(keras.Model(copy.inputs, x)(samples if len(samples) > 1 else samples[0]), np.float64)
            if layer.go_backwards:
                xs = xs[:, ::-1]
            peaks[lstm.layer] = max(peaks.get(lstm.layer, 0.0), _lstm_cell_peak(xs, kernel, recurrent, bias))
    return peaks


def _lstm_cell_peak(xs: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> float:
    """Keras's LSTM step (gates i, f, c, o; sigmoid gates, tanh) over xs (batch, time,
    features) from a zero state: the largest |c| on the way."""
    units = recurrent.shape[0]
    h = np.zeros((len(xs), units))
    c = np.zeros((len(xs), units))
    peak = 0.0
    for t in range(xs.shape[1]):
        z = xs[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        peak = max(peak, float(np.max(np.abs(c))))
    return peak


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
