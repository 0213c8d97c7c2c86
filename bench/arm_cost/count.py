"""Runs a guest program under Debian's qemu-user with the counting plugin and reads what the
plugin printed: per-class instruction counts between markers, and with `profile` the blocks
that ran in each window (address, instructions, executions, symbol)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from pathlib import Path

from qemu_plugin import build_plugin, qemu_user

# Host variables that must not reach the guest: OpenBLAS's core type names x86 cores.
_HOST_ONLY = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH", "LD_PRELOAD")


@dataclasses.dataclass
class Block:
    vaddr: int
    insns: int
    execs: int
    symbol: str


@dataclasses.dataclass
class Window:
    counts: dict[str, int]
    blocks: list[Block]
    start_code: int = 0


@dataclasses.dataclass
class Run:
    windows: dict[int, Window]  # marker tag: what ran since the previous marker
    stdout: str

    def per_call(self, tag: int, calls: int, empty: int | None = None) -> dict[str, float]:
        """Counts per call of the window ending at marker `tag`, less the empty window `empty`
        (the markers' own cost) when given."""
        base = self.windows[empty].counts if empty is not None else {}
        return {k: (v - base.get(k, 0)) / calls for k, v in self.windows[tag].counts.items()}


class GuestError(RuntimeError):
    pass


def guest_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _HOST_ONLY and not k.startswith("QEMU_")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


def parse(log: str) -> dict[int, Window]:
    windows: dict[int, Window] = {}
    current: Window | None = None
    for line in log.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "marker":
            counts = {k: int(v) for k, v in (p.split("=") for p in parts[2:])}
            current = windows[int(parts[1])] = Window(counts, [])
        elif parts[0] == "start_code" and current is not None:
            current.start_code = int(parts[1], 16)
        elif parts[0] == "tb" and current is not None:
            current.blocks.append(Block(int(parts[1], 16), int(parts[2]), int(parts[3]), " ".join(parts[4:])))
    return windows


def run(
    arch: str,
    cpu: str,
    root: Path,
    argv: list[str],
    env: dict[str, str] | None = None,
    profile: bool = False,
    timeout: float = 1800,
) -> Run:
    """`arch`: qemu's target (aarch64, arm); `root`: the -L folder (guest_root.py)."""
    plugin = build_plugin()
    with tempfile.TemporaryDirectory(prefix="arm_cost-") as tmp:
        log = Path(tmp) / "plugin.log"
        cmd = [qemu_user(arch), "-cpu", cpu, "-L", str(root)]
        cmd += ["-plugin", f"{plugin},profile={'on' if profile else 'off'}", "-d", "plugin", "-D", str(log), *argv]
        done = subprocess.run(cmd, env=guest_env(env), capture_output=True, text=True, timeout=timeout)
        text = log.read_text() if log.is_file() else ""
    if done.returncode != 0:
        raise GuestError(f"{' '.join(argv)} on -cpu {cpu} exited {done.returncode}: {done.stderr[-3000:]}")
    windows = parse(text)
    if not windows:
        raise GuestError(f"no markers from {' '.join(argv)}: {done.stderr[-2000:]}")
    return Run(windows, done.stdout)
