"""Reconciliation from the PBX's own records (IN14): after any gap — the server down, or its AMI
link — the calls that ended in it are read from Asterisk's CDR (``Master.csv`` of ``cdr_csv`` or
``cdr_custom``) and logged exactly once.

What the live stream saw is kept per agent leg in ``pbx_legs`` (the agent's channel name, e.g.
``PJSIP/1001-0000002a``, with the leg's call id and its start, answer and end as the live stream
saw them). A CDR row names the same channel (``channel`` when the agent placed the call,
``dstchannel`` when the agent was rung), and Asterisk never has two channels of one name at once,
so a row and a live leg of the same name whose times overlap are the same leg. Then:

- the live stream saw the leg end before the gap: nothing to do;
- it saw the leg (the activity may be open: the server died mid-call) but not its real end: the
  leg is replayed under its *live* call id and start, so its call key (``call_key``) is the live
  one — the open activity is completed with the PBX's end, and an activity that exists is never
  made again;
- it never saw the leg: the leg is replayed from the CDR under the id ``cdr:<uniqueid>`` (the
  agent placed the call: the same id the live stream uses, ``ami:<uniqueid>`` apart) or
  ``cdr:<party A uniqueid>/<agent channel>`` (the agent was rung).

Replaying means feeding the leg through a ``CallManager`` built with the branch's number plan into
the server's activity writer: the same rules (IN13 short numbers, B1 ring groups, titles) and the
same idempotent ``ActivityLogger`` as a live call. Reconciling the same window twice changes
nothing (every replayed leg has a fixed call key).

Limits of the CDR (documented in docs/server.md): its ``answer`` for a queue call is when the queue
answered the caller, so the talk time of a reconciled queue call includes the queue wait; with
``cdr_csv`` (no ``linkedid``) the members of a queue with ``Local/`` members are not tied to one
customer call; the CDR's times are whole seconds.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callsys.callmanager import CallManager
from callsys.model import Call, CallEvent, Direction, EndReason, ProviderEvent
from callsys.numbers import NumberPlan

__all__ = [
    "CdrRow",
    "LegBook",
    "ReconcileResult",
    "Reconciler",
    "ensure_schema",
    "read_master_csv",
]

log = logging.getLogger(__name__)

#: cdr_csv's columns (``[csv] loguniqueid = yes``, ``loguserfield = yes``; 18 columns).
CDR_CSV = [
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
]
#: cdr_csv with ``newcdrcolumns = yes`` (21 columns).
CDR_CSV_NEW = [*CDR_CSV, "peeraccount", "linkedid", "sequence"]
#: The cdr_custom mapping documented in docs/server.md (21 columns, with linkedid).
CDR_CUSTOM = [
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "linkedid",
    "userfield",
    "sequence",
    "peeraccount",
]

#: CDR times are whole seconds, cut down: the middle of that second is the best guess of the
#: moment (talk time from a live answer to a CDR end is then within half a second).
_HALF = timedelta(seconds=0.5)
#: A live moment within this of the CDR's (+ half a second) is the same moment, to the millisecond;
#: one further off was not seen as it happened (adopted after a restart, ended at a lost link).
_SAME = 0.6
#: How far a live leg's start may lie from its CDR row's (the CDR counts from party A's start,
#: whole seconds; a queue member rings later than the caller started).
_SLACK = timedelta(seconds=5)
#: A live leg that ended more than this before a CDR row's start (whole seconds, +0.5) is not the
#: row's leg: a leg's end is never before its own start, which the CDR has to the second.
_BEFORE = timedelta(seconds=1.5)


def ensure_schema(db: Any) -> None:
    """``pbx_legs`` (what the live stream saw of each agent leg) and ``pbx_links`` (when each
    branch's PBX was last heard) — in the same database as the outbox."""
    with db.conn:
        db.execute(
            """CREATE TABLE IF NOT EXISTS pbx_legs (
                call_id TEXT PRIMARY KEY,
                branch TEXT NOT NULL,
                channel TEXT NOT NULL,
                started REAL NOT NULL,
                answered REAL,
                ended REAL
            )"""
        )
        db.execute("CREATE INDEX IF NOT EXISTS pbx_legs_channel ON pbx_legs (branch, channel, started)")
        db.execute(
            """CREATE TABLE IF NOT EXISTS pbx_links (
                branch TEXT PRIMARY KEY,
                heard REAL NOT NULL
            )"""
        )


@dataclass(frozen=True, slots=True)
class CdrRow:
    uniqueid: str  # party A's channel
    linkedid: str  # "" with plain cdr_csv
    src: str
    dst: str
    clid: str
    channel: str
    dstchannel: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str

    @property
    def answered(self) -> bool:
        return self.disposition == "ANSWERED"


def _time(text: str, tz: Any) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return value.replace(tzinfo=tz).astimezone(UTC)


def parse_rows(lines: Iterable[str], *, tz: Any = UTC) -> Iterator[CdrRow]:
    """CDR rows of ``cdr_csv`` (18 or 21 columns) or of the documented ``cdr_custom`` mapping
    (21 columns, told apart by the start time's position). Unreadable rows are skipped."""
    for fields in csv.reader(lines):
        if len(fields) == 18:
            names = CDR_CSV
        elif len(fields) == 21:
            names = CDR_CUSTOM if _time(fields[8], tz) is not None else CDR_CSV_NEW
        else:
            continue
        row = dict(zip(names, fields, strict=True))
        start, end = _time(row["start"], tz), _time(row["end"], tz)
        if start is None or end is None or not row["uniqueid"]:
            continue
        yield CdrRow(
            uniqueid=row["uniqueid"],
            linkedid=row.get("linkedid", ""),
            src=row["src"],
            dst=row["dst"],
            clid=row["clid"],
            channel=row["channel"],
            dstchannel=row["dstchannel"],
            start=start,
            answer=_time(row["answer"], tz),
            end=end,
            disposition=row["disposition"].strip().upper(),
        )


def read_master_csv(
    path: Path, since: datetime, until: datetime | None = None, *, tz: Any = UTC
) -> list[CdrRow]:
    """The rows of *path* whose leg ended in [*since*, *until*]. A missing file is no rows."""
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            rows = list(parse_rows(handle, tz=tz))
    except FileNotFoundError:
        log.warning("the PBX's CDR file %s is not there: nothing to reconcile", path)
        return []
    return [r for r in rows if r.end >= since and (until is None or r.end <= until)]


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/1001-0000002a`` → ``1001``; ``Local/…`` and unparsable names → None."""
    if not channel or channel.startswith(("Local/", "Message/", "Recorder/", "Announcer/")):
        return None
    tech, _, rest = channel.partition("/")
    if not tech or not rest or "-" not in rest:
        return None
    return rest.rsplit("-", 1)[0] or None


def _epoch(when: datetime | None) -> float | None:
    return when.timestamp() if when is not None else None


def _when(epoch: object) -> datetime | None:
    return datetime.fromtimestamp(float(epoch), UTC) if isinstance(epoch, int | float) else None


@dataclass(frozen=True, slots=True)
class LiveLeg:
    call_id: str
    started: datetime
    answered: datetime | None
    ended: datetime | None


class LegBook:
    """What the live stream saw of each agent leg (``pbx_legs``) and when each branch's PBX was last
    heard (``pbx_links``)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        ensure_schema(db)

    def note(self, branch: str, call_id: str, channel: str, event: CallEvent, at: datetime) -> None:
        """Record a live leg's start, answer or end (each write commits at once). A leg first seen
        answered (adopted after a restart) is recorded from then, with its *channel*."""
        when = at.timestamp()
        with self.db.conn:
            if channel and event in (CallEvent.INCOMING, CallEvent.OUTGOING, CallEvent.ANSWERED):
                self.db.execute(
                    "INSERT INTO pbx_legs (call_id, branch, channel, started) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(call_id) DO NOTHING",
                    [call_id, branch, channel, when],
                )
            if event is CallEvent.ANSWERED:
                self.db.execute(
                    "UPDATE pbx_legs SET answered = ? WHERE call_id = ? AND answered IS NULL", [when, call_id]
                )
            elif event is CallEvent.ENDED:
                self.db.execute("UPDATE pbx_legs SET ended = ? WHERE call_id = ?", [when, call_id])

    def put(self, call_id: str, answered: datetime | None, ended: datetime) -> None:
        """The leg's answer and end as the PBX's records have them (after a correction)."""
        with self.db.conn:
            self.db.execute(
                "UPDATE pbx_legs SET answered = ?, ended = ? WHERE call_id = ?",
                [_epoch(answered), ended.timestamp(), call_id],
            )

    def find(self, branch: str, channel: str, start: datetime, end: datetime) -> LiveLeg | None:
        """The live leg on *channel* whose start lies within the CDR row's time (± slack) and
        that had not ended before the row's leg began: Asterisk numbers its channels from 0 again
        after a restart, so a name seen before may be another call's."""
        row = self.db.execute(
            "SELECT call_id, started, answered, ended FROM pbx_legs WHERE branch = ? AND channel = ? "
            "AND started >= ? AND started <= ? AND (ended IS NULL OR ended >= ?) "
            "ORDER BY started LIMIT 1",
            [
                branch,
                channel,
                (start - _SLACK).timestamp(),
                (end + _SLACK).timestamp(),
                (start - _BEFORE).timestamp(),
            ],
        ).fetchone()
        if row is None:
            return None
        started = _when(row[1])
        assert started is not None
        return LiveLeg(str(row[0]), started, _when(row[2]), _when(row[3]))

    def heard(self, branch: str, at: datetime) -> None:
        with self.db.conn:
            self.db.execute(
                "INSERT INTO pbx_links (branch, heard) VALUES (?, ?) "
                "ON CONFLICT(branch) DO UPDATE SET heard = excluded.heard",
                [branch, at.timestamp()],
            )

    def last_heard(self, branch: str) -> datetime | None:
        row = self.db.execute("SELECT heard FROM pbx_links WHERE branch = ?", [branch]).fetchone()
        return _when(row[0]) if row is not None else None

    def purge(self, before: datetime) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM pbx_legs WHERE started < ?", [before.timestamp()])


@dataclass
class ReconcileResult:
    rows: int = 0  # CDR rows read for the window
    legs: int = 0  # agent legs in them
    known: int = 0  # the live stream had seen them end
    completed: int = 0  # seen live, their end was not: replayed under the live id
    logged: int = 0  # never seen live: replayed from the CDR
    corrected: int = 0  # ended live at a lost link: the activity now has the PBX's end


@dataclass
class _Leg:
    extension: str
    direction: Direction
    channel: str
    key: str  # the id a never-seen leg gets
    group: str  # the customer call (B1)
    start: datetime
    answer: datetime | None
    end: datetime
    remote: str
    remote_name: str
    dnis: str
    disposition: str
    order: int


def _clid_name(clid: str) -> str:
    name = clid.split("<", 1)[0].strip().strip('"').strip()
    return name


def agent_legs(rows: Iterable[CdrRow], watches: Callable[[str], bool]) -> list[_Leg]:
    """The legs of watched extensions in *rows*: the party A channel's rows merge into one
    outgoing leg (a call that rang several members is one call for its caller); each party B
    channel is one incoming leg. A channel is its name *in one customer call*: Asterisk numbers
    its channels from 0 again when it restarts, so the same name in rows of two calls (the unique
    ids tell them apart) is two channels."""
    legs: dict[tuple[str, str], _Leg] = {}
    for order, row in enumerate(rows):
        group = row.linkedid or row.uniqueid
        a = endpoint_of(row.channel)
        if a is not None and watches(a):
            leg = legs.get((row.channel, group))
            answer = row.answer if row.answered else None
            if leg is None:
                legs[(row.channel, group)] = _Leg(
                    extension=a,
                    direction=Direction.OUTGOING,
                    channel=row.channel,
                    key=f"cdr:{row.uniqueid}",
                    group=group,
                    start=row.start,
                    answer=answer,
                    end=row.end,
                    remote=row.dst,
                    remote_name="",
                    dnis="",
                    disposition=row.disposition,
                    order=order,
                )
            else:
                leg.start = min(leg.start, row.start)
                leg.end = max(leg.end, row.end)
                if answer is not None and (leg.answer is None or answer < leg.answer):
                    leg.answer = answer
                    leg.disposition = row.disposition
        b = endpoint_of(row.dstchannel)
        if b is not None and watches(b) and (row.dstchannel, group) not in legs:
            legs[(row.dstchannel, group)] = _Leg(
                extension=b,
                direction=Direction.INCOMING,
                channel=row.dstchannel,
                key=f"cdr:{row.uniqueid}/{row.dstchannel}",
                group=group,
                start=row.start,
                answer=row.answer if row.answered else None,
                end=row.end,
                remote=row.src,
                remote_name=_clid_name(row.clid),
                dnis=row.dst,
                disposition=row.disposition,
                order=order,
            )
    return sorted(legs.values(), key=lambda leg: leg.order)


def _agrees(live: LiveLeg, leg: _Leg) -> bool:
    """The live stream saw the leg end when the PBX says, answered (or not) when it says."""
    assert live.ended is not None
    if abs((live.ended - leg.end).total_seconds()) > _SAME or (live.answered is None) != (leg.answer is None):
        return False
    return (
        live.answered is None
        or leg.answer is None
        or abs((live.answered - leg.answer).total_seconds()) <= _SAME
    )


def _reason(leg: _Leg) -> EndReason:
    if leg.answer is not None:
        return EndReason.COMPLETED
    if leg.disposition == "BUSY":
        return EndReason.BUSY
    if leg.disposition in ("FAILED", "CONGESTION"):
        return EndReason.FAILED
    return EndReason.MISSED if leg.direction is Direction.INCOMING else EndReason.NO_ANSWER


class Reconciler:
    """Replays the CDR legs of one branch that the live stream did not see end."""

    def __init__(
        self,
        branch: str,
        book: LegBook,
        observe: Callable[[CallEvent, Call], None],
        plan: NumberPlan,
        *,
        dnis_lines: Any = None,
        watches: Callable[[str], bool] = str.isdigit,
        correct: Callable[[Call], bool] | None = None,
        started_of: Callable[[str], datetime | None] | None = None,
    ) -> None:
        self.correct = correct
        self.started_of = started_of
        self.branch = branch
        self.book = book
        self.observe = observe
        self.plan = plan
        self.dnis_lines = dnis_lines
        self.watches = watches

    def reconcile(self, rows: list[CdrRow], since: datetime, *, seen_only: bool = False) -> ReconcileResult:
        """Log every agent leg of *rows* (legs that ended at or after *since*) exactly once. With
        *seen_only*, only legs the live stream saw are touched (their times put right)."""
        result = ReconcileResult(rows=len(rows))
        for _ in self.steps(rows, since, result, seen_only=seen_only):
            pass
        return result

    async def reconcile_async(
        self, rows: list[CdrRow], since: datetime, *, seen_only: bool = False
    ) -> ReconcileResult:
        """``reconcile``, giving the event loop a turn after each leg (live calls go on meanwhile)."""
        result = ReconcileResult(rows=len(rows))
        for _ in self.steps(rows, since, result, seen_only=seen_only):
            await asyncio.sleep(0)
        return result

    def steps(
        self, rows: list[CdrRow], since: datetime, result: ReconcileResult, *, seen_only: bool = False
    ) -> Iterator[None]:
        """The work of ``reconcile``, one leg per step."""
        manager = CallManager.for_plan(self.plan, self.dnis_lines)
        manager.subscribe(self.observe)
        legs = agent_legs(rows, self.watches)
        result.legs = len(legs)
        answered_groups = {leg.group for leg in legs if leg.answer is not None}
        # B1: a customer call that rang several agents is one "not answered" (its first leg to
        # end), and none if somebody answered it.
        claimant: dict[str, str] = {}
        for leg in legs:
            if leg.direction is Direction.INCOMING and leg.answer is None:
                claimant.setdefault(leg.group, leg.channel)
        for leg in legs:
            yield
            leg.start += _HALF
            leg.end += _HALF
            if leg.answer is not None:
                leg.answer += _HALF
            live = self.book.find(self.branch, leg.channel, leg.start, leg.end)
            if live is None and seen_only:
                continue
            if live is not None and live.ended is not None and (live.ended < since or _agrees(live, leg)):
                result.known += 1  # the live stream saw it end, on time
                continue
            reason = _reason(leg)
            if (
                leg.direction is Direction.INCOMING
                and leg.answer is None
                and (leg.group in answered_groups or claimant.get(leg.group) != leg.channel)
            ):
                reason = EndReason.ANSWERED_ELSEWHERE
            call_id = live.call_id if live is not None else f"{self.branch}/{leg.key}"
            started = live.started if live is not None else leg.start
            if self.started_of is not None:
                # the start its activity is keyed by (a node that adopted the call after a restart
                # may have started it at another moment than the node that first saw it ring)
                started = self.started_of(call_id) or started
            answered = leg.answer
            if (
                answered is not None
                and live is not None
                and live.answered is not None
                and abs((live.answered - answered).total_seconds()) <= _SAME
            ):
                answered = live.answered  # the same moment, to the millisecond
            final = self._replay(manager, call_id, leg, started, answered, reason)
            # the book now knows the leg as ended (later windows leave it alone)
            if live is None:
                self.book.note(self.branch, call_id, leg.channel, CallEvent.INCOMING, started)
            if answered is not None:
                self.book.note(self.branch, call_id, leg.channel, CallEvent.ANSWERED, answered)
            self.book.note(self.branch, call_id, leg.channel, CallEvent.ENDED, leg.end)
            if live is not None and live.ended is not None:
                # Ended live, but not as the PBX says (as of a lost link; or adopted after a
                # restart without its answer time): the closed activity gets the PBX's times.
                if final is not None and self.correct is not None and self.correct(final):
                    self.book.put(call_id, final.answered_at, leg.end)
                    result.corrected += 1
                else:
                    result.known += 1
                continue
            if live is not None:
                result.completed += 1
            else:
                result.logged += 1
            log.info(
                "call %s (%s, %s) ended while the server could not see it; logged from the PBX's CDR",
                call_id,
                leg.channel,
                reason.value,
                extra={"event": "call_reconciled", "call": call_id, "branch": self.branch},
            )

    def _replay(
        self,
        manager: CallManager,
        call_id: str,
        leg: _Leg,
        started: datetime,
        answered: datetime | None,
        reason: EndReason,
    ) -> Call | None:
        first = CallEvent.INCOMING if leg.direction is Direction.INCOMING else CallEvent.OUTGOING
        remote = self.plan.parse(leg.remote) if leg.remote else None
        manager.handle(
            ProviderEvent(
                first,
                call_id,
                direction=leg.direction,
                remote=remote,
                remote_name=leg.remote_name or None,
                dnis=leg.dnis or None,
                extension=leg.extension,
                at=started,
            ),
            provider="cdr",
        )
        if answered is not None:
            manager.handle(
                ProviderEvent(CallEvent.ANSWERED, call_id, at=max(answered, started)), provider="cdr"
            )
        return manager.handle(
            ProviderEvent(CallEvent.ENDED, call_id, reason=reason, at=leg.end), provider="cdr"
        )
