"""Thread discipline (STYLE.md 4): core events from another thread reach the widgets only through
the bridge's queued signals, so every widget is still made and changed on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from callsys.model import CallEvent, Direction, PhoneNumber, ProviderEvent
from tests.ui.conftest import SARA

from ui.mainwindow import MainWindow
from ui.qt import QApplication, QtCore


def test_events_from_another_thread_are_shown_on_the_gui_thread(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    gui = QApplication.instance().thread()
    seen_in: list[Any] = []
    window.bridge.call_event.connect(lambda *_: seen_in.append(QtCore.QThread.currentThread()))

    def provider_thread() -> None:  # a SIP stack's own thread calling the listener directly
        window.desktop.manager.handle(
            ProviderEvent(
                CallEvent.INCOMING,
                "t-1",
                direction=Direction.INCOMING,
                remote=PhoneNumber(raw=SARA),
                line="Sales",
            ),
            provider="sim",
        )

    worker = threading.Thread(target=provider_thread)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: window.popups.popup("t-1") is not None)
    popup = window.popups.popup("t-1")
    assert popup.thread() is gui
    assert seen_in and all(thread is gui for thread in seen_in)
    assert "Sara Ahmadi" in popup.name_label.text()
