"""The window's parts: one action table keyed by the hotkey ids, the menus built from it; the call
panel and the tray never call into the window, the window connects what they ask for (CARD6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from callsys.model import Call, CallEvent, CallState, Direction, PhoneNumber
from callsys.provider import Capability
from callsys.settings import OPTIONS
from tests.ui.conftest import ACME, SARA
from tests.ui.helpers import answered

from ui import hotkeys
from ui.callpanel import CallPanel
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.mainwindow.actions import ACTIONS, ActionSpec, _rows
from ui.mainwindow.menus import MENUS
from ui.qt import QAction, QIcon, QKeySequence, QMenu, Qt, QWidget
from ui.tray import Tray

LEFT = Qt.MouseButton.LeftButton


def test_every_hotkey_id_has_exactly_one_action_in_the_table_and_back() -> None:
    keyed = [spec.id for spec in ACTIONS.values() if spec.hotkey]
    assert keyed == list(hotkeys.ACTIONS)  # each hotkey id once, no row keyed by another id
    for spec in ACTIONS.values():
        assert callable(getattr(MainWindow, spec.handler, None)), spec
        if spec.hotkey:
            assert spec.default_key == OPTIONS[f"hotkeys.{spec.id}"].default
            assert not QKeySequence(spec.default_key).isEmpty(), spec
        else:  # a row with no key of its own is not one of the hotkeys' settings either
            assert f"hotkeys.{spec.id}" not in OPTIONS and spec.default_key == ""
    placed = Counter(entry for entries in MENUS.values() for entry in entries if entry in ACTIONS)
    assert placed == Counter(ACTIONS.keys())  # every action in exactly one place of the menus
    with pytest.raises(ValueError, match="twice"):
        _rows(ActionSpec("answer", "answer_ringing"), ActionSpec("answer", "reject_ringing"))


def _menu_entries(menu: QMenu) -> list[QAction]:
    found = []
    for action in menu.actions():
        found.append(action)
        sub = action.menu()
        if sub is not None:
            found.extend(_menu_entries(sub))
    return found


def test_the_menus_hold_each_action_of_the_table_once(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    bar = window.menuBar()
    assert bar is not None
    entries = [a for top in bar.actions() if top.menu() is not None for a in _menu_entries(top.menu())]
    for action_id, spec in ACTIONS.items():
        action = window.window_actions[action_id]
        assert entries.count(action) == 1, action_id
        assert action.text() == spec.title() and action.isCheckable() == spec.checkable
        if spec.hotkey:  # the menu entry is the hotkey's own action, with its key
            assert action is window.hotkeys.actions[action_id]
            assert action.shortcut().toString() == spec.default_key


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
