"""CARD6 (keyboard use): Tab moves on from the call log and the contacts list. Both pick whole
rows; with Qt's default Tab walked cell by cell inside them and never left — a keyboard trap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.ui.conftest import SARA
from tests.ui.helpers import UNKNOWN, answered, missed

from ui.mainwindow import MainWindow
from ui.qt import QApplication, Qt


def _tab_leaves(widget: Any, qtbot: Any) -> None:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus)
    for _ in range(3):  # more than enough to leave a row of cells
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert not widget.hasFocus()


def test_tab_leaves_the_call_log(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    missed(window, qtbot, UNKNOWN)
    window.activateWindow()
    window.log_view.setCurrentIndex(window.log_proxy.index(0, 0))
    _tab_leaves(window.log_view, qtbot)


def test_tab_leaves_the_contacts_list(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    contacts = window.show_contacts()
    qtbot.waitUntil(lambda: contacts.model.rowCount() > 0)
    window.activateWindow()
    contacts.table.setCurrentIndex(contacts.model.index(0, 0))
    _tab_leaves(contacts.table, qtbot)


def test_tab_reaches_the_missed_badge_between_the_call_button_and_the_log(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    missed(window, qtbot, UNKNOWN)
    qtbot.waitUntil(window.missed_badge.isVisible)
    window.activateWindow()
    window.dial_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(window.dial_edit.hasFocus)
    order = []
    for _ in range(8):
        order.append(QApplication.focusWidget().objectName())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    start = order.index("dialEdit")
    walk = order[start:] + order[:start]
    assert walk.index("dialButton") < walk.index("missedBadge") < walk.index("logFilter"), walk


def _walk(window: MainWindow, qtbot: Any, start: Any, steps: int) -> list[str]:
    window.activateWindow()
    start.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(start.hasFocus)
    order = []
    for _ in range(steps):
        order.append(QApplication.focusWidget().objectName())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    return order


def test_tab_goes_through_the_call_in_progress_before_the_log_and_out_of_the_notes(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    missed(window, qtbot, UNKNOWN)
    answered(window, qtbot, SARA)
    qtbot.waitUntil(lambda: window.call_panel.isVisible() and window.notes.isVisible())
    order = _walk(window, qtbot, window.dial_edit, 14)
    assert order.index("dialButton") < order.index("holdButton") < order.index("hangupButton"), order
    assert order.index("hangupButton") < order.index("missedBadge") < order.index("logView"), order
    notes = _walk(window, qtbot, window.notes.text, 3)
    assert notes[1] != "notesText", notes  # Tab moved on instead of typing a tab into the notes
    assert "\t" not in window.notes.text.toPlainText()
