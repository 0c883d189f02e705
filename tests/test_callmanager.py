"""The one call state machine: every way a call can go, hostile input, and observers that
misbehave. Each test drives the CallManager as a provider would and checks what an agent sees."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from callsys.callmanager import CallManager
from callsys.model import (
    Call,
    CallEvent,
    CallState,
    Direction,
    EndReason,
    PhoneNumber,
    ProviderEvent,
)
from callsys.numbers import NumberPlan

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PLAN = NumberPlan("IR", "21", min_log_digits=5)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[CallEvent, Call]] = []

    def __call__(self, event: CallEvent, call: Call) -> None:
        self.seen.append((event, call))

    def events(self, call_id: str | None = None) -> list[CallEvent]:
        return [e for e, c in self.seen if call_id is None or c.id == call_id]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(clock: Clock) -> CallManager:
    return CallManager(
        clock=clock,
        normalize=lambda n: PLAN.parse(n.raw),
        is_loggable=PLAN.is_loggable,
        resolve_line=lambda line, dnis: line or {"7000": "Sales"}.get(dnis, ""),
    )


@pytest.fixture
def rec(manager: CallManager) -> Recorder:
    recorder = Recorder()
    manager.subscribe(recorder)
    return recorder


def incoming(
    manager: CallManager, call_id: str, number: str = "09123456789", name: str = "", **kw: object
) -> Call | None:
    return manager.handle(
        ProviderEvent(
            CallEvent.INCOMING,
            call_id,
            direction=Direction.INCOMING,
            remote=PhoneNumber(raw=number),
            remote_name=name,
            **kw,
        )  # type: ignore[arg-type]
    )


def ev(manager: CallManager, kind: CallEvent, call_id: str, **kw: object) -> Call | None:
    return manager.handle(ProviderEvent(kind, call_id, **kw))  # type: ignore[arg-type]


def end(manager: CallManager, call_id: str, reason: EndReason) -> Call | None:
    return ev(manager, CallEvent.ENDED, call_id, reason=reason)


# ---------------------------------------------------------------------------- the outcomes
def test_answered_call(manager: CallManager, rec: Recorder, clock: Clock) -> None:
    call = incoming(manager, "a", "021-88776655", "Sara", dnis="7000")
    assert call is not None
    assert call.state is CallState.RINGING
    assert call.remote.e164 == "+982188776655"  # normalised on the way in
    assert call.line == "Sales"  # IN12 from the dialled number
    clock.tick(4)
    ev(manager, CallEvent.ANSWERED, "a")
    clock.tick(30)
    ev(manager, CallEvent.HELD, "a")
    assert manager.get("a").state is CallState.HELD  # type: ignore[union-attr]
    clock.tick(10)
    ev(manager, CallEvent.RESUMED, "a")
    clock.tick(20)
    done = end(manager, "a", EndReason.COMPLETED)
    assert done is not None
    assert done.state is CallState.ENDED
    assert done.end_reason is EndReason.COMPLETED
    assert done.duration_seconds == 60
    assert not done.is_missed
    assert rec.events() == [
        CallEvent.INCOMING,
        CallEvent.ANSWERED,
        CallEvent.HELD,
        CallEvent.RESUMED,
        CallEvent.ENDED,
    ]
    assert len(manager) == 0
    assert manager.get("a") == done  # still known for a while after it ended


@pytest.mark.parametrize(
    ("reason", "missed"),
    [
        (EndReason.MISSED, True),
        (EndReason.REJECTED, False),
        (EndReason.CANCELLED, True),
        (EndReason.BUSY, True),
        (EndReason.ANSWERED_ELSEWHERE, False),
        (EndReason.FAILED, False),
    ],
)
def test_unanswered_outcomes(manager: CallManager, rec: Recorder, reason: EndReason, missed: bool) -> None:
    incoming(manager, "a")
    done = end(manager, "a", reason)
    assert done is not None
    assert done.end_reason is reason
    assert done.is_missed is missed
    assert done.duration_seconds == 0
    assert done.answered_at is None
    assert rec.events("a") == [CallEvent.INCOMING, CallEvent.ENDED]


def test_answered_elsewhere_is_not_missed_for_this_agent(manager: CallManager) -> None:
    """B1: a ring-group call taken by a colleague closes the pop-up and is not a missed call."""
    incoming(manager, "a")
    done = end(manager, "a", EndReason.ANSWERED_ELSEWHERE)
    assert done is not None
    assert not done.is_missed
    assert not done.end_reason.is_unanswered  # type: ignore[union-attr]


def test_outgoing_call(manager: CallManager, rec: Recorder, clock: Clock) -> None:
    call = ev(manager, CallEvent.OUTGOING, "o", remote=PhoneNumber(raw="+1 415 555 0100"), line="Sales")
    assert call is not None
    assert (call.direction, call.state) == (Direction.OUTGOING, CallState.DIALING)
    ev(manager, CallEvent.RINGBACK, "o")
    assert manager.get("o").state is CallState.ALERTING  # type: ignore[union-attr]
    clock.tick(5)
    ev(manager, CallEvent.ANSWERED, "o")
    clock.tick(61)
    done = end(manager, "o", EndReason.COMPLETED)
    assert done is not None
    assert done.duration_seconds == 61
    assert not done.is_missed


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (EndReason.MISSED, EndReason.NO_ANSWER),
        (EndReason.REJECTED, EndReason.BUSY),
        (EndReason.COMPLETED, EndReason.CANCELLED),
        (EndReason.BUSY, EndReason.BUSY),
    ],
)
def test_outgoing_reasons_are_made_consistent(
    manager: CallManager, given: EndReason, expected: EndReason
) -> None:
    ev(manager, CallEvent.OUTGOING, "o", remote=PhoneNumber(raw="02188776655"))
    done = end(manager, "o", given)
    assert done is not None
    assert done.end_reason is expected
    assert not done.is_missed  # an outgoing call is never a missed call


@pytest.mark.parametrize(
    ("answered", "given", "expected"),
    [
        (True, EndReason.MISSED, EndReason.COMPLETED),  # it connected: it cannot be "missed"
        (True, EndReason.REJECTED, EndReason.COMPLETED),
        (True, EndReason.FAILED, EndReason.FAILED),
        (False, EndReason.COMPLETED, EndReason.CANCELLED),  # normal clearing while ringing
        (False, EndReason.NO_ANSWER, EndReason.MISSED),
    ],
)
def test_incoming_reasons_are_made_consistent(
    manager: CallManager, answered: bool, given: EndReason, expected: EndReason
) -> None:
    incoming(manager, "a")
    if answered:
        ev(manager, CallEvent.ANSWERED, "a")
    done = end(manager, "a", given)
    assert done is not None
    assert done.end_reason is expected


# ---------------------------------------------------------------------------- several calls (IN5)
def test_waiting_call_answered(manager: CallManager, rec: Recorder) -> None:
    incoming(manager, "a")
    ev(manager, CallEvent.ANSWERED, "a")
    waiting = incoming(manager, "b", "02188776655")
    assert waiting is not None
    assert waiting.waiting is True
    ev(manager, CallEvent.HELD, "a")
    answered = ev(manager, CallEvent.ANSWERED, "b")
    assert answered is not None
    assert answered.state is CallState.ACTIVE
    assert answered.waiting is False
    assert [c.id for c in manager.live_calls()] == ["a", "b"]
    assert manager.get("a").state is CallState.HELD  # type: ignore[union-attr]
    assert end(manager, "b", EndReason.COMPLETED).end_reason is EndReason.COMPLETED  # type: ignore[union-attr]
    ev(manager, CallEvent.RESUMED, "a")
    assert end(manager, "a", EndReason.COMPLETED).end_reason is EndReason.COMPLETED  # type: ignore[union-attr]
    assert len(manager) == 0


def test_waiting_call_abandoned(manager: CallManager) -> None:
    incoming(manager, "a")
    ev(manager, CallEvent.ANSWERED, "a")
    incoming(manager, "b")
    gone = end(manager, "b", EndReason.CANCELLED)
    assert gone is not None
    assert gone.waiting is True
    assert gone.is_missed
    assert manager.get("a").state is CallState.ACTIVE  # type: ignore[union-attr]  # the talk goes on


def test_two_waiting_calls_at_once(manager: CallManager) -> None:
    incoming(manager, "a")
    ev(manager, CallEvent.ANSWERED, "a")
    b = incoming(manager, "b", "02188776655")
    c = incoming(manager, "c", "+14155550100")
    assert b is not None and c is not None
    assert b.waiting and c.waiting
    assert [call.id for call in manager.live_calls()] == ["a", "b", "c"]
    assert end(manager, "b", EndReason.CANCELLED).is_missed  # type: ignore[union-attr]
    assert end(manager, "c", EndReason.MISSED).is_missed  # type: ignore[union-attr]
    assert [call.id for call in manager.live_calls()] == ["a"]


def test_a_call_ringing_with_nothing_connected_is_not_waiting(manager: CallManager) -> None:
    incoming(manager, "a")
    b = incoming(manager, "b")
    assert b is not None
    assert not b.waiting


# ---------------------------------------------------------------------------- hostile input
def test_ten_thousand_character_name_and_control_characters(manager: CallManager, rec: Recorder) -> None:
    call = incoming(manager, "a", "0912\x00345\n6789", "X" * 10_000 + "\x1b[2J\u202eevil\r\nInjected: yes")
    assert call is not None
    assert len(call.remote_name) <= 256
    assert all(ch.isprintable() for ch in call.remote_name)
    assert "\u202e" not in call.remote_name
    assert rec.events() == [CallEvent.INCOMING]


@pytest.mark.parametrize(
    "number", ["", "anonymous", "Anonymous", "unknown", "restricted", "+", "\x00\x01", "٠" * 500]
)
def test_empty_or_anonymous_caller_id_still_rings(manager: CallManager, number: str) -> None:
    call = incoming(manager, "a", number, "")
    assert call is not None
    assert call.state is CallState.RINGING
    assert call.loggable  # an anonymous missed call still matters
    done = end(manager, "a", EndReason.MISSED)
    assert done is not None
    assert done.is_missed


def test_no_remote_at_all(manager: CallManager) -> None:
    call = manager.handle(ProviderEvent(CallEvent.INCOMING, "a"))
    assert call is not None
    assert call.remote.is_anonymous


def test_short_numbers_are_not_loggable(manager: CallManager) -> None:
    """IN13: an internal extension rings, but is flagged so it is not logged to the CRM."""
    call = incoming(manager, "a", "1001")
    assert call is not None
    assert call.loggable is False
    assert incoming(manager, "b", "02188776655").loggable is True  # type: ignore[union-attr]


def test_a_normaliser_that_raises_does_not_stop_the_call(clock: Clock) -> None:
    def broken(number: PhoneNumber) -> PhoneNumber:
        raise RuntimeError("bug")

    manager = CallManager(clock=clock, normalize=broken, is_loggable=lambda n: 1 / 0 > 0)
    call = manager.handle(ProviderEvent(CallEvent.INCOMING, "a", remote=PhoneNumber(raw="0912")))
    assert call is not None
    assert call.state is CallState.RINGING
    assert call.loggable  # when the rule cannot decide, log the call


# ---------------------------------------------------------------------------- nonsense and duplicates
def test_late_duplicate_events_are_ignored(manager: CallManager, rec: Recorder) -> None:
    incoming(manager, "a")
    ev(manager, CallEvent.ANSWERED, "a")
    done = end(manager, "a", EndReason.COMPLETED)
    # a PBX replays history after a reconnect
    assert incoming(manager, "a") is None
    assert ev(manager, CallEvent.ANSWERED, "a") is None
    assert end(manager, "a", EndReason.MISSED) is None
    assert manager.get("a") == done
    assert rec.events() == [CallEvent.INCOMING, CallEvent.ANSWERED, CallEvent.ENDED]
    assert len(manager) == 0


def test_events_for_unknown_calls_and_illegal_transitions_are_ignored(
    manager: CallManager, rec: Recorder
) -> None:
    assert ev(manager, CallEvent.HELD, "ghost") is None
    assert end(manager, "ghost", EndReason.COMPLETED) is None
    incoming(manager, "a")
    assert ev(manager, CallEvent.HELD, "a") is None  # cannot hold a ringing call
    assert ev(manager, CallEvent.RESUMED, "a") is None
    ev(manager, CallEvent.ANSWERED, "a")
    assert ev(manager, CallEvent.ANSWERED, "a") is None  # answered twice
    assert ev(manager, CallEvent.RESUMED, "a") is None  # not held
    assert rec.events() == [CallEvent.INCOMING, CallEvent.ANSWERED]


def test_second_incoming_for_a_live_call_is_an_update(manager: CallManager, rec: Recorder) -> None:
    incoming(manager, "a", "09123456789")
    assert incoming(manager, "a", "09123456789") is None  # nothing new
    updated = incoming(manager, "a", "09123456789", "Reza Karimi")
    assert updated is not None
    assert updated.remote_name == "Reza Karimi"
    assert rec.events() == [CallEvent.INCOMING, CallEvent.UPDATED]


def test_updates_merge_ivr_variables_and_keep_the_known_number(manager: CallManager) -> None:
    incoming(manager, "a", "09123456789", variables={"IVR_CHOICE": "1"})
    call = ev(
        manager,
        CallEvent.UPDATED,
        "a",
        remote=PhoneNumber(raw="anonymous"),
        variables={"CUSTOMER_ID": "4711"},
    )
    assert call is not None
    assert dict(call.variables) == {"IVR_CHOICE": "1", "CUSTOMER_ID": "4711"}
    assert call.remote.e164 == "+989123456789"  # "anonymous" later does not erase the number


def test_answered_event_for_an_unknown_call_adopts_it(manager: CallManager) -> None:
    """After a reconnect the PBX reports a call that is already up: it is shown, not dropped."""
    call = ev(
        manager, CallEvent.ANSWERED, "x", direction=Direction.INCOMING, remote=PhoneNumber(raw="02188776655")
    )
    assert call is not None
    assert call.state is CallState.ACTIVE


def test_dtmf_is_passed_on_without_changing_state(manager: CallManager, rec: Recorder) -> None:
    incoming(manager, "a")
    ev(manager, CallEvent.ANSWERED, "a")
    before = manager.get("a")
    assert ev(manager, CallEvent.DTMF, "a", digits="5") == before
    assert ev(manager, CallEvent.DTMF, "a") is None
    assert rec.events()[-1] is CallEvent.DTMF


def test_ended_event_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        ProviderEvent(CallEvent.ENDED, "a")


# ---------------------------------------------------------------------------- observers
def test_an_observer_that_raises_does_not_stop_the_others(
    manager: CallManager, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: CallEvent, call: Call) -> None:
        raise RuntimeError("widget deleted")

    manager.subscribe(broken)
    after = Recorder()
    manager.subscribe(after)
    with caplog.at_level(logging.ERROR):
        incoming(manager, "a")
        end(manager, "a", EndReason.MISSED)
    assert after.events() == [CallEvent.INCOMING, CallEvent.ENDED]
    assert manager.get("a").end_reason is EndReason.MISSED  # type: ignore[union-attr]
    assert "widget deleted" in caplog.text


def test_an_observer_cannot_mutate_the_call(manager: CallManager) -> None:
    def vandal(event: CallEvent, call: Call) -> None:
        with pytest.raises(AttributeError):
            call.state = CallState.ENDED  # type: ignore[misc]
        with pytest.raises(TypeError):
            call.variables["X"] = "y"  # type: ignore[index]

    manager.subscribe(vandal)
    incoming(manager, "a", variables={"A": "1"})
    assert manager.get("a").state is CallState.RINGING  # type: ignore[union-attr]
    assert dict(manager.get("a").variables) == {"A": "1"}  # type: ignore[union-attr]


def test_an_observer_that_forces_its_own_state_only_changes_its_copy(manager: CallManager) -> None:
    kept: list[Call] = []

    def hoarder(event: CallEvent, call: Call) -> None:
        kept.append(call.evolve(state=CallState.ENDED))

    manager.subscribe(hoarder)
    incoming(manager, "a")
    assert kept[0].state is CallState.ENDED
    assert manager.get("a").state is CallState.RINGING  # type: ignore[union-attr]


def test_re_entrant_events_are_applied_in_order_after_the_current_one(manager: CallManager) -> None:
    order: list[tuple[str, CallEvent, CallState]] = []

    def auto_answer(event: CallEvent, call: Call) -> None:
        order.append((call.id, event, call.state))
        if event is CallEvent.INCOMING:
            # like a provider that answers synchronously from inside the observer
            assert manager.handle(ProviderEvent(CallEvent.ANSWERED, call.id)) is None
            order.append(("queued", event, manager.get(call.id).state))  # type: ignore[union-attr]

    late = Recorder()
    manager.subscribe(auto_answer)
    manager.subscribe(late)
    incoming(manager, "a")
    assert order == [
        ("a", CallEvent.INCOMING, CallState.RINGING),
        ("queued", CallEvent.INCOMING, CallState.RINGING),  # not applied under our feet
        ("a", CallEvent.ANSWERED, CallState.ACTIVE),
    ]
    # every observer saw INCOMING before ANSWERED
    assert late.events() == [CallEvent.INCOMING, CallEvent.ANSWERED]


def test_unsubscribe(manager: CallManager) -> None:
    recorder = Recorder()
    unsubscribe = manager.subscribe(recorder)
    incoming(manager, "a")
    unsubscribe()
    unsubscribe()  # twice is harmless
    end(manager, "a", EndReason.MISSED)
    assert recorder.events() == [CallEvent.INCOMING]


def test_provider_listener_stamps_the_provider(manager: CallManager) -> None:
    listener = manager.listener("sim")
    listener.call_event(ProviderEvent(CallEvent.INCOMING, "a", remote=PhoneNumber(raw="02188776655")))
    assert manager.get("a").provider == "sim"  # type: ignore[union-attr]


def test_waiting_only_counts_calls_of_the_same_extension() -> None:
    """IN5 on a server watching many extensions: Bob talking does not make Alice's call "waiting"."""
    manager = CallManager()
    manager.handle(ProviderEvent(CallEvent.INCOMING, "bob-1", direction=Direction.INCOMING, extension="1002"))
    manager.handle(ProviderEvent(CallEvent.ANSWERED, "bob-1"))
    alice = manager.handle(
        ProviderEvent(CallEvent.INCOMING, "alice-1", direction=Direction.INCOMING, extension="1001")
    )
    assert alice is not None and not alice.waiting
    manager.handle(ProviderEvent(CallEvent.ANSWERED, "alice-1"))
    second = manager.handle(
        ProviderEvent(CallEvent.INCOMING, "alice-2", direction=Direction.INCOMING, extension="1001")
    )
    assert second is not None and second.waiting


def test_persian_zwnj_survives_but_bidi_overrides_do_not() -> None:
    """ZWNJ shapes Persian names correctly ("مهدی‌زاده"); a bidi override is a spoofing tool."""
    manager = CallManager()
    call = manager.handle(
        ProviderEvent(
            CallEvent.INCOMING, "c1", direction=Direction.INCOMING, remote_name="مهدی\u200cزاده \u202egnp.exe"
        )
    )
    assert call is not None
    assert call.remote_name == "مهدی\u200cزاده gnp.exe"


def test_an_outgoing_call_is_logged_under_the_customers_number_not_the_dialled_prefix() -> None:
    """SET3: the provider dials 9 + number; the call, its CRM lookup and its log entry carry the
    customer's number. An incoming call is never "undialled" (a trunk may send 912… itself)."""
    plan = NumberPlan(region="IR", dial_prefix="9")
    manager = CallManager(normalize=lambda n: plan.parse(n.raw), undial=plan.undial)
    out = manager.handle(
        ProviderEvent(
            CallEvent.OUTGOING, "o1", direction=Direction.OUTGOING, remote=PhoneNumber(raw="902188776655")
        )
    )
    assert out is not None and out.remote.e164 == "+982188776655"
    incoming = manager.handle(
        ProviderEvent(
            CallEvent.INCOMING, "i1", direction=Direction.INCOMING, remote=PhoneNumber(raw="9123456789")
        )
    )
    assert incoming is not None and incoming.remote.e164 == "+989123456789"  # trunk dropped the 0
