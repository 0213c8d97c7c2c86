"""What the runtime tests on a device (tests/device/) need from this machine: models converted
here with TensorFlow, their inputs, and this machine's outputs on them, in one folder.

    python3 tests/python/device_bundle.py OUT_DIR

Models: the suite's LSTM classifier and the demo's LSTM(64) on BasicMotions (briefly trained,
real recordings as inputs), each in every conversion mode; a whole-sequence and a one-step
model for streaming; a model whose op version TFLite 2.14.1 lacks; TFLite's own test models.
manifest.json lists them with this machine's view of each (inputs, outputs, ops).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tf_models as zoo
import tflstm
from tflstm.cli import describe

TESTDATA = ("multi_add.bin", "multi_signatures.bin", "test_model_broken.bin", "unidirectional_sequence_lstm.bin")


def quantize(x: np.ndarray, info: tflstm.TensorInfo) -> np.ndarray:
    q = info.quantization
    return np.clip(np.round(x / q.scales[0]) + q.zero_points[0], -128, 127).astype(np.int8)


def _case(out: Path, name: str, data: bytes, xs: list[np.ndarray], **extra) -> dict:
    """Writes the model, its inputs and this machine's outputs (output 0 of each run)."""
    (out / f"{name}.tflite").write_bytes(data)
    model = tflstm.Model(data)
    runner = tflstm.Runner(model)
    if model.inputs[0].dtype == np.int8:
        xs = [quantize(x, model.inputs[0]) for x in xs]
    ys = [runner(x) for x in xs]
    np.savez(out / f"{name}.npz", x=np.stack(xs), y=np.stack(ys))
    return {
        "name": name,
        "model": f"{name}.tflite",
        "data": f"{name}.npz",
        "description": describe(model, data),
        **extra,
    }


def make_bundle(out: Path, testdata: Path, converted: Callable[[str], bytes] | None = None) -> Path:
    """`converted(mode)`: the suite's classifier in a mode (conftest's session fixture, whose
    conversions the other tests share); by default converted here."""
    from tflstm.datasets import basic_motions

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    cases = []

    if converted is None:
        classifier = zoo.build_classifier()

        def converted(mode: str) -> bytes:
            return zoo.convert(classifier, mode)

    xs = [rng.normal(size=(1, zoo.TIMESTEPS, zoo.FEATURES)).astype(np.float32) for _ in range(4)]
    for mode in tflstm.MODES:
        cases.append(_case(out, f"classifier_{mode}", converted(mode), xs, mode=mode, group="classifier"))

    demo = basic_motions()
    model = tflstm.train(demo.x_train, demo.y_train, lstm_units=(64,), epochs=2, batch_size=8, verbose=0)
    xs = [demo.x_test[i : i + 1].astype(np.float32) for i in range(4)]
    for mode in tflstm.MODES:
        data = tflstm.convert(model, mode, demo.x_train if mode == "int8" else None)
        cases.append(_case(out, f"demo_{mode}", data, xs, mode=mode, group="demo"))

    keras = zoo.keras3()
    keras.utils.set_random_seed(7)
    last_step = keras.Sequential([keras.Input((30, 3)), keras.layers.LSTM(16), keras.layers.Dense(4)])
    xs = [rng.normal(size=(1, 30, 3)).astype(np.float32) for _ in range(2)]
    cases.append(_case(out, "stream_whole", tflstm.convert(last_step, "float32"), xs, mode="float32", group="stream"))
    (out / "stream_step.tflite").write_bytes(tflstm.convert(last_step, "float32", timesteps=1))

    (out / "unsupported_fc_v99.tflite").write_bytes(converted("future-op-version"))
    for name in TESTDATA:
        shutil.copy(testdata / name, out / name)
    manifest = {"machine": "x86_64", "tflite": tflstm.TFLITE_VERSION, "cases": cases}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


if __name__ == "__main__":
    from conftest import _testdata_dir

    print(make_bundle(Path(sys.argv[1]), _testdata_dir()))
