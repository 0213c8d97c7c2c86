"""Reading the folder that tests/python/device_bundle.py writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load(bundle: Path, case: dict) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A case's model bytes, its inputs and this machine's outputs, stacked on a new axis 0."""
    data = np.load(bundle / case["data"])
    return (bundle / case["model"]).read_bytes(), data["x"], data["y"]
