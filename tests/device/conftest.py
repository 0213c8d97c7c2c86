"""The runtime tests that run on a target's own Python with only numpy and an installed tflstm
wheel (tests/python/test_wheels.py runs them under qemu-user). They compare against what
this machine computed: TFLSTM_BUNDLE names a folder made by tests/python/device_bundle.py."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import pytest


def _bundle() -> Path:
    path = os.environ.get("TFLSTM_BUNDLE")
    if not path or not (Path(path) / "manifest.json").is_file():
        pytest.fail("set TFLSTM_BUNDLE to a folder made by `python3 tests/python/device_bundle.py DIR`")
    return Path(path)


def _manifest() -> dict:
    return json.loads((_bundle() / "manifest.json").read_text())


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = _manifest()["cases"]
        metafunc.parametrize("case", cases, ids=[c["name"] for c in cases])


@pytest.fixture(scope="session")
def bundle() -> Path:
    return _bundle()


@pytest.fixture(scope="session")
def manifest() -> dict:
    return _manifest()


@pytest.fixture(scope="session")
def cases(manifest) -> dict[str, dict]:
    return {c["name"]: c for c in manifest["cases"]}


@pytest.fixture(scope="session")
def device_python() -> list[str]:
    """How to start this Python in a child process (under qemu-user there is no binfmt: the
    parent says how, e.g. 'qemu-arm-static -L ROOT ROOT/usr/bin/python3.11')."""
    return shlex.split(os.environ.get("TFLSTM_DEVICE_PYTHON", "")) or [sys.executable]
