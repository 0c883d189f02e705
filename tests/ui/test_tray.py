"""Tray icon: status at a glance, a notification for a ringing call when the window is hidden,
close-to-tray without making the tray the only way back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ui.conftest import SARA, make_settings

from ui.mainwindow import MainWindow


def test_tray_shows_the_phone_status(make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = make_window()
    assert window.tray.tooltip.startswith("callsys — Phone ready")
    offline = make_window(make_settings(tmp_path / "other", **{"phone.provider": "nope"}))
    assert offline.tray.tooltip.startswith("callsys — Phone offline")


def test_a_ringing_call_is_notified_only_when_the_window_is_hidden(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    seen = sim.ring(SARA, "", line="Sales")
    qtbot.waitUntil(lambda: (p := window.popups.popup(seen)) is not None and p._looked_up)
    assert window.tray.last_notification is None  # the agent sees the window and the pop-up
    window.hide()
    hidden = sim.ring(SARA, "", line="Sales")
    qtbot.waitUntil(lambda: window.tray.last_notification is not None)
    assert window.tray.last_notification == ("Incoming call", "Sara Ahmadi — 021 8877 6655 — Sales")
    assert window.popups.popup(hidden) is not None  # the pop-up still shows, too
    window.tray.show_window()
    assert window.isVisible()


def test_close_to_tray_hides_and_quit_really_quits(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(make_settings(tmp_path, **{"ui.close_to_tray": True}))
    window.tray.available = True  # the offscreen platform has no tray; pretend there is one
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    window.close()
    assert not window.isVisible() and not closed  # still running, calls still pop up
    window.tray.show_window()
    assert window.isVisible()
    window.quit()
    assert closed == [True]


def test_without_a_tray_closing_quits(make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = make_window(make_settings(tmp_path, **{"ui.close_to_tray": True}))
    window.tray.available = False  # never strand the agent with no way back
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    window.close()
    assert closed == [True]


def test_closing_during_a_call_asks_first(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    sim = window.simulator
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    window.answer(call_id)
    qtbot.waitUntil(lambda: sim.state(call_id) is not None and sim.state(call_id).is_connected)
    asked: list[int] = []
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    window.ask_quit = lambda calls: asked.append(calls) or False  # the agent says "No"
    window.quit()
    assert asked == [1] and window.isVisible() and not closed  # still running, the call still up
    assert sim.state(call_id) is not None
    window.ask_quit = lambda calls: True
    window.quit()
    assert closed == [True]
