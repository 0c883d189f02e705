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
from tests.ui.helpers import answered, ring

from ui.mainwindow import MainWindow
from ui.qt import QLabel, QTimer


def test_each_popup_shows_the_wait_and_the_longest_is_first(
    make_window: Callable[..., MainWindow], qtbot: Any, monkeypatch: Any
) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    first = ring(window, qtbot, REZA)
    second = ring(window, qtbot, ACME)
    rang_first, rang_second = window.popups.popup(first), window.popups.popup(second)
    assert rang_first is not None and rang_second is not None
    # the caller who rang second has waited longer (a queue can hand calls over in any order):
    # 65 s against 7 s, so the order of the pop-ups is the order of waiting, not of ringing
    now = datetime.now(UTC)
    rang_first.call = rang_first.call.evolve(started_at=now - timedelta(seconds=7))
    rang_second.call = rang_second.call.evolve(started_at=now - timedelta(seconds=65))
    window._tick()  # the window's one-second clock
    assert rang_second.waited_label.text() == "1:05"
    assert rang_first.waited_label.text() == "0:07"
    assert rang_second.waited_label.accessibleName() == "Waiting for 1:05"
    window.popups.relayout()
    assert window.popups.popups() == [rang_second, rang_first]
    assert rang_second.longest_label.isVisible() and rang_second.longest_label.text() == "Waiting longest"
    assert not rang_first.longest_label.isVisible()
    assert rang_second.y() > rang_first.y()  # in the corner: the bottom of the stack
    # the panel beside the current call: the callers in the order they began to wait (the
    # CallManager's start times, which the pop-ups' copies above do not change), with the time
    panel = window.call_panel
    assert [c.id for c in panel.others()] == [first, second]
    label = panel.other_rows[first].findChild(QLabel, "otherLabel")
    assert re.search(r"Waiting \d:\d\d", label.text())
    # the longest-waiting caller gives up: the other is alone and not marked
    window.simulator.remote_hangup(second, EndReason.CANCELLED)
    qtbot.waitUntil(lambda: window.popups.popup(second) is None)
    assert not rang_first.longest_label.isVisible()


def test_one_clock_ticks_every_popup(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    for number in (REZA, ACME, "+989350001122"):
        ring(window, qtbot, number)
    timers = [t for p in window.popups.popups() for t in p.findChildren(QTimer)]
    assert timers == []  # no timer per pop-up
    assert window._clock.isActive() and window._clock.interval() == 1000
    popups = window.popups.popups()
    assert all(p.waited_label.text().startswith("0:0") for p in popups)
    now = datetime.now(UTC)
    for n, popup in enumerate(popups):  # time passes: they rang 2, 3 and 4 minutes ago
        popup.call = popup.call.evolve(started_at=now - timedelta(minutes=2 + n))
    window._tick()
    assert sorted(p.waited_label.text() for p in popups) == ["2:00", "3:00", "4:00"]
