#!/usr/bin/env python3
"""ARM cost of the ops around the LSTM (issue 29's aarch64 goal): guest instructions per
inference of bench/other_ops.py's models (a DS-CNN keyword spotter, a Conv1D front end, a Dense
stack, an attention head; float32 and full-integer int8, converted by TensorFlow's converter as
there) under qemu-user with the counting plugin, for

- tflstm's C++ marker runner (run.py's, static, the aarch64 preset's build: its XNNPACK route
  for CONV_2D, FULLY_CONNECTED and the like, TFLite's kernels for the rest);
- ai-edge-litert's aarch64 wheel (XNNPACK as it comes) and ONNX Runtime's (the same model built
  with onnx.helper; int8 quantized statically, QDQ) from Debian's arm64 Python, as run.py runs them.

A Python call costs instructions of its own that a C++ call does not: each runtime's Python rows
include a tiny model (one ADD of four floats) whose count is that runtime's per-call floor, and
the table shows the Python counts less it next to tflstm's C++ count. One command writes
bench/arm_cost/other_ops_cost.json and the table in docs/arm-cost.md:

    python3 bench/arm_cost/other_ops_cost.py [--cpus cortex-a76,cortex-a72] [--models ds_cnn,...] [--from-json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import guest_root
import run
import wheels
from qemu_plugin import build_plugin, cache_root, work_dir

MODES = ("float32", "int8")
PY_RUNTIMES = ("litert", "onnxruntime")
TINY = "tiny_add"
BEGIN = "<!-- other_ops arm_cost table: bench/arm_cost/other_ops_cost.py, do not edit by hand -->"
END = "<!-- other_ops end -->"


def make(out: Path, names: list[str]) -> Path:
    """Each model's .tflite (float32, int8), ONNX files, input and Keras output in `out`, and the
    tiny model; written once per set of names (a stamp says which)."""
    stamp = out / "models.json"
    if stamp.is_file() and set(json.loads(stamp.read_text())["names"]) >= set(names):
        return out
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    import other_ops

    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        for mode in MODES:
            model, data, x, sample = other_ops.prepared(name, mode)
            (out / f"{name}_{mode}.tflite").write_bytes(data)
            onnx_data = other_ops.onnx_model(model)
            if mode == "int8":
                onnx_data = other_ops.ort_static(onnx_data, sample[:64])
            (out / f"{name}_{mode}.onnx").write_bytes(onnx_data)
        np.save(out / f"{name}_x.npy", x)
        np.save(out / f"{name}_keras.npy", model.predict(x, verbose=0).astype(np.float32))
    # The per-call floor: one ADD of four floats, as a .tflite and as ONNX with input "x".
    k = tf.keras
    x_in = k.Input((4,), batch_size=1)
    tiny = k.Model(x_in, k.layers.Add()([x_in, x_in]))
    (out / f"{TINY}.tflite").write_bytes(other_ops.tflite_model(tiny, "float32", np.zeros((1, 4), np.float32)))
    graph = other_ops.OnnxGraph()
    y = graph.op("Add", ["x", "x"])
    (out / f"{TINY}.onnx").write_bytes(graph.model((1, 4), y, (1, 4)))
    np.save(out / f"{TINY}_x.npy", np.ones((1, 4), np.float32))
    np.save(out / f"{TINY}_keras.npy", np.full((1, 4), 2.0, np.float32))
    stamp.write_text(json.dumps({"names": sorted(set(names))}))
    return out


def jobs(models: Path, names: list[str], cpus: list[str], runner: Path, site: Path, tmp: Path) -> list[run.Job]:
    guest_python = str(guest_root.debian_userland.build("arm64", work_dir().parent) / "usr" / "bin" / "python3.11")
    out: list[run.Job] = []
    for cpu in cpus:
        for name in [*names, TINY]:
            for mode in ("float32",) if name == TINY else MODES:
                stem = TINY if name == TINY else f"{name}_{mode}"
                x = str(models / f"{name}_x.npy")
                row = {"target": "aarch64", "model": name, "mode": mode, "cpu": cpu}
                npy = tmp / f"cpp-{len(out)}.npy"
                argv = [str(runner), str(models / f"{stem}.tflite"), x, "--runs", str(run.CPP_CALLS), "--warmup", "2"]
                argv += ["--output", str(npy)]
                out.append(run.Job("aarch64", cpu, argv, {}, run.CPP_CALLS, {**row, "runtime": "tflstm"}, npy))
                for runtime in PY_RUNTIMES:
                    npy = tmp / f"py-{len(out)}.npy"
                    model = models / f"{stem}.{'onnx' if runtime == 'onnxruntime' else 'tflite'}"
                    argv = [guest_python, str(HERE / "guest_infer.py"), runtime, str(model), x, str(npy)]
                    argv += [str(run.PY_CALLS), "2"]
                    env = {"PYTHONPATH": str(site)}
                    row_py = {**row, "runtime": runtime}
                    out.append(run.Job("aarch64", cpu, argv, env, run.PY_CALLS, row_py, npy, empty=4))
    return out


def measure(cache: Path, names: list[str], cpus: list[str]) -> dict:
    work = work_dir(cache)
    build_plugin(cache)
    models = make(work / "models-other-ops", names)
    runner = run.build_runner("aarch64", work)
    site = wheels.peers_site(work)
    rows = []
    with tempfile.TemporaryDirectory(prefix="arm_cost-ops-") as tmp:
        for job, done in run.execute(jobs(models, names, cpus, runner, site, Path(tmp)), cache):
            row = dict(job.row)
            row["instructions"] = done.per_call(3, job.calls, job.empty)["total"]
            reference = np.load(models / f"{row['model']}_keras.npy")
            row["max_abs_error_vs_keras"] = float(
                np.max(np.abs(np.load(job.output).astype(np.float32).reshape(reference.shape) - reference))
            )
            rows.append(row)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.stdout.strip(),
        "cpp_calls": run.CPP_CALLS,
        "python_calls": run.PY_CALLS,
    }
    return {"meta": meta, "rows": rows}


def table(results: dict) -> str:
    rows = results["rows"]
    get = {(r["model"], r["mode"], r["cpu"], r["runtime"]): r for r in rows}
    cpus = sorted({r["cpu"] for r in rows}, reverse=True)
    names = [n for n in dict.fromkeys(r["model"] for r in rows) if n != TINY]
    floor = {(cpu, rt): get[(TINY, "float32", cpu, rt)]["instructions"] for cpu in cpus for rt in PY_RUNTIMES}
    m = results["meta"]
    lines = [
        f"Instructions per inference (thousands), aarch64 under qemu-user; {m['date']}, tflstm {m['commit']}; "
        f"C++ runner {m['cpp_calls']} calls, Python {m['python_calls']} calls per run. LiteRT and ONNX Runtime are "
        "their Python counts less their per-call floor (one ADD of four floats: "
        + ", ".join(f"{rt} {floor[(cpu, rt)] / 1e3:.0f} K on {cpu}" for cpu in cpus for rt in PY_RUNTIMES)
        + "). Ratio: tflstm / LiteRT. Max error: each runtime against Keras.",
        "",
        "| model | mode | -cpu | tflstm (C++) | LiteRT | ONNX Runtime | tflstm / LiteRT "
        "| max error (tflstm, LiteRT, ORT) |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for name in names:
        for mode in MODES:
            for cpu in cpus:
                own = get[(name, mode, cpu, "tflstm")]
                peer = {rt: get[(name, mode, cpu, rt)] for rt in PY_RUNTIMES}
                net = {rt: peer[rt]["instructions"] - floor[(cpu, rt)] for rt in PY_RUNTIMES}
                errors = ", ".join(f"{r['max_abs_error_vs_keras']:.2g}" for r in (own, *peer.values()))
                lines.append(
                    f"| {name} | {mode} | {cpu} | {own['instructions'] / 1e3:.0f} | {net['litert'] / 1e3:.0f} | "
                    f"{net['onnxruntime'] / 1e3:.0f} | {own['instructions'] / net['litert']:.2f}x | {errors} |"
                )
    return "\n".join(lines)


def write_doc(text: str, doc: Path) -> None:
    old = doc.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in old:
        new = old.split(BEGIN)[0] + block + old.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n## The ops around the LSTM\n\n" + block + "\n"
    doc.write_text(new)


def main() -> int:
    import other_ops

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(other_ops.MODELS))
    p.add_argument("--cpus", default="cortex-a76,cortex-a72")
    p.add_argument("--json", default=str(HERE / "other_ops_cost.json"))
    p.add_argument("--doc", default=str(ROOT / "docs" / "arm-cost.md"))
    p.add_argument("--from-json", action="store_true")
    p.add_argument("--cache", help="cache folder (default $TFLSTM_CACHE or ~/.cache/tflstm)")
    args = p.parse_args()
    if args.from_json:
        results = json.loads(Path(args.json).read_text())
    else:
        results = measure(cache_root(args.cache), args.models.split(","), args.cpus.split(","))
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    text = table(results)
    print(text)
    write_doc(text, Path(args.doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
