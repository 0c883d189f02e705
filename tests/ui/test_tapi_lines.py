"""Settings lists the TAPI lines Windows telephony offers (SET1), read from the fake tapi32 through
the provider's own ctypes path, and says plainly when there are none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callsys.settings import load_settings
from providers import REGISTRY
from tests.tapi.fake import FakeTapi, build

from ui.i18n import Language
from ui.qt import QComboBox
from ui.settingsdialog import SettingsDialog


def dialog_for(qtbot: Any, tmp_path: Path, provider: str, library: Path) -> SettingsDialog:
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[phone]\nprovider = "{provider}"\n\n[phone.options]\nlibrary = "{library}"\n', encoding="utf-8"
    )
    dialog = SettingsDialog(load_settings(path), registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_tapi_lines_of_this_computer_are_listed(qtbot: Any, tmp_path: Path, language: Language) -> None:
    fake = FakeTapi(build())
    fake.add_line("Sales 201")
    fake.add_line("Support 202")
    dialog = dialog_for(qtbot, tmp_path, "sim", fake.path)
    assert dialog.tapi_lines.isHidden()  # not the chosen connection
    combo = dialog.fields["phone.provider"].widget
    assert isinstance(combo, QComboBox)
    assert "Windows telephony (TAPI)" in combo.itemText(combo.findData("tapi"))
    combo.setCurrentIndex(combo.findData("tapi"))
    assert not dialog.tapi_lines.isHidden()
    assert "Sales 201" in dialog.tapi_lines.text() and "Support 202" in dialog.tapi_lines.text()
    assert not fake.initialized  # listed and shut down again


def test_no_lines_is_said_in_settings(qtbot: Any, tmp_path: Path, language: Language) -> None:
    fake = FakeTapi(build())  # no TSP, no lines
    dialog = dialog_for(qtbot, tmp_path, "tapi", fake.path)
    text = dialog.tapi_lines.text()
    assert "offers no lines" in text and "Phone and Modem" in text
    language.apply("fa")
    try:
        persian = dialog_for(qtbot, tmp_path, "tapi", fake.path).tapi_lines.text()
        assert persian != text and "TSP" in persian
    finally:
        language.apply("en")
