"""The runner's Python surface: calls, named runs, several outputs, memory accounting."""

from __future__ import annotations

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
        arena.budget + stats.tflite_arena + stats.tflite_persistent + stats.tflite_dynamic + stats.kernel_weights
    )
    d = stats.as_dict()
    assert d["total"] == stats.total and d["arena_budget"] == arena.budget
    assert d["kernel_weights"] == stats.kernel_weights
    lean = tflstm.Runner(model, lstm_kernel="tflite").memory  # TFLite's kernel packs nothing
    assert lean.kernel_weights == 0


def test_larger_budget_is_reported(converted):
    model = tflstm.Model(converted("float32"))
    stats = tflstm.Runner(model, arena_bytes=1 << 20).memory
    assert stats.arena.budget == 1 << 20
    assert stats.arena.used == stats.arena_required < stats.arena.budget


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
