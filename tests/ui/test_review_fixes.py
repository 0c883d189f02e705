"""Defects found reviewing the day's desktop features as an agent and an admin would: buttons that
follow what the phone connection can do while it runs (IN6), mnemonics that do not clash (CARD6,
IN11), the Convert dialog when the CRM's metadata cannot be read (IN11), SIP line passwords that
do not linger in the keyring (SET4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.model import CallState
from callsys.provider import Capability
from tests.ui.conftest import REZA, SARA, make_settings
from tests.ui.test_window import ring

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
