#!/usr/bin/env python3
"""ARM cost of tflstm's LSTM kernels against the peers, measured on an x86 machine: guest
instructions per inference under qemu-user with a counting TCG plugin, and llvm-mca cycles of
the hot loops. One command regenerates the JSON and the tables of docs/arm-cost.md:

    python3 bench/arm_cost/run.py [--no-python] [--smoke] [--json FILE] [--doc FILE]

What it runs (each C++ or Python run between markers that the plugin reports on; per inference
= the window of K inferences / K after warm-up, less the empty window for Python):
- tflstm's C++ runner (runner/arm_cost_runner.cc, static, built against `cmake --install` of the
  aarch64 and armhf presets' builds) on the BasicMotions-shaped model in float32, dynamic and
  int8: its own kernels on -cpu cortex-a72 (NEON), cortex-a76 (DotProd) and
  max,sve-default-vector-length=16, with TFLSTM_LSTM_ISA=neon and =portable, and TFLite's kernel;
  armhf (qemu-arm -cpu cortex-a7) the same without DotProd.
- Python on Debian's arm64 python3: tflstm's wheel (dist/, tools/build_wheels.sh), tflstm with
  TFLite's kernel, ai-edge-litert and onnxruntime (wheels.lock), on the same model.
- The hot loops of the profiled C++ runs through llvm-mca-14 for Cortex-A53, A72 and Neoverse-N1
  (A76 class); 32-bit: the A72 model.
--smoke counts one float32 and one int8 run of the C++ runner on aarch64 twice (K=1 and K=3),
checks that the counts per inference agree and that the kernels ran, and writes nothing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import count
import guest_root
import hot_loops
import models
import report
import wheels
from qemu_plugin import QEMU, build_plugin, cache_root, work_dir

TARGETS = {  # preset: (Debian arch, qemu target, toolchain triple)
    "aarch64": ("arm64", "aarch64", "aarch64-linux-gnu"),
    "armhf": ("armhf", "arm", "arm-linux-gnueabihf"),
    # x86_64 under qemu's -cpu max (AVX2 and FMA, no AVX-512): the AVX2 kernels' counts
    "native": ("amd64", "x86_64", None),
}
BUILD_DIRS = {"aarch64": "aarch64", "armhf": "armhf", "native": "cpp"}
SVE128 = "max,sve-default-vector-length=16"
# C++ rows: (label, -cpu, TFLSTM_LSTM_ISA or None, --lstm_kernel)
CPP_ROWS = {
    "aarch64": [
        ("tflstm", "cortex-a72", None, "tflstm"),
        ("tflstm", "cortex-a76", None, "tflstm"),
        ("tflstm", SVE128, None, "tflstm"),
        ("tflstm ISA=neon", "cortex-a76", "neon", "tflstm"),
        ("tflstm ISA=portable", "cortex-a76", "portable", "tflstm"),
        ("TFLite kernel", "cortex-a72", None, "tflite"),
        ("TFLite kernel", "cortex-a76", None, "tflite"),
    ],
    "armhf": [
        ("tflstm", "cortex-a7", None, "tflstm"),
        ("tflstm ISA=portable", "cortex-a7", "portable", "tflstm"),
        ("TFLite kernel", "cortex-a7", None, "tflite"),
    ],
    "native": [
        ("tflstm", "max", None, "tflstm"),
        ("TFLite kernel", "max", None, "tflite"),
    ],
}
PY_RUNTIMES = ("tflstm", "tflstm-tflite", "litert", "onnxruntime")
PY_CPUS = ("cortex-a72", "cortex-a76", SVE128)
CPP_CALLS, PY_CALLS = 20, 10
# The profiled runs whose hot loops go through llvm-mca: (target, -cpu, ISA) per kernel.
LOOP_RUNS = [
    ("aarch64", "cortex-a76", None),  # float NEON, hybrid and int8 DotProd
    ("aarch64", "cortex-a72", None),  # hybrid and int8 NEON
    ("armhf", "cortex-a7", None),
    ("native", "max", None),
]


def log(msg: str) -> None:
    print(f"[arm_cost] {msg}", file=sys.stderr, flush=True)


def sh(*cmd: str, cwd: Path = ROOT) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def build_runner(target: str, work: Path) -> Path:
    """The static marker runner for a target, against `cmake --install` of its preset's build
    (configured and its libraries built first when they are not)."""
    build = ROOT / "build" / BUILD_DIRS[target]
    if not (build / "build.ninja").is_file():
        log(f"configuring the {target} preset (waits for the shared TFLite prefix)")
        sh("cmake", "--preset", target)
    log(f"building tflstm for {target}")
    # tflstm_benchmark: `cmake --install` installs it too
    sh(
        "cmake",
        "--build",
        str(build),
        "--target",
        "tflstm_core",
        "tflstm_all_ops",
        "tflstm_lstm_kernel",
        "tflstm_benchmark",
    )
    out = ROOT / "build" / "arm_cost" / target
    sh("cmake", "--install", str(build), "--prefix", str(out / "prefix"))
    triple = TARGETS[target][2]
    toolchain = [f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'cmake' / 'toolchains' / f'{triple}.cmake'}"] if triple else []
    sh(
        "cmake",
        "-S",
        str(HERE / "runner"),
        "-B",
        str(out / "runner"),
        "-G",
        "Ninja",
        "-DCMAKE_BUILD_TYPE=Release",
        *toolchain,
        f"-Dtflstm_DIR={out / 'prefix' / 'lib' / 'cmake' / 'tflstm'}",
    )
    sh("cmake", "--build", str(out / "runner"))
    return out / "runner" / "arm_cost_runner"


@dataclasses.dataclass
class Job:
    target: str
    cpu: str
    argv: list[str]
    env: dict[str, str]
    calls: int
    row: dict
    output: Path
    profile: bool = False
    empty: int | None = None  # marker closing the empty window (Python)


def run_job(job: Job, roots: dict[tuple[str, str], Path], cache: Path) -> tuple[Job, count.Run]:
    arch, qemu_arch, _ = TARGETS[job.target]
    key = (arch, job.cpu)
    root = roots[key]
    done = count.run(qemu_arch, job.cpu, root, job.argv, job.env, profile=job.profile)
    return job, done


def check_output(job: Job, reference: np.ndarray) -> float:
    out = np.load(job.output).astype(np.float32)
    return float(np.max(np.abs(out.reshape(reference.shape) - reference)))


def cpp_jobs(target: str, runner: Path, model_dir: Path, tmp: Path, calls: int, rows=None) -> list[Job]:
    jobs = []
    for mode in models.MODES:
        for label, cpu, isa, kernel in rows or CPP_ROWS[target]:
            out = tmp / f"cpp-{target}-{mode}-{len(jobs)}.npy"
            argv = [str(runner), str(model_dir / f"lstm_{mode}.tflite"), str(model_dir / "x.npy")]
            argv += ["--runs", str(calls), "--warmup", "2", "--lstm_kernel", kernel, "--output", str(out)]
            env = {"TFLSTM_LSTM_ISA": isa} if isa else {}
            profile = kernel == "tflstm" and isa is None and (target, cpu, None) in LOOP_RUNS
            row = {"target": target, "runtime": label, "mode": mode, "cpu": cpu, "calls": calls}
            jobs.append(Job(target, cpu, argv, env, calls, row, out, profile=profile))
    return jobs


def py_jobs(model_dir: Path, sites: list[Path], tmp: Path, runtimes: tuple[str, ...] = PY_RUNTIMES) -> list[Job]:
    jobs = []
    guest_python = str(guest_root.debian_userland.build("arm64", work_dir().parent) / "usr" / "bin" / "python3.11")
    env = {"PYTHONPATH": os.pathsep.join(str(s) for s in sites)}
    for cpu in PY_CPUS:
        for runtime in runtimes:
            if runtime.startswith("tflstm") and len(sites) < 2:
                continue  # no tflstm wheel in dist/
            for mode in models.MODES:
                if runtime == "onnxruntime" and mode == "int8":
                    continue  # its int8 row is the dynamic-quantized model
                out = tmp / f"py-{runtime}-{mode}-{len(jobs)}.npy"
                argv = [guest_python, str(HERE / "guest_infer.py"), runtime]
                argv += [str(models.model_file(model_dir, runtime, mode)), str(model_dir / "x.npy"), str(out)]
                argv += [str(PY_CALLS), "2"]
                row = {"target": "aarch64", "runtime": runtime, "mode": mode, "cpu": cpu, "calls": PY_CALLS}
                jobs.append(Job("aarch64", cpu, argv, env, PY_CALLS, row, out, empty=4))
    return jobs


def execute(jobs: list[Job], cache: Path, parallel: int = 2) -> list[tuple[Job, count.Run]]:
    roots = {}
    for job in jobs:
        arch = TARGETS[job.target][0]
        if (arch, job.cpu) not in roots:  # x86_64 reads the host's own files
            roots[(arch, job.cpu)] = Path("/") if arch == "amd64" else guest_root.guest_root(arch, job.cpu, cache)
    results = []
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        for job, done in pool.map(lambda j: run_job(j, roots, cache), jobs):
            log(f"{job.row['target']} {job.row['runtime']} {job.row['mode']} -cpu {job.cpu}: done")
            results.append((job, done))
    return results


def smoke(cache: Path) -> int:
    """Counts the aarch64 runner's float32 inference on -cpu cortex-a72 (NEON) and int8 on
    cortex-a76 (DotProd) with K=1 and K=3, and checks what broken tooling would break: the
    same count per inference from both (the markers bracket exactly the inferences), vector
    work (and dot products) in the window, the kernel that ran; and that the float run's
    profile leads to a hot loop with multiply-accumulates that llvm-mca models on every core."""
    build_plugin(cache)
    runner = build_runner("aarch64", work_dir(cache))
    model_dir = models.make(work_dir(cache) / "models-smoke", epochs=0, onnx=False)
    checks: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode, cpu, kernel, cls in (
            ("float32", "cortex-a72", "neon", "fma"),
            ("int8", "cortex-a76", "dotprod", "dot"),
        ):
            per = {}
            for calls in (1, 3):
                rows = [("tflstm", cpu, None, "tflstm")]
                [job] = [
                    j for j in cpp_jobs("aarch64", runner, model_dir, Path(tmp), calls, rows) if j.row["mode"] == mode
                ]
                job.profile = calls == 3
                [(job, done)] = execute([job], cache, 1)
                per[calls] = done.per_call(3, calls)
                checks.append((f"{mode} -cpu {cpu} ran {kernel}: {done.stdout.split()[1]}", kernel in done.stdout))
            a, b = per[1]["total"], per[3]["total"]
            checks.append((f"{mode}: {a:.0f} = {b:.0f} instructions per inference (K=1, K=3)", abs(a - b) <= 0.002 * b))
            checks.append((f"{mode}: {per[3][cls]:.0f} {cls} of {per[3]['simd_vector']:.0f} AdvSIMD", per[3][cls] > 0))
            if mode == "float32":
                loops = hot_loops.hot_loops("aarch64", runner, done.windows[3].blocks)
                top = loops[0] if loops else None
                if top is not None:
                    hot_loops.analyse("aarch64", top)
                cores = sorted(top.mca) if top else []
                checks.append(
                    (
                        f"hot loop {top.function[:60] if top else '-'}: {len(top.macs) if top else 0} MACs, "
                        f"llvm-mca on {', '.join(cores)}",
                        top is not None and bool(top.macs) and len(cores) == len(hot_loops.CORES["aarch64"]),
                    )
                )
    for what, ok in checks:
        print(f"arm_cost smoke: {'ok' if ok else 'FAILED'}: {what}", file=sys.stderr)
    failed = sum(not ok for _, ok in checks)
    print(f"arm_cost: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


def measure(cache: Path, targets: list[str], python: bool, runtimes: tuple[str, ...] = PY_RUNTIMES) -> dict:
    """The C++ runner's rows and loops for `targets`, and the Python rows."""
    work = work_dir(cache)
    build_plugin(cache)
    model_dir = models.make(work / "models")
    reference = np.load(model_dir / "keras.npy")
    runners = {t: build_runner(t, work) for t in targets}
    results: dict = {"cpp": [], "python": [], "loops": []}
    with tempfile.TemporaryDirectory(prefix="arm_cost-") as tmp_name:
        tmp = Path(tmp_name)
        jobs = [j for t in targets for j in cpp_jobs(t, runners[t], model_dir, tmp, CPP_CALLS)]
        if python:
            sites = [wheels.peers_site(work)]
            own = wheels.tflstm_site(work, "aarch64", ROOT)
            if own is None:
                log("no aarch64 tflstm wheel in dist/ (bash tools/build_wheels.sh aarch64): Python rows without tflstm")
            else:
                sites.insert(0, own)
            jobs += py_jobs(model_dir, sites, tmp, runtimes)
        for job, done in execute(jobs, cache):
            row = dict(job.row)
            row["per_inference"] = done.per_call(3, job.calls, job.empty)
            row["max_abs_error_vs_keras"] = check_output(job, reference)
            if "lstm_node_kernels" in done.stdout:
                row["lstm_node_kernels"] = done.stdout.split("lstm_node_kernels ")[1].split()[0]
            results["python" if job.empty else "cpp"].append(row)
            if job.profile:
                window = done.windows[3]
                share = 100.0 / max(1, sum(b.insns * b.execs for b in window.blocks))
                by_symbol: dict[str, int] = {}
                for blk in window.blocks:
                    by_symbol[blk.symbol] = by_symbol.get(blk.symbol, 0) + blk.insns * blk.execs
                row["functions"] = [
                    {"symbol": demangle(sym), "share_percent": n * share}
                    for sym, n in sorted(by_symbol.items(), key=lambda kv: -kv[1])[:15]
                ]
                for loop in hot_loops.hot_loops(TARGETS[job.target][1], Path(job.argv[0]), window.blocks):
                    kernel = row.get("lstm_node_kernels", "?")
                    if any(
                        (lp["target"], lp["mode"], lp["kernel"], lp["start"])
                        == (job.target, row["mode"], kernel, loop.start)
                        for lp in results["loops"]
                    ):
                        continue  # the same kernel's loop, profiled on another -cpu
                    hot_loops.analyse(TARGETS[job.target][1], loop)
                    results["loops"].append(
                        {
                            **{k: row[k] for k in ("target", "mode", "cpu")},
                            "kernel": kernel,
                            "start": loop.start,
                            "nested": loop.nested,
                            "function": loop.function,
                            "source": report.source_of(loop.function, kernel),
                            "share_percent": loop.executed * share,
                            "insns": len(loop.insns),
                            "iterations_per_inference": loop.iterations / job.calls,
                            "macs": len(loop.macs),
                            "loads": len(loop.loads),
                            "stack_stores": [i.text for i in loop.stack_stores],
                            "stack_loads": [i.text for i in loop.stack_loads],
                            "mca": loop.mca,
                            "asm": [i.text for i in loop.insns],
                        }
                    )
    return results


def demangle(symbol: str) -> str:
    done = subprocess.run(["c++filt", symbol], capture_output=True, text=True)
    return done.stdout.strip() or symbol


def merge(old: dict, new: dict, targets: list[str], python: bool) -> dict:
    """`old` with the rows and loops of the targets (and the Python rows) that `new` measured."""
    out = dict(old)
    out["cpp"] = [r for r in old.get("cpp", []) if r["target"] not in targets] + new["cpp"]
    out["loops"] = [r for r in old.get("loops", []) if r["target"] not in targets] + new["loops"]
    if python:
        key = lambda r: (r["runtime"], r["mode"], r["cpu"])  # noqa: E731
        measured = {key(r) for r in new["python"]}
        out["python"] = [r for r in old.get("python", []) if key(r) not in measured] + new["python"]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-python", action="store_true", help="only the C++ runner (no peers)")
    p.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"the C++ runner's targets, comma-separated (default {','.join(TARGETS)}; empty: none)",
    )
    p.add_argument("--update", action="store_true", help="replace only what this run measured in --json")
    p.add_argument("--runtimes", default=",".join(PY_RUNTIMES), help="the Python rows' runtimes, comma-separated")
    p.add_argument("--smoke", action="store_true", help="the CI smoke: two small counted runs, checked")
    p.add_argument("--json", default=str(HERE / "results.json"))
    p.add_argument("--doc", default=str(ROOT / "docs" / "arm-cost.md"))
    p.add_argument("--from-json", action="store_true", help="only regenerate the doc from --json")
    p.add_argument("--cache", help="cache folder (default $TFLSTM_CACHE or ~/.cache/tflstm)")
    args = p.parse_args()
    cache = cache_root(args.cache)
    for tool in ("cmake", "ninja", hot_loops.MCA):
        if shutil.which(tool) is None:
            print(f"arm_cost: {tool} is missing (tests/setup.sh installs it)", file=sys.stderr)
            return 1
    if args.smoke:
        return smoke(cache)
    if args.from_json:
        results = json.loads(Path(args.json).read_text())
    else:
        targets = [t for t in args.targets.split(",") if t]
        results = measure(cache, targets, not args.no_python, tuple(args.runtimes.split(",")))
        if args.update and Path(args.json).is_file():
            results = merge(json.loads(Path(args.json).read_text()), results, targets, not args.no_python)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        results["meta"] = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit.stdout.strip(),
            "qemu": f"Debian qemu-user {QEMU.spec.split('=')[1]}",
            "llvm_mca": hot_loops.MCA,
            "cpp_calls": CPP_CALLS,
            "python_calls": PY_CALLS,
            "wheels": (HERE / "wheels.lock").read_text().split("\n# name")[1].split("\n", 1)[1].strip().splitlines(),
        }
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    report.write(results, Path(args.doc))
    log(f"wrote {args.json} and {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
