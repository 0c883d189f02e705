"""``python -m callsys`` with a read-only probe: what the journeys start instead of the bare command.

    python tests/journeys/launch.py [callsys arguments]      (CALLSYS_PROBE_DIR=DIR)

It runs the ``callsys`` launcher as ``python -m callsys`` does (``runpy``), in the same process, after one
hook: when the QApplication exists, a 50 ms timer looks for ``DIR/ask``; for each question it
writes ``DIR/answer.json`` with what is on the screen — the visible windows with their titles
and screen rectangles, the visible named widgets inside them (rectangle, text, checked, enabled),
the menus and their items, the rows of the call log as the view shows them, and the widget with
the focus. The probe never clicks, types or calls into the app: the journeys drive it with real
X input (xdotool); the probe only tells them where a widget is and what the window shows.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROBE_ENV = "CALLSYS_PROBE_DIR"


def _rect(widget: Any) -> list[int]:
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def _text(widget: Any) -> str | None:
    for name in ("text", "toPlainText", "currentText", "title"):
        getter = getattr(widget, name, None)
        if callable(getter):
            try:
                value = getter()
            except TypeError:
                continue
            if isinstance(value, str):
                return value
    return None


def _menu(menu: Any, rect_of: Any) -> list[dict[str, Any]]:
    items = []
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():
            continue
        geometry = rect_of(action)
        origin = menu.mapToGlobal(geometry.topLeft())
        items.append(
            {
                "text": action.text(),
                "name": action.objectName(),
                "checked": action.isChecked(),
                "enabled": action.isEnabled(),
                "rect": [origin.x(), origin.y(), geometry.width(), geometry.height()],
            }
        )
    return items


def snapshot() -> dict[str, Any]:
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QAbstractButton, QApplication, QMenu, QMenuBar, QWidget

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    windows = []
    main: Any = None
    for top in QApplication.topLevelWidgets():
        if top.objectName() == "mainWindow":
            main = top
        if not top.isVisible():
            continue
        entry: dict[str, Any] = {
            "class": type(top).__name__,
            "name": top.objectName(),
            "title": top.windowTitle(),
            "rect": _rect(top),
            "modal": top.isModal(),
            "widgets": {},
        }
        if isinstance(top, QMenu):
            entry["items"] = _menu(top, top.actionGeometry)
        for child in top.findChildren(QWidget):
            name = child.objectName()
            if not name or name.startswith("qt_") or not child.isVisible():
                continue
            info: dict[str, Any] = {"rect": _rect(child), "enabled": child.isEnabled()}
            text = _text(child)
            if text is not None:
                info["text"] = text
            if isinstance(child, QAbstractButton) and child.isCheckable():
                info["checked"] = child.isChecked()
            entry["widgets"].setdefault(name, info)  # the first of a name (pop-ups have one each)
        bars = top.findChildren(QMenuBar)
        if bars:
            entry["menubar"] = _menu(bars[0], bars[0].actionGeometry)
        windows.append(entry)
    answer: dict[str, Any] = {"pid": os.getpid(), "windows": windows}
    focus = QApplication.focusWidget()
    answer["focus"] = focus.objectName() if focus is not None else None
    if main is not None:
        proxy = main.log_view.model()
        view = main.log_view
        rows = []
        for row in range(proxy.rowCount()):
            cells = [
                str(proxy.data(proxy.index(row, column), Qt.ItemDataRole.DisplayRole) or "")
                for column in range(proxy.columnCount())
            ]
            rect = view.visualRect(proxy.index(row, 0))
            origin = view.viewport().mapToGlobal(rect.topLeft())
            rows.append(
                {"cells": cells, "rect": [origin.x(), origin.y(), view.viewport().width(), rect.height()]}
            )
        answer["log"] = rows
        answer["log_viewport"] = _rect(view.viewport())
        bar = main.statusBar()
        answer["status_message"] = bar.currentMessage() if bar is not None else ""
        answer["language"] = main.language.code
        answer["calendar"] = main.language.calendar
    return answer


def install(directory: Path) -> None:
    """Answer the journeys' questions from the GUI thread while the app runs."""
    from PyQt6.QtCore import QTimer

    import ui.app

    create = ui.app.create_application
    timers: list[Any] = []

    def answer() -> None:
        ask = directory / "ask"
        if not ask.exists():
            return
        ask.unlink()
        try:
            text = json.dumps(snapshot(), ensure_ascii=False)
        except Exception as exc:  # a half-built window: say so, the journey asks again
            text = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        partial = directory / "answer.json.part"
        partial.write_text(text, encoding="utf-8")
        partial.replace(directory / "answer.json")

    def create_application(argv: list[str] | None = None) -> Any:
        app = create(argv)
        if not timers:
            timer = QTimer(app)
            timer.timeout.connect(answer)
            timer.start(50)
            timers.append(timer)
        return app

    ui.app.create_application = create_application


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    probe = os.environ.get(PROBE_ENV)
    if probe:
        install(Path(probe))
    sys.argv = ["callsys", *sys.argv[1:]]
    runpy.run_module("callsys", run_name="__main__", alter_sys=True)
