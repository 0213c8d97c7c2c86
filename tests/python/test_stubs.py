"""The shipped type information matches the extension module: py.typed is installed, and
every public class and member of tflstm._core has a stub, and every stub exists at run time."""

from __future__ import annotations

import ast
from pathlib import Path

import tflstm
from tflstm import _core

PACKAGE = Path(tflstm.__file__).parent


def _stubbed() -> dict[str, set[str]]:
    tree = ast.parse((PACKAGE / "_core.pyi").read_text())
    out: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {
                n.name if isinstance(n, ast.FunctionDef) else n.target.id  # type: ignore[union-attr]
                for n in node.body
                if isinstance(n, ast.FunctionDef) or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name))
            }
    return out


def _public(obj) -> set[str]:
    return {n for n in vars(obj) if not n.startswith("_") or n in ("__init__", "__call__", "__bool__")}


def test_py_typed_is_installed():
    assert (PACKAGE / "py.typed").is_file()


def test_every_class_has_a_stub_and_back():
    stubbed = _stubbed()
    runtime = {n for n in vars(_core) if isinstance(getattr(_core, n), type)}
    assert runtime == set(stubbed)


def test_every_member_has_a_stub():
    stubbed = _stubbed()
    for name, members in stubbed.items():
        cls = getattr(_core, name)
        if issubclass(cls, BaseException):
            continue
        runtime = _public(cls) - {"__init__"}
        assert runtime <= members | {"__init__"}, f"{name}: no stub for {sorted(runtime - members)}"
        missing = {m for m in members if not hasattr(cls, m)}
        assert not missing, f"{name}: stubbed but absent at run time: {sorted(missing)}"


def test_the_runtime_imports_without_tensorflow():
    """The runtime needs numpy only: importing tflstm loads none of the conversion extra."""
    import subprocess
    import sys

    code = (
        "import sys, tflstm; heavy = ('tensorflow', 'keras', 'tf_keras', 'aeon', 'matplotlib'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def _stub_init_keywords(cls_name: str) -> list[str]:
    tree = ast.parse((PACKAGE / "_core.pyi").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    return [a.arg for a in init.args.args[1:] + init.args.kwonlyargs]


def test_runner_options_stub_is_the_bound_struct():
    """RunnerOptions' stub names the fields the extension binds (its repr lists them, read from
    the C++ struct's defaults), in order; Runner takes each as a keyword, and options=."""
    shown = repr(tflstm.RunnerOptions())
    fields = [part.split("=")[0] for part in shown[len("RunnerOptions(") : -1].split(", ")]
    assert fields == ["num_threads", "arena_bytes", "signature", "lstm_kernel", "input_shapes", "check_finite"]
    assert _stub_init_keywords("RunnerOptions") == fields
    for name in fields:
        assert hasattr(tflstm.RunnerOptions, name)
    runner_keywords = _stub_init_keywords("Runner")
    assert set(fields) | {"model", "quantize_io", "options"} == set(runner_keywords)
    runtime_doc = tflstm.Runner.__init__.__doc__ or ""
    for name in runner_keywords:
        assert f"{name}: object" in runtime_doc, name
