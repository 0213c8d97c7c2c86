"""Results on ARM match x86_64: the aarch64 and armhf builds of tflstm_benchmark, run under
qemu-user, against the native runtime here on the same converted models and inputs (float
within 1e-5, int8 within one step; dynamic-range models on armhf, see test_arm_wide_lstm).
tests/run_all.sh builds the ARM targets first; set TFLSTM_REQUIRE_ARM=1 (as it does) to make a
missing ARM build a failure instead of a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tflstm
from quantize import quantize

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"aarch64": ("qemu-aarch64-static", "aarch64-linux-gnu"), "armhf": ("qemu-arm-static", "arm-linux-gnueabihf")}


def _benchmark(target: str) -> list[str]:
    qemu, triple = TARGETS[target]
    tool = ROOT / "build" / target / "bench" / "tflstm_benchmark"
    if not tool.exists() or shutil.which(qemu) is None:
        if os.environ.get("TFLSTM_REQUIRE_ARM"):
            pytest.fail(f"no {target} build at {tool} or no {qemu}: run `cmake --workflow --preset {target}`")
        pytest.skip(f"no {target} build (cmake --workflow --preset {target})")
    return [shutil.which(qemu), "-L", f"/usr/{triple}", str(tool)]


def _run(command: list[str], model: Path, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    """Output 0 of one run of `model` on `x` with an ARM build of tflstm_benchmark."""
    np.save(tmp_path / "x.npy", x)
    done = subprocess.run(
        [
            *command,
            str(model),
            "--input",
            str(tmp_path / "x.npy"),
            "--output",
            str(tmp_path / "y.npy"),
            "--runs",
            "1",
            "--warmup",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return np.load(tmp_path / "y.npy")


@pytest.mark.parametrize("mode", ["float32", "int8", "dynamic"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_arm_outputs_match_x86(target, mode, converted, tmp_path, rng):
    command = _benchmark(target)
    data = converted(mode)
    path = tmp_path / f"{mode}.tflite"
    path.write_bytes(data)
    model = tflstm.Model(data)
    runner = tflstm.Runner(model)
    info = model.inputs[0]
    for _i in range(3):
        x = rng.normal(size=info.shape).astype(np.float32)
        if info.dtype == np.int8:
            x = quantize(x, info)
        arm, here = _run(command, path, x, tmp_path), runner(x)
        assert arm.dtype == here.dtype and arm.shape == here.shape
        if here.dtype == np.int8:
            assert np.max(np.abs(arm.astype(int) - here.astype(int))) <= 1
        else:
            np.testing.assert_allclose(arm, here, atol=1e-5, rtol=0)


@pytest.fixture(scope="module")
def wide_lstm() -> dict[str, bytes]:
    """An LSTM where the matrix products dominate: 50 steps of 32 features, 2 x 128 units."""
    import tf_keras as keras

    keras.utils.set_random_seed(7)
    inputs = keras.Input(shape=(50, 32), batch_size=1)
    h = keras.layers.LSTM(128, return_sequences=True)(inputs)
    h = keras.layers.LSTM(128)(h)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
    return {mode: tflstm.convert(model, mode) for mode in ("float32", "dynamic")}


@pytest.mark.parametrize("target", list(TARGETS))
def test_arm_wide_lstm(target, wide_lstm, tmp_path, rng):
    """Float within 1e-5 on both targets, and dynamic-range within 1e-5 on aarch64. On armhf,
    floats differ from x86_64 by about an ulp (probably TFLite's ARMv7 NEON code multiplying
    and adding in two roundings, VMLA, where x86_64 and aarch64 fuse them, FMA). A
    dynamic-range LSTM quantizes its hidden state to int8 at every step, so such an ulp can
    move a value to the next step (measured: up to 9e-5). There the ARM result must stay
    within the error that quantization itself makes on that input (the dynamic model against
    the float32 one)."""
    command = _benchmark(target)
    runners = {}
    for mode, data in wide_lstm.items():
        (tmp_path / f"{mode}.tflite").write_bytes(data)
        runners[mode] = tflstm.Runner(tflstm.Model(data))
    for _i in range(3):
        x = rng.normal(size=(1, 50, 32)).astype(np.float32)
        here = {mode: runner(x) for mode, runner in runners.items()}
        for mode in runners:
            arm = _run(command, tmp_path / f"{mode}.tflite", x, tmp_path)
            if mode == "float32" or target == "aarch64":
                np.testing.assert_allclose(arm, here[mode], atol=1e-5, rtol=0)
            else:
                quantization_error = np.max(np.abs(here["dynamic"] - here["float32"]))
                assert np.max(np.abs(arm - here[mode])) <= quantization_error
