"""Consult, transfer to the consulted party and conference from the call panel — by click and by
hotkey (CARD6), with the simulator; disabled with a tooltip that says why where the phone
connection cannot or nobody was consulted yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.model import CallState, EndReason
from tests.ui.conftest import ACME, SARA, make_settings
from tests.ui.helpers import answered, log_text, plain, press

from ui.hotkeys import action_title
from ui.mainwindow import MainWindow
from ui.qt import Qt

LEFT = Qt.MouseButton.LeftButton


def shown(text: str) -> str:
    """*text* without the direction marks and isolates that keep numbers left-to-right."""
    return "".join(ch for ch in text if ch not in "\u200e\u200f\u2066\u2067\u2068\u2069")


def consulting(window: MainWindow, qtbot: Any) -> tuple[str, str]:
    """Talking to Sara, then consulting Acme by the Consult… button: (Sara's call, Acme's)."""
    panel = window.call_panel
    first = answered(window, qtbot, SARA)
    qtbot.waitUntil(panel.consult_button.isEnabled)
    assert "transfer field" in panel.consult_button.toolTip()
    assert not panel.transfer_consulted_button.isEnabled()
    assert "Consult someone first" in panel.transfer_consulted_button.toolTip()
    assert not panel.conference_button.isEnabled()
    panel.transfer_edit.setText(ACME)
    qtbot.mouseClick(panel.consult_button, LEFT)
    qtbot.waitUntil(lambda: window.desktop.manager.consultation_of(first) is not None)
    consult = window.desktop.manager.consultation_of(first)
    assert consult is not None
    assert window.simulator.state(first) is CallState.HELD
    qtbot.waitUntil(
        lambda: window.simulator.state(consult.id) is CallState.ACTIVE
    )  # the consulted party answers
    qtbot.waitUntil(panel.transfer_consulted_button.isEnabled)
    assert panel.current_id == consult.id and "Consultation" in plain(panel.current_title.text())
    assert panel.transfer_edit.text() == ""
    return first, consult.id


def test_consult_then_transfer_by_click_is_logged(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    panel = window.call_panel
    first, consult = consulting(window, qtbot)
    assert not panel.consult_button.isEnabled()  # one consultation at a time
    assert "leave the call" in panel.transfer_consulted_button.toolTip()
    qtbot.mouseClick(panel.transfer_consulted_button, LEFT)
    qtbot.waitUntil(lambda: not window.desktop.manager.live_calls())
    assert ("transfer_to_call:" + consult, first) in window.simulator.commands
    dialled = next(
        name.split(":", 1)[1] for name, _ in window.simulator.commands if name.startswith("consult:")
    )
    qtbot.waitUntil(lambda: window.desktop.calllog.get(first).state is CallState.ENDED)  # type: ignore[union-attr]
    record = window.desktop.calllog.get(first)
    assert record is not None and record.transferred_to == dialled and record.result is EndReason.COMPLETED
    assert shown(log_text(window, first, "result")) == f"Answered · Transferred to {dialled}"


def test_conference_and_leaving_it_by_hotkeys(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    panel = window.call_panel
    for name, key in (
        ("consult", "Ctrl+Shift+C"),
        ("transfer_consulted", "Ctrl+Shift+T"),
        ("conference", "Ctrl+Shift+F"),
    ):
        action = window.hotkeys.actions[name]
        assert action.shortcut().toString() == key
        assert action in window.phone_menu.actions() and action.text() == action_title(name)
    first = answered(window, qtbot, SARA)
    press(window, qtbot, Qt.Key.Key_C)  # nothing typed yet: the field gets the focus
    assert window.desktop.manager.consultation_of(first) is None
    panel.transfer_edit.setText(ACME)
    press(window, qtbot, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: window.desktop.manager.consultation_of(first) is not None)
    consult = window.desktop.manager.consultation_of(first)
    assert consult is not None
    qtbot.waitUntil(lambda: window.simulator.state(consult.id) is CallState.ACTIVE)
    qtbot.waitUntil(panel.conference_button.isEnabled)
    press(window, qtbot, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: len(window.desktop.manager.conference_calls()) == 2)
    assert window.simulator.state(first) is CallState.ACTIVE  # off hold: all three talk
    qtbot.waitUntil(lambda: "Conference" in plain(panel.current_title.text()))
    assert not panel.conference_button.isEnabled() and "Already" in panel.conference_button.toolTip()
    assert "Leave the conference" in panel.transfer_consulted_button.toolTip()
    press(window, qtbot, Qt.Key.Key_T)  # leave: the two parties go on without the agent
    qtbot.waitUntil(lambda: not window.desktop.manager.live_calls())
    qtbot.waitUntil(lambda: window.desktop.calllog.get(first).state is CallState.ENDED)  # type: ignore[union-attr]
    record = window.desktop.calllog.get(first)
    assert record is not None and record.conference and record.transferred_to
    assert shown(log_text(window, consult.id, "result")) == "Answered · Conference"


def test_disabled_with_the_reason_where_the_phone_cannot(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    options = {
        "speed": 0,
        "agent_script": False,
        "capabilities": ["answer", "hangup", "hold", "transfer", "dial"],
    }
    window = make_window(make_settings(tmp_path, **{"phone.options": options}))
    panel = window.call_panel
    first = answered(window, qtbot, SARA)
    qtbot.waitUntil(lambda: panel.current_id == first)
    for button, words in (
        (panel.consult_button, "cannot hold a call to consult"),
        (panel.transfer_consulted_button, "cannot transfer a call to the party you consulted"),
        (panel.conference_button, "cannot join calls in a conference"),
    ):
        assert not button.isEnabled()
        assert words in button.toolTip()
    panel.transfer_edit.setText(ACME)
    press(window, qtbot, Qt.Key.Key_C)  # the hotkey asks nothing of the phone either
    assert not any(name.startswith("consult") for name, _ in window.simulator.commands)
