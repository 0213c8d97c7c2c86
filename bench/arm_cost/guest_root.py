"""A qemu-user root (`-L`) per emulated CPU: the Debian userland of tools/debian_userland.py
(linked in, not copied) with a fake /proc/cpuinfo and /sys/devices/system/cpu of one core of
that CPU. qemu-user opens a guest's absolute path under its -L root where the file exists there,
so the guest reads these instead of the x86 host's files: the cpuinfo library that LiteRT and
ONNX Runtime bundle crashes (SIGSEGV) parsing the host's, and picks its kernels by the core's
part number (Cortex-A53 and A7x code paths differ).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tools"))
import debian_userland

# qemu -cpu name: (MIDR part number, AArch64 /proc/cpuinfo features)
CPUS = {
    "cortex-a53": (0xD03, "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"),
    "cortex-a72": (0xD08, "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"),
    "cortex-a76": (
        0xD0B,
        "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp",
    ),
    "neoverse-n1": (
        0xD0C,
        "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp",
    ),
    # qemu's max: everything it emulates, SVE included; shown as an A76-class part.
    "max": (
        0xD0B,
        "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop "
        "sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 svei8mm "
        "svebf16 i8mm bf16 dgh",
    ),
    # 32-bit cores for armhf (qemu-arm): NEON with VFPv4
    "cortex-a7": (0xC07, "half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm"),
    "cortex-a15": (0xC0F, "half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm"),
}
ARCH = {"arm64": "aarch64", "armhf": "arm"}  # Debian architecture: qemu-user target


def cpuinfo(cpu: str, arch: str) -> str:
    part, features = CPUS[cpu]
    head = "" if arch == "arm64" else "model name\t: ARMv7 Processor rev 3 (v7l)\n"
    return (
        f"processor\t: 0\n{head}BogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
        f"CPU architecture: {8 if arch == 'arm64' else 7}\nCPU variant\t: 0x0\nCPU part\t: 0x{part:03x}\n"
        "CPU revision\t: 3\n\n"
    )


def guest_root(arch: str, cpu: str, cache: Path) -> Path:
    """The -L root for `cpu` ("cortex-a72", "max,sve-default-vector-length=16": the part before
    a comma names the core)."""
    core = cpu.split(",", 1)[0]
    if core not in CPUS:
        raise ValueError(f"no /proc/cpuinfo for -cpu {core}: one of {', '.join(CPUS)}")
    userland = debian_userland.build(arch, cache)
    root = cache / "arm_cost" / "roots" / f"{arch}-{core}"
    stamp = root / ".userland"
    if stamp.is_file() and stamp.read_text() == str(userland):
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for entry in userland.iterdir():
        if entry.name not in ("proc", "sys"):
            (root / entry.name).symlink_to(entry)
    (root / "proc").mkdir()
    (root / "proc" / "cpuinfo").write_text(cpuinfo(core, arch))
    cpus = root / "sys" / "devices" / "system" / "cpu"
    for name in ("possible", "present", "online"):
        (cpus / name).parent.mkdir(parents=True, exist_ok=True)
        (cpus / name).write_text("0\n")
    topology = cpus / "cpu0" / "topology"
    topology.mkdir(parents=True)
    for name, value in (
        ("core_id", "0"),
        ("physical_package_id", "0"),
        ("cluster_id", "0"),
        ("core_siblings_list", "0"),
        ("thread_siblings_list", "0"),
        ("package_cpus_list", "0"),
        ("core_cpus_list", "0"),
        ("cluster_cpus_list", "0"),
    ):
        (topology / name).write_text(value + "\n")
    (cpus / "cpu0" / "online").write_text("1\n")
    stamp.write_text(str(userland))
    return root
