"""The catalogue of translatable strings, found by reading the source (no Qt, no lupdate needed).

A message is a call ``translate("Context", "text")`` (``QCoreApplication.translate``) with two
string literals, anywhere under ``ui/``; and every ``N_("text")`` in ``callsys/settings.py``
(setting titles and help, context ``Settings``). ``resources/translations/update_ts.py`` merges
this catalogue into the ``.ts`` files; ``tests/ui/test_translations.py`` checks that every
message has its Persian text.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["ROOT", "extract", "extract_file"]

ROOT = Path(__file__).resolve().parent.parent


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract_file(path: Path, settings_context: str | None = None) -> Iterator[tuple[str, str, int]]:
    """(context, text, line) of every message in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "translate" and len(node.args) >= 2:
            context, text = _literal(node.args[0]), _literal(node.args[1])
            if context is not None and text is not None:
                yield context, text, node.lineno
        elif name == "N_" and settings_context and node.args:
            text = _literal(node.args[0])
            if text is not None:
                yield settings_context, text, node.lineno


def extract(paths: Iterable[Path] | None = None, *, with_settings: bool = True) -> dict[tuple[str, str], str]:
    """Every message → where it is first used ("ui/popup.py:42")."""
    found: dict[tuple[str, str], str] = {}
    files = sorted(paths) if paths is not None else sorted((ROOT / "ui").rglob("*.py"))
    for path in files:
        for context, text, line in extract_file(path):
            found.setdefault((context, text), f"{path.relative_to(ROOT)}:{line}")
    if with_settings:
        settings = ROOT / "callsys" / "settings.py"
        for context, text, line in extract_file(settings, settings_context="Settings"):
            found.setdefault((context, text), f"{settings.relative_to(ROOT)}:{line}")
    return found
