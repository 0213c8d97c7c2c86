"""Child process of test_fuzz: loads and runs byte-flipped copies of a model.

Prints one line per flip before trying it ("try <i> <offset> <value>") and one after
("ok <outcome>"), so the parent can name the flip that killed the process, if one does.
Usage: python fuzz_child.py MODEL SEED COUNT
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tflstm


def attempt(data: bytes) -> str:
    try:
        model = tflstm.Model(data)
        runner = tflstm.Runner(model)
        inputs = [np.zeros(t.shape, dtype=t.dtype) for t in runner.inputs]
        runner(*inputs)
        return "ran"
    except tflstm.Error as e:
        return type(e).__name__


def main() -> int:
    path, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    original = Path(path).read_bytes()
    rng = np.random.default_rng(seed)
    for i in range(count):
        data = bytearray(original)
        offset = int(rng.integers(0, len(data)))
        value = int(rng.integers(0, 256))
        if data[offset] == value:
            value ^= 0xFF
        data[offset] = value
        print(f"try {i} {offset} {value}", flush=True)
        print(f"ok {attempt(bytes(data))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
