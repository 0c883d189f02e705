"""Feature IDs ("SET3", "IN12" — the project's own bookkeeping, see FEATURES.md) belong in
comments, docstrings and commit messages, never in what a user reads: the settings' titles and
help, translated texts, messages, command-line help."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from callsys.settings import OPTIONS
from providers import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
FEATURE_ID = re.compile(r"\b(ARCH|IN|OUT|SET|CARD|B|R)\d{1,2}\b")


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_the_scan_finds_an_id_where_it_is_shown() -> None:
    assert FEATURE_ID.search("Added in front of every outgoing public number (SET3)")
    assert FEATURE_ID.search("per PBX (SET6): name")
    assert not FEATURE_ID.search("Ctrl+Shift+F5, PIN 1234, a SIP INVITE, IR, 0.0.0.0:5060")


def test_settings_titles_and_help_name_no_feature_ids() -> None:
    shown = [
        (key, text) for key, o in OPTIONS.items() for text in (o.title, o.help) if FEATURE_ID.search(text)
    ]
    assert shown == []


def test_phone_connection_titles_name_no_feature_ids() -> None:
    assert [n for n in REGISTRY.names() if FEATURE_ID.search(REGISTRY.title(n))] == []


def test_no_string_in_the_code_names_a_feature_id() -> None:
    """Translated texts, messages, command-line help, errors: every literal outside docstrings."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}"
        for package in ("callsys", "providers", "ui")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, text in _strings(path)
        if FEATURE_ID.search(text)
    ]
    assert found == []
