"""The import-time check that refuses a CPU lacking the instructions of the build."""
from __future__ import annotations

import pytest

import tflstm
from tflstm import _cpu

HASWELL = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt cx16 lahf_lm avx avx2 bmi1 bmi2 f16c fma abm movbe xsave\n"
NEHALEM = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt cx16 lahf_lm\n"


def test_levels_accumulate():
    assert set(_cpu.required_flags("x86-64-v2")) < set(_cpu.required_flags("x86-64-v3"))
    assert "avx2" in _cpu.required_flags("x86-64-v3")
    assert _cpu.required_flags("x86-64") == ()
    assert _cpu.required_flags("armv8-a") == ()


def test_missing_flags_from_cpuinfo():
    assert _cpu.missing_flags("x86-64-v3", HASWELL) == []
    missing = _cpu.missing_flags("x86-64-v3", NEHALEM)
    assert "avx2" in missing and "fma" in missing and "sse4_2" not in missing
    assert _cpu.missing_flags("x86-64-v2", NEHALEM) == []


def test_import_check_names_what_is_missing_and_how_to_rebuild():
    with pytest.raises(ImportError, match=r"built for x86-64-v3 .* lacks avx, avx2.*TFLSTM_ISA=x86-64"):
        _cpu.check_cpu("x86-64-v3", NEHALEM)
    _cpu.check_cpu("x86-64-v3", HASWELL)

