"""Captures what native code (TensorFlow's converter, its logging) writes to file descriptor 2,
so tflstm can put it into an exception instead of onto the user's terminal."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


class Captured:
    text = ""

    def tail(self, lines: int = 15) -> str:
        kept = [line for line in self.text.splitlines() if line.strip()]
        return "\n".join(kept[-lines:])


@contextlib.contextmanager
def captured_stderr() -> Iterator[Captured]:
    result = Captured()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield result
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            result.text = sink.read().decode("utf-8", "replace")
