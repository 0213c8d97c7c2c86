"""Refuse to load the native module on a CPU that lacks the instructions it was built for.

Loading it anyway would die with SIGILL somewhere inside TFLite; a clear ImportError is
what a user can act on (rebuild with a lower TFLSTM_ISA).
"""
from __future__ import annotations

import platform
from pathlib import Path

# CPU flags (as /proc/cpuinfo names them) that each x86-64 micro-architecture level adds.
_X86_LEVELS = {
    "x86-64-v2": ("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"),
    "x86-64-v3": ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"),
    "x86-64-v4": ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}


def required_flags(isa: str) -> tuple[str, ...]:
    """The /proc/cpuinfo flags that a build for `isa` needs ("" for none known)."""
    levels = list(_X86_LEVELS)
    if isa not in levels:
        return ()
    return tuple(f for level in levels[: levels.index(isa) + 1] for f in _X86_LEVELS[level])


def missing_flags(isa: str, cpuinfo: str | None = None) -> list[str]:
    need = required_flags(isa)
    if not need:
        return []
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        if not path.is_file():
            return []  # cannot tell; let the loader try
        cpuinfo = path.read_text(errors="replace")
    have: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            have = set(line.partition(":")[2].split())
            break
    return [f for f in need if f not in have]


def check_cpu(isa: str | None = None, cpuinfo: str | None = None) -> None:
    """Raises ImportError if this CPU (or the given /proc/cpuinfo text) cannot run a build
    for `isa` (default: the ISA this package was built for)."""
    if isa is None:
        from . import _build_config

        isa = _build_config.ISA
    if cpuinfo is None and platform.machine() not in ("x86_64", "AMD64"):
        return
    missing = missing_flags(isa, cpuinfo)
    if missing:
        raise ImportError(
            f"tflstm was built for {isa} (-march={isa}), but this CPU lacks {', '.join(missing)}. "
            f"Rebuild it for this machine: pip install . -C cmake.define.TFLSTM_ISA=x86-64"
        )
