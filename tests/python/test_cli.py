"""The `tflstm` command, run as users run it: in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import tf_models as zoo
import tflstm

ROOT = Path(__file__).resolve().parents[2]


def tflstm_cmd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tflstm", *map(str, args)], capture_output=True, text=True, timeout=600
    )


def test_inspect_shows_io_ops_compatibility_and_memory(converted, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(converted("int8"))
    done = tflstm_cmd("inspect", path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "series" in out and "int8" in out and "scale" in out
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM v1" in out
    assert "runs every op" in out and "memory: tflstm arena" in out
    assert "LSTM 0: tflstm's int8-" in out and "LSTM 1: tflstm's int8-" in out
    assert "kernels: " in out and "UNIDIRECTIONAL_SEQUENCE_LSTM int8-" in out
    assert done.stderr == ""

    info = json.loads(tflstm_cmd("inspect", path, "--json").stdout)
    model = tflstm.Model(path)
    assert info["inputs"][0]["shape"] == list(model.inputs[0].shape)
    assert [(o["op"], o["version"]) for o in info["ops"]] == model.ops
    # Every node's kernel: the LSTMs on tflstm's int8 kernel, the int8 Dense on XNNPACK's.
    nodes = info["node_kernels"]
    assert {n["op"] for n in nodes} == {op for op, _ in model.ops}
    assert [n["kernel"] for n in nodes if n["op"] == "UNIDIRECTIONAL_SEQUENCE_LSTM"] == info["lstm_kernels"]
    assert {n["kernel"] for n in nodes if n["op"] == "FULLY_CONNECTED"} == {"xnnpack"}
    # The plan per sequence length: what a runner made for that length holds, growing with it.
    plan = info["memory"]["plan_by_steps"]
    assert list(plan) == ["1", "100", "1000", "10000"] and all(isinstance(v, int) for v in plan.values())
    assert plan["1"] < plan["1000"] < plan["10000"]
    features = model.inputs[0].shape[2]
    assert tflstm.Runner(model, input_shapes=[[1, 1000, features]]).memory.total == plan["1000"]
    assert "memory plan at batch 1" in out and "1,000 steps" not in out and "1000 steps" in out


def test_inspect_names_what_the_runtime_lacks(converted, tmp_path):
    path = tmp_path / "v99.tflite"
    path.write_bytes(converted("future-op-version"))
    done = tflstm_cmd("inspect", path)
    assert done.returncode == 1
    assert "CANNOT run FULLY_CONNECTED v99" in done.stdout


def test_inspect_says_a_fused_gru_needs_tflstms_runtime(tmp_path):
    keras = zoo.keras3()
    keras.utils.set_random_seed(3)
    x = keras.Input((None, 4), name="imu")
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.GRU(8)(x)))
    model.save(tmp_path / "gru.keras")
    for portable in (False, True):
        out = tmp_path / f"gru_{portable}.tflite"
        args = ["--portable", "--timesteps", "6"] if portable else []
        done = tflstm_cmd("convert", tmp_path / "gru.keras", "-o", out, *args)
        assert done.returncode == 0, done.stderr
        assert ("TFLSTM_GRU" in done.stdout) != portable, done.stdout
        shown = tflstm_cmd("inspect", out)
        assert shown.returncode == 0, shown.stderr
        needs = "needs tflstm's runtime: stock TFLite cannot run TFLSTM_GRU"
        assert (needs in shown.stdout) != portable, shown.stdout
        info = json.loads(tflstm_cmd("inspect", out, "--json").stdout)
        assert info["tflstm_ops"] == ([] if portable else ["TFLSTM_GRU"])
        if not portable:  # tflstm's own GRU kernel runs it
            assert any(n["op"] == "TFLSTM_GRU" and n["kernel"].startswith("gru-") for n in info["node_kernels"])


def read_ops_list(text: str) -> dict[str, int]:
    lines = [line.split("#")[0].split() for line in text.splitlines()]
    return {fields[0]: int(fields[1]) for fields in lines if fields}


def test_inspect_ops_lists_what_a_selective_build_needs(converted, tmp_path):
    paths = []
    for mode in ("float32", "dynamic", "int8", "float16"):
        paths.append(tmp_path / f"{mode}.tflite")
        paths[-1].write_bytes(converted(mode))
    done = tflstm_cmd("inspect", "--ops", *paths)
    assert done.returncode == 0, done.stderr
    expected: dict[str, int] = {}
    for path in paths:
        for name, version in tflstm.Model(path).ops:
            expected[name] = max(version, expected.get(name, 0))
    assert read_ops_list(done.stdout) == expected
    # The selective C++ consumer (examples/consumer, built by ctest) can run every mode.
    committed = read_ops_list((ROOT / "examples" / "consumer" / "lstm_ops.txt").read_text())
    assert set(expected) <= set(committed)

    done = tflstm_cmd("inspect", *paths)
    assert done.returncode == 1 and "several only with --ops" in done.stderr


def test_run_npy_in_npy_out(converted, tmp_path, rng):
    path = tmp_path / "m.tflite"
    path.write_bytes(converted("float32"))
    x = rng.normal(size=(5, zoo.TIMESTEPS, zoo.FEATURES)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    done = tflstm_cmd("run", path, tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    y = np.load(tmp_path / "y.npy")
    runner = tflstm.Runner(tflstm.Model(path))
    np.testing.assert_array_equal(y, np.concatenate([runner(x[i : i + 1]) for i in range(5)]))


def test_convert_a_saved_keras3_model(tmp_path):
    model = zoo.seed_model(zoo.keras3(), units=8, classes=3)
    model.save(tmp_path / "seed.keras")
    np.save(tmp_path / "rep.npy", zoo.representative(16))
    done = tflstm_cmd(
        "convert", tmp_path / "seed.keras", "-m", "int8", "-r", tmp_path / "rep.npy", "-o", tmp_path / "seed.tflite"
    )
    assert done.returncode == 0, done.stderr
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in done.stdout
    tflstm.Model(tmp_path / "seed.tflite").check()


def test_convert_with_timesteps_per_input(tmp_path):
    keras = zoo.keras3()
    ids, static = keras.Input((None,), dtype="int32", name="ids"), keras.Input((2,), name="static")
    h = keras.layers.GRU(3)(keras.layers.Embedding(10, 2)(ids))
    model = keras.Model([ids, static], keras.layers.Dense(1)(keras.layers.Concatenate()([h, static])))
    model.save(tmp_path / "free.keras")
    out = tmp_path / "free.tflite"
    done = tflstm_cmd("convert", tmp_path / "free.keras", "--timesteps", "ids=5", "-o", out)
    assert done.returncode == 0, done.stderr
    assert [t.shape for t in tflstm.Model(out).inputs] == [(1, 5), (1, 2)]
    done = tflstm_cmd("convert", tmp_path / "free.keras", "--timesteps", "ids=five", "-o", out)
    assert done.returncode == 1 and "--timesteps takes N or NAME=N" in done.stderr, done.stderr


def test_convert_tolerance_sets_the_bound(tmp_path):
    """--tolerance replaces the mode's bound: dynamic-range int8 weights are further off Keras
    than 1e-6, so that bound refuses the model, naming the difference and what to do."""
    zoo.seed_model(zoo.keras3(), units=8, classes=3).save(tmp_path / "seed.keras")
    out = tmp_path / "seed.tflite"
    done = tflstm_cmd("convert", tmp_path / "seed.keras", "-m", "dynamic", "--tolerance", "1e-6", "-o", out)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "differs from its Keras source by" in done.stderr and "the tolerance for dynamic is 1e-06" in done.stderr
    assert "mode 'float16'" in done.stderr and not out.exists()
    done = tflstm_cmd("convert", tmp_path / "seed.keras", "-m", "dynamic", "-o", out)
    assert done.returncode == 0, done.stderr
    tflstm.Model(out).check()


def test_errors_are_one_line_not_a_traceback(tmp_path):
    done = tflstm_cmd("inspect", tmp_path / "missing.tflite")
    assert done.returncode == 1
    assert "tflstm inspect: error: cannot open model" in done.stderr
    assert "Traceback" not in done.stderr
    (tmp_path / "x.npy").write_bytes(b"not numpy")
    done = tflstm_cmd("run", zoo_model(tmp_path), tmp_path / "x.npy")
    assert done.returncode == 1 and "cannot read the input from" in done.stderr


def zoo_model(tmp_path) -> str:
    path = tmp_path / "tiny.tflite"
    path.write_bytes(tflstm.convert(zoo.seed_model(zoo.tf_keras(), units=4, classes=2), "float32"))
    return str(path)
