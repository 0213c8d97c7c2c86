"""tflstm: LSTM and other sequence models on embedded Linux with TensorFlow Lite.

    import tflstm
    model = tflstm.Model("m.tflite")
    runner = tflstm.Runner(model)
    y = runner(x)

Training, conversion and profiling (tflstm.train, tflstm.convert, tflstm.profile) need the
optional extra: pip install 'tflstm[convert]'. TensorFlow is imported only when they run.
"""
from __future__ import annotations

from ._cpu import check_cpu as _check_cpu

_check_cpu()

from ._build_config import ISA, TFLITE_VERSION, VERSION  # noqa: E402
from ._core import (  # noqa: E402
    ArenaExhaustedError,
    ArenaStats,
    CancelledError,
    Error,
    InputError,
    InvokeError,
    MemoryStats,
    Model,
    ModelError,
    Quantization,
    Runner,
    StateInfo,
    Stream,
    TensorInfo,
    UnsupportedOpError,
)

from .converter import MODES, convert  # noqa: E402
from .errors import ConversionError, TrainingError, UnsupportedLayerError  # noqa: E402
from .profiling import ProfileReport, ProfileRow, profile  # noqa: E402
from .training import magnitude_prune, train  # noqa: E402

__version__ = VERSION

__all__ = [
    "ArenaExhaustedError",
    "ArenaStats",
    "CancelledError",
    "ConversionError",
    "Error",
    "MODES",
    "ProfileReport",
    "ProfileRow",
    "TrainingError",
    "UnsupportedLayerError",
    "convert",
    "magnitude_prune",
    "profile",
    "train",
    "ISA",
    "InputError",
    "InvokeError",
    "MemoryStats",
    "Model",
    "ModelError",
    "Quantization",
    "Runner",
    "StateInfo",
    "Stream",
    "TFLITE_VERSION",
    "TensorInfo",
    "UnsupportedOpError",
]
