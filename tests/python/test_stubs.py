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
