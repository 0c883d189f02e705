"""IN6: the pop-up offers answer / reject / send to voicemail where the provider can — driven like
an agent would, with the SimulatedProvider: the Voicemail button, its hotkey (CARD6) and the call
panel's waiting-call row end the call as "sent to voicemail", close the pop-up and log it; a phone
connection without voicemail shows no such button."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.model import CallState, EndReason
from callsys.provider import Capability
from tests.ui.conftest import REZA, SARA, make_settings
from tests.ui.helpers import answered, log_text, press, ring

from ui.hotkeys import action_title
from ui.mainwindow import MainWindow
from ui.qt import QPushButton, Qt

LEFT = Qt.MouseButton.LeftButton


def test_voicemail_button_on_the_popup_sends_the_call_to_voicemail(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, REZA)
    popup = window.popups.popup(call_id)
    assert popup is not None and popup.voicemail_button.isVisible()
    assert popup.voicemail_button.text() == "Voicemail"
    assert popup.voicemail_button.accessibleName() == "Send the call to voicemail"
    qtbot.mouseClick(popup.voicemail_button, LEFT)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    assert ("voicemail", call_id) in window.simulator.commands
    assert window.simulator.state(call_id) is None
    qtbot.waitUntil(lambda: log_text(window, call_id, "result") == "Sent to voicemail")
    record = window.desktop.calllog.get(call_id)
    assert record.result is EndReason.VOICEMAIL and not record.missed  # the agent chose it
    assert window.log_model.unseen_missed == 0


def test_voicemail_hotkey_sends_the_ringing_call(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    action = window.hotkeys.actions["voicemail"]
    assert action.shortcut().toString() == "Ctrl+Shift+J"
    assert action in window.phone_menu.actions() and action.text() == action_title("voicemail")
    call_id = ring(window, qtbot, SARA)
    press(window, qtbot, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    assert ("voicemail", call_id) in window.simulator.commands
    qtbot.waitUntil(lambda: log_text(window, call_id, "result") == "Sent to voicemail")


def test_voicemail_hotkey_is_remappable(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(make_settings(tmp_path, **{"hotkeys.voicemail": "F8"}))
    assert window.hotkeys.actions["voicemail"].shortcut().toString() == "F8"
    call_id = ring(window, qtbot, SARA)
    press(window, qtbot, Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: ("voicemail", call_id) in window.simulator.commands)


def test_a_waiting_call_goes_to_voicemail_from_the_call_panel(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    talking = answered(window, qtbot, SARA)
    waiting = ring(window, qtbot, REZA)
    qtbot.waitUntil(lambda: waiting in window.call_panel.other_rows)
    button = window.call_panel.other_rows[waiting].findChild(QPushButton, "otherVoicemail")
    assert button is not None and button.isVisible() and button.text() == "Voicemail"
    qtbot.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: window.popups.popup(waiting) is None)
    assert ("voicemail", waiting) in sim.commands
    assert sim.state(talking) is CallState.ACTIVE  # the conversation goes on
    qtbot.waitUntil(lambda: log_text(window, waiting, "result") == "Sent to voicemail")


def test_no_voicemail_button_when_the_provider_cannot(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    options = {"speed": 0, "agent_script": False, "capabilities": ["answer", "reject", "hangup", "hold"]}
    window = make_window(make_settings(tmp_path, **{"phone.options": options}))
    assert Capability.VOICEMAIL not in window.capabilities()
    sim = window.simulator
    talking = ring(window, qtbot, SARA)
    popup = window.popups.popup(talking)
    assert popup is not None and popup.reject_button.isVisible()
    assert not popup.voicemail_button.isVisibleTo(popup)
    press(window, qtbot, Qt.Key.Key_J)  # the hotkey does nothing to the call either
    qtbot.waitUntil(lambda: "cannot do that" in (window.statusBar().currentMessage() or ""))
    assert sim.state(talking) is CallState.RINGING and window.popups.popup(talking) is not None
    window.answer(talking)
    qtbot.waitUntil(lambda: sim.state(talking) is CallState.ACTIVE)
    waiting = ring(window, qtbot, REZA)
    qtbot.waitUntil(lambda: waiting in window.call_panel.other_rows)
    button = window.call_panel.other_rows[waiting].findChild(QPushButton, "otherVoicemail")
    assert button is not None and not button.isVisibleTo(window.call_panel)
    assert not [c for c in sim.commands if c[0] == "voicemail"]


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
