"""Results on ARM match x86_64: the aarch64 and armhf builds of tflstm_benchmark, run under
qemu-user, against the native runtime here on the same converted models and inputs (float
within 1e-5, int8 within one step). tests/run_all.sh builds the ARM targets first; set
TFLSTM_REQUIRE_ARM=1 (as it does) to make a missing ARM build a failure instead of a skip."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tflstm
import tf_models as zoo

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
    for i in range(3):
        x = rng.normal(size=info.shape).astype(np.float32)
        if info.dtype == np.int8:
            q = info.quantization
            x = np.clip(np.round(x / q.scales[0]) + q.zero_points[0], -128, 127).astype(np.int8)
        np.save(tmp_path / "x.npy", x)
        done = subprocess.run(command + [str(path), "--input", str(tmp_path / "x.npy"), "--output",
                                         str(tmp_path / "y.npy"), "--runs", "1", "--warmup", "0"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        arm, here = np.load(tmp_path / "y.npy"), runner(x)
        assert arm.dtype == here.dtype and arm.shape == here.shape
        if here.dtype == np.int8:
            assert np.max(np.abs(arm.astype(int) - here.astype(int))) <= 1
        else:
            np.testing.assert_allclose(arm, here, atol=1e-5, rtol=0)
