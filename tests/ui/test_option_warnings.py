"""Unknown keys in ``phone.options``: the desktop starts the phone and says so in its banner; the
Settings dialog warns under the options field (OK still saves) and, when the connection is
switched, sets the old connection's options aside instead of letting them ride along."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.provider import Registration
from callsys.settings import Settings, load_settings
from providers import REGISTRY
from tests.ui.conftest import make_settings

from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QComboBox, QPlainTextEdit
from ui.settingsdialog import SettingsDialog

TYPO = "phone.options.auto_answr is not an option of the simulator; it is ignored."


def plain(text: str) -> str:
    return re.sub("[\u2066-\u2069\u200e\u200f]", "", text)


def test_the_phone_starts_and_the_banner_names_the_unknown_key(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, **{"phone.options": {"speed": 0, "agent_script": False, "auto_answr": 1}}
    )
    window = make_window(settings)
    desktop = window.desktop
    assert desktop.provider is not None and desktop.provider.name == "sim"  # started regardless
    assert desktop.manager.statuses["sim"].registration is Registration.ONLINE
    assert desktop.problems == [f"options:{TYPO}"]
    assert window.banner.isVisible() and TYPO in window.banner_label.text()
    assert not window.banner_sim_button.isVisible()  # nothing failed: no stand-in offered

    settings.set("phone.options", {"speed": 0, "agent_script": False})  # fixed in Settings
    window.settings_saved(["phone.options"])
    qtbot.waitUntil(lambda: not window.banner.isVisible())
    assert desktop.problems == [] and desktop.provider is not None


def test_the_simulator_standing_in_is_not_warned_about_the_real_connections_options(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, **{"phone.provider": "no-such-phone", "phone.options": {"speed": 0, "host": "pbx"}}
    )
    window = make_window(settings)
    assert window.banner_sim_button.isVisible()
    window.use_provider("sim")  # the banner's "use the simulator"
    qtbot.waitUntil(lambda: window.desktop.provider is not None)
    qtbot.waitUntil(lambda: not window.banner.isVisible())
    assert window.desktop.problems == []


# --------------------------------------------------------------------------- Settings dialog
def _dialog(qtbot: Any, settings: Settings) -> SettingsDialog:
    dialog = SettingsDialog(settings, registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _widgets(dialog: SettingsDialog) -> tuple[QComboBox, QPlainTextEdit]:
    provider = dialog.fields["phone.provider"].widget
    options = dialog.fields["phone.options"].widget
    assert isinstance(provider, QComboBox) and isinstance(options, QPlainTextEdit)
    return provider, options


def _file(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_an_unknown_key_is_a_warning_under_the_options_that_does_not_block_ok(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n', encoding="utf-8")
    dialog = _dialog(qtbot, load_settings(path))
    _, options = _widgets(dialog)
    assert dialog.options_warning.isHidden()
    options.setPlainText("speed = 0\nagent_scrpt = false\n")
    assert not dialog.options_warning.isHidden()
    assert (
        "phone.options.agent_scrpt is not an option of the simulator — did you mean agent_script?"
        in dialog.options_warning.text()
    )
    assert dialog.fields["phone.options"].error.isHidden() and dialog.ok_button.isEnabled()
    assert "⚠" not in dialog.tabs.tabText(0)  # the tab's warning sign is for errors
    assert dialog.save()
    assert _file(path)["phone"]["options"] == {"speed": 0, "agent_scrpt": False}  # kept, as typed


def test_a_stray_key_of_a_sip_line_is_named_with_its_line(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[phone]\nprovider = "sip"\n\n[[phone.options.lines]]\nuser = "1001"\n'
        'registrar = "sip:pbx.example.com"\nvoicemail_ur = "*97"\n',
        encoding="utf-8",
    )
    dialog = _dialog(qtbot, load_settings(path))
    assert dialog.sip_lines.list.count() == 1  # the line is in the list, its stray key with it
    assert (
        "phone.options.lines[0].voicemail_ur is not an option of the embedded softphone — "
        "did you mean voicemail_uri?" in dialog.options_warning.text()
    )
    assert dialog.ok_button.isEnabled()


def test_switching_the_connection_sets_the_old_options_aside_and_back(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[phone]\nprovider = "sim"\noptions = { speed = 0, agent_script = false, lines = ["Sales"] }\n',
        encoding="utf-8",
    )
    dialog = _dialog(qtbot, load_settings(path))
    provider, options = _widgets(dialog)
    provider.setCurrentIndex(provider.findData("sip"))
    assert "speed" not in options.toPlainText() and "agent_script" not in options.toPlainText()
    assert dialog.options_warning.isHidden()  # nothing of the simulator's rides along
    aside = plain(dialog.options_aside.text())
    assert not dialog.options_aside.isHidden() and "speed, agent_script" in aside
    assert "Simulated phone system" in aside
    options.setPlainText("auto_answer = true\n")

    provider.setCurrentIndex(provider.findData("sim"))  # back: the simulator's own options again
    assert tomllib.loads(options.toPlainText()) == {"speed": 0, "agent_script": False, "lines": ["Sales"]}
    assert "auto_answer" in plain(dialog.options_aside.text())  # the softphone's, set aside now

    provider.setCurrentIndex(provider.findData("sip"))
    assert tomllib.loads(options.toPlainText()) == {"auto_answer": True}
    assert dialog.save()
    saved = _file(path)["phone"]
    assert saved["provider"] == "sip" and saved["options"] == {"auto_answer": True}  # only the chosen one's


def test_sip_lines_go_to_asterisk_and_come_back_to_the_list(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[phone]\nprovider = "sip"\n\n[phone.options]\nauto_answer = true\n\n[[phone.options.lines]]\n'
        'id = "office"\nuser = "1001"\nregistrar = "sip:pbx.example.com"\n',
        encoding="utf-8",
    )
    dialog = _dialog(qtbot, load_settings(path))
    provider, options = _widgets(dialog)
    assert dialog.sip_lines.list.count() == 1 and "lines" not in options.toPlainText()
    provider.setCurrentIndex(provider.findData("ami"))  # AMI has lines of its own: they go along
    doc = tomllib.loads(options.toPlainText())
    assert doc == {"lines": [{"id": "office", "user": "1001", "registrar": "sip:pbx.example.com"}]}
    assert dialog.sip_lines.isHidden() and dialog.sip_lines.list.count() == 0
    assert "auto_answer" in plain(dialog.options_aside.text())
    provider.setCurrentIndex(provider.findData("sip"))
    assert dialog.sip_lines.list.count() == 1 and not dialog.sip_lines.isHidden()
    assert tomllib.loads(options.toPlainText()) == {"auto_answer": True}
    assert dialog.options_aside.isHidden()
