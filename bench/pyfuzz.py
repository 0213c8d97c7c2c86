"""Coverage-guided fuzzing of tflstm's Python surface with atheris (libFuzzer for Python): each
input drives one call sequence of tests/python/api_harness.py (arrays of every dtype, byte
order, layout and value class; views, streams, resets, snapshots, restores, shape changes,
threads, bad options) over one of the models, every result checked against a serial reference.

    python3 bench/pyfuzz.py MODEL.tflite [MODEL.tflite ...] [--seconds 1800] [--workdir DIR]
    python3 bench/pyfuzz.py MODEL.tflite ... --reproduce DIR/finding-<sha1>

MODELs take one input [batch, time, features] (float32, or int8: each int8 model is also run
with quantize_io=True). Atheris guides by the coverage of the Python code it instruments (the
harness and tflstm's Python package); the extension itself is not instrumented. A finding (a
wrong answer, an untyped exception) is saved as DIR/finding-<sha1> and the run goes on; a crash
(a signal) stops it with libFuzzer's crash-<sha1> in DIR. The end prints one line of figures:
executions, call-sequence steps, findings, and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))

import atheris

with atheris.instrument_imports():
    import api_harness
    import tflstm

STEPS = 30


class Run:
    def __init__(self, models: list[bytes], workdir: Path, seconds: float) -> None:
        self.cases: list[tuple[bytes, dict]] = []
        for data in models:
            self.cases.append((data, {}))
            if tflstm.Model(data).inputs[0].dtype.kind == "i":
                self.cases.append((data, {"quantize_io": True}))
            self.cases.append((data, {"check_finite": False}))
        self.workdir = workdir
        self.deadline = time.monotonic() + seconds
        self.start = time.monotonic()
        self.execs = self.steps = self.findings = 0
        self.ops: dict[str, int] = {}

    def one(self, data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)

        def choose(n: int) -> int:
            return fdp.ConsumeIntInRange(0, n - 1) if n > 1 else 0

        model, options = self.cases[choose(len(self.cases))]
        session = api_harness.Session(model, choose, seed=choose(2**16), options=options)
        for _ in range(STEPS):
            if fdp.remaining_bytes() == 0:
                break
            op = session.step()
            self.ops[op] = self.ops.get(op, 0) + 1
            self.steps += 1

    def __call__(self, data: bytes) -> None:
        if time.monotonic() > self.deadline:
            self.finish()
        self.execs += 1
        try:
            self.one(data)
        except api_harness.Finding:
            self.findings += 1
            name = self.workdir / f"finding-{hashlib.sha1(data).hexdigest()}"
            name.write_bytes(data)
            print(f"pyfuzz: FINDING saved as {name}\n{traceback.format_exc()}", flush=True)

    def finish(self) -> None:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        seconds = time.monotonic() - self.start
        ops = " ".join(f"{k}={v}" for k, v in sorted(self.ops.items()))
        print(
            f"pyfuzz: done: {self.execs} executions, {self.steps} steps in {seconds:.0f} s "
            f"({self.execs / max(seconds, 1e-9):.1f}/s), {self.findings} findings, peak RSS {peak_mb:.0f} MB\n"
            f"pyfuzz: steps by operation: {ops}",
            flush=True,
        )
        os._exit(1 if self.findings else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--workdir", type=Path, default=Path("pyfuzz-out"))
    parser.add_argument("--reproduce", type=Path)
    args, libfuzzer = parser.parse_known_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    run = Run([p.read_bytes() for p in args.models], args.workdir, args.seconds)
    if args.reproduce:
        run.one(args.reproduce.read_bytes())  # raises the finding with its traceback
        print("pyfuzz: the input ran clean")
        return
    corpus = args.workdir / "corpus"
    corpus.mkdir(exist_ok=True)
    # The run ends itself at --seconds (on the next input); libFuzzer's own limit is the backstop.
    argv = [sys.argv[0], str(corpus), f"-artifact_prefix={args.workdir}/", "-rss_limit_mb=4096", "-timeout=60"]
    argv.append(f"-max_total_time={int(args.seconds) + 120}")
    atheris.Setup(argv + libfuzzer, run)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
