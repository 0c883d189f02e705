"""Reconciliation from the PBX's CDR: the real ``Master.csv`` rows Asterisk 22 (chan_pjsip)
wrote for recorded calls (``tests/server/cdr/``: ``NAME.csv`` from cdr_csv, ``NAME.custom.csv``
from cdr_custom with linkedid) are replayed into the real ActivityLogger over the real outbox —
every call the server did not see end is logged once, and what it logged live is never logged
again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callsys.activity import ActivityLogger
from callsys.callmanager import CallManager
from callsys.model import Call, CallEvent, Direction, EndReason, ProviderEvent
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.server.crm import OutboxActivities
from callsys.server.reconcile import LegBook, Reconciler, agent_legs, parse_rows, read_master_csv

CDR = Path(__file__).with_name("cdr")
PLAN = NumberPlan(region="DE", min_log_digits=0)
EPOCH = datetime(2026, 12, 7, tzinfo=UTC)


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.outbox = Outbox(tmp / "server.sqlite3")
        self.logger = ActivityLogger(self.outbox)
        self.book = LegBook(self.outbox.db)
        self.ended: list[Call] = []
        self.writer = OutboxActivities(self.outbox, self.logger)
        self.reconciler = Reconciler(
            "hq",
            self.book,
            self.observe,
            PLAN,
            correct=self.writer.correct,
            started_of=self.writer.started_of,
        )

    def observe(self, event: CallEvent, call: Call) -> None:
        self.logger(event, call)
        if event is CallEvent.ENDED:
            self.ended.append(call)

    def run(self, name: str, since: datetime = EPOCH) -> Any:
        return self.reconciler.reconcile(read_master_csv(CDR / name, since), since)

    def activities(self) -> list[dict[str, Any]]:
        cur = self.outbox.db.execute(
            "SELECT call_id, state, status, summary FROM activity_calls ORDER BY rowid"
        )
        return [dict(zip(("call", "state", "status", "summary"), r, strict=True)) for r in cur.fetchall()]

    def kinds(self) -> list[str]:
        return [item.kind for item in self.outbox.pending()]

    def by_extension(self) -> dict[tuple[str, str], Call]:
        return {(c.extension, c.direction.value): c for c in self.ended}


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_both_formats_give_the_same_legs() -> None:
    plain = list(parse_rows((CDR / "08_queue_7200_answered.csv").read_text().splitlines()))
    custom = list(parse_rows((CDR / "08_queue_7200_answered.custom.csv").read_text().splitlines()))
    assert [(r.uniqueid, r.dstchannel, r.start, r.answer, r.end, r.disposition) for r in plain] == [
        (r.uniqueid, r.dstchannel, r.start, r.answer, r.end, r.disposition) for r in custom
    ]
    assert plain[0].linkedid == "" and custom[0].linkedid == "1796608462.16"
    legs = agent_legs(plain, str.isdigit)
    assert [(leg.extension, leg.direction.value) for leg in legs] == [
        ("1002", "outgoing"),
        ("1003", "incoming"),
        ("1001", "incoming"),
    ]


def test_a_call_the_server_never_saw_is_logged_once_per_agent(rig: Rig) -> None:
    result = rig.run("01_internal_answered.csv")
    assert (result.legs, result.logged, result.known) == (2, 2, 0)
    calls = rig.by_extension()
    alice, bob = calls[("1001", "incoming")], calls[("1002", "outgoing")]
    assert alice.duration_seconds == 4 and bob.duration_seconds == 4
    assert str(alice.remote.digits) == "1002" and alice.remote_name == "Bob"
    # CDR times are whole seconds, cut down: the middle of the second is taken
    assert alice.started_at == datetime(2026, 12, 7, 1, 53, 10, 500000, tzinfo=UTC)
    assert rig.kinds() == ["phonecall.create", "phonecall.complete"] * 2
    assert all(a["state"] == "closed" for a in rig.activities())
    assert "(4 s)" in rig.activities()[0]["summary"]


def test_reconciling_the_same_window_again_changes_nothing(rig: Rig) -> None:
    rig.run("01_internal_answered.csv")
    before = (rig.activities(), rig.kinds())
    rig.run("01_internal_answered.csv")
    rig.run("01_internal_answered.custom.csv")
    assert (rig.activities(), rig.kinds()) == before


def _live(
    rig: Rig,
    call_id: str,
    channel: str,
    direction: Direction,
    start: datetime,
    answer: datetime,
    lost: datetime | None = None,
) -> None:
    """What the live stream did: the leg started and was answered (activity open); with *lost*,
    the PBX link was lost then and the call ended as of that moment."""
    manager = CallManager.for_plan(PLAN)
    manager.subscribe(rig.logger)
    first = CallEvent.INCOMING if direction is Direction.INCOMING else CallEvent.OUTGOING
    manager.handle(
        ProviderEvent(
            first, call_id, direction=direction, remote=PLAN.parse("1002"), extension="1001", at=start
        )
    )
    manager.handle(ProviderEvent(CallEvent.ANSWERED, call_id, at=answer))
    rig.book.note("hq", call_id, channel, first, start)
    rig.book.note("hq", call_id, channel, CallEvent.ANSWERED, answer)
    if lost is not None:
        manager.handle(ProviderEvent(CallEvent.ENDED, call_id, reason=EndReason.COMPLETED, at=lost))
        rig.book.note("hq", call_id, channel, CallEvent.ENDED, lost)


def test_a_call_answered_before_a_crash_is_completed_with_the_pbx_end(rig: Rig) -> None:
    start = datetime(2026, 12, 7, 1, 53, 10, 900000, tzinfo=UTC)
    answer = datetime(2026, 12, 7, 1, 53, 12, 749000, tzinfo=UTC)
    _live(rig, "hq/ami:1796608390.3", "PJSIP/1001-00000003", Direction.INCOMING, start, answer)
    assert [a["state"] for a in rig.activities()] == ["open"]
    result = rig.run("01_internal_answered.csv", since=answer + timedelta(seconds=1))
    assert (result.completed, result.logged) == (1, 1)  # Alice's open one; Bob's never seen
    acts = rig.activities()
    assert [(a["call"], a["state"]) for a in acts] == [
        ("hq/ami:1796608390.3", "closed"),
        ("hq/cdr:1796608390.2", "closed"),
    ]
    alice = rig.by_extension()[("1001", "incoming")]
    assert alice.answered_at == answer
    assert alice.ended_at == datetime(2026, 12, 7, 1, 53, 16, 500000, tzinfo=UTC)
    # one create for Alice (before the crash), completed now: never a second activity
    assert rig.kinds().count("phonecall.create") == 2 and rig.kinds().count("phonecall.complete") == 2


def test_a_call_ended_at_a_lost_link_gets_the_pbx_end(rig: Rig) -> None:
    start = datetime(2026, 12, 7, 1, 53, 10, 900000, tzinfo=UTC)
    answer = datetime(2026, 12, 7, 1, 53, 12, 749000, tzinfo=UTC)
    lost = answer + timedelta(seconds=1.5)  # the link went; the call ended 1.7 s later
    _live(rig, "hq/ami:1796608390.3", "PJSIP/1001-00000003", Direction.INCOMING, start, answer, lost)
    assert "(2 s)" in rig.activities()[0]["summary"]
    result = rig.run("01_internal_answered.csv", since=lost)
    assert (result.corrected, result.logged) == (1, 1)
    assert len(rig.activities()) == 2  # Alice's (corrected) and Bob's: no second one for Alice
    update = [i for i in rig.outbox.pending() if i.kind == "phonecall.update"]
    assert len(update) == 1
    fields = update[0].payload["fields"]
    # the real talk time was 4.0 s (AMI); from 12.749 to the CDR's 16 (+ half a second): 4 s
    assert fields["actualend"] == "2026-12-07T01:53:16Z" and "(4 s)" in fields["description"]
    assert update[0].payload["state"] == [1, 4]  # closed again as it was: Completed/Received


def test_a_call_the_live_stream_saw_end_is_left_alone(rig: Rig) -> None:
    start = datetime(2026, 12, 7, 1, 53, 10, 900000, tzinfo=UTC)
    for call_id, channel, direction in (
        ("hq/ami:1796608390.3", "PJSIP/1001-00000003", Direction.INCOMING),
        ("hq/ami:1796608390.2", "PJSIP/1002-00000002", Direction.OUTGOING),
    ):
        first = CallEvent.INCOMING if direction is Direction.INCOMING else CallEvent.OUTGOING
        rig.book.note("hq", call_id, channel, first, start)
        rig.book.note("hq", call_id, channel, CallEvent.ANSWERED, start + timedelta(seconds=2))
        rig.book.note("hq", call_id, channel, CallEvent.ENDED, start + timedelta(seconds=6))
    result = rig.run("01_internal_answered.csv")
    assert (result.known, result.logged, result.completed) == (2, 0, 0)
    assert rig.activities() == []


def test_an_answered_queue_call_is_the_answering_members_only(rig: Rig) -> None:
    rig.run("08_queue_7200_answered.csv")
    calls = rig.by_extension()
    assert calls[("1003", "incoming")].answered_at is not None  # Carol answered
    assert calls[("1001", "incoming")].end_reason is EndReason.ANSWERED_ELSEWHERE
    assert len(rig.activities()) == 2  # Bob's outgoing call and Carol's: Alice merely rang (B1)


def test_an_abandoned_queue_call_is_one_unanswered_activity(rig: Rig) -> None:
    rig.run("09_queue_7200_abandoned.csv")
    calls = rig.by_extension()
    reasons = sorted(calls[(ext, "incoming")].end_reason.value for ext in ("1001", "1003"))  # type: ignore[union-attr]
    assert reasons == ["answered_elsewhere", "missed"]
    assert len(rig.activities()) == 2  # Bob's call and one "not answered" for the customer call


def test_queue_members_behind_local_channels_are_one_customer_call_with_linkedid(rig: Rig) -> None:
    rig.run("15_queue_7300_local_answered.custom.csv")
    calls = rig.by_extension()
    assert calls[("1003", "incoming")].duration_seconds == 5  # Carol's own talk time
    assert calls[("1001", "incoming")].end_reason is EndReason.ANSWERED_ELSEWHERE
    assert len(rig.activities()) == 2  # Bob's and Carol's


def test_unanswered_calls_keep_their_reason(rig: Rig) -> None:
    rig.run("04_internal_busy.csv")
    rig.run("18_did_7000_no_answer_timeout.csv")
    calls = rig.by_extension()
    assert calls[("1002", "outgoing")].end_reason is EndReason.BUSY
    assert calls[("1001", "incoming")].end_reason is EndReason.MISSED
    assert calls[("1001", "incoming")].remote.e164 == "+49301239999"
    assert [a["status"] for a in rig.activities()] == ["2,3"] * 3  # Alice busy, Bob, trunk caller


def test_only_calls_that_ended_in_the_window_are_read(rig: Rig) -> None:
    end = datetime(2026, 12, 7, 1, 53, 16, tzinfo=UTC)
    assert read_master_csv(CDR / "01_internal_answered.csv", end + timedelta(seconds=1)) == []
    assert len(read_master_csv(CDR / "01_internal_answered.csv", end)) == 1
    assert read_master_csv(CDR / "missing.csv", EPOCH) == []


def test_the_periodic_check_puts_right_a_call_adopted_without_its_answer_time(rig: Rig) -> None:
    start = datetime(2026, 12, 7, 1, 53, 10, 900000, tzinfo=UTC)
    adopted = datetime(2026, 12, 7, 1, 53, 11, 600000, tzinfo=UTC)  # AMI did not say; really 12.749
    end = datetime(2026, 12, 7, 1, 53, 16, 758000, tzinfo=UTC)
    _live(rig, "hq/ami:1796608390.3", "PJSIP/1001-00000003", Direction.INCOMING, start, adopted, end)
    assert "(5 s)" in rig.activities()[0]["summary"]
    since = end - timedelta(seconds=60)
    rows = read_master_csv(CDR / "01_internal_answered.csv", since)
    result = rig.reconciler.reconcile(rows, since, seen_only=True)
    assert (result.corrected, result.logged) == (1, 0)  # Bob's leg, never seen live, is left alone
    update = [i for i in rig.outbox.pending() if i.kind == "phonecall.update"]
    assert len(update) == 1 and "(4 s)" in update[0].payload["fields"]["description"]
    # checked again: nothing more to put right
    again = rig.reconciler.reconcile(rows, since, seen_only=True)
    assert again.corrected == 0


def test_a_channel_name_used_again_after_a_pbx_restart_is_another_call(rig: Rig) -> None:
    """Asterisk numbers its channels from 0 again when it restarts: right after a restart a new
    call's ``PJSIP/1001-00000003`` is not the call of that name that ended before it."""
    start = datetime(2026, 12, 7, 1, 53, 6, 0, tzinfo=UTC)
    answer = datetime(2026, 12, 7, 1, 53, 6, 500000, tzinfo=UTC)
    lost = datetime(2026, 12, 7, 1, 53, 8, 0, tzinfo=UTC)  # the PBX stopped; the call with it
    _live(rig, "hq/ami:1796608386.3", "PJSIP/1001-00000003", Direction.INCOMING, start, answer, lost)
    before = rig.activities()
    # The PBX is back; a new call on a channel of the same name: 01:53:10 to 01:53:16.
    since = lost - timedelta(seconds=60)
    rows = read_master_csv(CDR / "01_internal_answered.csv", since)
    result = rig.reconciler.reconcile(rows, since, seen_only=True)
    assert result.corrected == 0
    assert rig.activities() == before  # the earlier call keeps its own 2 s
    assert [i.kind for i in rig.outbox.pending() if i.kind == "phonecall.update"] == []
    result = rig.reconciler.reconcile(rows, lost)  # the gap: the new call is logged, on its own
    assert (result.logged, result.corrected) == (2, 0)
    assert [(a["call"], a["state"]) for a in rig.activities()] == [
        ("hq/ami:1796608386.3", "closed"),
        ("hq/cdr:1796608390.2", "closed"),
        ("hq/cdr:1796608390.2/PJSIP/1001-00000003", "closed"),
    ]


def test_rows_of_two_calls_on_one_channel_name_are_two_calls(rig: Rig) -> None:
    """After a PBX restart the same channel names come again: the CDR rows of the call before it
    and of the call after it are two calls, each leg logged once with its own times."""
    text = (CDR / "01_internal_answered.csv").read_text()
    first = next(parse_rows(text.splitlines()))
    # the same call again 10 s later, on a restarted PBX (new unique id, same channel names)
    again = (
        text.replace("1796608390.2", "1796608404.0")
        .replace("01:53:16", "01:53:30")
        .replace("01:53:12", "01:53:26")
        .replace("01:53:10", "01:53:24")
    )
    second = next(parse_rows(again.splitlines()))
    assert (first.channel, first.dstchannel) == (second.channel, second.dstchannel)
    legs = agent_legs([first, second], str.isdigit)
    assert [(leg.extension, leg.direction.value, leg.start.second, leg.end.second) for leg in legs] == [
        ("1002", "outgoing", 10, 16),
        ("1001", "incoming", 10, 16),
        ("1002", "outgoing", 24, 30),
        ("1001", "incoming", 24, 30),
    ]
    result = rig.reconciler.reconcile([first, second], EPOCH)
    assert result.logged == 4
    assert sorted(c.duration_seconds for c in rig.ended) == [4, 4, 4, 4]  # never one call of 20 s
