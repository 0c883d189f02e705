"""Helpers for the window's tests: ring the simulator and wait until the window shows the call,
answer it, miss it, press a shortcut, read the call log's cells; walk a dialog with Tab and find
its unnamed controls and clashing mnemonics."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from callsys.model import Call, CallState, Direction, EndReason

from ui.calllogview import COLUMNS
from ui.mainwindow import MainWindow
from ui.qt import QApplication, QDialog, QLabel, Qt, QWidget

__all__ = [
    "CTRL_SHIFT",
    "UNKNOWN",
    "activate",
    "answered",
    "clashes",
    "in_order",
    "log_text",
    "missed",
    "missed_call",
    "mnemonic",
    "plain",
    "press",
    "ring",
    "tab_walk",
    "unnamed",
]

#: A number no record has.
UNKNOWN = "+982144556677"
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def plain(text: str) -> str:
    """*text* without the direction isolates and marks that keep it readable in either direction."""
    return re.sub("[\u2066-\u2069\u200e\u200f]", "", text)


def log_text(window: MainWindow, call_id: str, column: str) -> str:
    model = window.log_model
    for at, row in enumerate(model.rows()):
        if row.id == call_id:
            return str(model.data(model.index(at, COLUMNS.index(column))))
    raise AssertionError(f"call {call_id} not in the log")


def ring(window: MainWindow, qtbot: Any, number: str, name: str = "", **kw: Any) -> str:
    call_id = window.simulator.ring(number, name, **kw)
    qtbot.waitUntil(lambda: (p := window.popups.popup(call_id)) is not None and p._looked_up, timeout=3000)
    # the log row (and the call panel, the menus) follow the pop-up's first paint
    qtbot.waitUntil(lambda: any(row.id == call_id for row in window.log_model.rows()), timeout=3000)
    return call_id


def answered(window: MainWindow, qtbot: Any, number: str, name: str = "") -> str:
    """A call from *number* rung, answered and talking."""
    call_id = ring(window, qtbot, number, name)
    window.answer(call_id)
    qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)
    return call_id


def missed_call(window: MainWindow, number: str, name: str = "", call_id: str = "m1") -> str:
    plan = window.desktop.plan
    start = datetime.now(UTC) - timedelta(minutes=3)
    window.desktop.calllog.record(
        Call(
            id=call_id,
            direction=Direction.INCOMING,
            state=CallState.ENDED,
            started_at=start,
            remote=plan.parse(number),
            remote_name=name,
            line="Sales",
            ended_at=start + timedelta(seconds=20),
            end_reason=EndReason.MISSED,
        )
    )
    window.load_log()
    return call_id


def missed(window: MainWindow, qtbot: Any, number: str, name: str = "") -> str:
    call_id = ring(window, qtbot, number, name)
    window.simulator.remote_hangup(call_id, EndReason.MISSED)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    return call_id


def press(window: MainWindow, qtbot: Any, key: Qt.Key, modifiers: Any = CTRL_SHIFT) -> None:
    activate(window, qtbot)  # the offscreen platform may hand activation to a pop-up
    qtbot.keyClick(window, key, modifiers)


def activate(window: MainWindow, qtbot: Any) -> None:
    """Shortcuts go to the active window; make the main one active (pop-ups never take it)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def clashes(texts: Iterable[str]) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for text in texts:
        key = mnemonic(text)
        if key is not None:
            seen.setdefault(key, []).append(text)
    return {key: found for key, found in seen.items() if len(found) > 1}


def mnemonic(text: str) -> str | None:
    """The letter after a single "&" ("&&" is a shown ampersand), lower-cased."""
    found = re.search(r"&([^&\s])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def unnamed(root: QWidget) -> list[str]:
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy() is not None}
    missing = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
        if widget.accessibleName() or (isinstance(text, str) and text.strip("&")) or id(widget) in buddies:
            continue
        missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return missing


def in_order(seen: list[QWidget | None], widgets: list[QWidget]) -> bool:
    positions = [seen.index(w) if w in seen else -1 for w in widgets]
    return positions == sorted(positions)


def tab_walk(qtbot: Any, dialog: QDialog, start: QWidget, steps: int) -> list[QWidget | None]:
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    start.setFocus()
    seen = [QApplication.focusWidget()]
    for _ in range(steps):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen
