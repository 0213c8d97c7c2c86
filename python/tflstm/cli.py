"""The ``tflstm`` command: convert, inspect, run, bench, profile, demo. inspect, run and bench
need numpy only; the others import TensorFlow when they run."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._build_config import TFLITE_VERSION
from ._core import Error, Model, Runner
from .fuse_gru import GRU_OP
from .fuse_lstm import LSTM_OP
from .lstm_flatbuffer import unfused_layers

# tflstm's own custom ops: a model with one runs on tflstm's runtime only (convert(...,
# portable=True) gives the stock-TFLite form).
TFLSTM_OPS = (GRU_OP, LSTM_OP)


def _load_npy(path: str, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise Error(f"cannot read {what} from '{path}': {e}") from e


def describe(model: Model, data: bytes) -> dict[str, Any]:
    """What `inspect` shows of a model (and its bytes, for tflstm's notes), as plain data."""

    def tensors(infos: Sequence[Any]) -> list[dict[str, Any]]:
        out = []
        for t in infos:
            q = t.quantization
            out.append(
                {
                    "name": t.name,
                    "tensor": t.tensor_name,
                    "dtype": str(t.dtype),
                    "shape": list(t.shape),
                    "shape_signature": list(t.shape_signature),
                    "quantization": {
                        "scales": q.scales.tolist(),
                        "zero_points": q.zero_points.tolist(),
                        "axis": q.quantized_dimension,
                    }
                    if q
                    else None,
                }
            )
        return out

    info: dict[str, Any] = {
        "size_bytes": model.size,
        "inputs": tensors(model.inputs),
        "outputs": tensors(model.outputs),
        "ops": [{"op": name, "version": v} for name, v in model.ops],
        "runtime": f"TFLite {TFLITE_VERSION}",
        "state": [
            {
                "name": s.name,
                "kind": "resource variable" if s.resource_variable else "variable tensor",
                "dtype": str(s.dtype),
                "shape": list(s.shape),
                "bytes": s.bytes,
            }
            for s in model.state
        ],
        "unsupported_ops": [{"op": n, "version": v} for n, v in model.unsupported_ops],
        "unfused_recurrent_layers": unfused_layers(data),
        "tflstm_ops": sorted({name for name, _ in model.ops if name in TFLSTM_OPS}),
    }
    if not info["unsupported_ops"]:
        runner = Runner(model)
        stats = runner.memory
        info["lstm_kernels"] = runner.lstm_kernels
        info["node_kernels"] = [{"op": op, "kernel": kernel} for op, kernel in runner.node_kernels]
        info["memory"] = {
            "arena_bytes": stats.arena.budget,
            "tflite_arena_bytes": stats.tflite_arena,
            "tflite_persistent_bytes": stats.tflite_persistent,
            "kernel_weights_bytes": stats.kernel_weights,
            "total_bytes": stats.total,
            "plan_by_steps": _plan_by_steps(runner, model),
        }
    return info


PLAN_STEPS = (1, 100, 1000, 10000)


def _plan_by_steps(runner: Runner, model: Model) -> dict[str, int | str]:
    """What a runner would hold (MemoryStats.total) at batch 1 and a few sequence lengths (axis 1
    of every input): what `arena_bytes` must allow. A length the model cannot take, or a plan
    past what the process could use, is given as the refusal's message."""
    if not model.inputs or any(len(t.shape_signature) < 2 for t in model.inputs):
        return {}
    plan: dict[str, int | str] = {}
    for steps in PLAN_STEPS:
        shapes = []
        for t in model.inputs:
            shape = [steps if axis == 1 else d for axis, d in enumerate(t.shape)]
            shapes.append([1, *shape[1:]])
        try:
            plan[str(steps)] = runner.memory_plan(shapes).total
        except Error as e:
            plan[str(steps)] = f"{type(e).__name__}: {e}"
    return plan


def _print_inspect(path: str, info: dict[str, Any]) -> None:
    print(f"{path}: {info['size_bytes']:,} bytes")
    for kind in ("inputs", "outputs"):
        print(f"{kind}:")
        for t in info[kind]:
            q = t["quantization"]
            quant = ""
            if q and len(q["scales"]) == 1:
                quant = f"  scale {q['scales'][0]:.6g} zero point {q['zero_points'][0]}"
            elif q:
                quant = f"  {len(q['scales'])} scales on axis {q['axis']}"
            print(
                f"  {t['name']:<20} {t['dtype']:<8} shape {tuple(t['shape'])} signature "
                f"{tuple(t['shape_signature'])}{quant}  [tensor {t['tensor']}]"
            )
    if info["state"]:
        print(
            f"state: stateful, {sum(s['bytes'] for s in info['state']):,} bytes kept between invokes "
            "(every plain run starts from the initial state; streams carry it)"
        )
        for s in info["state"]:
            print(f"  {s['name']:<40} {s['kind']:<17} {s['dtype']:<8} shape {tuple(s['shape'])}  {s['bytes']:,} B")
    else:
        print("state: stateless")
    print("ops:")
    for op in info["ops"]:
        print(f"  {op['op']} v{op['version']}")
    for layer in info["unfused_recurrent_layers"]:
        print(f"unfused: {layer}: no fused kernel, each step runs as separate builtin ops")
    if info["tflstm_ops"]:
        print(
            f"needs tflstm's runtime: stock TFLite cannot run {', '.join(info['tflstm_ops'])} (tflstm's own "
            "op; convert with portable=True, or --portable, for a model stock TFLite runs)"
        )
    if info["unsupported_ops"]:
        missing = ", ".join(f"{o['op']} v{o['version']}" for o in info["unsupported_ops"])
        print(f"compatibility: {info['runtime']} CANNOT run {missing}")
    else:
        m = info["memory"]
        print(f"compatibility: {info['runtime']} runs every op")
        for n, kernel in enumerate(info["lstm_kernels"]):
            where = "TFLite's own kernel" if kernel == "tflite" else f"tflstm's {kernel} kernel"
            print(f"LSTM {n}: {where}")
        print("kernels: " + _kernel_summary(info["node_kernels"]))
        print(
            f"memory: tflstm arena {m['arena_bytes']:,} B, TFLite arena {m['tflite_arena_bytes']:,} B, "
            f"persistent {m['tflite_persistent_bytes']:,} B, total {m['total_bytes']:,} B"
        )
        plans = [f"{s} steps {p:,} B" for s, p in m["plan_by_steps"].items() if isinstance(p, int)]
        if plans:
            print("memory plan at batch 1 (what arena_bytes must allow): " + ", ".join(plans))


def _kernel_summary(nodes: list[dict[str, str]]) -> str:
    """Which kernel family runs each op, counted, in the order the ops first run: e.g.
    "CONV_2D xnnpack x5, UNIDIRECTIONAL_SEQUENCE_LSTM avx2, RESHAPE tflite"."""
    counts: dict[tuple[str, str], int] = {}
    for n in nodes:
        key = (n["op"], n["kernel"])
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{op} {kernel}" + (f" x{c}" if c > 1 else "") for (op, kernel), c in counts.items())


def ops_list(paths: Sequence[str]) -> str:
    """The ops of these models, one per line with the highest version any of them uses: the
    input of a selective C++ build (tflstm_select_ops in CMake)."""
    versions: dict[str, int] = {}
    for path in paths:
        for name, version in Model(path).ops:
            versions[name] = max(version, versions.get(name, 0))
    lines = [
        f"# TFLite ops of {', '.join(os.path.basename(p) for p in paths)}",
        "# for a selective build: tflstm_select_ops(<target> OPS_FILES <this file>)",
    ]
    lines += [f"{name} {version}" for name, version in versions.items()]
    return "\n".join(lines) + "\n"


def cmd_inspect(args: argparse.Namespace) -> int:
    if args.ops:
        print(ops_list(args.model), end="")
        return 0
    if len(args.model) != 1:
        raise Error("inspect takes one model (several only with --ops)")
    model = Model(args.model[0])  # a missing or broken file raises its own error here
    with open(args.model[0], "rb") as f:
        info = describe(model, f.read())
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_inspect(args.model[0], info)
    return 1 if info["unsupported_ops"] else 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .converter import convert, load_keras

    keras_model = load_keras(args.keras_model)
    rep = _load_npy(args.representative, "representative data") if args.representative else None
    t0 = time.perf_counter()
    print(f"converting '{args.keras_model}' ({args.mode})...", file=sys.stderr, flush=True)
    data = convert(
        keras_model,
        args.mode,
        rep,
        int8_io=args.int8_io,
        batch_size=args.batch_size,
        timesteps=_timesteps(args.timesteps),
        verify=not args.no_verify,
        tolerance=args.tolerance,
        portable=args.portable,
    )
    with open(args.output, "wb") as f:
        f.write(data)
    ops = ", ".join(f"{n} v{v}" for n, v in Model(data).ops)
    print(f"wrote {args.output}: {len(data):,} bytes in {time.perf_counter() - t0:.1f} s; ops: {ops}")
    return 0


def _timesteps(values: list[str] | None) -> int | dict[str, int] | None:
    """--timesteps N (every input), or --timesteps NAME=N once per input."""
    if not values:
        return None
    try:
        if len(values) == 1 and "=" not in values[0]:
            return int(values[0])
        return {name: int(n) for name, n in (v.split("=", 1) for v in values)}
    except ValueError as e:
        raise Error(f"--timesteps takes N or NAME=N (once per input), got {values}") from e


def run_batched(runner: Runner, x: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
    """Runs x as one input, or sample by sample when x stacks inputs of the model's shape."""
    shape = tuple(runner.inputs[0].shape)
    if x.shape == shape:
        return runner(x)
    if x.shape[1:] == shape[1:] and shape[0] == 1:
        outs = [runner(x[i : i + 1]) for i in range(len(x))]
        if isinstance(outs[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*outs, strict=True))
        return np.concatenate(outs)
    return runner(x)  # raises InputError naming the expected shape


def cmd_run(args: argparse.Namespace) -> int:
    runner = Runner(Model(args.model), num_threads=args.threads)
    x = _load_npy(args.input, "the input")
    y = run_batched(runner, x)
    if isinstance(y, tuple):
        if args.output:
            np.savez(args.output, *y)
        for i, part in enumerate(y):
            print(f"output {i}: {part.dtype} {part.shape}")
    else:
        if args.output:
            np.save(args.output, y)
        print(f"output: {y.dtype} {y.shape}")
        if not args.output:
            np.set_printoptions(precision=5, suppress=True)
            print(y)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import bench

    inputs = [_load_npy(path, "an input") for path in args.input] or None
    result = bench(args.model, inputs, runs=args.runs, warmup=args.warmup, num_threads=args.threads)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key} {value:.1f}" if isinstance(value, float) else f"{key} {value}")
    return 0


def _write_report(report: Any, out_dir: str, stem: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, f"{stem}.json")
    png_path = os.path.join(out_dir, f"{stem}.png")
    report.to_json(json_path)
    report.plot(png_path)
    print(report.table())
    print(f"\nwrote {json_path} and {png_path}")


def cmd_profile(args: argparse.Namespace) -> int:
    from .converter import load_keras
    from .profiling import profile

    keras_model = load_keras(args.keras_model)
    x = _load_npy(args.x, "x")
    y = _load_npy(args.y, "y")
    rep = _load_npy(args.representative, "representative data") if args.representative else None
    report = profile(keras_model, x, y, args.modes, representative_data=rep, runs=args.runs, num_threads=args.threads)
    _write_report(report, args.out, "profile")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .converter import MODES, convert
    from .datasets import basic_motions
    from .profiling import profile
    from .training import train

    data = basic_motions()
    print(
        f"{data.name}: {len(data.x_train)} training and {len(data.x_test)} test recordings of "
        f"{data.x_train.shape[1]} steps x {data.x_train.shape[2]} features; classes {', '.join(data.classes)}",
        flush=True,
    )
    print(f"training LSTM({args.units}) for {args.epochs} epochs", flush=True)
    model = train(
        data.x_train,
        data.y_train,
        lstm_units=(args.units,),
        dropout=0.1,
        epochs=args.epochs,
        batch_size=8,
        learning_rate=args.learning_rate,
        seed=args.seed,
        verbose=2,
    )
    os.makedirs(args.out, exist_ok=True)
    paths = [os.path.join(args.out, f"basic_motions_{mode}.tflite") for mode in MODES]
    for mode, path in zip(MODES, paths, strict=True):
        with open(path, "wb") as f:
            f.write(convert(model, mode, data.x_train if mode == "int8" else None))
    ops_path = os.path.join(args.out, "basic_motions_ops.txt")
    with open(ops_path, "w") as f:
        f.write(ops_list(paths))
    print(f"wrote the models and {ops_path}, the op list for a selective C++ build", flush=True)
    report = profile(
        model,
        data.x_test,
        data.y_test,
        representative_data=data.x_train,
        runs=args.runs,
        prune=args.prune or None,
        train_data=(data.x_train, data.y_train),
    )
    _write_report(report, args.out, "basic_motions_profile")
    return 0


def parser() -> argparse.ArgumentParser:
    from .converter import MODES

    p = argparse.ArgumentParser(prog="tflstm", description="Ship Keras LSTM models to TFLite on embedded Linux.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("convert", help="convert a saved Keras model to .tflite")
    c.add_argument("keras_model")
    c.add_argument("-m", "--mode", choices=MODES, default="float32")
    c.add_argument("-o", "--output", required=True)
    c.add_argument("-r", "--representative", help=".npy of input samples (batch first) for int8 calibration")
    c.add_argument("--int8-io", action="store_true", help="int8 model inputs and outputs (mode int8)")
    c.add_argument("--batch-size", type=int, default=1)
    c.add_argument(
        "--timesteps",
        action="append",
        metavar="N|NAME=N",
        help="sequence length to convert for: N for every input, or NAME=N per input (repeat)",
    )
    c.add_argument(
        "--no-verify",
        action="store_true",
        help="skip running the converted model against the Keras model (see tflstm.verification)",
    )
    c.add_argument(
        "--tolerance",
        type=float,
        help="largest difference from the Keras model accepted, relative to the output scale "
        "(default: the mode's, see tflstm.verification)",
    )
    c.add_argument(
        "--portable",
        action="store_true",
        help="stock TFLite ops only: GRUs (and hard_sigmoid LSTMs) as builtin ops instead of tflstm's "
        "fused TFLSTM_GRU (TFLSTM_LSTM)",
    )
    c.set_defaults(func=cmd_convert)

    i = sub.add_parser("inspect", help="inputs, outputs, ops, quantization, compatibility and memory of a model")
    i.add_argument("model", nargs="+")
    i.add_argument("--json", action="store_true")
    i.add_argument(
        "--ops",
        action="store_true",
        help="print the ops (and versions) of one or more models for a selective C++ build",
    )
    i.set_defaults(func=cmd_inspect)

    r = sub.add_parser("run", help="run a .tflite model on a .npy input with the native runtime")
    r.add_argument("model")
    r.add_argument("input", help=".npy of one input, or of several stacked on the batch axis")
    r.add_argument("-o", "--output", help=".npy (.npz for several outputs) to write")
    r.add_argument("--threads", type=int, default=1)
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("bench", help="latency and memory of a .tflite model run from Python (numpy only)")
    b.add_argument("model")
    b.add_argument("--input", action="append", default=[], help=".npy of one input (repeat per input; default: random)")
    b.add_argument("--runs", type=int, default=100)
    b.add_argument("--warmup", type=int, default=10)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--json", action="store_true", help="one JSON object instead of `key value` lines")
    b.set_defaults(func=cmd_bench)

    pr = sub.add_parser("profile", help="convert a Keras model in every mode and measure each variant")
    pr.add_argument("keras_model")
    pr.add_argument("--x", required=True, help=".npy of evaluation inputs (samples, timesteps, features)")
    pr.add_argument("--y", required=True, help=".npy of labels (class ids) or regression targets")
    pr.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    pr.add_argument("-r", "--representative", help=".npy of samples for int8 calibration (default: --x)")
    pr.add_argument("--runs", type=int, default=200)
    pr.add_argument("--threads", type=int, default=1)
    pr.add_argument("--out", default="tflstm-profile", help="folder for profile.json and profile.png")
    pr.set_defaults(func=cmd_profile)

    d = sub.add_parser("demo", help="the whole pipeline on BasicMotions: train, convert, profile, plot")
    d.add_argument("--out", default="tflstm-demo")
    d.add_argument("--epochs", type=int, default=60)
    d.add_argument("--units", type=int, default=64)
    d.add_argument("--learning-rate", type=float, default=2e-3)
    d.add_argument("--prune", type=float, default=0.5, help="also profile a copy pruned to this sparsity (0: off)")
    d.add_argument("--runs", type=int, default=500)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (Error, ImportError) as e:
        print(f"tflstm {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
