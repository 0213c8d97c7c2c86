"""A short run of bench/soak.py (the long one is in the README): the Python API under a mixed
threaded load, every result checked against a serial run, resident memory flat after warm-up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_soak_gives_serial_results_in_flat_memory(tmp_path, converted):
    model = tmp_path / "classifier.tflite"
    model.write_bytes(converted("float32"))
    run = subprocess.run(
        [sys.executable, str(SOAK), str(model), "--seconds", "15", "--max-growth-mb", "4"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert "errors 0" in summary, summary
    counts = dict(re.findall(r"(calls|stream_steps|snapshots|views|runners) (\d+)", summary))
    assert all(int(counts[k]) > 0 for k in ("calls", "stream_steps", "snapshots", "views", "runners")), summary
