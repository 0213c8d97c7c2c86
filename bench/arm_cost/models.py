"""The measured model, made on this machine: BasicMotions LSTM(64) x 100 steps x 6 features +
Dense(4), trained as bench/lstm_peers.py trains it, converted with tflstm.convert to float32,
dynamic and int8 .tflite files, and built as ONNX (float32, and ONNX Runtime's dynamic
quantization) with bench/lstm_peers.py's onnx.helper graph from the same weights. One input
sample (x.npy) and Keras's output for it (keras.npy) come with them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODES = ("float32", "dynamic", "int8")
TIMESTEPS, FEATURES, UNITS = 100, 6, 64


def make(out: Path, epochs: int = 10, onnx: bool = True) -> Path:
    """Writes the models into `out` (once: a stamp names what was made) and returns it; without
    `onnx`, the .tflite files only."""
    stamp = out / "models.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == {"epochs": epochs, "onnx": onnx}:
        return out
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(HERE.parent))
    import lstm_peers
    from tflstm import convert, datasets, training

    out.mkdir(parents=True, exist_ok=True)
    data = datasets.basic_motions()
    if epochs:
        keras_model = training.train(data.x_train, data.y_train, lstm_units=(UNITS,), epochs=epochs, verbose=0)
    else:  # the CI smoke: the same shapes, seeded initial weights (counts do not depend on training)
        keras_model = training.build((TIMESTEPS, FEATURES), 4, lstm_units=(UNITS,), seed=0)
    x = np.ascontiguousarray(data.x_test[:1], np.float32)
    np.save(out / "x.npy", x)
    np.save(out / "keras.npy", keras_model.predict(x, verbose=0).astype(np.float32))
    for mode in MODES:
        sample = np.asarray(data.x_train, np.float32) if mode == "int8" else None
        (out / f"lstm_{mode}.tflite").write_bytes(convert(keras_model, mode, sample))
    if onnx:
        onnx_float = lstm_peers.onnx_model(keras_model, TIMESTEPS, FEATURES, stateful=False)
        (out / "lstm_float32.onnx").write_bytes(onnx_float)
        (out / "lstm_dynamic.onnx").write_bytes(lstm_peers.ort_dynamic(onnx_float))
    stamp.write_text(json.dumps({"epochs": epochs, "onnx": onnx}))
    return out


def model_file(models: Path, runtime: str, mode: str) -> Path:
    """The file a runtime runs in a mode: ONNX Runtime has float32 and dynamic (int8 runs its
    float32 model, as in bench/lstm_peers.py)."""
    if runtime == "onnxruntime":
        return models / ("lstm_dynamic.onnx" if mode == "dynamic" else "lstm_float32.onnx")
    return models / f"lstm_{mode}.tflite"
