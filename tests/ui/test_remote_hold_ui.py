"""The call panel says when the other party has put the call on hold (issue #3) — driven through
the CallManager the way the SIP provider reports it (an UPDATED event with remote_hold)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callsys.model import CallEvent, CallState, ProviderEvent
from tests.ui.conftest import SARA
from tests.ui.helpers import ring

from ui.mainwindow import MainWindow
from ui.qt import Qt

HELD_BY_THEM = "Held by the other party"


def test_hold_by_the_other_party_shows_in_the_call_panel_and_goes_away(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, SARA)
    qtbot.mouseClick(window.popups.popup(call_id).answer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)
    panel = window.call_panel
    qtbot.waitUntil(lambda: panel.current_id == call_id)
    assert HELD_BY_THEM not in panel.current_title.text()
    call = window.desktop.manager.get(call_id)
    assert call is not None
    report = window.desktop.manager.listener(call.provider).call_event

    report(ProviderEvent(CallEvent.UPDATED, call_id, remote_hold=True))
    qtbot.waitUntil(lambda: HELD_BY_THEM in panel.current_title.text())
    assert panel.hold_button.text() == "Hold"  # their hold is not ours to resume
    assert window.desktop.manager.get(call_id).state is CallState.ACTIVE  # type: ignore[union-attr]

    report(ProviderEvent(CallEvent.UPDATED, call_id, remote_hold=False))
    qtbot.waitUntil(lambda: HELD_BY_THEM not in panel.current_title.text())
    window.simulator.remote_hangup(call_id)
