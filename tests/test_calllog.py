"""The session call log (IN9, CARD3): every call, persisted as it happens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callsys.calllog import CallLog
from callsys.callmanager import CallManager
from callsys.model import CallEvent, CallState, Direction, EndReason, PartyKind, PhoneNumber, ProviderEvent
from callsys.numbers import NumberPlan
from callsys.store import open_database

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PLAN = NumberPlan("IR", "21")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cs.sqlite3"


@pytest.fixture
def setup(db_path: Path) -> Iterator[tuple[CallManager, CallLog, Clock]]:
    db = open_database(db_path)
    clock = Clock()
    manager = CallManager(clock=clock, normalize=lambda n: PLAN.parse(n.raw), is_loggable=PLAN.is_loggable)
    log = CallLog(db)
    manager.subscribe(log)
    yield manager, log, clock
    db.close()


def ring(manager: CallManager, call_id: str, number: str, name: str = "", **kw: object) -> None:
    manager.handle(
        ProviderEvent(
            CallEvent.INCOMING,
            call_id,
            direction=Direction.INCOMING,
            remote=PhoneNumber(raw=number),
            remote_name=name,
            **kw,  # type: ignore[arg-type]
        )
    )


def end(manager: CallManager, call_id: str, reason: EndReason) -> None:
    manager.handle(ProviderEvent(CallEvent.ENDED, call_id, reason=reason))


def test_answered_call_has_times_duration_and_result(setup: tuple[CallManager, CallLog, Clock]) -> None:
    manager, log, clock = setup
    ring(manager, "c1", "021-88776655", "Sara Ahmadi", line="Sales", dnis="7000", extension="1001")
    clock.tick(3)
    manager.handle(ProviderEvent(CallEvent.ANSWERED, "c1"))
    clock.tick(62.4)
    end(manager, "c1", EndReason.COMPLETED)

    (record,) = log.query()
    assert record.id == "c1"
    assert record.direction is Direction.INCOMING
    assert record.number.e164 == "+982188776655"
    assert record.number.raw == "021-88776655"
    assert record.name == "Sara Ahmadi"
    assert (record.line, record.dnis, record.extension) == ("Sales", "7000", "1001")
    assert record.started_at == T0
    assert record.answered_at == T0 + timedelta(seconds=3)
    assert record.ended_at == T0 + timedelta(seconds=65.4)
    assert record.duration == 62
    assert record.result is EndReason.COMPLETED
    assert record.missed is False
    assert record.state is CallState.ENDED


def test_row_exists_while_ringing_so_a_crash_keeps_the_call(
    setup: tuple[CallManager, CallLog, Clock], db_path: Path
) -> None:
    manager, _log, _clock = setup
    ring(manager, "c1", "09123456789", "Reza")
    # another process (the UI after a restart) opens the same file and sees the ringing call
    other = open_database(db_path)
    try:
        (record,) = CallLog(other).query()
        assert record.state is CallState.RINGING
        assert record.result is None
        assert CallLog(other).mark_interrupted(T0 + timedelta(hours=1)) == 1
        assert CallLog(other).get("c1").result is EndReason.FAILED  # type: ignore[union-attr]
    finally:
        other.close()


def test_missed_call_flag_and_count_but_not_answered_elsewhere(
    setup: tuple[CallManager, CallLog, Clock],
) -> None:
    manager, log, clock = setup
    ring(manager, "m1", "09123456789")
    end(manager, "m1", EndReason.MISSED)
    clock.tick(60)
    ring(manager, "m2", "09123456789")
    end(manager, "m2", EndReason.CANCELLED)
    clock.tick(60)
    ring(manager, "e1", "09123456789")
    end(manager, "e1", EndReason.ANSWERED_ELSEWHERE)

    assert log.missed_count() == 2
    assert log.missed_count(since=T0 + timedelta(seconds=30)) == 1
    assert [r.id for r in log.query(missed=True)] == ["m2", "m1"]
    assert log.get("e1").missed is False  # type: ignore[union-attr]
    assert [r.id for r in log.query(result=EndReason.ANSWERED_ELSEWHERE)] == ["e1"]


def test_notes_activity_and_party_survive_later_events(setup: tuple[CallManager, CallLog, Clock]) -> None:
    manager, log, _clock = setup
    ring(manager, "c1", "+982188776655", "SARA")
    assert log.set_party("c1", PartyKind.CONTACT, "p-1", "Sara Ahmadi", "Ahmadi & Co")
    manager.handle(ProviderEvent(CallEvent.ANSWERED, "c1"))
    assert log.set_activity("c1", "0d7c1e5e-0000-4000-8000-000000000001")
    assert log.set_notes("c1", "wants a callback\nafter 5 pm\x00")
    end(manager, "c1", EndReason.COMPLETED)

    record = log.get("c1")
    assert record is not None
    assert record.notes == "wants a callback\nafter 5 pm"
    assert record.activity_id == "0d7c1e5e-0000-4000-8000-000000000001"
    assert (record.party_kind, record.party_id) == (PartyKind.CONTACT, "p-1")
    assert record.display_name == "Sara Ahmadi"
    assert record.party_company == "Ahmadi & Co"
    assert log.set_notes("no-such-call", "x") is False


def test_query_filters(setup: tuple[CallManager, CallLog, Clock]) -> None:
    manager, log, clock = setup
    ring(manager, "in1", "+982188776655", "Sara Ahmadi")
    end(manager, "in1", EndReason.MISSED)
    clock.tick(3600)
    manager.handle(ProviderEvent(CallEvent.OUTGOING, "out1", remote=PhoneNumber(raw="+14155550100")))
    manager.handle(ProviderEvent(CallEvent.ANSWERED, "out1"))
    end(manager, "out1", EndReason.COMPLETED)
    clock.tick(3600)
    ring(manager, "in2", "۰۹۱۲۳۴۵۶۷۸۹", "رضا کریمی")
    end(manager, "in2", EndReason.REJECTED)

    assert [r.id for r in log.query()] == ["in2", "out1", "in1"]
    assert [r.id for r in log.query(direction="outgoing")] == ["out1"]
    assert [r.id for r in log.query(direction=Direction.INCOMING)] == ["in2", "in1"]
    assert [r.id for r in log.query(result="rejected")] == ["in2"]
    assert [r.id for r in log.query(since=T0 + timedelta(minutes=30))] == ["in2", "out1"]
    assert [r.id for r in log.query(until=T0 + timedelta(minutes=30))] == ["in1"]
    assert [r.id for r in log.query(text="sara")] == ["in1"]
    assert [r.id for r in log.query(text="کریمی")] == ["in2"]
    assert [r.id for r in log.query(text="0912")] == ["in2"]
    assert [r.id for r in log.query(text="۰۹۱۲")] == ["in2"]
    assert [r.id for r in log.query(text="4155550100")] == ["out1"]
    assert [r.id for r in log.query(text="%")] == []
    assert len(log.query(limit=2)) == 2


def test_short_numbers_are_logged_locally_but_flagged_not_loggable(
    setup: tuple[CallManager, CallLog, Clock],
) -> None:
    manager, log, _clock = setup
    ring(manager, "x1", "1001", "Reception")
    end(manager, "x1", EndReason.MISSED)
    record = log.get("x1")
    assert record is not None
    assert record.loggable is False
    assert record.number.digits == "1001"


def test_hostile_caller_data_is_stored_and_read_back(setup: tuple[CallManager, CallLog, Clock]) -> None:
    manager, log, _clock = setup
    ring(manager, "h1", "anonymous", "A" * 10_000 + "\x1b[31m", variables={"K'; DROP TABLE calls;--": "v"})
    end(manager, "h1", EndReason.MISSED)
    record = log.get("h1")
    assert record is not None
    assert record.number.is_anonymous
    assert len(record.name) <= 256
    assert record.variables == {"K'; DROP TABLE calls;--": "v"}
    assert record.to_dict()["number"] is None


def test_a_write_failure_does_not_reach_the_manager(tmp_path: Path) -> None:
    db = open_database(tmp_path / "cs.sqlite3")
    log = CallLog(db)
    manager = CallManager()
    manager.subscribe(log)
    db.execute("DROP TABLE calls")
    try:
        ring(manager, "c1", "+982188776655")
        assert manager.get("c1") is not None  # the phone still rings
    finally:
        db.close()


def test_a_call_id_used_again_in_a_later_session_gets_its_own_row(db_path: Path) -> None:
    for session in range(3):
        db = open_database(db_path)
        try:
            manager = CallManager(clock=lambda s=session: T0 + timedelta(hours=s))  # type: ignore[misc]
            log = CallLog(db)
            manager.subscribe(log)
            ring(manager, "sim-1", "+982188776655", f"session {session}")
            row = log.row_id("sim-1")
            log.set_notes(row, f"note {session}")
            end(manager, "sim-1", EndReason.MISSED)
            assert log.get(row).notes == f"note {session}"  # type: ignore[union-attr]
        finally:
            db.close()
    db = open_database(db_path)
    try:
        records = CallLog(db).query()
        assert [(r.id, r.call_id, r.name, r.notes) for r in records] == [
            ("sim-1#3", "sim-1", "session 2", "note 2"),
            ("sim-1#2", "sim-1", "session 1", "note 1"),
            ("sim-1", "sim-1", "session 0", "note 0"),
        ]
    finally:
        db.close()


def test_the_stored_row_and_todays_call_of_the_same_id_are_told_apart(db_path: Path) -> None:
    """Yesterday's row ``sim-1`` and today's call ``sim-1`` (the simulator starts again at 1): a
    note for either goes to that one. Before, ``set_notes("sim-1")`` meant today's call as soon
    as the session had one, and yesterday's row could no longer be reached at all."""
    db = open_database(db_path)
    try:
        manager = CallManager(clock=lambda: T0)
        log = CallLog(db)
        manager.subscribe(log)
        ring(manager, "sim-1", "+982188776655", "yesterday")
        end(manager, "sim-1", EndReason.MISSED)
    finally:
        db.close()
    db = open_database(db_path)
    try:
        manager = CallManager(clock=lambda: T0 + timedelta(days=1))
        log = CallLog(db)
        manager.subscribe(log)
        today = log.row_id("sim-1")  # asked before the call's first write: the same row after it
        ring(manager, "sim-1", "09123456789", "today")
        assert today != "sim-1"
        assert log.session_call(today) == "sim-1"
        assert log.session_call("sim-1") is None  # yesterday's row is no call of this session
        assert log.set_notes(today, "today's note")
        assert log.set_notes("sim-1", "yesterday's note")
        end(manager, "sim-1", EndReason.COMPLETED)
        by_name = {r.name: (r.id, r.notes) for r in log.query()}
        assert by_name == {"today": (today, "today's note"), "yesterday": ("sim-1", "yesterday's note")}
    finally:
        db.close()
