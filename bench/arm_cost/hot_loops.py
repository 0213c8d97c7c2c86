"""The hot loops of a profiled run and their cost per core model.

The plugin's profile names the blocks that ran and how often; in the program's disassembly
(the cross binutils' objdump of the static runner), the innermost loop around each hot block
(a backward branch and its target, in one function) is cut out, turned into assembly that
llvm-mca (Debian's llvm-14) reads, and run through its model of each core: cycles per iteration,
the resource bound (Block RThroughput), the bound of the loop's multiply-accumulates alone and
of its loads alone, and its stack stores and loads (spills and reloads: sp-based addressing).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from count import Block

# llvm-mca: Debian 12's llvm-19 (bookworm's backport) models Neoverse-N1, the A76 class; llvm-14
# (tests/setup.sh's) gives neoverse-n1 and cortex-a76 the Cortex-A57 model, as cortex-a72.
MCA = next((t for t in ("llvm-mca-19", "llvm-mca-14") if shutil.which(t)), "llvm-mca-14")
# llvm-mca core models; 32-bit ARM has the A57 model (cortex-a72) only.
# x86_64 (the AVX2 kernels, to compare int8 with float there): Haswell and Zen 3.
CORES = {
    "aarch64": ("cortex-a53", "cortex-a72", "neoverse-n1"),
    "arm": ("cortex-a72",),
    "x86_64": ("haswell", "znver3"),
}
TRIPLES = {
    "aarch64": ("aarch64-linux-gnu", "-mattr=+dotprod"),
    "arm": ("thumbv7a-linux-gnueabihf", "-mattr=+neon,+vfp4"),
    "x86_64": ("x86_64-linux-gnu", "-mattr=+avx2,+fma"),
}
OBJDUMP = {"aarch64": "aarch64-linux-gnu-objdump", "arm": "arm-linux-gnueabihf-objdump", "x86_64": "objdump"}
NM = {"aarch64": "aarch64-linux-gnu-nm", "arm": "arm-linux-gnueabihf-nm", "x86_64": "nm"}
# Multiply-accumulate work: float FMA, integer dot products and widening multiply-accumulates.
_MAC = re.compile(
    r"^(fmla|fmls|sdot|udot|smlal2?|umlal2?|smull2?|umull2?|sadalp|uadalp|mla|mls|"
    r"vfma|vfms|vmla|vmls|vmlal|vmull|vpadal|vfn?madd\w*|vfn?msub\w*|vpmaddubsw|vpmaddwd|vpdpbusd)(\.|$)"
)
_LOAD = re.compile(r"^(ldr|ldp|ldur|ld1|ld2|ld3|ld4|ldnp|vld|vldr|vldm|ldm|pop|vpop)")
_STORE = re.compile(r"^(str|stp|stur|st1|st2|st3|st4|stnp|vst|vstr|vstm|stm|push|vpush)")
_BRANCH_TARGET = re.compile(r"\b([0-9a-f]+) <[^>]*>")


@dataclasses.dataclass
class Insn:
    addr: int
    mnemonic: str
    operands: str

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.operands}".strip()

    def stack_access(self) -> bool:
        return bool(re.search(r"\[sp\b|\bsp!|\{[^}]*\}.*\bsp\b|\(%[re]sp|\(%[re]bp", self.operands)) or (
            self.mnemonic.startswith(("push", "vpush", "pop", "vpop"))
        )

    def is_load(self) -> bool:
        if _LOAD.match(self.mnemonic):
            return True
        ops = self.operands.split(",")  # x86 (AT&T): a memory source operand
        return "%" in self.operands and any("(" in o for o in ops[:-1])

    def is_store(self) -> bool:
        if _STORE.match(self.mnemonic):
            return True
        return (
            "%" in self.operands
            and "(" in self.operands.split(",")[-1]
            and not self.mnemonic.startswith(("cmp", "test"))
        )


@dataclasses.dataclass
class Loop:
    function: str  # demangled: the template arguments name the instantiation
    start: int
    end: int  # address of the backward branch
    insns: list[Insn]
    executed: int = 0  # guest instructions executed inside the loop in the window
    iterations: int = 0  # executions of the block at the loop's start
    mca: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    errors: list[str] = dataclasses.field(default_factory=list)
    nested: int = 0  # loops inside this one, whose code is not part of it here

    @property
    def stack_stores(self) -> list[Insn]:
        return [i for i in self.insns if i.is_store() and i.stack_access()]

    @property
    def stack_loads(self) -> list[Insn]:
        return [i for i in self.insns if i.is_load() and i.stack_access()]

    @property
    def macs(self) -> list[Insn]:
        return [i for i in self.insns if _MAC.match(i.mnemonic)]

    @property
    def loads(self) -> list[Insn]:
        return [i for i in self.insns if i.is_load()]


class Symbols:
    """Function symbols of a static binary: address ranges and demangled names."""

    def __init__(self, arch: str, binary: Path):
        out = subprocess.run(
            [NM[arch], "-n", "-S", "-C", "--defined-only", str(binary)], capture_output=True, text=True, check=True
        ).stdout
        self.starts: list[int] = []
        self.rows: list[tuple[int, int, str]] = []
        for line in out.splitlines():
            m = re.match(r"^([0-9a-f]+) ([0-9a-f]+) [tTwW] (.+)$", line)
            if m:
                start = int(m.group(1), 16) & ~1  # Thumb functions have bit 0 set
                self.rows.append((start, int(m.group(2), 16), m.group(3)))
                self.starts.append(start)

    def at(self, addr: int) -> tuple[int, int, str] | None:
        k = bisect.bisect_right(self.starts, addr) - 1
        if k >= 0 and self.rows[k][0] <= addr < self.rows[k][0] + self.rows[k][1]:
            return self.rows[k]
        return None


def disassemble(arch: str, binary: Path, start: int, end: int) -> list[Insn]:
    out = subprocess.run(
        [
            OBJDUMP[arch],
            "-d",
            "--no-show-raw-insn",
            f"--start-address={start:#x}",
            f"--stop-address={end:#x}",
            str(binary),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    insns = []
    for line in out.splitlines():
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m:
            operands = re.split(r"\s*(//|@|;|#)\s", m.group(3))[0].strip()
            insns.append(Insn(int(m.group(1), 16), m.group(2), operands))
    return insns


def _spans(insns: list[Insn]) -> list[tuple[int, int]]:
    """Every loop of a function: (target, address) of each backward branch."""
    spans = []
    for i in insns:
        if not i.mnemonic.startswith(("b", "cb", "tb", "j")) or i.mnemonic.startswith(("bic", "bfi", "bfc", "bit")):
            continue
        m = _BRANCH_TARGET.search(i.operands)
        if m and int(m.group(1), 16) <= i.addr:
            spans.append((int(m.group(1), 16), i.addr))
    return spans


def _innermost_loop(insns: list[Insn], addr: int) -> tuple[int, int] | None:
    around = [s for s in _spans(insns) if s[0] <= addr <= s[1]]
    return min(around, key=lambda s: s[1] - s[0]) if around else None


def hot_loops(arch: str, binary: Path, blocks: list[Block], share: float = 0.02) -> list[Loop]:
    """The innermost loops around the blocks that executed at least `share` of the window's
    instructions, heaviest first. A loop around other loops stands for its own code only (what
    runs once per iteration outside the loops inside it): `nested` counts those."""
    symbols = Symbols(arch, binary)
    total = sum(b.insns * b.execs for b in blocks) or 1
    loops: dict[tuple[int, int], Loop] = {}
    functions: dict[int, list[Insn]] = {}
    for b in sorted(blocks, key=lambda b: -b.insns * b.execs):
        if b.insns * b.execs < share * total:
            break
        sym = symbols.at(b.vaddr)
        if sym is None:
            continue
        if sym[0] not in functions:
            functions[sym[0]] = disassemble(arch, binary, sym[0], sym[0] + sym[1])
        insns = functions[sym[0]]
        span = _innermost_loop(insns, b.vaddr)
        if span is None or span in loops:
            continue
        inner = [s for s in set(_spans(insns)) if s != span and span[0] <= s[0] and s[1] <= span[1]]

        def own(addr: int, span=span, inner=inner) -> bool:
            return span[0] <= addr <= span[1] and not any(s[0] <= addr <= s[1] for s in inner)

        loop = Loop(sym[2], span[0], span[1], [i for i in insns if own(i.addr)], nested=len(inner))
        mine = [b for b in blocks if own(b.vaddr)]
        loop.executed = sum(b.insns * b.execs for b in mine)
        loop.iterations = max((b.execs for b in mine), default=0)
        loops[span] = loop
    return sorted(loops.values(), key=lambda lp: -lp.executed)


def object_loops(arch: str, obj: Path) -> list[Loop]:
    """Every innermost loop with multiply-accumulates in an object file's functions (the
    kernels compiled alone: every instantiation, hot or not)."""
    loops = []
    for start, size, name in Symbols(arch, obj).rows:
        insns = disassemble(arch, obj, start, start + size)
        spans = set()
        for i in insns:
            span = _innermost_loop(insns, i.addr)
            if span is not None:
                spans.add(span)
        innermost = [s for s in spans if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]
        for span in sorted(innermost):
            loop = Loop(name, span[0], span[1], [i for i in insns if span[0] <= i.addr <= span[1]])
            if loop.macs:
                loops.append(loop)
    return loops


def assembly(insns: list[Insn]) -> str:
    """The loop as llvm-mca reads it: branch and literal targets become one label."""
    lines = [".Lloop:"]
    for i in insns:
        text = _BRANCH_TARGET.sub(".Lloop", i.text)
        if i.mnemonic.startswith(("vmov.f", "fmov")):  # objdump's "#-9" is LLVM's "#-9.0"
            text = re.sub(r"(#-?\d+)$", r"\1.0", text)
        lines.append(text)
    return "\n".join(lines) + "\n"


def _mca(arch: str, core: str, text: str, iterations: int = 200) -> dict[str, float]:
    triple, attrs = TRIPLES[arch]
    with tempfile.NamedTemporaryFile("w", suffix=".s") as f:
        f.write(text)
        f.flush()
        for mca in dict.fromkeys((MCA, "llvm-mca-14")):  # llvm-mca-19 crashes on a few Thumb loops
            cmd = [mca, f"-mtriple={triple}", f"-mcpu={core}", attrs, f"-iterations={iterations}", f.name]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode == 0:
                break
    if done.returncode != 0:
        raise RuntimeError(f"llvm-mca -mcpu={core}: {done.stderr.strip()[:300]}")
    get = {k: float(v) for k, v in re.findall(r"^(Total Cycles|Block RThroughput):\s+([0-9.]+)", done.stdout, re.M)}
    return {"cycles_per_iter": get["Total Cycles"] / iterations, "rthroughput": get["Block RThroughput"]}


def analyse(arch: str, loop: Loop) -> None:
    """llvm-mca on the loop, and on its multiply-accumulates and its loads alone, per core."""
    for core in CORES[arch]:
        try:
            whole = _mca(arch, core, assembly(loop.insns))
            mac = _mca(arch, core, assembly(loop.macs))["rthroughput"] if loop.macs else 0.0
            load = _mca(arch, core, assembly(loop.loads))["rthroughput"] if loop.loads else 0.0
        except RuntimeError as e:
            loop.errors.append(str(e))
            continue
        bound = max(mac, load)
        loop.mca[core] = {
            **whole,
            "mac_bound": mac,
            "load_bound": load,
            "vs_bound": whole["cycles_per_iter"] / bound if bound else 0.0,
        }
