"""The settings file is never lost through the desktop (issue 11, defect 1): a file that could not
be read is not written over by the Settings dialog or the View menu — the dialog says why and
offers the ways on — and the dialog writes to the file the desktop was started with (--config)."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

import pytest

from callsys.cli import Context
from callsys.settings import CALENDAR, DIAL_PREFIX, DND, config_path, load_settings
from providers import REGISTRY

from ui.app import _load_settings
from ui.i18n import Language
from ui.qt import QCheckBox, QDesktopServices, QLabel, Qt, QUrl
from ui.settingsdialog import SettingsDialog

#: The agent's file with one slip: "[hotkeys" lacks its "]".
BROKEN = (
    'version = 1\n\n[phone]\nprovider = "sim"\ndial_prefix = "9"\n\n'
    '[numbers]\narea_code = "21"\n\n[hotkeys\nanswer = "F5"\n'
)


def started_with(path: Path) -> Any:
    """The settings as the desktop gets them when started with ``--config PATH``."""
    ctx = Context(args=argparse.Namespace(config=str(path)), registry=REGISTRY)
    settings, error, shown = _load_settings(ctx)
    assert shown == str(path)
    return settings, error


def open_dialog(qtbot: Any, settings: Any) -> SettingsDialog:
    dialog = SettingsDialog(settings, registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def tick_dnd(dialog: SettingsDialog) -> None:
    box = dialog.fields["phone.dnd"].widget
    assert isinstance(box, QCheckBox)
    box.setChecked(True)


def test_the_dialog_never_writes_over_an_unreadable_file_and_keeps_a_copy_when_starting_over(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "elsewhere" / "broken.toml"
    path.parent.mkdir()
    path.write_text(BROKEN, encoding="utf-8")
    settings, error = started_with(path)
    assert error and "not valid TOML" in error

    dialog = open_dialog(qtbot, settings)
    tick_dnd(dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.save()
    assert path.read_text(encoding="utf-8") == BROKEN  # nothing written over it …
    assert sorted(p.name for p in path.parent.iterdir()) == ["broken.toml"]
    assert not config_path().exists()  # … nor over the default file instead
    assert dialog.isVisible() and not dialog.ok_button.isEnabled()
    assert dialog.unreadable.isVisibleTo(dialog)  # the dialog says why
    assert "could not be read" in dialog.unreadable_text.text()
    assert dialog.unreadable_path.text() == str(path)
    assert "not valid TOML" in dialog.unreadable_why.text()

    qtbot.mouseClick(dialog.start_over, Qt.MouseButton.LeftButton)
    assert dialog.start_over.isChecked() and dialog.start_over_note.isVisibleTo(dialog)
    assert "keeps a copy" in dialog.start_over_note.text()
    assert dialog.start_over_copy.text() == "broken.toml.broken-YYYYmmdd-HHMMSS"
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    copies = list(path.parent.glob("broken.toml.broken-*"))
    assert len(copies) == 1 and copies[0].read_text(encoding="utf-8") == BROKEN
    doc = tomllib.loads(path.read_text(encoding="utf-8"))  # the file given with --config
    assert doc["phone"]["dnd"] is True
    assert not config_path().exists()  # the default file is not touched


def test_the_dialog_saves_to_the_file_given_with_config(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('[phone]\nprovider = "sim"\ndial_prefix = "9"\n', encoding="utf-8")
    settings, error = started_with(path)
    assert error is None
    dialog = open_dialog(qtbot, settings)
    assert not dialog.unreadable.isVisibleTo(dialog)
    tick_dnd(dialog)
    assert dialog.save()
    again = load_settings(path)
    assert again.get("phone.dnd") is True and again[DIAL_PREFIX] == "9"
    assert (tmp_path / "agent.toml.bak").read_text(encoding="utf-8").startswith("[phone]")
    assert not config_path().exists()


def test_open_the_file_and_its_folder_in_the_desktops_programs(
    qtbot: Any, tmp_path: Path, language: Language, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(BROKEN, encoding="utf-8")
    settings, _ = started_with(path)
    dialog = open_dialog(qtbot, settings)
    opened: list[str] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url.toLocalFile())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    qtbot.mouseClick(dialog.open_file_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.open_folder_button, Qt.MouseButton.LeftButton)
    assert opened == [str(path), str(tmp_path)]


def test_a_file_broken_while_the_dialog_is_open_is_not_written_over(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n', encoding="utf-8")
    settings, _ = started_with(path)
    dialog = open_dialog(qtbot, settings)
    path.write_text(BROKEN, encoding="utf-8")  # edited by hand meanwhile
    tick_dnd(dialog)
    assert not dialog.save()
    assert path.read_text(encoding="utf-8") == BROKEN
    assert "not saved" in dialog.problem_label.text()
    assert settings.get("phone.dnd") is False and not settings.is_set(DND)  # nothing half-applied
    assert dialog.unreadable.isVisibleTo(dialog)  # and the ways on are offered
    assert not dialog.ok_button.isEnabled()


def test_the_view_menu_does_not_write_over_an_unreadable_file(make_window: Any, tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(BROKEN, encoding="utf-8")
    settings, _ = started_with(path)
    settings.set("storage.database", str(tmp_path / "callsys.sqlite3"))
    window = make_window(settings)
    window.set_jalali(True)
    assert window.desktop.settings[CALENDAR] == "jalali"  # applies for this session
    assert path.read_text(encoding="utf-8") == BROKEN
    assert "not written over" in window.statusBar().currentMessage()


def test_area_code_and_dial_prefix_apply_on_ok_without_a_restart(
    make_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from tests.ui.conftest import make_settings

    window = make_window(make_settings(tmp_path))
    provider = window.desktop.provider
    dialog = SettingsDialog(window.desktop.settings, window, registry=REGISTRY)
    dialog.saved.connect(window.settings_saved)
    qtbot.addWidget(dialog)
    dialog.fields["numbers.area_code"].widget.setText("21")  # type: ignore[attr-defined]
    dialog.fields["phone.dial_prefix"].widget.setText("9")  # type: ignore[attr-defined]
    assert dialog.save()

    assert window.dial_text("88776655")  # a local number: the area code and the prefix added
    qtbot.waitUntil(lambda: ("dial", "902188776655") in provider.commands, timeout=3000)

    call_id = provider.ring("88776655")  # a caller's local number reads as the full one …
    qtbot.waitUntil(lambda: call_id in {c.id for c in window.desktop.manager.live_calls()}, timeout=3000)
    call = next(c for c in window.desktop.manager.live_calls() if c.id == call_id)
    assert call.remote.e164 == "+982188776655"
    found, _ = window.desktop.identify_now(call) or ([], True)  # … and the directory knows it
    assert [m.party.name for m in found][:1] == ["Sara Ahmadi"]


def test_a_setting_that_needs_a_restart_says_so_once_changed(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n', encoding="utf-8")
    dialog = open_dialog(qtbot, load_settings(path))
    note = dialog.findChild(QLabel, "restart_numbers_region")
    assert note is not None and note.isHidden()
    dialog.fields["numbers.region"].widget.setText("DE")  # type: ignore[attr-defined]
    assert not note.isHidden() and note.text() == "Applies when callsys starts again."
    dialog.fields["numbers.region"].widget.setText("IR")  # type: ignore[attr-defined]
    assert note.isHidden()
    for key in ("numbers.area_code", "phone.dial_prefix", "logging.min_log_digits"):  # apply on OK
        assert dialog.findChild(QLabel, "restart_" + key.replace(".", "_")) is None


def test_do_not_disturb_in_settings_reaches_the_phone_and_the_menu_keeps_it(
    make_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from tests.ui.conftest import make_settings

    settings = make_settings(tmp_path, **{"phone.dnd": True})
    window = make_window(settings)
    provider = window.desktop.provider
    qtbot.waitUntil(lambda: ("dnd", "True") in provider.commands, timeout=3000)  # on at start
    qtbot.waitUntil(window.dnd_action.isChecked, timeout=3000)

    window.dnd_action.trigger()  # the Phone menu: off, and kept for the next start
    qtbot.waitUntil(lambda: provider.commands[-1] == ("dnd", "False"), timeout=3000)
    assert load_settings(settings.path).get("phone.dnd") is False

    dialog = SettingsDialog(window.desktop.settings, window, registry=REGISTRY)
    dialog.saved.connect(window.settings_saved)
    qtbot.addWidget(dialog)
    tick_dnd(dialog)  # Settings: on again, at once
    assert dialog.save()
    qtbot.waitUntil(lambda: provider.commands[-1] == ("dnd", "True"), timeout=3000)
    assert load_settings(settings.path).get("phone.dnd") is True
