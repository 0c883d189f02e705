"""The Settings dialog (B6, SET3, IN13, CARD5): built from the declared options, validated as you type,
Persian digits accepted, passwords to the keyring and never to the file, connection checks."""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from callsys.errors import AuthError, ProviderUnavailable
from callsys.numbers import NumberPlan
from callsys.provider import Line, ProviderRegistry, ProviderStatus, Registration
from callsys.session import CallSession
from callsys.settings import OPTIONS, Settings, load_settings
from providers import REGISTRY
from providers.sim import SimulatedProvider
from tests.conftest import MemoryKeyring

from ui.i18n import Language
from ui.qt import (
    QCheckBox,
    QComboBox,
    QKeySequenceEdit,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    Qt,
    QWidget,
)
from ui.settingsdialog import DYNAMICS_SECRET, SettingsDialog, group_title


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n\n[future]\nthing = 1\n', encoding="utf-8")
    return load_settings(path)


def plain(text: str) -> str:
    """Text without the direction isolates that keep it readable in either direction."""
    return re.sub("[\u2066-\u2069\u200e\u200f]", "", text)


def dialog_for(qtbot: Any, settings: Settings, **kw: Any) -> SettingsDialog:
    dialog = SettingsDialog(settings, registry=kw.pop("registry", REGISTRY), **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def choose(dialog: SettingsDialog, key: str, value: str) -> None:
    """Pick *value* in the drop-down of setting *key*, as the agent would."""
    combo = dialog.fields[key].widget
    assert isinstance(combo, QComboBox)
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered for {key}"
    combo.setCurrentIndex(index)


def saved(settings: Settings) -> dict[str, Any]:
    assert settings.path is not None
    return tomllib.loads(settings.path.read_text(encoding="utf-8"))


def test_every_setting_has_a_labelled_field_in_the_tab_of_its_group(
    qtbot: Any, settings: Settings, language: Language
) -> None:
    dialog = dialog_for(qtbot, settings)
    desktop_options = {key for key, option in OPTIONS.items() if option.group != "daemon"}
    assert set(dialog.fields) == desktop_options  # the server daemon's own settings are not shown
    assert "server.seats" not in dialog.fields and "server.url" in dialog.fields
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs[:4] == ["Phone && lines", "Numbers && prefix", "Logging rules", "CRM"]  # "&&": a shown &
    for key, field in dialog.fields.items():
        page = dialog.tabs.widget(dialog._pages[OPTIONS[key].group])
        assert page is not None and page.isAncestorOf(field.widget), key
        assert field.widget.accessibleName() == OPTIONS[key].title
    assert isinstance(dialog.fields["phone.auto_answer"].widget, QCheckBox)
    assert isinstance(dialog.fields["crm.auth"].widget, QComboBox)
    assert isinstance(dialog.fields["numbers.dnis_lines"].widget, QPlainTextEdit)
    provider = dialog.fields["phone.provider"].widget
    assert isinstance(provider, QComboBox) and provider.currentData() == "sim"
    assert {provider.itemData(i) for i in range(provider.count())} >= {"sim", "sip", "ami", "server"}


def test_a_bad_value_is_explained_under_the_field_and_ok_waits_until_it_is_fixed(
    qtbot: Any, settings: Settings, language: Language
) -> None:
    dialog = dialog_for(qtbot, settings)
    field = dialog.fields["logging.min_log_digits"]
    edit = field.widget
    assert isinstance(edit, QLineEdit)
    edit.clear()
    qtbot.keyClicks(edit, "25")
    assert not field.error.isHidden()
    assert plain(field.error.text()) == "Expected: a whole number from 0 to 20"
    assert not dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(dialog._pages["logging"]).startswith("⚠")
    edit.clear()
    edit.insert("۷")  # Persian digit seven (typed with a Persian layout)
    assert field.error.isHidden() and dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(dialog._pages["logging"]) == "Logging rules"

    url = dialog.fields["crm.url"].widget
    assert isinstance(url, QLineEdit)
    qtbot.keyClicks(url, "contoso.crm4.dynamics.com")
    assert plain(dialog.fields["crm.url"].error.text()) == "Expected: an http(s):// or ws(s):// URL"
    assert not dialog.ok_button.isEnabled()
    url.setText("https://contoso.crm4.dynamics.com/")
    assert dialog.ok_button.isEnabled()

    prefix = dialog.fields["phone.dial_prefix"].widget
    assert isinstance(prefix, QLineEdit)
    prefix.insert("۹")
    assert dialog.save()
    doc = saved(settings)
    assert doc["logging"]["min_log_digits"] == 7
    assert doc["phone"]["dial_prefix"] == "9"  # stored as ASCII digits
    assert doc["crm"]["url"] == "https://contoso.crm4.dynamics.com"
    assert doc["future"] == {"thing": 1}  # a newer version's setting survives the save
    assert "region" not in doc.get("numbers", {})  # untouched settings stay unset (defaults apply)
    assert not list(Path(settings.path or "").parent.glob("*.tmp"))  # atomic: no temporary left


def test_a_hotkey_is_set_by_pressing_it_and_one_key_for_two_actions_is_refused(
    qtbot: Any, settings: Settings, language: Language
) -> None:
    dialog = dialog_for(qtbot, settings)
    notes = dialog.fields["hotkeys.notes"]
    keys = notes.widget
    assert isinstance(keys, QKeySequenceEdit)
    assert keys.keySequence().toString() == "Ctrl+Shift+N"  # read from the settings
    keys.setFocus()
    qtbot.keyClick(keys, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # "Go to the number field"
    assert keys.keySequence().toString() == "Ctrl+L"
    clash = "“Go to the number field” and “Open the call notes” both use Ctrl+L."
    assert plain(notes.error.text()) == clash  # both actions named, under both fields
    assert plain(dialog.fields["hotkeys.focus_dial"].error.text()) == clash
    assert not dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(dialog._pages["hotkeys"]).startswith("⚠")
    assert not dialog.save()
    keys.clear()  # the clear button: no shortcut for the notes
    assert notes.error.isHidden() and dialog.fields["hotkeys.focus_dial"].error.isHidden()
    assert dialog.ok_button.isEnabled()
    qtbot.keyClick(keys, Qt.Key.Key_F7, Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)
    assert notes.error.isHidden() and dialog.ok_button.isEnabled()
    assert dialog.save()
    assert load_settings(settings.path).get("hotkeys.notes") == "Alt+Shift+F7"


def test_a_hotkey_field_leaves_escape_and_enter_to_the_dialog_and_refuses_typing_keys(
    qtbot: Any, tmp_path: Path, language: Any
) -> None:
    """Escape in a hotkey field closed nothing — it became the "Answer" key; Enter became a key
    instead of OK; a bare letter was taken as a key and would then be taken from typing (and, as a
    global key, from every program)."""
    from callsys.settings import load_settings

    from ui.qt import QApplication, QKeySequenceEdit, Qt
    from ui.settingsdialog import SettingsDialog

    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n', encoding="utf-8")

    def opened() -> tuple[Any, Any]:
        dialog = SettingsDialog(load_settings(path), registry=REGISTRY)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
        dialog.tabs.setCurrentIndex(dialog._pages["hotkeys"])
        field = dialog.fields["hotkeys.answer"]
        assert isinstance(field.widget, QKeySequenceEdit)
        field.widget.setFocus()
        return dialog, field

    dialog, field = opened()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == 0  # cancelled
    assert path.read_text(encoding="utf-8") == '[phone]\nprovider = "sim"\n'

    dialog, field = opened()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert field.raw() == "Ctrl+Shift+A"  # not taken
    assert field.error.isVisibleTo(dialog)
    assert plain(field.error.text()).startswith("A letter, digit or typing key needs Ctrl or Alt")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F9)  # a function key alone is fine
    assert field.raw() == "F9"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # recording ends; Tab moves on
    field.widget.setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert field.raw() == "Ctrl+K"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # OK
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == 1 and 'answer = "Ctrl+K"' in path.read_text(encoding="utf-8")


def test_global_hotkeys_are_ticked_in_a_list_not_typed(
    qtbot: Any, settings: Settings, language: Language
) -> None:
    """CARD6: which hotkeys also work while another program has the focus — one tick per action."""
    dialog = dialog_for(qtbot, settings)
    ticks = dialog.fields["hotkeys.global_actions"].widget
    assert isinstance(ticks, QListWidget)
    rows = [ticks.item(row) for row in range(ticks.count())]
    assert [r.text() for r in rows if r is not None][:3] == ["Answer", "Reject", "Send to voicemail"]
    checked = {
        r.data(Qt.ItemDataRole.UserRole) for r in rows if r and r.checkState() == Qt.CheckState.Checked
    }
    assert checked == {"answer", "reject", "hangup", "hold", "mute"}  # the defaults
    for row in rows:
        assert row is not None
        if row.data(Qt.ItemDataRole.UserRole) in {"reject", "notes"}:
            row.setCheckState(
                Qt.CheckState.Unchecked
                if row.checkState() == Qt.CheckState.Checked
                else Qt.CheckState.Checked
            )
    assert dialog.save()
    assert saved(settings)["hotkeys"]["global_actions"] == ["answer", "hangup", "hold", "mute", "notes"]
    assert load_settings(settings.path).get("hotkeys.global_actions") == (
        "answer",
        "hangup",
        "hold",
        "mute",
        "notes",
    )


def test_the_global_action_ticks_are_live_only_with_global_hotkeys_on(
    qtbot: Any, tmp_path: Path, language: Any
) -> None:
    """Ticking actions while "global hotkeys" is off did nothing: the list follows the box."""
    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n', encoding="utf-8")
    dialog = _sip_dialog(qtbot, path)
    box = dialog.fields["hotkeys.global"].widget
    ticks = dialog.fields["hotkeys.global_actions"].widget
    assert not box.isChecked() and not ticks.isEnabled()
    box.setChecked(True)
    assert ticks.isEnabled()
    box.setChecked(False)
    assert not ticks.isEnabled()


def test_a_new_group_and_a_decimal_setting_get_their_tab_and_field(
    qtbot: Any, settings: Settings, language: Language, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callsys.settings import Option

    def volume(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError("a number from 0 to 1")
        return float(value)

    monkeypatch.setitem(
        OPTIONS, "audio.ring_volume", Option("audio.ring_volume", 0.8, volume, "Ring volume", "audio")
    )
    dialog = dialog_for(qtbot, settings)
    assert "Audio" in [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    field = dialog.fields["audio.ring_volume"]
    assert isinstance(field.widget, QLineEdit) and field.widget.text() == "0.8"
    field.widget.setText("1.5")
    assert plain(field.error.text()) == "Expected: a number from 0 to 1"
    field.widget.setText("۰٫۵")  # Persian digits and decimal separator
    assert field.error.isHidden()
    assert dialog.save()
    assert saved(settings)["audio"]["ring_volume"] == 0.5


def test_tables_are_edited_as_toml_and_a_bad_table_is_refused(
    qtbot: Any, settings: Settings, language: Language
) -> None:
    dialog = dialog_for(qtbot, settings)
    lines = dialog.fields["numbers.dnis_lines"]
    assert isinstance(lines.widget, QPlainTextEdit)
    lines.widget.setPlainText('"7000" = "Sales"\n"7200" = 5\n')
    assert not lines.error.isHidden() and "a table of text values" in lines.error.text()
    assert not dialog.ok_button.isEnabled()
    lines.widget.setPlainText('"7000" = "Sales"\n"7200" = "Support"\n')
    assert dialog.ok_button.isEnabled()
    assert dialog.save()
    assert load_settings(settings.path).get("numbers.dnis_lines") == {"7000": "Sales", "7200": "Support"}


def test_passwords_go_to_the_keyring_never_into_the_file(
    qtbot: Any, settings: Settings, language: Language, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, settings)
    choose(dialog, "phone.provider", "ami")
    options = dialog.fields["phone.options"].widget
    assert isinstance(options, QPlainTextEdit)
    options.setPlainText('host = "10.0.0.5"\nusername = "callsys"\nsecret = "s3cret-typed-here"\n')
    error = dialog.fields["phone.options"].error
    assert not error.isHidden() and "password fields" in error.text()  # refused, like the file would be
    assert not dialog.ok_button.isEnabled()
    options.setPlainText('host = "10.0.0.5"\nusername = "callsys"\n')
    assert dialog.ami_secret.isVisibleTo(dialog) and not dialog.sip_lines.isVisibleTo(dialog)
    assert "ami/callsys@10.0.0.5" in dialog.secret_hint.text()
    assert dialog.ami_secret.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(dialog.ami_secret, "ami-pass-1")
    choose(dialog, "crm.auth", "client_secret")
    qtbot.keyClicks(dialog.crm_secret, "dyn-secret-2")
    assert dialog.save()

    assert memory_keyring.store[("callsys", "ami/callsys@10.0.0.5")] == "ami-pass-1"
    assert memory_keyring.store[("callsys", DYNAMICS_SECRET)] == "dyn-secret-2"
    text = (settings.path or Path()).read_text(encoding="utf-8")
    assert "ami-pass-1" not in text and "dyn-secret-2" not in text
    reloaded = load_settings(settings.path)  # the file loads again: no secret in it
    assert reloaded.get("phone.provider") == "ami"

    again = dialog_for(qtbot, reloaded)
    assert again.ami_secret.placeholderText().startswith("Stored in the system keyring")
    assert again.ami_secret.text() == ""  # a stored password is never shown back


def test_the_callsys_server_token_goes_to_the_keyring(
    qtbot: Any, settings: Settings, language: Language, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, settings)
    choose(dialog, "phone.provider", "server")
    assert dialog.ami_label.text() == "Server token:" and dialog.ami_secret.isVisibleTo(dialog)
    assert "server/token" in dialog.secret_hint.text()
    dialog.ami_secret.setText("agent-token-7")
    assert dialog.save()
    assert memory_keyring.store == {("callsys", "server/token"): "agent-token-7"}
    assert "agent-token-7" not in (settings.path or Path()).read_text(encoding="utf-8")


def add_line(qtbot: Any, dialog: SettingsDialog, **values: str) -> None:
    """Add a SIP line with the list's button and type its fields."""
    editor = dialog.sip_lines
    qtbot.mouseClick(editor.add_button, qtbot_left())
    for name, text in values.items():
        widget = editor.editors[name]
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(text))
        else:
            assert isinstance(widget, QLineEdit)
            qtbot.keyClicks(widget, text)


def test_sip_lines_are_added_in_a_list_validated_as_typed_and_saved_with_keyring_passwords(
    qtbot: Any, settings: Settings, language: Language, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, settings)
    editor = dialog.sip_lines
    assert not editor.isVisibleTo(dialog)  # the simulator has no SIP lines
    choose(dialog, "phone.provider", "sip")
    assert editor.isVisibleTo(dialog) and editor.list.count() == 0
    add_line(qtbot, dialog, label="Office", registrar="sip:pbx.example.com")
    # the settings file's own validation, as typed: a line needs a user
    assert plain(editor.error.text()) == "Line 1 of the SIP settings needs a user."
    assert not dialog.ok_button.isEnabled() and dialog.tabs.tabText(dialog._pages["phone"]).startswith("⚠")
    add_line(qtbot, dialog, label="Home", registrar="voip.example.net:5080", user="2002", transport="tcp")
    assert "(line “Office”)" in editor.error.text()  # the problem is on the other line
    editor.list.setCurrentRow(0)
    qtbot.keyClicks(editor.editors["user"], "1001")
    assert editor.error.isHidden() and dialog.ok_button.isEnabled()
    qtbot.keyClicks(editor.editors["password"], "office-pw")
    assert "sip/1001@pbx.example.com" in plain(editor.secret_hint.text())
    editor.list.setCurrentRow(1)
    assert editor.editors["password"].text() == ""  # each line has its own password
    qtbot.keyClicks(editor.editors["password"], "home-pw")
    editor.default_box.setChecked(True)
    assert plain(editor.list.item(1).text()) == "Home (default)"
    default = dialog.fields["phone.default_line"].widget
    assert isinstance(default, QLineEdit) and default.text() == "2002@voip.example.net:5080"
    editor.default_box.setChecked(False)
    assert default.text() == "" and plain(editor.list.item(1).text()) == "Home"
    editor.default_box.setChecked(True)
    assert default.text() == "2002@voip.example.net:5080"
    reg_timeout = editor.editors["reg_timeout"]
    assert isinstance(reg_timeout, QLineEdit)
    qtbot.keyClicks(reg_timeout, "5")
    assert "reg_timeout" in editor.error.text() and not dialog.ok_button.isEnabled()
    reg_timeout.setText("۶۰۰")  # Persian digits
    assert dialog.ok_button.isEnabled()
    assert dialog.save()

    reloaded = load_settings(settings.path)
    assert reloaded.get("phone.options")["lines"] == [
        {"label": "Office", "registrar": "sip:pbx.example.com", "user": "1001"},
        {
            "label": "Home",
            "registrar": "voip.example.net:5080",
            "user": "2002",
            "transport": "tcp",
            "reg_timeout": 600,
        },
    ]
    assert reloaded.get("phone.default_line") == "2002@voip.example.net:5080"
    assert memory_keyring.store == {
        ("callsys", "sip/1001@pbx.example.com"): "office-pw",
        ("callsys", "sip/2002@voip.example.net"): "home-pw",
    }
    text = (settings.path or Path()).read_text(encoding="utf-8")
    assert "office-pw" not in text and "home-pw" not in text

    again = dialog_for(qtbot, reloaded)  # the saved lines are in the list again, not in the TOML
    assert [plain(again.sip_lines.list.item(i).text()) for i in range(again.sip_lines.list.count())] == [
        "Office",
        "Home (default)",
    ]
    options = again.fields["phone.options"].widget
    assert isinstance(options, QPlainTextEdit) and "lines" not in options.toPlainText()
    assert again.sip_lines.editors["password"].placeholderText().startswith("Stored in the system keyring")
    again.sip_lines.list.setCurrentRow(0)
    qtbot.mouseClick(again.sip_lines.remove_button, qtbot_left())
    assert again.save()
    assert [line["label"] for line in load_settings(settings.path).get("phone.options")["lines"]] == ["Home"]


def test_a_line_s_srtp_is_chosen_from_a_list_and_saved(
    qtbot: Any, settings: Settings, language: Language, memory_keyring: MemoryKeyring
) -> None:
    """A line's encrypted audio (``srtp``) and pjsua's secure-signalling rule are lists of
    choices in the line editor, saved as the options' values; the defaults are not written."""
    dialog = dialog_for(qtbot, settings)
    choose(dialog, "phone.provider", "sip")
    add_line(qtbot, dialog, label="Office", registrar="sip:pbx.example.com", user="1001")
    editor = dialog.sip_lines
    srtp, secure = editor.editors["srtp"], editor.editors["srtp_secure_signaling"]
    assert isinstance(srtp, QComboBox) and isinstance(secure, QComboBox)
    assert srtp.currentData() == "off" and secure.currentData() == 0
    assert [srtp.itemData(i) for i in range(srtp.count())] == ["off", "optional", "mandatory"]
    srtp.setCurrentIndex(srtp.findData("mandatory"))
    secure.setCurrentIndex(secure.findData(1))
    assert editor.error.isHidden() and dialog.ok_button.isEnabled()
    add_line(qtbot, dialog, label="Home", registrar="sip:voip.example.net", user="2002")
    assert dialog.save()
    assert load_settings(settings.path).get("phone.options")["lines"] == [
        {"label": "Office", "registrar": "sip:pbx.example.com", "user": "1001", "srtp": "mandatory",
         "srtp_secure_signaling": 1},
        {"label": "Home", "registrar": "sip:voip.example.net", "user": "2002"},
    ]  # fmt: skip
    again = dialog_for(qtbot, load_settings(settings.path))
    again.sip_lines.list.setCurrentRow(0)
    assert again.sip_lines.editors["srtp"].currentData() == "mandatory"  # type: ignore[attr-defined]
    assert again.sip_lines.editors["srtp_secure_signaling"].currentData() == 1  # type: ignore[attr-defined]


def test_lines_typed_into_the_options_are_refused_and_move_with_the_provider(
    qtbot: Any, settings: Settings, language: Language
) -> None:
    dialog = dialog_for(qtbot, settings)
    options = dialog.fields["phone.options"].widget
    assert isinstance(options, QPlainTextEdit)
    choose(dialog, "phone.provider", "ami")
    options.setPlainText('host = "10.0.0.5"\n\n[[lines]]\nid = "7000"\nuser = "7000"\n')
    assert dialog.ok_button.isEnabled()  # AMI has lines of its own, in its options
    choose(dialog, "phone.provider", "sip")  # the lines move into the list
    assert dialog.sip_lines.list.count() == 1 and "lines" not in options.toPlainText()
    assert "host" not in options.toPlainText()  # an AMI option: set aside, not carried to the softphone
    options.setPlainText(options.toPlainText() + '\n[[lines]]\nuser = "1"\n')
    assert "edited in the list below" in dialog.fields["phone.options"].error.text()
    assert not dialog.ok_button.isEnabled()


# ---------------------------------------------------------------------------- SIP line passwords
SIP_FILE = """[phone]
provider = "sip"

[[phone.options.lines]]
label = "Office"
registrar = "sip:pbx.example.com"
user = "1001"

[[phone.options.lines]]
label = "Support"
registrar = "sip:pbx.example.com"
user = "1002"
"""
OFFICE, SUPPORT = ("callsys", "sip/1001@pbx.example.com"), ("callsys", "sip/1002@pbx.example.com")


def _sip_dialog(qtbot: Any, path: Path) -> Any:
    from callsys.settings import load_settings

    from ui.settingsdialog import SettingsDialog

    dialog = SettingsDialog(load_settings(path), registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_removed_sip_lines_password_leaves_the_keyring_on_save_only(
    qtbot: Any, tmp_path: Path, language: Any, memory_keyring: Any
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(SIP_FILE, encoding="utf-8")
    memory_keyring.store.update({OFFICE: "office-pw", SUPPORT: "support-pw"})
    dialog = _sip_dialog(qtbot, path)
    dialog.sip_lines.list.setCurrentRow(1)
    dialog.sip_lines.remove_button.click()
    dialog.sip_lines.list.setCurrentRow(0)
    dialog.sip_lines.editors["label"].setText("Front desk")
    dialog.sip_lines.editors["password"].setText("typed-but-cancelled")
    dialog.reject()  # Cancel: nothing happened
    assert path.read_text(encoding="utf-8") == SIP_FILE
    assert memory_keyring.store == {OFFICE: "office-pw", SUPPORT: "support-pw"}

    dialog = _sip_dialog(qtbot, path)
    dialog.sip_lines.list.setCurrentRow(1)
    dialog.sip_lines.remove_button.click()
    assert dialog.save()
    assert memory_keyring.store == {OFFICE: "office-pw"}  # no line uses 1002's password any more


def test_a_password_is_kept_while_another_line_uses_it_and_follows_a_moved_line(
    qtbot: Any, tmp_path: Path, language: Any, memory_keyring: Any
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(SIP_FILE.replace('"1002"', '"1001"\nid = "second"'), encoding="utf-8")
    memory_keyring.store.update({OFFICE: "office-pw"})
    dialog = _sip_dialog(qtbot, path)
    dialog.sip_lines.list.setCurrentRow(1)
    dialog.sip_lines.remove_button.click()
    assert dialog.save()
    assert memory_keyring.store == {OFFICE: "office-pw"}  # the other line still registers with it

    # The PBX moves: same account, new registrar — its password moves with it (nothing to retype).
    dialog = _sip_dialog(qtbot, path)
    dialog.sip_lines.list.setCurrentRow(0)
    registrar = dialog.sip_lines.editors["registrar"]
    registrar.setText("sip:pbx2.example.com")
    assert dialog.save()
    assert memory_keyring.store == {("callsys", "sip/1001@pbx2.example.com"): "office-pw"}


def test_removing_the_default_sip_line_clears_the_default(
    qtbot: Any, tmp_path: Path, language: Any, memory_keyring: Any
) -> None:
    """OK stayed off with "The default line … is not one of the lines." until the admin found and
    emptied the default line field on their own — removing the line marked default unmarks it."""
    path = tmp_path / "settings.toml"
    path.write_text(
        SIP_FILE.replace('provider = "sip"', 'provider = "sip"\ndefault_line = "1002@pbx.example.com"')
    )
    dialog = _sip_dialog(qtbot, path)
    editor = dialog.sip_lines
    assert plain(editor.list.item(1).text()) == "Support (default)"
    editor.list.setCurrentRow(1)
    editor.remove_button.click()
    assert dialog.fields["phone.default_line"].widget.text() == ""
    assert editor.error.isHidden() and dialog.ok_button.isEnabled()
    assert dialog.save()
    from callsys.settings import load_settings

    assert load_settings(path).get("phone.default_line") == ""


def test_test_connection_reports_the_phone_system_in_words(
    qtbot: Any, settings: Settings, language: Language, aio: asyncio.AbstractEventLoop
) -> None:
    dialog = dialog_for(qtbot, settings)
    qtbot.mouseClick(dialog.phone_test, qtbot_left())
    qtbot.waitUntil(lambda: dialog.phone_result.text().startswith("✔"), timeout=3000)
    assert dialog.phone_result.text() == "✔ Connected to the phone system. Lines: Sales, Support."

    class Refused(SimulatedProvider):
        async def start(self, listener: Any) -> None:
            listener.status_changed(
                ProviderStatus(
                    "sip",
                    Registration.OFFLINE,
                    lines=(Line("office", "Office", Registration.OFFLINE, "401 Unauthorized"),),
                )
            )

    def unreachable(options: Mapping[str, Any]) -> Any:
        raise ProviderUnavailable("Cannot reach 10.0.0.5:5038 (connection refused).")

    registry = ProviderRegistry()
    registry.register("sim", Refused)
    registry.register("ami", unreachable)
    dialog = dialog_for(qtbot, settings, registry=registry)
    dialog.phone_test.click()
    qtbot.waitUntil(lambda: dialog.phone_result.text().startswith("✖"), timeout=3000)
    assert dialog.phone_result.text() == (
        "✖ The phone system did not accept the connection: Office: 401 Unauthorized"
    )
    assert dialog.phone_test.isEnabled()
    choose(dialog, "phone.provider", "ami")  # the check uses what is typed, unsaved
    dialog.phone_test.click()
    qtbot.waitUntil(lambda: "connection refused" in dialog.phone_result.text(), timeout=3000)


def test_the_running_softphone_is_not_started_twice_for_a_test(
    qtbot: Any, settings: Settings, language: Language, aio: asyncio.AbstractEventLoop
) -> None:
    started: list[str] = []

    def sip(options: Mapping[str, Any]) -> Any:
        started.append("sip")
        return SimulatedProvider({"speed": 0})

    registry = ProviderRegistry()
    registry.register("sip", sip)
    window = QWidget()
    qtbot.addWidget(window)
    # The window's session: its registry (no other is given), its settings, a softphone running.
    session = CallSession.for_plan(NumberPlan(), registry=registry, settings=settings)
    session.provider = SimpleNamespace(name="sip")  # type: ignore[assignment]
    dialog = SettingsDialog(settings, window, session=session)  # owned by the window, closed with it
    choose(dialog, "phone.provider", "sip")
    dialog.phone_test.click()
    qtbot.waitUntil(lambda: dialog.phone_result.text().startswith("✖"), timeout=3000)
    assert "only one can run at a time" in dialog.phone_result.text()
    assert started == []  # pjsua2 allows one softphone per process


def test_test_connection_for_the_crm_uses_the_typed_secret_and_says_why_it_failed(
    qtbot: Any, settings: Settings, language: Language, aio: asyncio.AbstractEventLoop
) -> None:
    dialog = dialog_for(qtbot, settings)
    dialog.crm_test.click()
    qtbot.waitUntil(lambda: bool(dialog.crm_result.text().startswith("✔")), timeout=3000)
    assert dialog.crm_result.text() == "✔ The built-in directory needs no connection."

    seen: list[tuple[str, str | None]] = []

    async def refuse(edited: Settings) -> str:
        from callsys.secrets import get_secret

        seen.append((edited.get("crm.url"), get_secret(DYNAMICS_SECRET)))
        raise AuthError("The sign-in was refused (AADSTS7000215: invalid client secret).")

    dialog = dialog_for(qtbot, settings, crm_check=refuse)
    choose(dialog, "crm.backend", "dynamics")
    url = dialog.fields["crm.url"].widget
    assert isinstance(url, QLineEdit)
    url.setText("https://contoso.crm4.dynamics.com")
    dialog.crm_secret.setText("typed-not-saved")
    dialog.crm_test.click()
    qtbot.waitUntil(lambda: dialog.crm_result.text().startswith("✖"), timeout=3000)
    assert dialog.crm_result.text() == "✖ The sign-in was refused (AADSTS7000215: invalid client secret)."
    assert seen == [("https://contoso.crm4.dynamics.com", "typed-not-saved")]
    from callsys.secrets import get_secret

    assert get_secret(DYNAMICS_SECRET) is None  # testing did not store it


def test_test_connection_signs_in_to_dynamics_through_the_dataverse_fake(
    qtbot: Any,
    settings: Settings,
    language: Language,
    aio: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.dataverse_fake import ORG, DataverseFake

    from ui.settingsdialog import check_crm

    fake = DataverseFake()
    dialog = dialog_for(qtbot, settings, crm_check=lambda s: check_crm(s, transport=fake.transport()))
    choose(dialog, "crm.backend", "dynamics")
    choose(dialog, "crm.auth", "env")
    url = dialog.fields["crm.url"].widget
    assert isinstance(url, QLineEdit)
    url.setText(ORG)
    monkeypatch.setenv("CALLSYS_CRM_TOKEN", fake.issue_token())
    dialog.crm_test.click()
    qtbot.waitUntil(
        lambda: dialog.crm_result.text()[:1] in "✔✖" and dialog.crm_result.text() != "", timeout=5000
    )
    assert dialog.crm_result.text() == f"✔ Connected to Dynamics 365 (user {fake.default_user})."

    monkeypatch.setenv("CALLSYS_CRM_TOKEN", "tok-not-issued")
    dialog.crm_test.click()
    qtbot.waitUntil(lambda: dialog.crm_result.text().startswith("✖"), timeout=5000)
    assert dialog.crm_result.text().startswith("✖ WhoAmI: Dynamics 365 refused the sign-in")


def test_keyboard_and_persian(qtbot: Any, settings: Settings, language: Language) -> None:
    language.apply("fa")
    dialog = dialog_for(qtbot, settings)
    assert dialog.layoutDirection().name == "RightToLeft"
    assert dialog.tabs.tabText(0) == group_title("phone").replace("&", "&&") != "Phone && lines"
    assert dialog.windowTitle() != "Settings"
    interactive = [
        w
        for w in dialog.findChildren(QWidget)
        if isinstance(w, QLineEdit | QComboBox | QCheckBox | QPlainTextEdit) and w.objectName()
    ]
    assert len(interactive) >= len([o for o in OPTIONS.values() if o.group != "daemon"])
    for widget in interactive:
        assert widget.accessibleName(), widget.objectName()
        assert widget.focusPolicy().value & 0x1, widget.objectName()  # reachable with Tab
    # Persian titles come from the translated setting titles.
    assert (
        dialog.fields["logging.min_log_digits"].widget.accessibleName()
        != OPTIONS["logging.min_log_digits"].title
    )


def test_every_settings_tab_is_in_sight_in_persian_even_with_warnings(
    qtbot: Any, tmp_path: Path, language: Any
) -> None:
    """At its default size the Persian dialog hid its last tabs behind scroll arrows (more so once
    a tab gets its ⚠): "Advanced" was out of sight. The dialog is as wide as its tabs instead."""
    language.apply("fa")
    path = tmp_path / "settings.toml"
    path.write_text('[phone]\nprovider = "sim"\n', encoding="utf-8")
    dialog = _sip_dialog(qtbot, path)
    dialog.fields["numbers.region"].widget.setText("?")  # ⚠ on a tab
    dialog.fields["hotkeys.answer"].widget.setKeySequence("Ctrl+L")  # ⚠ on another (a clash)
    qtbot.wait(50)
    bar = dialog.tabs.tabBar()
    assert sum(t.startswith("⚠") for t in map(dialog.tabs.tabText, range(dialog.tabs.count()))) == 2
    for at in range(bar.count()):
        rect = bar.tabRect(at)
        assert rect.left() >= 0 and rect.right() <= bar.width(), dialog.tabs.tabText(at)


def qtbot_left() -> Any:
    from ui.qt import Qt

    return Qt.MouseButton.LeftButton


def test_the_passwords_saved_here_reach_the_phone_connection(
    qtbot: Any, settings: Settings, language: Language, memory_keyring: MemoryKeyring
) -> None:
    from ui.desktop import compose

    dialog = dialog_for(qtbot, settings)
    choose(dialog, "phone.provider", "sip")
    add_line(qtbot, dialog, id="office", registrar="sip:pbx.example.com", user="1001", password="office-pw")
    add_line(qtbot, dialog, id="direct", user="callsys")
    assert not dialog.sip_lines.editors["password"].isEnabled()  # a direct line does not register
    assert dialog.save()

    created: list[dict[str, Any]] = []

    def factory(opts: Mapping[str, Any]) -> Any:
        created.append(dict(opts))
        return SimulatedProvider({"speed": 0})

    registry = ProviderRegistry()
    registry.register("sip", factory)
    registry.register("ami", factory)
    reloaded = load_settings(settings.path)
    reloaded.set("storage.database", ":memory:")
    desktop = compose(reloaded, registry)
    assert created[-1]["lines"] == [
        {"id": "office", "registrar": "sip:pbx.example.com", "user": "1001", "password": "office-pw"},
        {"id": "direct", "user": "callsys"},  # no registrar: no password
    ]
    memory_keyring.store[("callsys", "ami/admin@10.0.0.5")] = "ami-pw"
    reloaded.set("phone.options", {"host": "10.0.0.5", "username": "admin"})
    desktop.create_provider("ami")
    assert created[-1].pop("number_plan") is desktop.plan  # the configured plan travels along
    assert created[-1] == {"host": "10.0.0.5", "username": "admin", "secret": "ami-pw"}
    assert "office-pw" not in (settings.path or Path()).read_text(encoding="utf-8")
    if desktop.db is not None:
        desktop.db.conn.close()


def test_typing_does_not_ask_the_keyring_on_every_key(
    qtbot: Any,
    settings: Settings,
    language: Language,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    real = memory_keyring.get_password

    def counting(service: str, username: str) -> str | None:
        asked.append(username)
        return real(service, username)

    monkeypatch.setattr(memory_keyring, "get_password", counting)
    dialog = dialog_for(qtbot, settings)
    choose(dialog, "phone.provider", "ami")
    options = dialog.fields["phone.options"].widget
    assert isinstance(options, QPlainTextEdit)
    options.setPlainText('host = "10.0.0.5"\nusername = "callsys"\n')
    before = len(asked)
    qtbot.keyClicks(dialog.fields["crm.tenant"].widget, "contoso.onmicrosoft.com")
    assert len(asked) == before  # 23 key presses, no keyring call


def test_test_connection_on_a_direct_line_says_where_the_phone_listens(
    qtbot: Any, tmp_path: Path, language: Language, aio: asyncio.AbstractEventLoop
) -> None:
    """A direct SIP line has no registrar to accept it: the test binds the real softphone where
    the settings say and reports that (it said "did not accept the connection: Direct: offline
    (not started)", the status the test connection reported while it was being closed)."""
    path = tmp_path / "settings.toml"
    path.write_text(
        '[phone]\nprovider = "sip"\n[phone.options]\nlisten_host = "127.0.0.1"\nlisten_port = 0\n'
        '[phone.options.audio]\nmode = "none"\n',
        encoding="utf-8",
    )
    dialog = dialog_for(qtbot, load_settings(path))
    dialog.phone_test.click()
    qtbot.waitUntil(lambda: dialog.phone_result.text()[:1] in "✔✖", timeout=10000)
    said = plain(dialog.phone_result.text())
    assert re.fullmatch(
        r"✔ “Direct” is a direct line: it needs no registrar, and the phone takes its calls on "
        r"127\.0\.0\.1:\d+\.",
        said,
    ), said

    # With the softphone already running these options, it answers itself (one per process).
    window = QWidget()
    qtbot.addWidget(window)
    running = SimpleNamespace(
        name="sip", lines=lambda: (Line("direct", "Direct", Registration.ONLINE, "direct on 0.0.0.0:5060"),)
    )
    session = CallSession.for_plan(NumberPlan(), registry=REGISTRY, settings=load_settings(path))
    session.provider = running  # type: ignore[assignment]
    dialog = SettingsDialog(load_settings(path), window, session=session)
    dialog.phone_test.click()
    qtbot.waitUntil(lambda: dialog.phone_result.text()[:1] in "✔✖", timeout=3000)
    assert plain(dialog.phone_result.text()) == (
        "✔ “Direct” is a direct line: it needs no registrar, and the phone takes its calls on 0.0.0.0:5060."
    )
