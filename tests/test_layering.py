"""The layering rule, checked: ``callsys/`` imports neither Qt, ``ui`` nor a concrete provider;
``providers/`` imports neither Qt nor ``ui``. Arrows point ``ui → callsys ← providers``.

One exception: ``callsys/__main__.py``, the launcher — the ``callsys`` command and what Briefcase
runs (``python -m callsys``) — is the composition root: it joins the core, ``providers`` and
``ui``, and ``ui`` only inside a function (the window's code and PyQt6 are the ``desktop`` extra,
which a server installs without). Nothing imports it.

Every import counts — at module level, inside functions, under ``TYPE_CHECKING``, and
``importlib.import_module("…")`` / ``__import__("…")`` with a literal name.

Also checked: no modules import each other in a circle, and ``ui/`` asks types, not attribute
names — no ``getattr``/``hasattr`` probes beyond an allow-list that says why for each.
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
#: The launcher (see its docstring) and the packages it alone of ``callsys/`` may import.
LAUNCHER = "callsys/__main__.py"
LAUNCHER_MAY = ("providers", "ui")


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
            if top in banned and not (relative == LAUNCHER and top in LAUNCHER_MAY):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_does_not_import_what_it_must_not(package: str) -> None:
    assert (ROOT / package).is_dir()
    assert violations(package) == []


#: What the widgets may use of the telephony adapters: the registry, and the public pages of the
#: providers whose settings the window edits (options, sound devices, TAPI's line list). Their
#: engines, connections and bindings stay behind the provider protocol.
UI_MAY_IMPORT_FROM_PROVIDERS = ("providers", "providers.sip.options", "providers.sip.sound", "providers.tapi")
#: Libraries that talk to a database, the network, the sound card or a phone: the core's and the
#: providers' business; the widgets reach them through ``callsys`` (the session, the store, the CRM).
UI_MUST_NOT_IMPORT = (
    "sqlite3",
    "sqlite_utils",
    "httpx",
    "msal",
    "msal_extensions",
    "websockets",
    "keyring",
    "psycopg",
    "msgspec",
    "phonenumbers",
    "pjsua2",
    "sounddevice",
    "numpy",
    "tuf",
    "ctypes",
)


def ui_violations(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = list(imported_names(tree))
        for node in ast.walk(tree):  # `from providers.sip import sound` imports providers.sip.sound
            allowed = (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.lineno, node.module) in names
                and f"{node.module}.{node.names[0].name}" in UI_MAY_IMPORT_FROM_PROVIDERS
            )
            if allowed:
                assert isinstance(node, ast.ImportFrom)
                names.remove((node.lineno, str(node.module)))
        for line, name in names:
            top = name.split(".")[0]
            banned = top in UI_MUST_NOT_IMPORT
            if banned or (top == "providers" and name not in UI_MAY_IMPORT_FROM_PROVIDERS):
                found.append(f"{path.relative_to(root)}:{line} imports {name}")
    return found


def test_the_widgets_import_only_what_is_a_widgets_business() -> None:
    assert ui_violations() == []


def test_the_widget_rule_sees_an_engine_and_a_database(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "w.py").write_text(
        "import sqlite3\nfrom providers.sip.options import SipOptions\n"
        "def f():\n    from providers.sip.pjengine import Engine\n",
        encoding="utf-8",
    )
    assert ui_violations(tmp_path) == [
        "ui/w.py:1 imports sqlite3",
        "ui/w.py:4 imports providers.sip.pjengine",
    ]


def test_nothing_imports_the_launcher() -> None:
    for package in ("callsys", "providers", "ui"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert "callsys.__main__" not in [name for _, name in imported_names(tree)], path


def imported_at_module_level(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """The imports a module makes when it is imported: everything but the bodies of functions
    (an ``if``, a ``try``, a class body and ``TYPE_CHECKING`` blocks count)."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield from imported_names(node)
        else:
            pending.extend(ast.iter_child_nodes(node))


def test_the_launcher_imports_the_widgets_only_inside_a_function() -> None:
    """``callsys server`` on a server installed without the desktop extra goes through the
    launcher too: importing it must not import ``ui`` (nor PyQt6 with it)."""
    tree = ast.parse((ROOT / LAUNCHER).read_text(encoding="utf-8"))
    at_import = sorted(name for _, name in imported_at_module_level(tree))
    assert [name for name in at_import if name.split(".")[0] in ("ui", "PyQt6")] == [], at_import
    assert "ui.app" in [name for _, name in imported_names(tree)]  # the window, when asked for


def test_the_module_level_scanner_skips_function_bodies_only() -> None:
    source = (
        "import a\nif X:\n    import b\nclass C:\n    import c\n"
        "def f():\n    import d\nasync def g():\n    from e import x\n"
    )
    names = sorted(name for _, name in imported_at_module_level(ast.parse(source)))
    assert names == ["a", "b", "c"]


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


# ------------------------------------------------------------------------------ import cycles
#: The packages whose modules may not import each other in a circle.
CYCLE_PACKAGES = ("callsys", "providers", "ui")


def module_files(root: Path = ROOT, packages: tuple[str, ...] = CYCLE_PACKAGES) -> dict[str, Path]:
    """Every module of *packages* under *root* by its dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules of *files* it imports, whichever way (at module level, in a
    function, under ``TYPE_CHECKING``, ``from package import module``). A module importing a
    package it lives in is not an arrow: Python has started that package before the module."""

    def owner(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for _, imported in imported_names(tree):
            candidates = [imported]
            for node in ast.walk(tree):  # `from pkg import module` names the module itself
                if isinstance(node, ast.ImportFrom) and node.module == imported and node.level == 0:
                    candidates.extend(f"{imported}.{alias.name}" for alias in node.names)
            for candidate in candidates:
                target = owner(candidate)
                if target is not None and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (Tarjan's strongly connected
    components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    """A circle of imports (``ui.mainwindow`` ↔ ``ui.tray``, the Dynamics client ↔ its setup ↔
    the phone index, as there were) makes a module's meaning depend on which one is imported
    first, and the two can only be understood, moved and tested together."""
    assert cycles(import_graph(module_files())) == []


def test_the_cycle_check_sees_a_circle_through_type_checking_and_functions(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    import pkg.c\n")
    (tmp_path / "pkg" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n"
    )
    (tmp_path / "pkg" / "d.py").write_text("import pkg\nfrom pkg import a\n")  # its own package: no arrow
    graph = import_graph(module_files(tmp_path, ("pkg",)))
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


# ------------------------------------------------------------------------------ probes
#: The ``getattr``/``hasattr`` calls ``ui/`` may make: (module, the object asked, the name asked
#: for; ``*`` for a name not written out) → why it is not a probe at an object whose type should
#: say what it has. Everything else the widgets need is declared: on ``ui.window.WindowBase``, on
#: the call session, and as the providers' optional protocols (``callsys.provider``). A module
#: entry also covers its submodules.
PROBES_ALLOWED: dict[tuple[str, str, str], str] = {
    ("ui.schemes", "sys", "frozen"): "set only in a frozen build (PyInstaller's and Briefcase's "
    "convention); Python itself declares no such attribute",
    ("ui.mainwindow.actions", "window", "*"): "the action table names each handler, a method of "
    "the window (tests/ui/test_mainwindow_parts.py holds every name to a method of MainWindow)",
}


def probes(root: Path = ROOT, package: str = "ui") -> Iterator[tuple[str, int, str, str, str]]:
    """Every ``getattr(obj, name…)`` and ``hasattr(obj, name)`` under *package*: (module, line,
    the function, the object as written, the name — ``*`` when it is not a literal)."""
    for name, path in module_files(root, (package,)).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
            ):
                continue
            asked = node.args[1]
            attribute = (
                asked.value if isinstance(asked, ast.Constant) and isinstance(asked.value, str) else "*"
            )
            yield name, node.lineno, node.func.id, ast.unparse(node.args[0]), attribute


def allowed_entry(module: str, target: str, attribute: str) -> tuple[str, str, str] | None:
    for key in PROBES_ALLOWED:
        allowed_module, allowed_target, allowed_attribute = key
        if (
            (module == allowed_module or module.startswith(allowed_module + "."))
            and target == allowed_target
            and attribute == allowed_attribute
        ):
            return key
    return None


def test_the_widgets_ask_types_not_attribute_names() -> None:
    """``ui/`` asks what an object is (its declared type, an optional protocol), never whether it
    happens to have an attribute: a probe turns a renamed or missing attribute into a feature
    that silently does nothing (issue 12, step 4)."""
    found = [
        f"{module}:{line} {function}({target}, {attribute!r})"
        for module, line, function, target, attribute in probes()
        if allowed_entry(module, target, attribute) is None
    ]
    assert found == []


def test_every_allowed_probe_is_still_made() -> None:
    made = {allowed_entry(module, target, attribute) for module, _, _, target, attribute in probes()}
    assert sorted(set(PROBES_ALLOWED) - made) == []


def test_the_probe_check_sees_getattr_and_hasattr(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "w.py").write_text(
        "import sys\n"
        "def f(window, name):\n"
        "    if hasattr(window, 'log_model'):\n"
        "        return getattr(window.desktop, 'log_key', None)\n"
        "    return getattr(sys, 'frozen', False) or getattr(window, name)\n"
    )
    found = {
        (module, function, target, attribute)
        for module, _, function, target, attribute in probes(tmp_path, "pkg")
    }
    assert found == {
        ("pkg.w", "hasattr", "window", "log_model"),
        ("pkg.w", "getattr", "window.desktop", "log_key"),
        ("pkg.w", "getattr", "sys", "frozen"),
        ("pkg.w", "getattr", "window", "*"),
    }
