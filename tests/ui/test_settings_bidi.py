"""What the Settings dialog and the status bar show around code and paths: a placeholder that
fits the chosen phone connection, and left-to-right fragments kept in order in the Persian UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callsys.settings import Settings, load_settings
from providers import REGISTRY

from ui.i18n import LRI, PDI, Language
from ui.qt import QComboBox, QPlainTextEdit, Qt
from ui.settingsdialog import SettingsDialog


def dialog_for(qtbot: Any, tmp_path: Path, provider: str) -> SettingsDialog:
    path = tmp_path / "settings.toml"
    path.write_text(f'[phone]\nprovider = "{provider}"\n', encoding="utf-8")
    dialog = SettingsDialog(load_settings(path), registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def toml_field(dialog: SettingsDialog, key: str) -> QPlainTextEdit:
    widget = dialog.fields[key].widget
    assert isinstance(widget, QPlainTextEdit)
    return widget


def test_the_provider_options_example_fits_the_chosen_connection(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    dialog = dialog_for(qtbot, tmp_path, "sip")
    options = toml_field(dialog, "phone.options")
    assert options.toPlainText() == ""
    assert "listen_port = 5060" in options.placeholderText()
    assert "7000" not in options.placeholderText()  # the line names' example, not an option
    combo = dialog.fields["phone.provider"].widget
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("ami"))
    assert 'host = "pbx.example.com"' in options.placeholderText()
    combo.setCurrentIndex(combo.findData("sim"))
    assert "speed" in options.placeholderText()
    assert toml_field(dialog, "numbers.dnis_lines").placeholderText() == f'{LRI}"7000" = "Sales"{PDI}'


def test_toml_fields_read_left_to_right_in_persian(qtbot: Any, tmp_path: Path, language: Language) -> None:
    language.apply("fa")
    dialog = dialog_for(qtbot, tmp_path, "sip")
    assert dialog.layoutDirection() == Qt.LayoutDirection.RightToLeft
    for key in ("phone.options", "numbers.dnis_lines", "crm.custom_tables"):
        field = toml_field(dialog, key)
        assert field.layoutDirection() == Qt.LayoutDirection.LeftToRight, key
        # the example is painted in the application's direction: each line is isolated
        assert all(
            line.startswith(LRI) and line.endswith(PDI) for line in field.placeholderText().split("\n")
        )


def test_the_status_bar_keeps_a_path_in_order_in_persian(
    make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: Language
) -> None:
    from tests.ui.conftest import make_settings

    where = "/home/sara/.local/share/applications/callsys-handler.desktop"
    monkeypatch.setattr("ui.schemes.register", lambda: where)
    window = make_window(make_settings(tmp_path))
    language.apply("fa")
    window.register_links()
    message = window.statusBar().currentMessage()
    assert f"{LRI}{where}{PDI}" in message  # isolated: the slashes do not reorder the path


def test_settings_are_saved_here_with_the_path_isolated(
    tmp_path: Path, qtbot: Any, language: Language
) -> None:
    dialog = SettingsDialog(Settings(path=tmp_path / "settings.toml"), registry=REGISTRY)
    qtbot.addWidget(dialog)
    assert f"{LRI}{tmp_path / 'settings.toml'}{PDI}" in dialog.path_label.text()


def test_the_unreadable_file_and_its_reason_read_left_to_right_in_persian(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    from callsys.settings import unreadable_settings

    language.apply("fa")
    path = tmp_path / "settings.toml"
    path.write_text("[hotkeys\n", encoding="utf-8")
    dialog = SettingsDialog(unreadable_settings(path, f"The settings file {path} is not valid TOML."))
    qtbot.addWidget(dialog)
    dialog.start_over.setChecked(True)
    for label in (dialog.unreadable_path, dialog.unreadable_why, dialog.start_over_copy):
        assert label.layoutDirection() == Qt.LayoutDirection.LeftToRight, label.objectName()
    assert str(path) not in dialog.unreadable_text.text()  # not inside the Persian sentence
    assert dialog.unreadable_path.text() == str(path)
