"""Several INVITEs at once (IN3, IN5, IN9): each caller's pop-up is built once the one before it
is on screen, and the window's other work follows the paints in the order the calls came — the
log rows newest first, a caller who gave up meanwhile logged and without a pop-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callsys.model import CallState, EndReason
from tests.ui.conftest import ACME, REZA, SARA

from ui.mainwindow import MainWindow


def test_rings_at_once_all_show_and_are_logged_in_order(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    first, second, third = sim.ring(SARA), sim.ring(REZA), sim.ring(ACME)  # in one turn of the loop
    sim.remote_hangup(second, EndReason.CANCELLED)  # gave up before the window got to its pop-up
    keys = [window.desktop.log_key(call_id) for call_id in (third, second, first)]

    qtbot.waitUntil(lambda: [row.id for row in window.log_model.rows()][:3] == keys, timeout=10000)
    qtbot.waitUntil(lambda: sorted(p.call.id for p in window.popups.popups()) == sorted([first, third]))
    qtbot.waitUntil(lambda: all(p.on_screen for p in window.popups.popups()), timeout=10000)
    gave_up = window.log_model.find(keys[1])
    assert gave_up is not None and gave_up.state == CallState.ENDED.value and gave_up.missed
    assert [p.call.id for p in window.popups.popups()] == [first, third]  # the longest-waiting first

    window.answer(third)  # picked from its pop-up: everything that waited is done first
    qtbot.waitUntil(lambda: sim.state(third) is CallState.ACTIVE)
    qtbot.waitUntil(lambda: window.popups.popup(third) is None)
    assert window.popups.popup(first) is not None


def test_a_reused_pop_up_shows_the_next_unknown_caller(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """Pop-ups are kept for the next ring: the next caller's number, not the last one's."""
    window = make_window()
    sim = window.simulator
    numbers = ["+1 415 555 0171", "+1 415 555 0172"]  # in no directory
    for number in numbers:
        call_id = sim.ring(number)
        qtbot.waitUntil(
            lambda call_id=call_id: (p := window.popups.popup(call_id)) is not None and p.on_screen
        )
        popup = window.popups.popup(call_id)
        assert popup is not None
        digits = "".join(ch for ch in popup.number_label.text() if ch.isdigit())
        assert digits.endswith("4155550" + number[-3:])
        sim.remote_hangup(call_id, EndReason.CANCELLED)
        qtbot.waitUntil(lambda call_id=call_id: window.popups.popup(call_id) is None)
