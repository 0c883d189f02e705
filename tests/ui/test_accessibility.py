"""Every control reachable by keyboard has a name a screen reader can say, and Tab walks the main
window in reading order (issue 6: accessible)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callsys.model import CallState
from tests.ui.conftest import REZA, SARA
from tests.ui.helpers import unnamed

from ui.mainwindow import MainWindow
from ui.qt import QApplication, Qt


def test_every_focusable_control_has_a_name(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    sim = window.simulator
    first = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(first) is not None)
    window.answer(first)
    qtbot.waitUntil(lambda: sim.state(first) is CallState.ACTIVE)
    waiting = sim.ring(REZA, "")
    qtbot.waitUntil(lambda: window.popups.popup(waiting) is not None)
    window.call_panel.keypad_button.click()
    window.show_contacts()  # the docks too: the contacts view and the dial pad
    window.show_dialpad()
    assert window.call_panel.isVisible() and window.notes.isVisible()
    assert unnamed(window) == []
    assert unnamed(window.popups.popup(waiting)) == []
    window.log_search.setAccessibleName("")  # the check really notices a nameless field
    assert unnamed(window) == ["QLineEdit 'logSearch'"]


def test_tab_walks_the_window_in_reading_order(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.dial_edit.setFocus()
    seen = [QApplication.focusWidget()]
    for _ in range(8):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    order = [
        w
        for w in (
            window.dial_edit,
            window.line_choice,
            window.dial_button,
            window.log_filter,
            window.log_search,
            window.log_view,
        )
        if w.isVisible()
    ]
    positions = [seen.index(w) for w in order]
    assert positions == sorted(positions), [w.objectName() for w in seen if w is not None]
