"""The runtime on the device: an installed wheel, numpy, no TensorFlow. Models load and
describe themselves as on x86_64, runs match x86_64's outputs in every conversion mode,
streams carry state, bad input gets typed errors, and `tflstm inspect`, `run` and `bench`
work. Tolerances as in tests/python/test_arm.py: float within 1e-5, int8 within one step;
dynamic-range on ARM within the model's own quantization error (see _tolerance)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from bundle_data import load

import tflstm
import tflstm.bench
from tflstm.cli import describe

ARM = platform.machine() != "x86_64"


def test_the_installed_wheel_runs_without_tensorflow():
    expected = os.environ.get("TFLSTM_EXPECT_PACKAGE_DIR")
    if expected:
        assert tflstm.__file__.startswith(expected), tflstm.__file__
    heavy = {"tensorflow", "keras", "tf_keras", "aeon", "matplotlib"}
    assert not heavy & set(sys.modules)
    build = tflstm._build_config
    assert platform.machine() == build.PROCESSOR  # the wheel for this machine, not another's


def test_model_describes_itself_as_on_x86(bundle, case):
    data = (bundle / case["model"]).read_bytes()
    model = tflstm.Model(data)
    here, there = describe(model, data), case["description"]
    for key in ("size_bytes", "inputs", "outputs", "ops", "unsupported_ops", "runtime"):
        assert here[key] == there[key], key
    assert here["memory"]["arena_bytes"] == there["memory"]["arena_bytes"]


def _tolerance(bundle, cases, case, i: int) -> float:
    if case["mode"] != "dynamic" or not ARM:
        return 1e-5
    # ARM's float math differs from x86_64's by ulps (ARMv7 NEON rounds a multiply-add
    # twice; aarch64's NEON sigmoid and tanh are other polynomials than AVX2's). The
    # hybrid LSTM re-quantizes its state each step, so an ulp can become a quantization
    # step: measured 1.5e-5 on the demo at batch 4 on aarch64.
    _, _, y_float = load(bundle, cases[f"{case['group']}_float32"])
    _, _, y_dynamic = load(bundle, case)
    return max(1e-5, float(np.max(np.abs(y_dynamic[i] - y_float[i]))))


def test_outputs_match_x86(bundle, cases, case):
    data, xs, ys = load(bundle, case)
    runner = tflstm.Runner(tflstm.Model(data))
    for i, (x, want) in enumerate(zip(xs, ys, strict=True)):
        got = runner(x)
        assert got.dtype == want.dtype and got.shape == want.shape
        if got.dtype == np.int8:
            assert np.max(np.abs(got.astype(int) - want.astype(int))) <= 1
        else:
            np.testing.assert_allclose(got, want, atol=_tolerance(bundle, cases, case, i), rtol=0)


def test_every_call_starts_from_zero_state(bundle, cases):
    data, xs, _ = load(bundle, cases["demo_int8"])
    runner = tflstm.Runner(tflstm.Model(data))
    first = runner(xs[0])
    runner(xs[1])
    np.testing.assert_array_equal(runner(xs[0]), first)


def test_threads_give_the_same_outputs(bundle, cases):
    data, xs, ys = load(bundle, cases["demo_float32"])
    two = tflstm.Runner(tflstm.Model(data), num_threads=2)
    np.testing.assert_allclose(two(xs[0]), ys[0], atol=1e-5, rtol=0)


def test_stream_chunks_equal_the_whole_sequence_on_x86(bundle, cases):
    _, xs, ys = load(bundle, cases["stream_whole"])
    stream = tflstm.Runner(tflstm.Model(bundle / "stream_step.tflite")).stream()
    for x, want in zip(xs, ys, strict=True):
        outs = [stream(x[:, a:b]) for a, b in ((0, 1), (1, 7), (7, 20), (20, 30))]
        np.testing.assert_allclose(outs[-1], want, atol=1e-5, rtol=0)
        assert stream.steps == 30
        stream.reset()
    stream(xs[0][:, :20])
    snapshot = stream.state
    rest = stream(xs[0][:, 20:])
    stream.state = snapshot
    np.testing.assert_array_equal(stream(xs[0][:, 20:]), rest)


def test_runner_resizes_for_a_batch(bundle, cases):
    data, xs, ys = load(bundle, cases["stream_whole"])
    runner = tflstm.Runner(tflstm.Model(data))
    np.testing.assert_allclose(runner(np.concatenate(list(xs))), np.concatenate(list(ys)), atol=1e-5, rtol=0)
    assert runner.rebuilds == 1


def test_bad_models_raise_model_error(bundle, cases, tmp_path):
    data, xs, ys = load(bundle, cases["classifier_float32"])
    with pytest.raises(tflstm.ModelError, match=r"cannot open model '.*nope\.tflite': No such file"):
        tflstm.Model(tmp_path / "nope.tflite")
    with pytest.raises(tflstm.ModelError, match="empty"):
        tflstm.Model(b"")
    cut = data[: len(data) // 2]
    with pytest.raises(tflstm.ModelError, match=rf"model \({len(cut)} bytes\) is not a valid TFLite flatbuffer"):
        tflstm.Model(cut)
    rng = np.random.default_rng(5)
    for _ in range(10):
        with pytest.raises(tflstm.ModelError):
            tflstm.Model(rng.integers(0, 256, size=int(rng.integers(8, 20000)), dtype=np.uint8).tobytes())
    with pytest.raises(tflstm.ModelError, match=r"test_model_broken\.bin"):
        tflstm.Model(bundle / "test_model_broken.bin")
    np.testing.assert_allclose(tflstm.Runner(tflstm.Model(data))(xs[0]), ys[0], atol=1e-5, rtol=0)


def test_bad_inputs_raise_input_error(bundle, cases):
    data, xs, _ = load(bundle, cases["classifier_float32"])
    model = tflstm.Model(data)
    runner = tflstm.Runner(model)
    with pytest.raises(tflstm.InputError, match=r"input 0 \('series'\) expects shape \[1, 12, 3\], got \[1, 12, 4\]"):
        runner(np.zeros((1, 12, 4), np.float32))
    with pytest.raises(tflstm.InputError, match=r"expects dtype float32, got float64"):
        runner(xs[0].astype(np.float64))
    with pytest.raises(tflstm.InputError, match="no input named 'nope'; its inputs are 'series'"):
        runner.run({"nope": xs[0]})
    with pytest.raises(tflstm.InputError, match="num_threads"):
        tflstm.Runner(model, num_threads=0)
    need = runner.memory.arena_required
    with pytest.raises(tflstm.ArenaExhaustedError, match=rf"needs an arena of at least {need} bytes"):
        tflstm.Runner(model, arena_bytes=need // 2)
    assert runner(xs[0]).shape == (1, 4)


def test_op_version_the_runtime_lacks(bundle):
    model = tflstm.Model(bundle / "unsupported_fc_v99.tflite")
    assert model.unsupported_ops == [("FULLY_CONNECTED", 99)]
    with pytest.raises(tflstm.UnsupportedOpError, match="FULLY_CONNECTED version 99") as err:
        tflstm.Runner(model)
    assert err.value.ops == [("FULLY_CONNECTED", 99)]


def test_tflite_testdata_lstm_runs(bundle):
    runner = tflstm.Runner(tflstm.Model(bundle / "unidirectional_sequence_lstm.bin"))
    x = np.ones(runner.inputs[0].shape, np.float32)
    y = runner(x)
    np.testing.assert_array_equal(runner(x), y)
    assert np.isfinite(y).all()


def _cli(device_python, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*device_python, "-m", "tflstm", *map(str, args)], capture_output=True, text=True, timeout=600
    )


def test_cli_inspect_run_and_bench(bundle, cases, device_python, tmp_path):
    case = cases["demo_dynamic"]
    path = bundle / case["model"]
    _, xs, ys = load(bundle, case)
    np.save(tmp_path / "x.npy", np.concatenate(list(xs)))
    # One child process for all three: Python starts slowly under qemu.
    script = (
        "import sys\nfrom tflstm.cli import main\n"
        f"codes = [main(['inspect', '--json', {str(path)!r}]), "
        f"main(['run', {str(path)!r}, {str(tmp_path / 'x.npy')!r}, '-o', {str(tmp_path / 'y.npy')!r}]), "
        f"main(['bench', {str(path)!r}, '--runs', '5', '--warmup', '1', '--json']), "
        f"main(['inspect', {str(tmp_path / 'missing.tflite')!r}])]\n"
        "print('codes', *codes)\n"
    )
    done = subprocess.run([*device_python, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.rstrip().endswith("codes 0 0 0 1")
    decoder = json.JSONDecoder()
    inspected, end = decoder.raw_decode(out)
    assert inspected["ops"] == case["description"]["ops"] and inspected["inputs"] == case["description"]["inputs"]
    rest = out[end:]
    bench, _ = decoder.raw_decode(rest[rest.index("{") :])
    runner = tflstm.Runner(tflstm.Model(path))
    assert bench["runs"] == 5 and 0 < bench["min_us"] <= bench["median_us"] <= bench["p90_us"]
    assert bench["total_bytes"] == runner.memory.total and bench["peak_rss_bytes"] >= bench["rss_bytes"] > 0
    tolerance = max(_tolerance(bundle, cases, case, i) for i in range(len(xs)))
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), np.concatenate(list(ys)), atol=tolerance, rtol=0)
    assert "tflstm inspect: error: cannot open model" in done.stderr and "Traceback" not in done.stderr
