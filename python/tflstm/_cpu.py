"""Refuse to load the native module on a CPU that lacks the instructions it was built for.

Loading it anyway would die with SIGILL somewhere inside TFLite; a clear ImportError is
what a user can act on (rebuild with a lower TFLSTM_ISA, or without NEON on 32-bit ARM).
"""

from __future__ import annotations

import ctypes
import platform
from pathlib import Path

# CPU flags (as /proc/cpuinfo names them) that each x86-64 micro-architecture level adds.
_X86_LEVELS = {
    "x86-64-v2": ("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"),
    "x86-64-v3": ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"),
    "x86-64-v4": ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}
# Linux's AT_HWCAP bits (asm/hwcap.h) under the names /proc/cpuinfo gives them in "Features".
_ARM_HWCAPS = {
    "aarch64": {"fp": 1 << 0, "asimd": 1 << 1},
    "arm": {"vfp": 1 << 6, "neon": 1 << 12, "vfpv3": 1 << 13, "vfpv4": 1 << 16},
}
# What each 32-bit -mfpu value needs; GCC's armv8-a has FP and Advanced SIMD built in.
_ARM_FPUS = {
    "neon-vfpv4": ("neon", "vfpv4"),
    "vfpv4": ("vfpv4",),
    "neon": ("neon",),
    "vfpv3": ("vfpv3",),
    "vfpv3-d16": ("vfpv3",),
}
_AT_HWCAP = 16


def _family(name: str) -> str:
    if name.startswith(("x86", "AMD64")):
        return "x86"
    if name.startswith(("arm", "aarch64")):
        return "arm"
    return ""


def required_flags(isa: str, arch_flags: str = "") -> tuple[str, ...]:
    """The CPU features (as /proc/cpuinfo names them) that a build for `isa`, compiled with
    `arch_flags` (-mfpu=... on 32-bit ARM), needs; () for none known."""
    levels = list(_X86_LEVELS)
    if isa in levels:
        return tuple(f for level in levels[: levels.index(isa) + 1] for f in _X86_LEVELS[level])
    if isa.startswith("armv8"):
        return ("fp", "asimd")
    if isa.startswith("armv7"):
        fpu = next((f.partition("=")[2] for f in arch_flags.split() if f.startswith("-mfpu=")), "")
        return _ARM_FPUS.get(fpu, ())
    return ()


def features_from_hwcap(hwcap: int, machine: str) -> set[str]:
    bits = _ARM_HWCAPS["aarch64" if machine.startswith("aarch64") else "arm"]
    return {name for name, bit in bits.items() if hwcap & bit}


def _features_of_cpuinfo(cpuinfo: str) -> set[str]:
    # x86 lists "flags", ARM "Features"; both once per core, the same on every core.
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.partition(":")[2].split())
    return set()


def _features_of_this_cpu() -> set[str] | None:
    """This CPU's features, None when they cannot be read. On ARM from getauxval(AT_HWCAP):
    what the kernel (or qemu-user, whose /proc/cpuinfo is the host's) says the process may
    use; else from /proc/cpuinfo."""
    machine = platform.machine()
    if _family(machine) == "arm":
        try:
            getauxval = ctypes.CDLL(None).getauxval
            getauxval.restype = ctypes.c_ulong
            getauxval.argtypes = [ctypes.c_ulong]
            return features_from_hwcap(int(getauxval(_AT_HWCAP)), machine)
        except (OSError, AttributeError):
            pass
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return None
    return _features_of_cpuinfo(path.read_text(errors="replace"))


def missing_flags(isa: str, cpuinfo: str | None = None, arch_flags: str = "") -> list[str]:
    need = required_flags(isa, arch_flags)
    if not need:
        return []
    have = _features_of_cpuinfo(cpuinfo) if cpuinfo is not None else _features_of_this_cpu()
    if have is None:
        return []  # cannot tell; let the loader try
    return [f for f in need if f not in have]


def check_cpu(isa: str | None = None, cpuinfo: str | None = None, arch_flags: str | None = None) -> None:
    """Raises ImportError if this CPU (or the given /proc/cpuinfo text) cannot run a build
    for `isa` with `arch_flags` (default: what this package was built for)."""
    if isa is None:
        from . import _build_config

        isa = _build_config.ISA
        arch_flags = getattr(_build_config, "ARCH_FLAGS", "") if arch_flags is None else arch_flags
    arch_flags = arch_flags or ""
    if cpuinfo is None and _family(platform.machine()) != _family(isa):
        return  # another architecture's build: the loader will say so
    missing = missing_flags(isa, cpuinfo, arch_flags)
    if not missing:
        return
    if _family(isa) == "x86":
        raise ImportError(
            f"tflstm was built for {isa} (-march={isa}), but this CPU lacks {', '.join(missing)}. "
            f"Rebuild it for this machine: pip install . -C cmake.define.TFLSTM_ISA=x86-64"
        )
    if isa.startswith("armv7"):
        # The best -mfpu this CPU can take: NEON without VFPv4 (Cortex-A9), VFPv4 without NEON,
        # or Debian's armhf baseline.
        fpu = "vfpv3-d16" if {"neon", "vfpv4"} <= set(missing) else "vfpv4" if "neon" in missing else "neon"
        hint = f"Build tflstm for it: pip install . -C cmake.define.TFLSTM_ARMHF_FPU={fpu}"
    else:
        hint = "Build tflstm for it with a matching TFLSTM_ISA"
    raise ImportError(
        f"tflstm was built for {isa} ({arch_flags.strip() or '-march=' + isa}), but this CPU "
        f"lacks {', '.join(missing)} and would stop with an illegal instruction. {hint}."
    )
