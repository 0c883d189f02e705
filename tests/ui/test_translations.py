"""B6: every string the desktop shows has a Persian translation, compiled into the shipped .qm."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from ui.catalog import extract
from ui.i18n import TRANSLATIONS_DIR
from ui.qt import QCoreApplication, QTranslator

TS = TRANSLATIONS_DIR / "callsys_fa.ts"
QM = TRANSLATIONS_DIR / "callsys_fa.qm"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _ts_translations() -> dict[tuple[str, str], str]:
    found = {}
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            node = message.find("translation")
            if node is not None and node.text and node.get("type") is None:
                found[(name, message.findtext("source") or "")] = node.text
    return found


def test_every_ui_string_has_a_persian_translation_in_the_ts_source() -> None:
    messages = extract(with_settings=False)
    assert len(messages) > 100  # the extractor really found the UI's strings
    translated = _ts_translations()
    missing = [
        f"{where}: [{ctx}] {text!r}"
        for (ctx, text), where in messages.items()
        if (ctx, text) not in translated
    ]
    assert not missing, (
        "strings without a Persian translation (run resources/translations/update_ts.py):\n"
        + "\n".join(missing)
    )


def test_the_compiled_qm_is_current(qapp: Any) -> None:
    translator = QTranslator()
    assert translator.load(str(QM))
    qapp.installTranslator(translator)
    try:
        # QTranslator.translate takes Latin-1 in PyQt6; QCoreApplication.translate takes UTF-8.
        stale = [
            f"[{ctx}] {text!r}"
            for (ctx, text) in extract(with_settings=False)
            if QCoreApplication.translate(ctx, text) == text and text != "callsys"
        ]
    finally:
        qapp.removeTranslator(translator)
    assert not stale, "callsys_fa.qm lacks (recompile with update_ts.py):\n" + "\n".join(stale)


@pytest.mark.parametrize(
    "pair", sorted(_ts_translations().items()), ids=lambda p: f"{p[0][0]}:{p[0][1][:30]}"
)
def test_translations_keep_placeholders_and_are_persian(pair: tuple[tuple[str, str], str]) -> None:
    (_ctx, source), text = pair
    # A lost or renamed {placeholder} would make str.format raise in the Persian UI.
    assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(text))
    if re.search(r"[A-Za-z]{3}", PLACEHOLDER.sub("", source).replace("callsys", "")):
        assert re.search(r"[\u0600-\u06ff]", text) or text == source, f"not Persian: {text!r}"
