"""The layering rule, checked: ``callsys/`` imports neither Qt, ``ui`` nor a concrete provider;
``providers/`` imports neither Qt nor ``ui``. Arrows point ``ui → callsys ← providers``.

One exception: ``callsys/__main__.py`` is what Briefcase runs (``python -m callsys``) and only
hands over to the composition root ``ui.main``; nothing imports it.

Every import counts — at module level, inside functions, under ``TYPE_CHECKING``, and
``importlib.import_module("…")`` / ``__import__("…")`` with a literal name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = {
    "callsys": ("PyQt6", "PyQt5", "PySide6", "ui", "providers"),
    "providers": ("PyQt6", "PyQt5", "PySide6", "ui"),
}
#: file → the one banned import it may make, and why.
ALLOWED = {"callsys/__main__.py": "ui.main"}  # the Briefcase launcher (see its docstring)


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield node.lineno, first.value


def violations(package: str) -> list[str]:
    banned = RULES[package]
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in imported_names(tree):
            top = name.split(".")[0]
            relative = path.relative_to(ROOT).as_posix()
            if top in banned and ALLOWED.get(relative) != name:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_does_not_import_what_it_must_not(package: str) -> None:
    assert (ROOT / package).is_dir()
    assert violations(package) == []


def test_nothing_imports_the_launcher() -> None:
    for package in ("callsys", "providers", "ui"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert "callsys.__main__" not in [name for _, name in imported_names(tree)], path


def test_the_scanner_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = (
        "def f():\n    from ui.popup import Popup\n"
        "def g():\n    import importlib\n    importlib.import_module('providers.sim')\n"
        "if TYPE_CHECKING:\n    import PyQt6.QtCore\n"
    )
    names = [name for _, name in imported_names(ast.parse(source))]
    assert {"ui.popup", "providers.sim", "PyQt6.QtCore"} <= set(names)


def test_importing_the_whole_core_loads_no_qt_and_no_provider() -> None:
    script = (
        "import importlib, pkgutil, sys, callsys\n"
        "for info in pkgutil.walk_packages(callsys.__path__, 'callsys.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'ui', 'providers'))\n"
        "print(' '.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
