"""The window's parts talk to it through signals: the call panel and the tray never call into the
window, the window connects what they ask for (CARD6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from callsys.model import Call, CallEvent, CallState, Direction, PhoneNumber
from callsys.provider import Capability
from tests.ui.conftest import ACME, SARA
from tests.ui.helpers import answered

from ui.callpanel import CallPanel
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QIcon, Qt, QWidget
from ui.tray import Tray

LEFT = Qt.MouseButton.LeftButton


def _call(call_id: str, state: CallState) -> Call:
    now = datetime.now(UTC)
    return Call(
        id=call_id,
        direction=Direction.INCOMING,
        state=state,
        started_at=now,
        remote=PhoneNumber(raw=SARA, e164=SARA),
        answered_at=now if state is CallState.ACTIVE else None,
    )


def test_the_call_panel_works_without_a_window(qtbot: Any, language: Language) -> None:
    """Given only how to show a number and what a call can do, the panel asks by signals."""
    panel = CallPanel(lambda number: "021 8877 6655", lambda call: frozenset(Capability), language)
    qtbot.addWidget(panel)
    panel.set_capabilities(frozenset(Capability))
    panel.on_call(CallEvent.ANSWERED, _call("c1", CallState.ACTIVE), None)
    assert panel.current_id == "c1" and "021 8877 6655" in panel.current_detail.text()
    with qtbot.waitSignal(panel.hold_requested, timeout=10_000) as held:
        qtbot.mouseClick(panel.hold_button, LEFT)
    assert held.args == ["c1"]
    panel.transfer_edit.setText(ACME)
    with qtbot.waitSignal(panel.transfer_requested, timeout=10_000) as transfer:
        qtbot.mouseClick(panel.transfer_button, LEFT)
    assert transfer.args == ["c1", ACME]
    assert panel.transfer_edit.text() == ACME  # kept until the window says it was taken
    panel.target_taken(ACME)
    assert panel.transfer_edit.text() == ""
    with qtbot.waitSignal(panel.hangup_requested, timeout=10_000) as hangup:
        qtbot.mouseClick(panel.hangup_button, LEFT)
    assert hangup.args == ["c1"]


def test_the_call_panels_signals_reach_the_window(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    sim = window.simulator
    call_id = answered(window, qtbot, SARA)
    panel = window.call_panel
    panel.hold_requested.emit(call_id)  # as the Hold button does
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.HELD, timeout=30_000)
    panel.resume_requested.emit(call_id)
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE, timeout=30_000)
    panel.transfer_edit.setText("not a number at all")
    panel.transfer_requested.emit(call_id, "not a number at all")  # refused: the entry stays
    assert panel.transfer_edit.text() == "not a number at all"
    assert "not a number that can be dialled" in (window.statusBar().currentMessage() or "")
    panel.message.emit("a word from the panel")
    assert window.statusBar().currentMessage() == "a word from the panel"
    panel.hangup_requested.emit(call_id)
    qtbot.waitUntil(lambda: sim.state(call_id) is None, timeout=30_000)


def test_the_tray_asks_by_signals(qtbot: Any) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    tray = Tray(owner, QIcon(), str)
    with qtbot.waitSignal(tray.show_requested, timeout=10_000):
        tray.show_action.trigger()
    with qtbot.waitSignal(tray.quit_requested, timeout=10_000):
        tray.quit_action.trigger()
    tray.set_status(None, "Phone offline")
    assert tray.tooltip == "callsys — Phone offline"
    tray.hide()


def test_the_trays_signals_reach_the_window(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    window.showMinimized()
    window.tray.show_action.trigger()  # the tray menu's Show
    qtbot.waitUntil(lambda: window.isVisible() and not window.isMinimized(), timeout=30_000)
    assert window.dnd_action in window.tray.menu.actions()  # the window's own action, offered there
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    window.tray.quit_action.trigger()  # the tray menu's Quit
    assert closed == [True]
