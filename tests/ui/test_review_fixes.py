"""Defects found reviewing the day's desktop features as an agent and an admin would: buttons that
follow what the phone connection can do while it runs (IN6), mnemonics that do not clash (CARD6,
IN11), the Convert dialog when the CRM's metadata cannot be read (IN11), SIP line passwords that
do not linger in the keyring (SET4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callsys.model import CallState
from callsys.provider import Capability
from providers import REGISTRY
from tests.dataverse_fake import DataverseFake
from tests.ui.conftest import REZA, SARA, make_settings
from tests.ui.helpers import UNKNOWN, answered, missed_call, press, ring
from tests.ui.test_convert import REGION, plain

from ui.mainwindow import MainWindow
from ui.qt import QPushButton

NO_VOICEMAIL = ["answer", "reject", "hangup", "hold"]


def test_open_popups_and_waiting_rows_follow_the_capabilities_while_running(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    """A callsys server says what its PBX link can do when it (re)connects: Voicemail appears on
    the pop-ups already open — and goes again when the connection can no longer do it."""
    options = {"speed": 0, "agent_script": False, "capabilities": NO_VOICEMAIL}
    window = make_window(make_settings(tmp_path, **{"phone.options": options}))
    sim = window.simulator
    talking = ring(window, qtbot, SARA)
    popup = window.popups.popup(talking)
    assert popup is not None and not popup.voicemail_button.isVisibleTo(popup)
    window.answer(talking)
    qtbot.waitUntil(lambda: sim.state(talking) is CallState.ACTIVE)
    waiting = ring(window, qtbot, REZA)
    popup = window.popups.popup(waiting)
    assert popup is not None and not popup.voicemail_button.isVisibleTo(popup)
    qtbot.waitUntil(lambda: waiting in window.call_panel.other_rows)
    row_button = window.call_panel.other_rows[waiting].findChild(QPushButton, "otherVoicemail")
    assert row_button is not None and not row_button.isVisibleTo(window.call_panel)

    sim._caps = sim._caps | {Capability.VOICEMAIL}
    sim._status()  # the connection reports again (a server's welcome after a reconnect)
    qtbot.waitUntil(lambda: popup.voicemail_button.isVisibleTo(popup))
    assert row_button.isVisibleTo(window.call_panel)

    sim._caps = frozenset(sim._caps - {Capability.VOICEMAIL, Capability.ANSWER})
    sim._status()
    qtbot.waitUntil(lambda: not popup.voicemail_button.isVisibleTo(popup))
    assert not popup.answer_button.isVisibleTo(popup)
    assert popup.number_label.toolTip() == ""  # the number no longer answers when clicked


# ---------------------------------------------------------------------------- Convert, metadata unreadable
@pytest.fixture
def fake() -> DataverseFake:
    return DataverseFake()


def _lead_dialog(qtbot: Any, dynamics: Any) -> Any:
    from callsys.crm.conversion import DynamicsBackend, Subject

    from ui.convert import ConvertDialog, _explained

    subject = Subject(dynamics.plan.parse("09121234567"), name="Lea Lang", company="Fabrikam")
    dialog = ConvertDialog(_explained(DynamicsBackend(dynamics)), subject, action="lead")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_convert_when_the_crm_could_not_say_what_it_requires_then_comes_back(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """The metadata read fails as the dialog opens (CRM offline): the dialog says so; when the CRM
    is back, Create first shows the field it requires instead of a refusal naming a field the
    dialog does not have."""
    fake.require("lead", REGION)
    fake.inject(503, method="GET", path="EntityDefinitions", times=10)
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(dialog.hint.isVisible, timeout=3000)
    assert "could not be read" in plain(dialog.hint.text())
    assert dialog.create_button.isEnabled()  # the agent may still try with what is known
    fake.faults.clear()  # the CRM is back
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "new_region" in dialog.extra_rows.get("lead", {}), timeout=3000)
    combo = dialog.extra_rows["lead"]["new_region"].widget
    assert combo.isVisible() and not dialog.create_button.isEnabled()
    assert plain(dialog.hint.text()) == "The CRM requires “Region” as well."
    assert "refused" not in dialog.message.text() and fake.count("lead") == 0
    combo.setCurrentIndex(combo.findText("North"))
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    lead = fake.find("lead", dialog.result_value.record_id)
    assert lead is not None and lead["new_region"] == 100000000


def test_convert_creates_with_the_known_fields_when_the_metadata_stays_unreadable(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """Only the metadata request is refused for the moment (throttled): the lead is still made with
    what the agent typed — the call is not lost — and the dialog said beforehand that the CRM's
    extra requirements were not known."""
    fake.inject(429, retry_after=30, method="GET", path="EntityDefinitions", times=10)
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(dialog.hint.isVisible, timeout=3000)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert fake.count("lead") == 1 and dialog.message.text().startswith("The lead was created.")


def test_a_throttled_create_is_explained_in_words(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(lambda: "lead" in dialog.extra_rows, timeout=3000)
    fake.inject(429, retry_after=30, method="POST", path="leads")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "nothing was created" in dialog.message.text(), timeout=5000)
    text = plain(dialog.message.text())
    assert text.startswith(
        "The CRM is busy (too many requests); nothing was created. Try again in 30 seconds."
    )
    assert fake.count("lead") == 0 and dialog.create_button.isEnabled()


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


# ---------------------------------------------------------------------------- global hotkeys
def test_a_global_key_for_a_field_of_the_window_brings_the_window_up(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """A global key (CARD6) for "Go to the number field" or "Call notes", pressed in another program:
    the key is useless unless the window comes up — hidden to the tray or minimised."""
    window = make_window()
    window.show()
    window.hide()  # closed to the tray
    window.hotkeys.global_keys.activated.emit("focus_dial")
    assert window.isVisible() and not window.isMinimized()
    assert window.focusWidget() is window.dial_edit
    window.showMinimized()
    window.hotkeys.global_keys.activated.emit("focus_search")
    assert window.isVisible() and not window.isMinimized()
    window.hide()
    window.hotkeys.global_keys.activated.emit("hold")  # a call action acts where the window is
    assert not window.isVisible()


# ---------------------------------------------------------------------------- hotkey fields
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


def test_the_count_of_other_calls_is_in_persian_digits_in_persian(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Any
) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    waiting = ring(window, qtbot, REZA)
    qtbot.waitUntil(lambda: waiting in window.call_panel.other_rows)
    window.set_language("fa")
    qtbot.waitUntil(lambda: "(۱)" in window.call_panel.others_title.text())
    window.set_language("en")
    qtbot.waitUntil(lambda: window.call_panel.others_title.text() == "Other calls (1)")


def test_convert_messages_keep_the_persian_reading_order(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """«CRM نپذیرفت: …» starts with a Latin word: without a direction mark Qt laid the Persian
    sentence out left-to-right, "CRM" at the wrong end and the link's words jumbled."""
    language.apply("fa")
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(lambda: "lead" in dialog.extra_rows, timeout=3000)
    fake.inject(400, method="POST", path="leads")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "نپذیرفت" in dialog.message.text(), timeout=5000)
    assert dialog.message.text().startswith("\u200f")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert dialog.message.text().startswith("\u200f")


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


def test_voicemail_is_offered_per_call_where_the_connection_says_which_can(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """With the softphone only some lines have a voicemail address: a pop-up and a waiting-call row
    offer Voicemail only for a call that can go there (``can_send_to_voicemail``, IN6)."""
    window = make_window()
    sim = window.simulator
    on_a_line_without = window.desktop.plan.parse(REZA)

    def can_send_to_voicemail(call_id: str) -> bool:
        call = window.desktop.manager.get(call_id)
        return call is not None and call.remote != on_a_line_without

    sim.can_send_to_voicemail = can_send_to_voicemail
    answered(window, qtbot, SARA)
    waiting = sim.ring(REZA, "")
    qtbot.waitUntil(
        lambda: window.popups.popup(waiting) is not None and waiting in window.call_panel.other_rows
    )
    popup = window.popups.popup(waiting)
    assert popup.reject_button.isVisibleTo(popup) and not popup.voicemail_button.isVisibleTo(popup)
    row_button = window.call_panel.other_rows[waiting].findChild(QPushButton, "otherVoicemail")
    assert row_button is not None and not row_button.isVisibleTo(window.call_panel)
    other = ring(window, qtbot, "+14155550100")
    popup = window.popups.popup(other)
    assert popup is not None and popup.voicemail_button.isVisibleTo(popup)


def test_the_voicemail_hotkey_leaves_a_call_that_cannot_go_there_ringing(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """Ctrl+Shift+J on a call whose line has no voicemail: said in words, nothing sent to the
    connection (the softphone answered with its technical "… (voicemail_uri)")."""

    from ui.qt import Qt

    window = make_window()
    sim = window.simulator
    sim.can_send_to_voicemail = lambda call_id: False
    call_id = ring(window, qtbot, SARA)
    press(window, qtbot, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: "cannot do that" in (window.statusBar().currentMessage() or ""))
    assert sim.state(call_id) is CallState.RINGING
    assert not [c for c in sim.commands if c[0] == "voicemail"]


def test_a_required_number_typed_wrong_is_named_as_such(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """ "12 staff" in a required whole-number field was reported as "The CRM requires “Employees”
    as well." — as if it were empty."""
    from tests.dataverse_fake import Column

    fake.require("lead", Column("new_staff", "Integer", "Employees"))
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(lambda: "new_staff" in dialog.extra_rows.get("lead", {}), timeout=3000)
    field = dialog.extra_rows["lead"]["new_staff"].widget
    assert plain(dialog.hint.text()) == "The CRM requires “Employees” as well."
    field.setText("12 staff")
    assert plain(dialog.hint.text()) == "“Employees” takes a whole number."
    assert not dialog.create_button.isEnabled()
    field.setText("۱۲")  # Persian digits
    assert dialog.hint.isHidden() and dialog.create_button.isEnabled()


def test_enter_in_the_convert_search_box_searches_and_creates_nothing(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Any
) -> None:
    """Enter in the search box also pressed Create: with a record already chosen, searching for
    another one added the number to the chosen one."""

    from ui.convert import open_convert
    from ui.qt import QApplication, Qt

    window = make_window()
    dialog = open_convert(window, missed_call(window, UNKNOWN, "PARS CO"), action="add_number")
    assert dialog is not None
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.search.setFocus()
    qtbot.keyClicks(dialog.search, "Sara")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.chosen_record() is not None)
    qtbot.keyClicks(dialog.search, " Ahmadi")  # the agent refines the search: Enter again
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.wait(300)
    assert dialog.result_value is None and dialog.isVisible()
    assert QApplication.focusWidget() is dialog.search
    qtbot.keyClick(dialog.create_button, Qt.Key.Key_Space)  # Create is a deliberate act
    qtbot.waitUntil(lambda: dialog.result_value is not None)
    dialog.close()
