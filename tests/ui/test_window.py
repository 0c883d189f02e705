"""The first window, driven like an agent would: the SimulatedProvider rings, the LocalCrm (in a
temporary database) knows the callers, the test clicks (IN3, IN5, IN6, IN9, IN12, SET2, SET3,
SET4, B1, B2, B5, B6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from callsys.model import CallState, EndReason
from callsys.provider import Capability, ProviderRegistry
from providers import REGISTRY
from providers.sim import SimulatedProvider
from tests.ui.conftest import ACME, REZA, SARA, make_settings
from tests.ui.helpers import answered, log_text, ring

from ui.details import PartyDetailsDialog
from ui.mainwindow import MainWindow
from ui.popup import CallPopup
from ui.qt import QApplication, Qt

LEFT = Qt.MouseButton.LeftButton


def plain(text: str) -> str:
    """A label's text without the direction marks that keep it in the UI's direction."""
    return text.strip("\u200e\u200f")


def test_a_ringing_call_pops_up_with_the_matched_record(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, SARA, "CALLER-ID NAME", line="Sales", variables={"CUSTOMER_ID": "4711"})
    popup = window.popups.popup(call_id)
    assert popup is not None and popup.isVisible()
    assert "Sara Ahmadi" in popup.name_label.text()  # the CRM record, not the caller-ID name
    assert plain(popup.detail_label.text()) == "Contact · Ahmadi Trading"
    assert "\u2066021 8877 6655\u2069" in popup.number_label.text()  # kept LTR in any language
    assert popup.line_label.text() == "Line: Sales"  # IN12
    assert "\u2066CUSTOMER_ID: 4711\u2069" in popup.ivr_label.text()  # SET2
    assert "Sara Ahmadi" in popup.greeting_label.text()
    assert popup.answer_button.isVisible() and popup.reject_button.isVisible()
    assert not popup.match_choice.isVisible()
    assert log_text(window, call_id, "name") == "Sara Ahmadi"
    assert log_text(window, call_id, "result") == "Ringing"


def test_answer_from_the_popup_connects_and_closes_it(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, SARA)
    popup = window.popups.popup(call_id)
    assert popup is not None
    qtbot.mouseClick(popup.answer_button, LEFT)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    assert window.simulator.state(call_id) is CallState.ACTIVE
    panel = window.call_panel
    assert panel.isVisible() and panel.current_id == call_id
    assert plain(panel.current_name.text()) == "Sara Ahmadi"
    assert log_text(window, call_id, "result") == "Connected"
    assert log_text(window, call_id, "duration").startswith("0:0")  # the running talk time
    window.simulator.remote_hangup(call_id)
    qtbot.waitUntil(lambda: log_text(window, call_id, "result") == "Answered")
    assert not panel.isVisible()


def test_clicking_the_number_answers(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    call_id = ring(window, qtbot, SARA)
    popup = window.popups.popup(call_id)
    assert '<a href="answer"' in popup.number_label.text()  # IN6
    popup.number_label.linkActivated.emit("answer")
    qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)


def test_reject_from_the_popup(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    call_id = ring(window, qtbot, REZA)
    qtbot.mouseClick(window.popups.popup(call_id).reject_button, LEFT)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    assert log_text(window, call_id, "result") == "Rejected"


def test_waiting_calls_stack_and_are_answered_in_turn(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    first = answered(window, qtbot, SARA)
    second = ring(window, qtbot, REZA)
    third = ring(window, qtbot, "+989350001122", "Unknown Person")
    popups = [window.popups.popup(second), window.popups.popup(third)]
    assert all(p is not None and p.isVisible() for p in popups)
    assert [p.title.text() for p in popups] == ["Waiting call", "Waiting call"]  # IN5
    a, b = (p.frameGeometry() for p in popups)
    assert not a.intersects(b), "stacked pop-ups must not cover each other"
    assert plain(popups[1].name_label.text()) == "Unknown Person"
    assert plain(popups[1].detail_label.text()) == "Not in the directory"
    # the panel shows who is waiting beside the current call
    assert set(window.call_panel.other_rows) == {second, third}
    qtbot.mouseClick(popups[0].answer_button, LEFT)
    qtbot.waitUntil(lambda: sim.state(second) is CallState.ACTIVE)
    assert sim.state(first) is CallState.HELD  # answering a waiting call holds the other one
    assert window.call_panel.current_id == second
    assert window.popups.popup(third) is not None
    window.answer(third)
    qtbot.waitUntil(lambda: sim.state(third) is CallState.ACTIVE)
    assert len(window.popups) == 0


def test_answered_elsewhere_closes_the_popup_and_is_not_missed(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    elsewhere = ring(window, qtbot, SARA, line="Support")
    sim.remote_hangup(elsewhere, EndReason.ANSWERED_ELSEWHERE)  # B1
    qtbot.waitUntil(lambda: window.popups.popup(elsewhere) is None)
    assert log_text(window, elsewhere, "result") == "Answered elsewhere"
    assert not window.missed_badge.isVisible()
    assert window.log_model.unseen_missed == 0

    missed = ring(window, qtbot, REZA)
    sim.remote_hangup(missed, EndReason.MISSED)
    qtbot.waitUntil(lambda: window.popups.popup(missed) is None)
    assert log_text(window, missed, "result") == "Unanswered"
    assert window.missed_badge.isVisible() and window.missed_badge.text() == "1 missed"
    assert window.windowTitle().startswith("(1)")
    qtbot.mouseClick(window.missed_badge, LEFT)  # shows the missed calls only, badge cleared
    assert window.log_proxy.rowCount() == 1
    assert not window.missed_badge.isVisible()


def test_several_records_for_one_number_let_the_agent_pick(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, ACME)
    popup = window.popups.popup(call_id)
    assert popup.match_choice.isVisible() and popup.match_choice.count() == 2  # B2
    assert popup.match_label.text().startswith("2 records match")
    other = 1 - popup.match_choice.currentIndex()
    other_name = popup.matches[other].party.name
    popup.match_choice.setCurrentIndex(other)
    assert other_name in popup.name_label.text()
    assert log_text(window, call_id, "name") == other_name
    record = window.desktop.calllog.get(call_id)
    assert record.party_name == other_name


def test_clicking_the_name_opens_the_local_record_with_its_numbers(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, SARA)
    popup = window.popups.popup(call_id)
    popup.name_label.linkActivated.emit("record")
    assert len(window.details_dialogs) == 1
    dialog = window.details_dialogs[0]
    assert isinstance(dialog, PartyDetailsDialog) and dialog.isVisible()
    assert dialog.party.name == "Sara Ahmadi" and len(dialog.dial_buttons) == 2
    window.desktop.settings.set("phone.dial_prefix", "")
    qtbot.mouseClick(dialog.dial_buttons[1], LEFT)  # OUT4: dial the record's second number
    qtbot.waitUntil(lambda: ("dial", "09121112233") in window.simulator.commands)


def test_dial_field_takes_persian_digits_links_and_adds_the_prefix(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Any
) -> None:
    window = make_window(
        make_settings(tmp_path, **{"phone.dial_prefix": "9", "phone.default_line": "Support"})
    )
    sim = window.simulator
    assert window.line_choice.currentData() == "Support"  # SET4 default line
    window.dial_edit.insert("۰۹۱۲۳۴۵۶۷۸۹")  # QTest.keyClicks aborts on non-Latin-1 text
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ("dial", "909123456789") in sim.commands)  # SET3
    assert window.dial_edit.text() == ""
    call = next(c for c in window.desktop.manager.live_calls())
    assert call.line == "Support"
    window.dial_text("tel:+1-415-555-0100")  # B5
    qtbot.waitUntil(lambda: ("dial", "90014155550100") in sim.commands)
    window.dial_text("not a number")
    assert "not a number that can be dialled" in window.statusBar().currentMessage()


def test_the_log_survives_a_restart(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Any
) -> None:
    settings = make_settings(tmp_path)
    window = make_window(settings)
    call_id = ring(window, qtbot, SARA)
    window.simulator.remote_hangup(call_id, EndReason.MISSED)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    window.close()
    closing = __import__("asyncio").ensure_future(window.desktop.close())
    qtbot.waitUntil(closing.done)

    again = make_window(make_settings(tmp_path), directory=False)
    assert [r.id for r in again.log_model.rows()] == [call_id]
    assert again.missed_badge.isVisible() and again.log_model.unseen_missed == 1  # not seen yet
    assert log_text(again, call_id, "name") == "Sara Ahmadi"
    assert log_text(again, call_id, "result") == "Unanswered"
    assert log_text(again, call_id, "number") == "\u2066021 8877 6655\u2069"
    again.show_missed()
    assert again.log_model.unseen_missed == 0
    again.load_log()  # as after the next restart: the agent has seen it
    assert again.log_model.unseen_missed == 0


def test_switching_to_persian_flips_the_layout_and_keeps_numbers_ltr(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = ring(window, qtbot, SARA, line="Sales")
    window.set_language("fa")
    try:
        assert QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
        assert window.isRightToLeft()
        assert window.dial_button.text() == "تماس"
        assert window.log_model.headerData(0, Qt.Orientation.Horizontal) == "زمان"
        popup = window.popups.popup(call_id)
        assert popup.title.text() == "تماس ورودی"
        assert popup.answer_button.text() == "پاسخ"
        assert "\u2066021 8877 6655\u2069" in popup.number_label.text()
        assert window.desktop.settings.get("ui.language") == "fa"
    finally:
        window.set_language("en")
    assert QApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight
    assert window.dial_button.text() == "Call"


def test_unknown_provider_still_opens_the_window_with_a_banner(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Any
) -> None:
    window = make_window(make_settings(tmp_path, **{"phone.provider": "no-such-phone"}))
    assert window.isVisible() and window.banner.isVisible()
    assert "The phone connection could not start" in window.banner_label.text()
    assert "no-such-phone" in window.banner_label.text()
    assert not window.dial_button.isEnabled()
    assert window.status_label.text() == "Phone offline"
    assert window.simulator is None and not window.simulate_menu_action.isVisible()
    qtbot.mouseClick(window.banner_sim_button, LEFT)
    qtbot.waitUntil(lambda: window.simulator is not None)
    assert window.dial_button.isEnabled() and not window.banner.isVisible()
    assert window.status_label.text() == "Phone ready"


class MonitorOnly(SimulatedProvider):
    """A PBX link that sees calls but cannot control them (e.g. AMI without Originate rights)."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset()


def test_only_what_the_provider_can_do_is_offered(qtbot: Any, aio: Any, language: Any, tmp_path: Any) -> None:
    from ui.desktop import compose

    registry = ProviderRegistry()
    registry.register("monitor", MonitorOnly)
    desktop = compose(make_settings(tmp_path, **{"phone.provider": "monitor"}), registry)
    window = MainWindow(desktop, language)
    qtbot.addWidget(window)
    started = aio.create_task(window.start())
    qtbot.waitUntil(started.done)
    call_id = desktop.provider.ring(REZA, "Reza")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    popup = window.popups.popup(call_id)
    assert not popup.answer_button.isVisibleTo(popup) and not popup.reject_button.isVisibleTo(popup)
    assert "<a" not in popup.number_label.text()  # the number does not pretend to answer
    assert not window.dial_button.isEnabled()
    window.popups.close_all()
    closing = aio.create_task(desktop.close())
    qtbot.waitUntil(closing.done)


def test_call_panel_controls_drive_the_provider(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    sim = window.simulator
    call_id = answered(window, qtbot, SARA)
    panel = window.call_panel
    qtbot.mouseClick(panel.hold_button, LEFT)
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.HELD)
    assert panel.hold_button.text() == "Resume"
    qtbot.mouseClick(panel.hold_button, LEFT)
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)
    qtbot.mouseClick(panel.mute_button, LEFT)
    qtbot.waitUntil(lambda: ("mute", call_id) in sim.commands)
    assert panel.mute_button.text() == "Unmute"
    qtbot.mouseClick(panel.keypad_button, LEFT)
    assert panel.keypad.isVisible()
    qtbot.mouseClick(panel.keypad_buttons["5"], LEFT)
    qtbot.waitUntil(lambda: ("dtmf:5", call_id) in sim.commands)
    qtbot.mouseClick(panel.hangup_button, LEFT)
    qtbot.waitUntil(lambda: sim.state(call_id) is None)
    qtbot.waitUntil(lambda: log_text(window, call_id, "result") == "Answered")


@pytest.mark.parametrize("name", ["x" * 10_000, "\x00\x1b[31mevil\u202e", ""])
def test_hostile_caller_id_never_breaks_the_popup(
    make_window: Callable[..., MainWindow], qtbot: Any, name: str
) -> None:
    window = make_window()
    call_id = window.simulator.ring("anonymous", name)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    popup = window.popups.popup(call_id)
    assert len(popup.name_label.text()) < 400
    assert plain(popup.number_label.text()) == "No caller ID"
    assert popup.height() < 600


def test_registry_used_by_the_app_offers_the_simulator() -> None:
    assert "sim" in REGISTRY.names()


def test_jalali_calendar_and_persian_digits_in_the_log(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    import jdatetime

    window = make_window()
    call_id = ring(window, qtbot, SARA)
    started = window.log_model.find(call_id).started_at.astimezone()
    window.jalali_action.trigger()  # View → Jalali calendar
    try:
        jalali = jdatetime.datetime.fromgregorian(datetime=started.replace(tzinfo=None))
        assert log_text(window, call_id, "time") == jalali.strftime("%Y/%m/%d %H:%M:%S")
        assert window.desktop.settings.get("ui.calendar") == "jalali"
        window.set_language("fa")
        shown = log_text(window, call_id, "time")
        assert shown[:4] == jalali.strftime("%Y").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        assert log_text(window, call_id, "number") == "\u2066021 8877 6655\u2069"  # numbers stay ASCII, LTR
    finally:
        window.set_language("en")
        window.jalali_action.trigger()
    assert log_text(window, call_id, "time") == started.strftime("%Y-%m-%d %H:%M:%S")


def test_the_count_of_other_calls_is_in_persian_digits_in_persian(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Any
) -> None:
    window = make_window()
    answered(window, qtbot, SARA)
    waiting = ring(window, qtbot, REZA)
    qtbot.waitUntil(lambda: waiting in window.call_panel.other_rows)
    window.set_language("fa")
    qtbot.waitUntil(lambda: "(۱)" in window.call_panel.others_title.text())
    window.set_language("en")
    qtbot.waitUntil(lambda: window.call_panel.others_title.text() == "Other calls (1)")


def test_three_waiting_calls_stack_and_are_answered_in_turn(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    sim = window.simulator
    talking = answered(window, qtbot, SARA)
    waiting = [ring(window, qtbot, n) for n in (REZA, ACME, "+989350001122")]
    popups = [window.popups.popup(c) for c in waiting]
    assert all(p is not None and p.title.text() == "Waiting call" for p in popups)
    frames = [p.frameGeometry() for p in popups]
    assert not any(a.intersects(b) for i, a in enumerate(frames) for b in frames[i + 1 :])
    assert set(window.call_panel.other_rows) == set(waiting)
    previous = talking
    for call_id in waiting:  # each answer holds the call before it (IN5)
        qtbot.mouseClick(window.popups.popup(call_id).answer_button, LEFT)
        qtbot.waitUntil(lambda c=call_id: sim.state(c) is CallState.ACTIVE)
        assert sim.state(previous) is CallState.HELD
        assert window.call_panel.current_id == call_id
        previous = call_id
    assert len(window.popups) == 0
    assert {c.state for c in window.desktop.manager.live_calls()} == {CallState.ACTIVE, CallState.HELD}


def test_more_pop_ups_than_fit_on_the_screen_go_on_in_another_column(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    area = QApplication.primaryScreen().availableGeometry()
    calls = [window.simulator.ring(f"+98912{n:07d}", f"Caller {n}") for n in range(12)]  # IN5: no limit
    qtbot.waitUntil(lambda: all(window.popups.popup(c) is not None for c in calls))
    frames = [window.popups.popup(c).frameGeometry() for c in calls]
    assert not any(a.intersects(b) for i, a in enumerate(frames) for b in frames[i + 1 :])
    assert len({f.x() for f in frames}) >= 2  # the screen was full: a second column
    assert all(area.contains(f.topLeft()) for f in frames[:4])


def test_the_clock_ticks_only_while_a_call_is_live(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """An idle desktop is not woken every second: the durations' clock runs during calls only."""
    window = make_window()
    assert not window._clock.isActive()
    call_id = answered(window, qtbot, SARA)
    assert window._clock.isActive()
    qtbot.waitUntil(lambda: log_text(window, call_id, "duration").startswith("0:0"))
    window.simulator.remote_hangup(call_id)
    qtbot.waitUntil(lambda: not window.desktop.manager.live_calls())
    assert not window._clock.isActive()


def test_the_pop_up_is_painted_before_the_log_and_the_log_keeps_the_record(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """IN3: nothing the pop-up does not need (the log row, its SQLite write) is done before the
    pop-up is on screen; right after it, the log has the call with the record the pop-up shows."""
    window = make_window()
    seen_at_paint: list[tuple[bool, bool]] = []

    def painted(call_id: str) -> None:
        in_view = any(row.id == call_id for row in window.log_model.rows())
        seen_at_paint.append((in_view, window.desktop.calllog.get(call_id) is not None))

    window.popups.painted.connect(painted)
    call_id = window.simulator.ring(SARA, "CALLER-ID NAME")
    qtbot.waitUntil(lambda: bool(seen_at_paint), timeout=3000)
    assert seen_at_paint[0] == (False, False)
    qtbot.waitUntil(lambda: any(row.id == call_id for row in window.log_model.rows()), timeout=3000)
    qtbot.waitUntil(lambda: (r := window.desktop.calllog.get(call_id)) is not None and bool(r.party_name))
    assert window.desktop.calllog.get(call_id).party_name == "Sara Ahmadi"
    assert log_text(window, call_id, "name") == "Sara Ahmadi"


def test_the_first_pop_up_is_built_before_the_first_ring_and_takes_no_focus(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: len(window.popups.ready) == 1)  # built while nothing rings (IN3)
    (prepared,) = window.popups.ready
    assert not any(isinstance(w, CallPopup) and w.isVisible() for w in QApplication.topLevelWidgets())
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # the keys still go to the window
    call_id = ring(window, qtbot, SARA)
    popup = window.popups.popup(call_id)
    assert popup is prepared and popup.isVisible()  # the ring filled in the pop-up built before it
    assert "Sara Ahmadi" in popup.name_label.text() and "Sara Ahmadi" in popup.greeting_label.text()
    assert "\u2066021 8877 6655\u2069" in popup.number_label.text()
