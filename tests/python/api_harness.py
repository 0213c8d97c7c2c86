"""The Python surface under attack: arrays of every dtype, byte order, stride, shape and value
class, every option value, and call sequences mixing views, streams, resets, snapshots,
restores, shape changes and threads. Every accepted call is compared with a serial reference
(a fresh runner fed the same values as a plain native float32 array); every refusal must be a
tflstm.Error. Driven by hypothesis (tests/python/test_api_properties.py) and by atheris
(bench/pyfuzz.py): both give `choose(n)`, an int in [0, n).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import tflstm

Choose = Callable[[int], int]

DTYPES = [
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float16", "float32", "float64", "complex64", "complex128", "U3", "S3", "object", "datetime64[s]",
]  # fmt: skip
ORDERS = ["=", "<", ">"]
VALUES = ["normal", "zero", "nan", "inf", "-inf", "denormal", "huge", "tiny", "-0", "int-like"]
LAYOUTS = ["c", "fortran", "reversed", "strided", "broadcast", "readonly", "list"]


class Finding(AssertionError):
    """A wrong answer, an untyped exception or a broken invariant."""


def values(choose: Choose, shape: tuple[int, ...], kind: str, rng: np.random.Generator) -> np.ndarray:
    """float64 values of one class, with a few of another class sprinkled in."""
    x = rng.normal(size=shape)
    special = {
        "zero": 0.0, "nan": np.nan, "inf": np.inf, "-inf": -np.inf, "denormal": 1e-40,
        "huge": 3e38, "tiny": 1e-30, "-0": -0.0, "int-like": 7.0,
    }  # fmt: skip
    if kind in special and x.size:
        flat = x.reshape(-1)
        picks = rng.integers(0, flat.size, size=1 + choose(3))
        flat[picks] = special[kind]
    return x


def make_array(choose: Choose, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    """An array (or list) holding values of some class in some dtype, byte order and layout."""
    dtype = np.dtype(DTYPES[choose(len(DTYPES))])
    if dtype.kind in "iufc" and dtype.itemsize > 1:
        dtype = dtype.newbyteorder(ORDERS[choose(len(ORDERS))])
    x = values(choose, shape, VALUES[choose(len(VALUES))], rng)
    with np.errstate(all="ignore"):
        if dtype.kind in "iub":
            arr = np.nan_to_num(x, nan=0, posinf=0, neginf=0).clip(-100, 100).astype(dtype)
        elif dtype.kind == "M":
            arr = np.zeros(shape, dtype)
        else:
            arr = x.astype(dtype)
    layout = LAYOUTS[choose(len(LAYOUTS))]
    if layout == "fortran":
        return np.asfortranarray(arr)
    if layout == "reversed" and arr.ndim:
        return np.ascontiguousarray(arr[..., ::-1])[..., ::-1]
    if layout == "strided" and arr.ndim:
        wide = np.zeros((*arr.shape[:-1], 2 * arr.shape[-1]), arr.dtype)
        wide[..., ::2] = arr
        return wide[..., ::2]
    if layout == "broadcast" and arr.ndim and arr.shape[0] == 1:
        return np.broadcast_to(arr[:1], arr.shape)
    if layout == "readonly":
        arr.setflags(write=False)
        return arr
    if layout == "list" and arr.dtype.kind == "f" and arr.size < 200:
        return arr.tolist()
    return arr


def canonical(x: Any) -> np.ndarray:
    """The same values as a C-contiguous array in this machine's byte order."""
    a = np.asarray(x)
    if a.dtype.kind in "iufc":
        a = a.astype(a.dtype.newbyteorder("="))
    return np.ascontiguousarray(a)


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", result) or ("refused", the error's class name); anything else is a finding."""
    try:
        return "ok", fn()
    except tflstm.Error as e:
        return "refused", type(e).__name__
    except Exception as e:
        raise Finding(f"untyped {type(e).__name__}: {e}") from e


def same(a: Any, b: Any, what: str) -> None:
    if isinstance(a, tuple | list):
        for p, q in zip(a, b, strict=True):
            same(p, q, what)
        return
    if isinstance(a, dict):
        if list(a) != list(b):
            raise Finding(f"{what}: keys {list(a)} != {list(b)}")
        for k in a:
            same(a[k], b[k], what)
        return
    if a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b, equal_nan=True):
        raise Finding(f"{what}: {a!r} != reference {b!r}")


def non_finite(x: Any) -> bool:
    a = np.asarray(x)
    return a.dtype.kind in "fc" and a.size > 0 and not np.all(np.isfinite(a))


class Session:
    """One runner over one sequence model (input [batch, time, features], a float32 or int8
    input), and what a call sequence has done to it: its live views, its streams with the
    steps each was fed since its reset, their snapshots."""

    def __init__(self, data: bytes, choose: Choose, seed: int, options: dict[str, Any] | None = None) -> None:
        self.choose = choose
        self.rng = np.random.default_rng(seed)
        self.model = tflstm.Model(data)
        self.options = options or {}
        self.runner = tflstm.Runner(self.model, **self.options)
        self.reference = tflstm.Runner(self.model, **self.options)
        self.raw = tflstm.Runner(self.model, **{**self.options, "quantize_io": False})  # streams' reference
        self.features = self.model.inputs[0].shape[2]
        self.views: list[np.ndarray] = []
        self.streams: list[tuple[tflstm.Stream, list[np.ndarray]]] = []
        self.snapshots: list[tuple[int, list[np.ndarray], list[np.ndarray]]] = []
        self.float_input = self.model.inputs[0].dtype == np.float32 or self.runner.quantize_io

    def expected(self, x: np.ndarray) -> tuple[str, Any]:
        with np.errstate(all="ignore"):
            return outcome(lambda: self.reference(canonical(x)))

    def step(self) -> str:
        ops = [
            self.call, self.call, self.run_dict, self.view, self.drop_view, self.invoke_views,
            self.new_stream, self.feed, self.feed, self.reset, self.snapshot, self.restore,
            self.threads, self.plan, self.bad_option,
        ]  # fmt: skip
        op = ops[self.choose(len(ops))]
        op()
        return op.__name__

    def shape(self) -> tuple[int, ...]:
        if self.choose(8) == 0:  # anything, mostly wrong
            return tuple(self.choose(4) for _ in range(self.choose(5)))
        return (1 + (self.choose(6) == 0), 1 + self.choose(24), self.features)

    def call(self) -> None:
        x = make_array(self.choose, self.shape(), self.rng)
        shape_change = np.shape(x) != self.runner.inputs[0].shape
        got = outcome(lambda: self.runner(x))
        want = self.expected(x)
        if self.views and shape_change and got[0] == "ok":
            raise Finding(f"a call at {np.shape(x)} rebuilt the runner under {len(self.views)} live views")
        if self.views and shape_change:
            return  # refused for the views (the reference has none)
        if got[0] == "ok" and non_finite(x) and self.options.get("check_finite", True):
            raise Finding(f"a call with NaN/Inf in {np.asarray(x).dtype} was accepted")
        if got[0] != want[0]:
            raise Finding(f"call with {np.asarray(x).dtype} {np.shape(x)}: {got[1]} but the reference {want[1]}")
        if got[0] == "ok":
            same(got[1], want[1], f"call with {np.asarray(x).dtype} {np.shape(x)}")

    def run_dict(self) -> None:
        x = make_array(self.choose, self.shape(), self.rng)
        keys = [self.model.inputs[0].name, self.model.inputs[0].tensor_name, "nope", 0]
        key = keys[self.choose(len(keys))]
        got = outcome(lambda: self.runner.run({key: x}))
        if key in ("nope", 0):
            if got[0] == "ok":
                raise Finding(f"run() took the key {key!r}")
            return
        if self.views and np.shape(x) != self.runner.inputs[0].shape:
            return
        want = self.expected(x)
        if got[0] != want[0]:
            raise Finding(f"run with {np.asarray(x).dtype} {np.shape(x)}: {got[1]} but the reference {want[1]}")
        if got[0] == "ok":
            same(got[1][self.model.outputs[0].name], want[1], "run")

    def view(self) -> None:
        make = [self.runner.input_view, self.runner.output_view][self.choose(2)]
        key = [0, self.model.inputs[0].name, -1, 1, 2**70, "x"][self.choose(6)]
        got = outcome(lambda: make(key))
        if got[0] == "ok":
            if key not in (0, self.model.inputs[0].name) and make == self.runner.input_view:
                raise Finding(f"input_view({key!r}) was given")
            self.views.append(got[1])

    def drop_view(self) -> None:
        if self.views:
            self.views.pop(self.choose(len(self.views)))

    def invoke_views(self) -> None:
        inputs = outcome(lambda: self.runner.input_view(0))
        if inputs[0] != "ok":
            return
        view = inputs[1]
        x = self.rng.normal(size=view.shape).astype(view.dtype) if view.dtype.kind == "f" else view
        if view.dtype.kind == "f":
            view[...] = x
        else:
            view[...] = self.rng.integers(-100, 100, size=view.shape)
        x = view.copy()
        del view
        got = outcome(self.runner.invoke)
        if got[0] != "ok":
            raise Finding(f"invoke after writing the input view: {got[1]}")
        out = self.runner.output_view(0).copy()
        want = outcome(lambda: self.raw(x))
        if want[0] == "ok":
            same(out, want[1], "invoke through views")

    def new_stream(self) -> None:
        got = outcome(self.runner.stream)
        if got[0] == "ok":
            self.streams.append((got[1], []))
            if len(self.streams) > 4:
                self.streams.pop(0)

    def feed(self) -> None:
        """A chunk of 1-5 steps; its output equals the whole sequence fed since the reset,
        run in one call (allclose: one step per invoke sums in another order)."""
        if not self.streams:
            return
        stream, fed = self.streams[self.choose(len(self.streams))]
        steps = 1 + self.choose(5)
        own = self.model.inputs[0].dtype  # a stream takes its input's own dtype, never quantizes
        if self.choose(3) == 0:
            x = make_array(self.choose, (1, steps, self.features), self.rng)
        else:
            x = self.rng.normal(size=(1, steps, self.features)).astype(own)
        at_step = self.runner.inputs[0].shape[:2] == (1, 1)
        got = outcome(lambda: stream(x))
        a = np.asarray(x)
        checked = self.options.get("check_finite", True)
        native = a.dtype.newbyteorder("=") if a.dtype.kind in "iufc" else a.dtype  # '>f4' is taken as float32
        fits = native == own and a.shape[-1:] == (self.features,) and not (checked and non_finite(a))
        if got[0] != "ok":
            if fits and not (self.views and not at_step):
                raise Finding(f"a stream refused {a.dtype} {a.shape}: {got[1]}")
            return
        if self.views and not at_step:
            raise Finding("a stream rebuilt the runner under live views")
        if not fits:
            raise Finding(f"a stream took {a.dtype} {a.shape}")
        fed.append(canonical(x).astype(own))
        want = outcome(lambda: self.raw(np.concatenate(fed, axis=1)))
        if want[0] != "ok":
            raise Finding(f"the stream took steps the whole sequence refuses: {want[1]}")
        tolerance = 1e-5 if want[1].dtype.kind == "f" else 1
        if got[1].shape != want[1].shape or not np.allclose(got[1], want[1], atol=tolerance, rtol=0):
            raise Finding(f"stream output after {sum(f.shape[1] for f in fed)} steps: {got[1]} != {want[1]}")

    def reset(self) -> None:
        if not self.streams:
            return
        stream, fed = self.streams[self.choose(len(self.streams))]
        got = outcome(stream.reset)
        if got[0] == "ok":
            fed.clear()
            if stream.steps != 0:
                raise Finding("steps after reset")

    def snapshot(self) -> None:
        if self.streams:
            k = self.choose(len(self.streams))
            stream, fed = self.streams[k]
            self.snapshots.append((k, stream.state, list(fed)))

    def restore(self) -> None:
        if not self.snapshots:
            return
        k, state, fed = self.snapshots[self.choose(len(self.snapshots))]
        if k >= len(self.streams):
            return
        stream, _ = self.streams[k]
        order = ORDERS[self.choose(3)]
        given = [s.astype(s.dtype.newbyteorder(order)) for s in state]
        if self.choose(4) == 0:
            given = given[:-1]  # one short: refused
        got = outcome(lambda: setattr(stream, "state", given))
        if got[0] == "ok":
            if len(given) != len(state):
                raise Finding("a short state list was taken")
            self.streams[k] = (stream, list(fed))

    def threads(self) -> None:
        n = 2 + self.choose(3)
        dtype = np.float32 if self.float_input else self.model.inputs[0].dtype
        shape = self.runner.inputs[0].shape if self.views else (1, 1 + self.choose(16), self.features)
        xs = [self.rng.normal(size=shape).astype(dtype) for _ in range(n)]
        results: list[Any] = [None] * n

        def work(i: int) -> None:
            results[i] = outcome(lambda: self.runner(xs[i]))

        pool = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        for x, got in zip(xs, results, strict=True):
            want = self.expected(x)
            if got[0] != want[0]:
                raise Finding(f"a threaded call: {got[1]} but the reference {want[1]}")
            if got[0] == "ok":
                same(got[1], want[1], "threaded call")

    def plan(self) -> None:
        shape = self.shape()
        got = outcome(lambda: self.runner.memory_plan([list(shape)]))
        if got[0] == "ok" and got[1].total < got[1].arena_required:
            raise Finding("a plan smaller than its own arena")

    def bad_option(self) -> None:
        options: list[tuple[str, Any]] = [
            ("num_threads", [0, -2, 2**31, 2**64, 100000, 1.0, "2", None, True][self.choose(9)]),
            ("arena_bytes", [-1, 2**64, 2**63, 0, 1, 1.5, "1"][self.choose(7)]),
            ("signature", [0, b"x", "nope", "\ud800"][self.choose(4)]),
            ("quantize_io", [1, "yes", None][self.choose(3)]),
            ("lstm_kernel", ["", "TFLITE", 0, None][self.choose(4)]),
            ("input_shapes", [5, "x", [[1]], [[1, 2**40, 3]], [[-1, -1, -1]], {"nope": [1]}, {1: [1]}][self.choose(7)]),
            ("check_finite", [0, "", None][self.choose(3)]),
        ]  # fmt: skip
        name, value = options[self.choose(len(options))]
        got = outcome(lambda: tflstm.Runner(self.model, **{name: value}))
        if got[0] == "ok" and name not in ("arena_bytes", "input_shapes"):
            raise Finding(f"Runner({name}={value!r}) was accepted")
