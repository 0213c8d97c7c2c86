from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import pytest


def _testdata_dir() -> Path:
    """TFLite's own test models, unpacked from the TensorFlow source tarball into the cache."""
    explicit = os.environ.get("TFLSTM_TESTDATA")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("TFLSTM_CACHE") or Path.home() / ".cache" / "tflstm")
    unpacked = cache / "src" / "tensorflow" / "tensorflow" / "lite" / "testdata"
    if unpacked.is_dir():
        return unpacked
    hits = sorted(glob.glob(str(cache / "tflite" / "*" / "share" / "tflstm-tflite" / "testdata")))
    if not hits:
        pytest.fail(f"no TFLite testdata under {cache}: build tflstm first (tests/run_all.sh does)")
    return Path(hits[-1])


@pytest.fixture(scope="session")
def testdata() -> Path:
    return _testdata_dir()


@pytest.fixture(scope="session")
def classifier():
    from tf_models import build_classifier

    return build_classifier()


@pytest.fixture(scope="session")
def converted(classifier):
    """Bytes of the classifier in each conversion mode, converted once per session."""
    from tf_models import convert

    cache: dict[str, bytes] = {}

    def get(mode: str) -> bytes:
        if mode not in cache:
            cache[mode] = convert(classifier, mode)
        return cache[mode]

    return get


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
