"""The runner's Python surface: calls, named runs, several outputs, memory accounting."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import tflstm
from quantize import quantize
from tf_models import reference_interpreter


def test_call_and_run_agree(converted, rng):
    model = tflstm.Model(converted("float32"))
    a, b = tflstm.Runner(model), tflstm.Runner(model)
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    y = a(x)
    named = b.run({model.inputs[0].name: x})
    assert list(named) == [model.outputs[0].name]
    np.testing.assert_array_equal(y, named[model.outputs[0].name])
    assert y.flags.owndata  # a copy: the next run does not change it
    before = y.copy()
    a(rng.normal(size=x.shape).astype(np.float32))
    np.testing.assert_array_equal(y, before)


def test_several_inputs_and_outputs(testdata, rng):
    model = tflstm.Model(testdata / "multi_add.bin")
    runner = tflstm.Runner(model)
    xs = [rng.normal(size=t.shape).astype(t.dtype) for t in runner.inputs]
    out = runner(*xs)
    assert isinstance(out, tuple) and len(out) == 2
    ref = reference_interpreter((testdata / "multi_add.bin").read_bytes())
    for detail, x in zip(ref.get_input_details(), xs, strict=True):
        ref.set_tensor(detail["index"], x)
    ref.invoke()
    for ours, detail in zip(out, ref.get_output_details(), strict=True):
        np.testing.assert_allclose(ours, ref.get_tensor(detail["index"]), rtol=0, atol=1e-6)
    named = runner.run({t.name: x for t, x in zip(runner.inputs, xs, strict=True)})
    assert set(named) == {t.name for t in model.outputs}


def test_memory_stats_account_for_inputs_and_outputs(converted):
    model = tflstm.Model(converted("float32"))
    stats = tflstm.Runner(model).memory
    arena = stats.arena
    assert isinstance(stats, tflstm.MemoryStats) and isinstance(arena, tflstm.ArenaStats)
    io_bytes = sum(int(np.prod(t.shape)) * t.dtype.itemsize for t in model.inputs + model.outputs)
    assert arena.used >= io_bytes
    assert arena.used == stats.arena_required == arena.budget == arena.high_water
    assert arena.used % 64 == 0
    assert stats.tflite_arena > 0 and stats.tflite_persistent > 0
    assert stats.kernel_weights > 0  # the fused LSTM's packed weights
    assert stats.total == (
        arena.budget
        + stats.tflite_arena
        + stats.tflite_persistent
        + stats.tflite_dynamic
        + stats.kernel_weights
        + stats.kernel_scratch
        + stats.stream_state
    )
    d = stats.as_dict()
    assert d["total"] == stats.total and d["arena_budget"] == arena.budget
    assert d["kernel_weights"] == stats.kernel_weights
    lean = tflstm.Runner(model, lstm_kernel="tflite").memory  # TFLite's LSTM kernel packs nothing
    assert lean.kernel_weights < stats.kernel_weights


def test_xnnpack_packed_weights_count_in_the_memory(converted, tmp_path):
    """XNNPACK packs the Dense's weights on the heap: the runner counts them in kernel_weights
    (and so against its budget). With TFLSTM_XNNPACK=off TFLite's kernels run every op and, with
    TFLite's LSTM kernel too, nothing is packed."""
    path = tmp_path / "m.tflite"
    path.write_bytes(converted("float32"))
    here = tflstm.Runner(tflstm.Model(path), lstm_kernel="tflite")
    assert ("FULLY_CONNECTED", "xnnpack") in here.node_kernels
    assert here.memory.kernel_weights > 0
    code = (
        "import sys, tflstm; r = tflstm.Runner(tflstm.Model(sys.argv[1]), lstm_kernel='tflite'); "
        "print(r.memory.kernel_weights, *sorted({k for _, k in r.node_kernels}))"
    )
    env = {**os.environ, "TFLSTM_XNNPACK": "off"}
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "tflite"]


def test_larger_budget_is_reported(converted):
    model = tflstm.Model(converted("float32"))
    stats = tflstm.Runner(model, arena_bytes=1 << 20).memory
    assert stats.budget == 1 << 20  # the budget bounds the total; the arena gets what it needs
    assert stats.arena.used == stats.arena_required == stats.arena.budget
    assert stats.total <= stats.budget


def test_arena_stats_is_a_deprecated_name_of_memory(converted):
    runner = tflstm.Runner(tflstm.Model(converted("float32")))
    with pytest.warns(DeprecationWarning, match="Runner.memory"):
        old = runner.arena_stats
    assert old.as_dict() == runner.memory.as_dict()


def test_threads_option(converted, rng):
    model = tflstm.Model(converted("float32"))
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    np.testing.assert_allclose(
        tflstm.Runner(model, num_threads=2)(x), tflstm.Runner(model, num_threads=1)(x), rtol=0, atol=1e-6
    )


def test_every_call_starts_from_zero_state(classifier, converted, rng):
    """TFLite's fused LSTM keeps state across invokes; a tflstm run does not: the same input
    gives the same output each time, equal to Keras (float32) and to the int8 model's first run."""
    x = rng.normal(size=(1, 12, 3)).astype(np.float32)
    float_runner = tflstm.Runner(tflstm.Model(converted("float32")))
    first = float_runner(x)
    float_runner(rng.normal(size=x.shape).astype(np.float32))
    np.testing.assert_array_equal(float_runner(x), first)
    np.testing.assert_allclose(first, np.asarray(classifier(x, training=False)), atol=1e-5)

    int8_model = tflstm.Model(converted("int8"))
    xq = quantize(x, int8_model.inputs[0])
    int8_runner = tflstm.Runner(int8_model)
    runs = [int8_runner(xq) for _ in range(3)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def _string_models() -> tuple[bytes, bytes]:
    """A label lookup (GATHER of int32 indices into a constant list of names: string output)
    and a RESHAPE of a string input, converted by TensorFlow."""
    from tf_models import tf

    lite, tensor = tf().lite, tf().TensorSpec
    labels = tf().constant([b"walking", b"", b"badminton", b"standing"])

    @tf().function(input_signature=[tensor([2], tf().int32, name="idx")])
    def lookup(idx):
        return {"label": tf().gather(labels, idx)}

    @tf().function(input_signature=[tensor([3], tf().string, name="words")])
    def grid(words):
        return {"grid": tf().reshape(words, [1, 3])}

    def convert(f) -> bytes:
        return lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f).convert()

    return convert(lookup), convert(grid)


def test_string_outputs_read_as_bytes_and_string_tensors_have_no_view():
    lookup, grid = _string_models()
    runner = tflstm.Runner(tflstm.Model(lookup))
    idx = np.array([2, 1], np.int32)
    ref = reference_interpreter(lookup)
    ref.set_tensor(ref.get_input_details()[0]["index"], idx)
    ref.invoke()
    expected = ref.get_tensor(ref.get_output_details()[0]["index"])
    got = runner(idx)
    assert got.dtype == object and got.tolist() == expected.tolist() == [b"badminton", b""]
    with pytest.raises(tflstm.InputError, match="holds strings"):
        runner.output_view(0)
    # tflstm cannot set a string input: it holds empty strings, and the model runs on them.
    unset = tflstm.Runner(tflstm.Model(grid))
    with pytest.raises(tflstm.InputError, match="holds strings"):
        unset.input_view("words")
    unset.invoke()
    with pytest.raises(tflstm.InputError, match="was not given"):
        unset.run({})


@pytest.mark.parametrize(
    "make",
    [
        lambda m: tflstm.Runner.__new__(tflstm.Runner),
        lambda m: tflstm.Model.__new__(tflstm.Model),
        lambda m: tflstm.Stream.__new__(tflstm.Stream),
        lambda m: tflstm.TensorInfo.__new__(tflstm.TensorInfo),
        lambda m: tflstm.StateInfo.__new__(tflstm.StateInfo),
        lambda m: tflstm.Quantization.__new__(tflstm.Quantization),
        lambda m: tflstm.MemoryStats.__new__(tflstm.MemoryStats),
        lambda m: tflstm.ArenaStats.__new__(tflstm.ArenaStats),
        lambda m: tflstm.RunnerOptions.__new__(tflstm.RunnerOptions),
    ],
)
def test_objects_made_without_init_raise_typed_errors(converted, make):
    """Runner.__new__(Runner) without __init__, then any method: SIGSEGV from pure Python."""
    model = tflstm.Model(converted("float32"))
    obj = make(model)
    members = [n for n in vars(type(obj)) if not n.startswith("_") or n in ("__call__", "__repr__", "__bool__")]
    tried = 0
    for name in members:
        tried += 1
        with pytest.raises(tflstm.InputError, match="never initialised"):
            value = getattr(obj, name)
            if callable(value):
                value(*([0] if name in ("input_view", "output_view", "__call__", "run", "memory_plan") else []))
    assert tried > 0
    if isinstance(obj, tflstm.Model):
        with pytest.raises(tflstm.InputError, match="never initialised"):
            tflstm.Runner(obj)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("num_threads", 2**64, "num_threads must be an int from -2147483648 to 2147483647, got 18446744073709551616"),
        # the range is the core's (RunnerOptions::Validate)
        ("num_threads", 100000, r"num_threads must be -1 \(TFLite's choice\) or 1 to \d+, got 100000"),
        ("num_threads", 1000, r"num_threads must be -1 \(TFLite's choice\) or 1 to \d+, got 1000"),
        ("num_threads", 1.5, "num_threads must be an int"),
        ("num_threads", True, "num_threads must be an int"),
        ("arena_bytes", 2**64, "arena_bytes must be None or a byte count"),
        ("arena_bytes", -1, "arena_bytes must be None or a byte count"),
        ("input_shapes", 5, "input_shapes must be None, a list of shapes"),
        ("input_shapes", [[1, 2**40, 3]], r"input_shapes\[0\]\[1\] must be an int from"),
        ("input_shapes", ["abc"], r"input_shapes\[0\] must be a sequence of ints"),
        ("input_shapes", {"series": 7}, r"input_shapes\['series'\] must be a sequence of ints"),
        ("input_shapes", {3: [1, 2, 3]}, "input_shapes key must be a str"),
        ("signature", 7, "signature must be a str"),
        ("lstm_kernel", None, "lstm_kernel must be a str"),
        ("quantize_io", "yes", "quantize_io must be True or False"),
        ("check_finite", 2, "check_finite must be True or False"),
    ],
)
def test_out_of_range_options_are_typed_errors(converted, option, value, message):
    """2**64, negative indices, input_shapes=5: pybind11's generic "Unable to cast" before."""
    model = tflstm.Model(converted("float32"))
    with pytest.raises(tflstm.InputError, match=message):
        tflstm.Runner(model, **{option: value})


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("num_threads", 2**64, "num_threads must be an int from -2147483648 to 2147483647"),
        ("num_threads", 0, r"num_threads must be -1 \(TFLite's choice\) or 1 to \d+, got 0"),
        ("num_threads", 1.5, "num_threads must be an int"),
        ("arena_bytes", -1, "arena_bytes must be None or a byte count"),
        ("signature", 7, "signature must be a str"),
        ("lstm_kernel", "neon", "lstm_kernel must be 'tflstm' or 'tflite', got 'neon'"),
        ("input_shapes", [["abc"]], r"input_shapes\[0\]\[0\] must be an int"),
        ("input_shapes", {"series": [1, 2, 3]}, r"needs the model's input names.*Runner\(model, input_shapes="),
        ("check_finite", 2, "check_finite must be True or False"),
    ],
)
def test_runner_options_refuse_what_the_keywords_refuse(converted, option, value, message):
    """A wrong type is refused when the field is set; a value out of range by the core's
    RunnerOptions::Validate, in validate() and in Runner(model, options=...) with one message."""
    model = tflstm.Model(converted("float32"))
    options = tflstm.RunnerOptions()
    with pytest.raises(tflstm.InputError, match=message) as validated:
        setattr(options, option, value)
        options.validate()
    with pytest.raises(tflstm.InputError, match=message) as made:
        tflstm.Runner(model, options=tflstm.RunnerOptions(**{option: value}))
    assert str(made.value) == str(validated.value)


def test_runner_options_are_the_cores(converted, rng):
    """tflstm.RunnerOptions is the C++ RunnerOptions bound directly: its defaults, its fields,
    and a runner made from it runs as one made from the same keywords."""
    model = tflstm.Model(converted("float32"))
    default = tflstm.RunnerOptions()
    assert repr(default) == (
        "RunnerOptions(num_threads=1, arena_bytes=None, signature=None, lstm_kernel='tflstm', "
        "input_shapes=[], check_finite=True)"
    )
    default.validate()
    steps, features = model.inputs[0].shape[1], model.inputs[0].shape[2]
    options = tflstm.RunnerOptions(num_threads=2, lstm_kernel="tflite", input_shapes=[(1, 2 * steps, features)])
    options.arena_bytes = 64 << 20
    options.check_finite = False
    assert (options.num_threads, options.arena_bytes, options.lstm_kernel, options.input_shapes) == (
        2,
        64 << 20,
        "tflite",
        [[1, 2 * steps, features]],
    )
    runner = tflstm.Runner(model, options=options)
    by_keywords = tflstm.Runner(
        model,
        num_threads=2,
        arena_bytes=64 << 20,
        lstm_kernel="tflite",
        input_shapes=[[1, 2 * steps, features]],
        check_finite=False,
    )
    assert runner.inputs[0].shape == (1, 2 * steps, features)
    assert set(runner.lstm_kernels) == {"tflite"} and runner.lstm_kernels == by_keywords.lstm_kernels
    assert runner.memory.budget == 64 << 20
    x = rng.normal(size=(1, 2 * steps, features)).astype(np.float32)
    np.testing.assert_array_equal(runner(x), by_keywords(x))
    x[0, 1, 0] = np.nan
    runner(x)  # check_finite=False: no NaN check
    with pytest.raises(tflstm.InputError, match="holds NaN"):
        tflstm.Runner(model)(x)


def test_runner_takes_options_or_keywords_not_both(converted):
    model = tflstm.Model(converted("float32"))
    with pytest.raises(tflstm.InputError, match="not both: num_threads was given with options"):
        tflstm.Runner(model, num_threads=1, options=tflstm.RunnerOptions())
    with pytest.raises(tflstm.InputError, match=r"options must be a tflstm\.RunnerOptions, got dict"):
        tflstm.Runner(model, options={"num_threads": 2})  # type: ignore[arg-type]
    with pytest.raises(tflstm.InputError, match="keywords only"):
        tflstm.RunnerOptions(2)  # type: ignore[misc]
    with pytest.raises(tflstm.InputError, match="no option 'threads'; the options are num_threads, arena_bytes"):
        tflstm.RunnerOptions(threads=2)  # type: ignore[call-arg]
    quantized = tflstm.Runner(model, options=tflstm.RunnerOptions(), quantize_io=True)  # not an option of the core's
    assert quantized.quantize_io


def test_bad_keys_and_arguments_are_typed_errors(converted):
    model = tflstm.Model(converted("float32"))
    runner = tflstm.Runner(model)
    for key in (-1, 2**64, 1.0, None, b"series"):
        with pytest.raises(tflstm.InputError, match="key"):
            runner.input_view(key)
        with pytest.raises(tflstm.InputError, match="key"):
            runner.output_view(key)
    with pytest.raises(tflstm.InputError, match="out of range"):
        runner.input_view(1)
    with pytest.raises(tflstm.InputError, match=r"run\(\) takes \{input name: array\}"):
        runner.run([np.zeros(3)])  # type: ignore[arg-type]
    with pytest.raises(tflstm.InputError, match=r"Runner\(\) takes a tflstm\.Model"):
        tflstm.Runner("m.tflite")  # type: ignore[arg-type]
    with pytest.raises(tflstm.InputError, match="expects dtype float32, got object"):
        runner(object())
    with pytest.raises(tflstm.InputError, match=r"stream\.state takes a list"):
        runner.stream().state = 5  # type: ignore[assignment]


def test_one_budget_bounds_everything_the_runner_holds(converted, rng):
    """arena_bytes bounded tflstm's arena only: a long input's intermediates (the first LSTM's
    whole output sequence, in TFLite's arena) were accepted whatever the budget."""
    model = tflstm.Model(converted("float32"))
    runner = tflstm.Runner(model)
    stored = runner.memory
    assert stored.total == (
        stored.arena.budget
        + stored.tflite_arena
        + stored.tflite_persistent
        + stored.tflite_dynamic
        + stored.kernel_weights
        + stored.kernel_scratch
        + stored.stream_state
    )
    assert stored.arena.budget == stored.arena_required
    assert stored.budget > stored.total  # no arena_bytes: what the process can still use
    long_shape = [1, 20000, model.inputs[0].shape[2]]
    plan = runner.memory_plan([long_shape])
    assert plan.tflite_arena >= 20000 * 16 * 4  # the first LSTM's [1, 20000, 16] output
    assert runner.memory.as_dict() == stored.as_dict()  # planning changed nothing
    assert runner.memory_plan({model.inputs[0].name: long_shape}).total == plan.total

    x = rng.normal(size=long_shape).astype(np.float32)
    with pytest.raises(tflstm.ArenaExhaustedError, match=r"plans .* MiB .* at input shapes \[1, 20000, 3\]") as err:
        tflstm.Runner(model, arena_bytes=plan.total - 1, input_shapes=[long_shape])
    assert "more than the budget of" in str(err.value) and "(arena_bytes)" in str(err.value)
    bounded = tflstm.Runner(model, arena_bytes=plan.total - 1)  # the stored shape fits
    short = x[:, : model.inputs[0].shape[1]]
    expected = bounded(short)
    with pytest.raises(tflstm.ArenaExhaustedError, match="TFLite arena"):
        bounded(x)  # refused before the shape change: still at the stored shape, still working
    np.testing.assert_array_equal(bounded(short), expected)
    exact = tflstm.Runner(model, arena_bytes=plan.total)
    y = exact(x)
    assert exact.memory.total == plan.total and exact.memory.budget == plan.total
    np.testing.assert_allclose(y, tflstm.Runner(model)(x), rtol=0, atol=0)
