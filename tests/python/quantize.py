"""The tests' one float -> integer quantization, as TFLite's QUANTIZE computes it."""

from __future__ import annotations

import numpy as np


def quantize(x: np.ndarray, info) -> np.ndarray:
    """`x` in the integer dtype of tensor `info` (a tflstm.TensorInfo): x / scale rounded half
    away from zero, plus the zero point, clamped to the dtype's range."""
    scale = float(info.quantization.scales[0])
    zero = int(info.quantization.zero_points[0])
    v = np.asarray(x, np.float32) / np.float32(scale)
    rounded = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    limits = np.iinfo(info.dtype)
    return np.clip(rounded + zero, limits.min, limits.max).astype(info.dtype)
