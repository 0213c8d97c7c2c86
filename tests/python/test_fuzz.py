"""Hundreds of random single-byte flips of valid models: each loads and runs or raises a
typed tflstm.Error, never crashes. They run in a child process so that a crash is seen."""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import pytest

FLIPS = 300
HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("mode,seed", [("float32", 11), ("int8", 12), ("dynamic", 13)])
def test_byte_flips_of_converted_models(converted, tmp_path, mode, seed):
    # Most flips of a converted model land in weights; the model then runs on other numbers.
    path = tmp_path / f"{mode}.tflite"
    path.write_bytes(converted(mode))
    _flip_in_child(path, seed)


@pytest.mark.parametrize("name,seed", [("unidirectional_sequence_lstm.bin", 21), ("lstm.bin", 22)])
def test_byte_flips_of_small_lstm_models(testdata, name, seed):
    # TFLite's tiny test LSTMs are mostly structure: most flips hit tables, offsets and indices.
    _flip_in_child(testdata / name, seed)


def _flip_in_child(path: Path, seed: int) -> None:
    proc = subprocess.run(
        [sys.executable, str(HERE / "fuzz_child.py"), str(path), str(seed), str(FLIPS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = proc.stdout.splitlines()
    outcomes = collections.Counter(line.split()[1] for line in lines if line.startswith("ok "))
    if proc.returncode != 0:
        tried = [line for line in lines if line.startswith("try ")]
        last = tried[-1] if tried else "(none)"
        pytest.fail(
            f"the child died with code {proc.returncode} at flip '{last}' "
            f"(flip index, byte offset, new value); outcomes so far {dict(outcomes)}\n"
            f"stderr: {proc.stderr[-2000:]}"
        )
    assert sum(outcomes.values()) == FLIPS, proc.stdout[-500:]
    # Python-level errors other than tflstm.Error would have killed the child: only typed
    # errors and successful runs remain.
    assert set(outcomes) <= {
        "ran",
        "ModelError",
        "UnsupportedOpError",
        "InputError",
        "ArenaExhaustedError",
        "InvokeError",
    }, outcomes
    # Stderr stays clean: TFLite's reports become exception messages, never prints.
    assert proc.stderr.strip() == "", proc.stderr[-2000:]
