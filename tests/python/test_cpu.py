"""The import-time check that refuses a CPU lacking the instructions of the build."""

from __future__ import annotations

import platform

import pytest

import tflstm
from tflstm import _cpu

HASWELL = (
    "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt cx16 lahf_lm avx avx2 bmi1 bmi2 f16c fma abm movbe xsave\n"
)
NEHALEM = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt cx16 lahf_lm\n"
# /proc/cpuinfo of 32-bit ARM cores: a Raspberry Pi 3 (Cortex-A53, 32-bit kernel), a Cortex-A9
# without NEON (Tegra 2), and a Raspberry Pi 1 (ARMv6, VFPv2).
PI3 = (
    "processor\t: 0\nmodel name\t: ARMv7 Processor rev 4 (v7l)\nBogoMIPS\t: 38.40\n"
    "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32\n"
)
TEGRA2 = "Features\t: swp half thumb fastmult vfp edsp vfpv3 vfpv3d16 tls\n"
PI1 = "Features\t: half thumb fastmult vfp edsp java tls\n"
NEON_BUILD = "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard"


def test_levels_accumulate():
    assert set(_cpu.required_flags("x86-64-v2")) < set(_cpu.required_flags("x86-64-v3"))
    assert "avx2" in _cpu.required_flags("x86-64-v3")
    assert _cpu.required_flags("x86-64") == ()
    assert _cpu.required_flags("armv8-a") == ("fp", "asimd")
    assert _cpu.required_flags("armv7-a", NEON_BUILD) == ("neon", "vfpv4")
    assert _cpu.required_flags("armv7-a", "-march=armv7-a -mfpu=vfpv4 -mfloat-abi=hard") == ("vfpv4",)


def test_missing_flags_from_cpuinfo():
    assert _cpu.missing_flags("x86-64-v3", HASWELL) == []
    missing = _cpu.missing_flags("x86-64-v3", NEHALEM)
    assert "avx2" in missing and "fma" in missing and "sse4_2" not in missing
    assert _cpu.missing_flags("x86-64-v2", NEHALEM) == []


def test_import_check_names_what_is_missing_and_how_to_rebuild():
    with pytest.raises(ImportError, match=r"built for x86-64-v3 .* lacks avx, avx2.*TFLSTM_ISA=x86-64"):
        _cpu.check_cpu("x86-64-v3", NEHALEM)
    _cpu.check_cpu("x86-64-v3", HASWELL)


def test_arm_neon_build_on_cores_without_neon():
    assert _cpu.missing_flags("armv7-a", PI3, NEON_BUILD) == []
    assert _cpu.missing_flags("armv7-a", TEGRA2, NEON_BUILD) == ["neon", "vfpv4"]
    assert _cpu.missing_flags("armv7-a", PI1, "-mfpu=vfpv4") == ["vfpv4"]
    with pytest.raises(
        ImportError,
        match=r"built for armv7-a \(-march=armv7-a -mfpu=neon-vfpv4 .*\), but this CPU "
        r"lacks neon, vfpv4 .*illegal instruction.*TFLSTM_ARMHF_FPU=vfpv3-d16",
    ):
        _cpu.check_cpu("armv7-a", TEGRA2, NEON_BUILD)
    with pytest.raises(ImportError, match=r"lacks neon and .*TFLSTM_ARMHF_FPU=vfpv4\.$"):
        _cpu.check_cpu("armv7-a", "Features\t: vfp vfpv3 vfpv4 tls\n", NEON_BUILD)
    with pytest.raises(ImportError, match=r"lacks vfpv4 and .*TFLSTM_ARMHF_FPU=neon\.$"):
        _cpu.check_cpu("armv7-a", "Features\t: vfp neon vfpv3 tls\n", NEON_BUILD)
    _cpu.check_cpu("armv7-a", PI3, NEON_BUILD)


def test_hwcap_bits_name_what_cpuinfo_names():
    # Bits of asm/hwcap.h (32-bit ARM): HALF 1, THUMB 2, VFP 6, EDSP 7, NEON 12, VFPv3 13, VFPv4 16.
    pi3 = 1 << 1 | 1 << 2 | 1 << 6 | 1 << 7 | 1 << 12 | 1 << 13 | 1 << 16
    assert _cpu.features_from_hwcap(pi3, "armv7l") == {"vfp", "neon", "vfpv3", "vfpv4"}
    assert _cpu.features_from_hwcap(1 << 6 | 1 << 13, "armv7l") == {"vfp", "vfpv3"}
    assert _cpu.features_from_hwcap(0b11, "aarch64") == {"fp", "asimd"}


def test_this_cpu_has_what_the_build_needs():
    need = _cpu.required_flags(tflstm.ISA, tflstm._build_config.ARCH_FLAGS)
    if platform.machine().startswith(("arm", "aarch64")):  # every ARM build needs FP and SIMD
        assert need, f"no CPU check for {tflstm.ISA} ({tflstm._build_config.ARCH_FLAGS})"
    have = _cpu._features_of_this_cpu()
    assert have is not None and set(need) <= have
