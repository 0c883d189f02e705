"""Waiting callers (IN5): each pop-up shows how long its caller has waited, updated by the window's
one clock; the caller who has waited longest is in the corner and marked, and listed first in the
call panel."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from callsys.model import EndReason
from tests.ui.conftest import ACME, REZA, SARA
from tests.ui.test_window import answered, ring

from ui.mainwindow import MainWindow
from ui.qt import QLabel, QTimer


def test_each_popup_shows_the_wait_and_the_longest_is_first(
    make_window: Callable[..., MainWindow], qtbot: Any, monkeypatch: Any
) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    first = ring(window, qtbot, REZA)
    second = ring(window, qtbot, ACME)
    older, newer = window.popups.popup(first), window.popups.popup(second)
    assert older is not None and newer is not None
    # the callers rang 65 s and 7 s ago
    now = datetime.now(UTC)
    older.call = older.call.__class__(**{**_fields(older.call), "started_at": now - timedelta(seconds=65)})
    newer.call = newer.call.__class__(**{**_fields(newer.call), "started_at": now - timedelta(seconds=7)})
    window._tick()  # the window's one-second clock
    assert older.waited_label.text() == "1:05"
    assert newer.waited_label.text() == "0:07"
    assert older.waited_label.accessibleName() == "Waiting for 1:05"
    window.popups.relayout()
    assert window.popups.popups() == [older, newer]
    assert older.longest_label.isVisible() and older.longest_label.text() == "Waiting longest"
    assert not newer.longest_label.isVisible()
    assert older.y() > newer.y()  # in the corner: the bottom of the stack
    # the panel beside the current call: longest-waiting first, with the time
    panel = window.call_panel
    assert [c.id for c in panel.others()] == [first, second]
    label = panel.other_rows[first].findChild(QLabel, "otherLabel")
    assert re.search(r"Waiting \d:\d\d", label.text())
    # the newer caller gives up: the older is alone and no longer marked
    window.simulator.remote_hangup(second, EndReason.CANCELLED)
    qtbot.waitUntil(lambda: window.popups.popup(second) is None)
    assert not older.longest_label.isVisible()


def test_one_clock_ticks_every_popup(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    for number in (REZA, ACME, "+989350001122"):
        ring(window, qtbot, number)
    timers = [t for p in window.popups.popups() for t in p.findChildren(QTimer)]
    assert timers == []  # no timer per pop-up
    assert window._clock.isActive() and window._clock.interval() == 1000
    before = [p.waited_label.text() for p in window.popups.popups()]
    assert all(text.startswith("0:0") for text in before)


def _fields(call: Any) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(call, f.name) for f in fields(call)}
