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

from ._build_config import ISA, TFLITE_VERSION, VERSION
from ._core import (
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
    RunnerOptions,
    StateInfo,
    Stream,
    TensorInfo,
    UnsupportedOpError,
)
from .converter import MODES, convert
from .errors import ConversionError, MismatchError, TrainingError, UnsupportedLayerError
from .profiling import ProfileReport, ProfileRow, profile
from .training import magnitude_prune, train

__version__ = VERSION

__all__ = [
    "ISA",
    "MODES",
    "TFLITE_VERSION",
    "ArenaExhaustedError",
    "ArenaStats",
    "CancelledError",
    "ConversionError",
    "Error",
    "InputError",
    "InvokeError",
    "MemoryStats",
    "MismatchError",
    "Model",
    "ModelError",
    "ProfileReport",
    "ProfileRow",
    "Quantization",
    "Runner",
    "RunnerOptions",
    "StateInfo",
    "Stream",
    "TensorInfo",
    "TrainingError",
    "UnsupportedLayerError",
    "UnsupportedOpError",
    "convert",
    "magnitude_prune",
    "profile",
    "train",
]
