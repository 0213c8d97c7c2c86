"""tflstm: LSTM and other sequence models on embedded Linux with TensorFlow Lite.

    import tflstm
    model = tflstm.Model("m.tflite")
    runner = tflstm.Runner(model)
    y = runner(x)
"""
from __future__ import annotations

from ._cpu import check_cpu as _check_cpu

_check_cpu()

from ._build_config import ISA, TFLITE_VERSION  # noqa: E402
from ._core import (  # noqa: E402
    ArenaExhaustedError,
    ArenaStats,
    Error,
    InputError,
    InvokeError,
    Model,
    ModelError,
    Quantization,
    Runner,
    TensorInfo,
    UnsupportedOpError,
)

__version__ = "0.1.0"

__all__ = [
    "ArenaExhaustedError",
    "ArenaStats",
    "Error",
    "ISA",
    "InputError",
    "InvokeError",
    "Model",
    "ModelError",
    "Quantization",
    "Runner",
    "TFLITE_VERSION",
    "TensorInfo",
    "UnsupportedOpError",
]
