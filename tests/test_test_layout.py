"""How the tests are laid out, checked: nothing under ``tests/`` or ``benchmarks/`` imports a test
module (``test_*.py``). A helper, constant or fixture that two modules share lives in a helpers
module of its folder (``tests/ui/helpers.py``, ``tests/sip/peers.py``, ``tests/ami/harness.py`` …)
or in ``conftest.py``: importing it from another test module ties two unrelated files together
(moving or renaming a test breaks the other) and runs that module's import-time work twice. And a
test module is named after what it tests, never after the review round that found the defect.

Every import counts — at module level or inside a function, absolute (``tests.x.test_y``),
relative (``.test_y``) and ``from tests.x import test_y``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("tests", "benchmarks")
#: words that name when a test was written, not what it checks
ROUND_WORDS = {"review", "fixes", "misc"}


def python_files() -> Iterator[Path]:
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def is_test_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if not parts[-1].startswith("test_"):
        return False
    base = ROOT.joinpath(*parts)
    return base.with_suffix(".py").is_file()


def imported_modules(path: Path, source: str | None = None) -> Iterator[tuple[int, str]]:
    """Every module the file *path* (or *source* as if it were that file) imports, as a dotted name
    from the repository root; for ``from P import N`` both ``P`` and ``P.N`` (N may be a module)."""
    package = list(path.relative_to(ROOT).parent.parts)
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def test_no_test_module_is_imported() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files()
        for line, module in imported_modules(path)
        if is_test_module(module)
    ]
    assert not found, "move what is shared into a helpers module or conftest.py:\n" + "\n".join(found)


def test_the_rule_sees_every_form_of_import() -> None:
    """The checker itself: each way of importing a test module is seen, helpers are not."""
    path = ROOT / "tests" / "ui" / "probe.py"  # read from *source*: no such file
    source = (
        "from tests.ui.test_convert import plain\n"
        "from .test_window import answered\n"
        "from tests.ui import test_global_hotkeys as x\n"
        "import tests.sip.test_tls\n"
        "from tests.ui.helpers import plain\n"
        "from . import helpers\n"
        "def f():\n    from ..sip.test_provider_rules import Rig\n"
    )
    seen = [module for _, module in imported_modules(path, source) if is_test_module(module)]
    assert seen == [
        "tests.ui.test_convert",
        "tests.ui.test_window",
        "tests.ui.test_global_hotkeys",
        "tests.sip.test_tls",
        "tests.sip.test_provider_rules",
    ]


def test_no_test_module_is_named_after_a_review_round() -> None:
    named = [
        str(path.relative_to(ROOT))
        for path in python_files()
        if path.name.startswith("test_") and ROUND_WORDS & set(path.stem.split("_"))
    ]
    assert not named, "name the module after what its tests check, or fold them into those:\n" + "\n".join(
        named
    )
