"""The wheels in dist/ (tools/build_wheels.sh) on each target's own Python: the runtime tests
of tests/device/ run there against this machine's results (tests/python/device_bundle.py).
aarch64 and armhf run under qemu-user in a Debian 12 userland with Debian's python3 and
python3-numpy (tools/debian_userland.py); x86_64 runs on this Python. The target's own pip
installs the wheel into a folder on PYTHONPATH. tests/run_all.sh builds the wheels
first; TFLSTM_REQUIRE_WHEELS=1 (as it sets) makes a missing wheel a failure, not a skip."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {  # target: (wheel platform suffix, Debian architecture, qemu)
    "x86_64": ("x86_64", None, None),
    "aarch64": ("aarch64", "arm64", "qemu-aarch64-static"),
    "armhf": ("armv7l", "armhf", "qemu-arm-static"),
}
DEVICE_TESTS = ["tests/device", "tests/python/test_cpu.py"]


def _missing(what: str) -> None:
    if os.environ.get("TFLSTM_REQUIRE_WHEELS"):
        pytest.fail(what)
    pytest.skip(what)


def _wheel(target: str) -> Path:
    suffix = TARGETS[target][0]
    found = sorted((ROOT / "dist").glob(f"tflstm-*-cp311-cp311-manylinux_*_{suffix}.whl"))
    if not found:
        _missing(f"no {target} wheel in dist/: run `bash tools/build_wheels.sh {target}`")
    return found[-1]


def _python(target: str) -> list[str]:
    _, arch, qemu = TARGETS[target]
    if arch is None:
        return [sys.executable]
    if shutil.which(qemu) is None:
        _missing(f"no {qemu}")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "debian_userland.py"), "--arch", arch],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    root = done.stdout.strip()
    return [shutil.which(qemu), "-L", root, f"{root}/usr/bin/python3.11"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, testdata, converted) -> Path:
    from device_bundle import make_bundle

    return make_bundle(tmp_path_factory.mktemp("bundle"), testdata, converted)


@pytest.fixture(scope="module")
def device_test_ids(bundle) -> set[str]:
    """The device tests as collected here: each target must pass every one of them."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *DEVICE_TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TFLSTM_BUNDLE": str(bundle)},
    )
    assert done.returncode == 0, done.stdout[-2000:]
    ids = {line for line in done.stdout.splitlines() if "::" in line}
    assert len(ids) > 30
    return ids


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Installs a target's wheel with that target's own pip (which checks the wheel's tags
    against the Python and glibc it runs on) into a folder, once per target."""
    done: dict[str, Path] = {}

    def install(target: str) -> Path:
        if target not in done:
            wheel, python = _wheel(target), _python(target)
            site = tmp_path_factory.mktemp(f"site-{target}")
            pip = subprocess.run(
                [
                    *python,
                    "-m",
                    "pip",
                    "install",
                    "--no-deps",
                    "--no-index",
                    "--no-compile",
                    "--disable-pip-version-check",
                    "--target",
                    str(site),
                    str(wheel),
                ],
                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert pip.returncode == 0, pip.stdout + pip.stderr
            done[target] = site
        return done[target]

    return install


@pytest.mark.parametrize("target", list(TARGETS))
def test_runtime_tests_pass_on_the_targets_python(target, bundle, device_test_ids, installed, tmp_path):
    site = installed(target)
    python = _python(target)
    junit = tmp_path / "junit.xml"
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TFLSTM_BUNDLE": str(bundle),
        "TFLSTM_EXPECT_PACKAGE_DIR": str(site),
        "TFLSTM_DEVICE_PYTHON": shlex.join(python),
    }
    done = subprocess.run(
        [*python, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", *DEVICE_TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = set()
    for case in ET.parse(junit).getroot().iter("testcase"):
        if not any(child.tag in ("failure", "error", "skipped") for child in case):
            name = f"{case.get('classname').replace('.', '/')}.py::{case.get('name')}"
            passed.add(name)
    assert passed == device_test_ids
    # The `tflstm` command that pip installed (its script, run by the target's Python).
    done = subprocess.run(
        [*python, str(site / "bin" / "tflstm"), "inspect", str(bundle / "demo_int8.tflite")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 and "runs every op" in done.stdout, done.stderr


@pytest.mark.parametrize("cpu,missing", [("cortex-r5f", "neon, vfpv4"), ("cortex-a9", "vfpv4")])
def test_armhf_wheel_refuses_a_cpu_without_neon_vfpv4(cpu, missing, installed, bundle):
    """qemu's Cortex-R5F has VFPv3 and no NEON, its Cortex-A9 NEON and no VFPv4 (fused
    multiply-add): the NEON-VFPv4 wheel gives them an ImportError that says why (without the
    check, a run dies with SIGILL there), and runs on a Cortex-A7."""
    site = installed("armhf")
    qemu, *rest = _python("armhf")
    model = bundle / "demo_float32.tflite"
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [qemu, "-cpu", cpu, *rest, "-c", "import tflstm"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stderr
    assert (
        f"ImportError: tflstm was built for armv7-a (-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard), "
        f"but this CPU lacks {missing} and would stop with an illegal instruction"
    ) in done.stderr
    # Without the check (the extension loaded directly), a run dies there with SIGILL: in TFLite's
    # LSTM kernel (tflstm's NEON kernel happens to use no vfpv4 instruction).
    bypass = (
        "import sys, types, numpy as np; pkg = types.ModuleType('tflstm'); "
        f"pkg.__path__ = [{str(site / 'tflstm')!r}]; sys.modules['tflstm'] = pkg; from tflstm import _core; "
        f"r = _core.Runner(_core.Model({str(model)!r}), lstm_kernel='tflite'); "
        "print(r(np.ones(r.inputs[0].shape, np.float32)).shape)"
    )
    done = subprocess.run(
        [qemu, "-cpu", cpu, *rest, "-c", bypass], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0 and "Illegal instruction" in done.stderr, done.stdout + done.stderr
    done = subprocess.run(
        [qemu, "-cpu", "cortex-a7", *rest, "-c", "import tflstm; print(tflstm.ISA)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.strip() == "armv7-a", done.stderr
    done = subprocess.run(
        [qemu, "-cpu", "cortex-a7", *rest, "-c", bypass], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "(1, 4)", done.stderr
