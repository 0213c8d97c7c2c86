"""Property-based attack on the Python surface (hypothesis; the harness is api_harness.py):
any array a call accepts gives the answer its values give, any refusal is a tflstm.Error, and
random call sequences of views, streams, resets, snapshots, restores, shape changes and
threads agree with a serial reference. A short coverage-guided run (atheris, bench/pyfuzz.py)
checks the same in a child process, where a crash is seen. bench/pyfuzz.py runs for longer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tflstm
from api_harness import VALUES, Session, canonical, make_array, outcome
from tf_models import reference_interpreter

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _chooser(data: st.DataObject):
    return lambda n: data.draw(st.integers(0, n - 1)) if n > 1 else 0


def test_any_array_is_refused_or_answered_as_its_values(converted):
    data_bytes = converted("float32")  # converted outside the property: TensorFlow's import alters the recursion limit

    @settings(SETTINGS, max_examples=80)
    @given(data=st.data())
    def prop(data):
        session = Session(data_bytes, _chooser(data), seed=data.draw(st.integers(0, 2**16)))
        for _ in range(4):
            session.call()

    prop()


@pytest.mark.parametrize(
    ("mode", "options"),
    [("float32", {}), ("int8", {"quantize_io": True}), ("int8", {}), ("float32", {"check_finite": False})],
)
def test_call_sequences_agree_with_a_serial_reference(converted, mode, options):
    data_bytes = converted(mode)

    @settings(SETTINGS, max_examples=15)
    @given(data=st.data())
    def prop(data):
        session = Session(data_bytes, _chooser(data), seed=data.draw(st.integers(0, 2**16)), options=options)
        for _ in range(25):
            session.step()

    prop()


def test_accepted_float_arrays_match_tensorflow(converted):
    """The real reference for layouts and byte orders: tf.lite.Interpreter on the same values."""
    data_bytes = converted("float32")
    interp = reference_interpreter(data_bytes)
    shape = (1, 12, 3)

    @settings(SETTINGS, max_examples=40)
    @given(data=st.data())
    def prop(data):
        choose = _chooser(data)
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
        x = make_array(choose, shape, rng)
        got = outcome(lambda: tflstm.Runner(tflstm.Model(data_bytes))(x))
        a = np.asarray(x)
        if a.dtype.kind != "f" or a.dtype.itemsize != 4 or a.shape != shape or not np.all(np.isfinite(a)):
            assert got[0] == "refused", (a.dtype, a.shape)
            return
        assert got[0] == "ok", got
        interp.reset_all_variables()
        interp.set_tensor(interp.get_input_details()[0]["index"], canonical(a))
        interp.invoke()
        want = interp.get_tensor(interp.get_output_details()[0]["index"])
        np.testing.assert_allclose(got[1], want, atol=1e-5, rtol=1e-5)

    prop()


def test_every_value_class_and_layout_is_generated():
    """The generator reaches what the properties claim to cover."""
    rng = np.random.default_rng(0)
    seen_orders, seen_layouts = set(), set()
    for k in range(2000):
        picks = iter(np.random.default_rng(k).integers(0, 1000, size=64))
        x = make_array(lambda n, p=picks: int(next(p)) % n, (1, 3, 3), rng)
        a = np.asarray(x)
        seen_orders.add(a.dtype.byteorder)
        seen_layouts.add(
            "list"
            if isinstance(x, list)
            else "c"
            if a.flags.c_contiguous
            else "f"
            if a.flags.f_contiguous
            else "strided"
        )
    assert {">", "="} <= seen_orders and {"list", "c", "f", "strided"} <= seen_layouts
    assert "nan" in VALUES and "denormal" in VALUES


def test_atheris_smoke(converted, tmp_path):
    pytest.importorskip("atheris")
    paths = []
    for mode in ("float32", "int8"):
        path = tmp_path / f"{mode}.tflite"
        path.write_bytes(converted(mode))
        paths.append(str(path))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pyfuzz.py"), "--seconds", "20", "--workdir", str(tmp_path), *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "pyfuzz: done" in proc.stdout, proc.stdout[-2000:]
