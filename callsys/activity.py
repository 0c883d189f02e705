"""``ActivityLogger``: every call becomes exactly one Dynamics 365 phone-call activity
(IN7, IN8, OUT5, OUT6, IN13, IN14, B4, B7).

A ``CallManager`` observer. It never talks to the network itself: it writes outbox items, each
carrying the activity's client-chosen ``activityid``, and the handlers registered by
``register_handlers`` deliver them (contract §3):

- ANSWERED → ``phonecall.create``: subject, number, ``directioncode``, actual start, the
  caller's record as *regarding* and as a from/to activity party, the agent as owner and party.
  A retry that finds the id already there (412 ``0x80040237``) counts as created.
- ENDED after an answer → ``phonecall.complete``: actual end, ``actualdurationminutes`` (whole
  minutes, rounded up), the exact seconds and the agent's notes in the description, then the
  state Completed/Received (incoming) or Completed/Made (outgoing) — fields and state in one
  atomic changeset.
- ENDED without an answer (missed, rejected, busy, no answer, cancelled) → one changeset that
  creates the activity titled "Unanswered" (translatable) and closes it with the *unanswered
  status*: by default Canceled/Canceled (2, 3), which every organisation has and reports can
  group by ``statuscode``; an organisation that added a custom status reason under Completed
  (contract §3.2 option a, e.g. 100000000, found by ``callsys crm discover``) configures that.
- A call answered by another agent of a ring group (B1) is that agent's activity, not ours.
- ``loggable`` false (IN13: short internal numbers) → nothing at all.
- Notes typed during or after the call → ``phonecall.notes``; a closed activity is reopened,
  updated and closed again in one changeset (closed activities are read-only, §3.2). The same
  for ``link`` (the agent picked the record, or converted the call).

The call → activity id map lives in SQLite (``activity_calls``) in the same database as the
outbox, so a restart neither forgets an activity nor makes a second one.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from callsys.crm.dynamics.batch import BatchRequest
from callsys.crm.dynamics.client import DynamicsCrm, is_duplicate
from callsys.errors import CrmConflict, CrmError, CrmNotFound, CrmRejected
from callsys.model import Call, CallEvent, Direction, EndReason, Party
from callsys.outbox import Batchable, Outbox
from callsys.store import Database

__all__ = [
    "CANCELED",
    "COMPLETED_MADE",
    "COMPLETED_RECEIVED",
    "ActivityLogger",
    "ensure_schema",
    "regarding_bind",
    "register_handlers",
    "update_phonecall",
]

log = logging.getLogger(__name__)

COMPLETED_RECEIVED = (1, 4)
COMPLETED_MADE = (1, 2)
CANCELED = (2, 3)
OPEN = (0, 1)
MAX_DESCRIPTION = 2000

_PARTY_TABLES = {"contact": "contacts", "account": "accounts", "lead": "leads", "systemuser": "systemusers"}
_REGARDING_TABLES = {"contact": "contacts", "account": "accounts", "lead": "leads", "incident": "incidents"}


def ensure_schema(db: Database) -> None:
    with db.conn:
        db.execute(
            """CREATE TABLE IF NOT EXISTS activity_calls (
                call_key TEXT PRIMARY KEY,
                call_id TEXT NOT NULL,
                activity_id TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL DEFAULT 'open',
                status TEXT NOT NULL DEFAULT '',
                notes TEXT NOT NULL DEFAULT '',
                summary TEXT NOT NULL DEFAULT '',
                regarding_table TEXT NOT NULL DEFAULT '',
                regarding_id TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL
            )"""
        )
        db.execute("CREATE INDEX IF NOT EXISTS activity_calls_call ON activity_calls (call_id)")


def call_key(call: Call) -> str:
    """A provider may use a call id again (a restarted simulator, a PBX after a reset): the
    start time makes the key of *this* call."""
    return key_of(call.id, call.started_at)


def key_of(call_id: str, started_at: datetime) -> str:
    """``call_key`` of the call *call_id* that started at *started_at* (a call log row's)."""
    return f"{call_id}|{_iso(started_at)}"


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_minutes(seconds: int) -> int:
    """Whole minutes for ``actualdurationminutes``: rounded up, so a 20-second call is 1 minute."""
    return math.ceil(seconds / 60) if seconds > 0 else 0


def _context(call: Call) -> str:
    """The line the call came in on (IN12) and what the caller keyed in the IVR (SET2)."""
    lines = []
    if call.line:
        lines.append(
            f"Line: {call.line}" + (f" ({call.dnis})" if call.dnis and call.dnis != call.line else "")
        )
    for key, value in list(call.variables.items())[:10]:
        lines.append(f"{key}: {value}"[:200])
    return "".join("\n" + line for line in lines)


def compose_description(notes: str, summary: str) -> str:
    """Notes first, then our one-line summary (exact seconds); cut to the column's 2000 chars."""
    notes = notes.strip()
    if not summary:
        return notes[:MAX_DESCRIPTION]
    room = MAX_DESCRIPTION - len(summary) - 2
    if len(notes) > room:
        notes = notes[: max(0, room - 1)] + "…"
    return f"{notes}\n\n{summary}" if notes else summary


def _binds(party: Party | None, agent_id: str | None, direction: Direction) -> dict[str, Any]:
    body: dict[str, Any] = {}
    parties: list[dict[str, Any]] = []
    caller_mask, agent_mask = (1, 2) if direction is Direction.INCOMING else (2, 1)
    if party is not None and party.source in ("", "dynamics"):
        table = party.table or party.kind.value
        if table in _REGARDING_TABLES:
            body[f"regardingobjectid_{table}_phonecall@odata.bind"] = (
                f"/{_REGARDING_TABLES[table]}({party.id})"
            )
        if table in _PARTY_TABLES:
            parties.append(
                {
                    f"partyid_{table}@odata.bind": f"/{_PARTY_TABLES[table]}({party.id})",
                    "participationtypemask": caller_mask,
                }
            )
    if agent_id:
        body["ownerid@odata.bind"] = f"/systemusers({agent_id})"
        parties.append(
            {
                "partyid_systemuser@odata.bind": f"/systemusers({agent_id})",
                "participationtypemask": agent_mask,
            }
        )
    if parties:
        body["phonecall_activity_parties"] = parties
    return body


def _without_binds(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body without record references (one of them was deleted meanwhile): log the call anyway."""
    return {
        k: v for k, v in body.items() if not k.endswith("@odata.bind") and k != "phonecall_activity_parties"
    }


class ActivityLogger:
    """Observer: ``manager.subscribe(ActivityLogger(outbox, …))``."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        resolve_party: Callable[[Call], Party | None] = lambda _c: None,
        agent_for: Callable[[Call], str | None] = lambda _c: None,
        display_number: Callable[[Call], str] = lambda c: str(c.remote) or "unknown",
        unanswered_title: str = "Unanswered",
        unanswered_status: tuple[int, int] = CANCELED,
        incoming_label: str = "Inbound call",
        outgoing_label: str = "Outbound call",
        creates: bool = True,
    ) -> None:
        """*creates* False: a desktop connected to a callsys server, which writes the activities;
        this logger only adds notes and links to the ones it is told about (``adopt``)."""
        self.outbox = outbox
        self.db = outbox.db
        ensure_schema(self.db)
        self.resolve_party = resolve_party
        self.agent_for = agent_for
        self.display_number = display_number
        self.unanswered_title = unanswered_title
        self.unanswered_status = unanswered_status
        self.incoming_label = incoming_label
        self.outgoing_label = outgoing_label
        self.creates = creates

    # ---------------------------------------------------------------- queries
    def activity_id(self, call_id: str, *, started_at: datetime | None = None) -> str | None:
        """The activity of the call *call_id* that started at *started_at* — or, without it, of
        the latest call with this id (a provider's ids repeat across its restarts: give the
        start wherever it is known)."""
        row = self._row(call_id, started_at)
        return str(row["activity_id"]) if row else None

    def _activity_for(self, call: Call) -> str | None:
        row = self.db.execute(
            "SELECT activity_id FROM activity_calls WHERE call_key = ?", [call_key(call)]
        ).fetchone()
        return str(row[0]) if row else None

    def _row(self, call_id: str, started_at: datetime | None = None) -> dict[str, Any] | None:
        if started_at is not None:
            cur = self.db.execute(
                "SELECT * FROM activity_calls WHERE call_key = ?", [key_of(call_id, started_at)]
            )
        else:
            cur = self.db.execute(
                "SELECT * FROM activity_calls WHERE call_id = ? ORDER BY rowid DESC LIMIT 1", [call_id]
            )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    # ---------------------------------------------------------------- observer
    def __call__(self, event: CallEvent, call: Call) -> None:
        if not call.loggable or not self.creates:
            return  # IN13; or the server logs this desktop's calls (adopt)
        if event is CallEvent.ANSWERED:
            self._created(call)
        elif event is CallEvent.ENDED:
            self._ended(call)

    def _subject(self, call: Call, party: Party | None) -> str:
        label = self.incoming_label if call.direction is Direction.INCOMING else self.outgoing_label
        text = f"{label} {self.display_number(call)}"
        name = party.name if party else call.remote_name
        return (f"{text} — {name}" if name else text)[:200]

    def _unanswered_subject(self, call: Call, party: Party | None) -> str:
        label = self.incoming_label if call.direction is Direction.INCOMING else self.outgoing_label
        name = party.name if party else call.remote_name
        subject = f"{self.unanswered_title}: {label} {self.display_number(call)}" + (
            f" — {name}" if name else ""
        )
        return subject[:200]

    def _created(self, call: Call) -> str:
        existing = self._activity_for(call)
        if existing:
            return existing
        activity_id = str(uuid.uuid4())
        party = self._party(call)
        body: dict[str, Any] = {
            "activityid": activity_id,
            "subject": self._subject(call, party),
            "phonenumber": (call.remote.e164 or call.remote.digits or call.remote.raw)[:200],
            "directioncode": call.direction is Direction.OUTGOING,
            "actualstart": _iso(call.answered_at or call.started_at),
            **_binds(party, self._agent(call), call.direction),
        }
        regarding = (party.table or party.kind.value, party.id) if party else ("", "")
        # the map row and the outbox item commit together: both or neither survive a kill
        with self.db.conn:
            self.db.execute(
                "INSERT INTO activity_calls (call_key, call_id, activity_id, regarding_table, regarding_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [call_key(call), call.id, activity_id, regarding[0], regarding[1], _iso(datetime.now(UTC))],
            )
            self.outbox.enqueue(
                "phonecall.create", {"activityid": activity_id, "body": body}, group=activity_id
            )
        return activity_id

    def _party(self, call: Call) -> Party | None:
        try:
            return self.resolve_party(call)
        except Exception:
            log.exception("could not resolve the caller's record for call %s", call.id)
            return None

    def _agent(self, call: Call) -> str | None:
        try:
            return self.agent_for(call)
        except Exception:
            log.exception("could not resolve the agent for call %s", call.id)
            return None

    def _ended(self, call: Call) -> None:
        reason = call.end_reason or EndReason.COMPLETED
        if call.answered_at is None:
            if reason is EndReason.ANSWERED_ELSEWHERE:
                return  # B1: the colleague who answered logs it
            self._unanswered(call, reason)
            return
        activity_id = self._created(call)
        cur = self.db.execute("SELECT state, notes FROM activity_calls WHERE call_key = ?", [call_key(call)])
        found = cur.fetchone()
        row = {"state": found[0], "notes": found[1]} if found else {}
        if row.get("state") == "closed":
            return
        seconds = call.duration_seconds
        summary = f"Duration: {seconds // 60} min {seconds % 60:02d} s ({seconds} s)." + _context(call)
        state = COMPLETED_RECEIVED if call.direction is Direction.INCOMING else COMPLETED_MADE
        fields = {
            "actualend": _iso(call.ended_at),
            "scheduledend": _iso(call.ended_at),
            "actualdurationminutes": duration_minutes(seconds),
            "description": compose_description(str(row.get("notes") or ""), summary),
        }
        with self.db.conn:
            self.db.execute(
                "UPDATE activity_calls SET state = 'closed', status = ?, summary = ? WHERE call_key = ?",
                [f"{state[0]},{state[1]}", summary, call_key(call)],
            )
            self.outbox.enqueue(
                "phonecall.complete",
                {"activityid": activity_id, "fields": fields, "state": list(state)},
                group=activity_id,
            )

    def _unanswered(self, call: Call, reason: EndReason) -> None:
        if self._activity_for(call):
            return
        activity_id = str(uuid.uuid4())
        party = self._party(call)
        rang = max(0, round(((call.ended_at or call.started_at) - call.started_at).total_seconds()))
        what = (
            "Sent to voicemail by the agent"
            if reason is EndReason.VOICEMAIL
            else f"Not answered ({reason.value})"
        )
        summary = f"{what}; rang {rang} s." + _context(call)
        body: dict[str, Any] = {
            "activityid": activity_id,
            "subject": self._unanswered_subject(call, party),
            "phonenumber": (call.remote.e164 or call.remote.digits or call.remote.raw)[:200],
            "directioncode": call.direction is Direction.OUTGOING,
            "actualstart": _iso(call.started_at),
            "actualend": _iso(call.ended_at),
            "actualdurationminutes": 0,
            "description": summary,
            **_binds(party, self._agent(call), call.direction),
        }
        regarding = (party.table or party.kind.value, party.id) if party else ("", "")
        status = self.unanswered_status
        with self.db.conn:
            self.db.execute(
                "INSERT INTO activity_calls (call_key, call_id, activity_id, state, status, summary, "
                "regarding_table, regarding_id, created_at) VALUES (?, ?, ?, 'closed', ?, ?, ?, ?, ?)",
                [
                    call_key(call),
                    call.id,
                    activity_id,
                    f"{status[0]},{status[1]}",
                    summary,
                    regarding[0],
                    regarding[1],
                    _iso(datetime.now(UTC)),
                ],
            )
            self.outbox.enqueue(
                "phonecall.create_closed",
                {"activityid": activity_id, "body": body, "state": list(status)},
                group=activity_id,
            )

    def adopt(
        self, call_id: str, activity_id: str, *, closed: bool = False, status: tuple[int, int] | None = None
    ) -> None:
        """Take on an activity somebody else created for this call (the callsys server, when this
        desktop is connected to one): notes and links go to it, and no second one is created."""
        state = "closed" if closed else "open"
        status_text = f"{status[0]},{status[1]}" if status else ""
        with self.db.conn:
            self.db.execute(
                "INSERT INTO activity_calls (call_key, call_id, activity_id, state, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(call_key) DO UPDATE SET activity_id = excluded.activity_id, "
                "state = excluded.state, status = excluded.status",
                [
                    f"{call_id}|{activity_id}",
                    call_id,
                    activity_id,
                    state,
                    status_text,
                    _iso(datetime.now(UTC)),
                ],
            )

    # ---------------------------------------------------------------- agent actions
    def set_notes(self, call_id: str, notes: str, *, started_at: datetime | None = None) -> bool:
        """The agent's notes for a call (*started_at*: as ``activity_id``); the activity follows
        (reopen → update → close if closed). ``False`` when the call has no activity (not logged)."""
        row = self._row(call_id, started_at)
        if row is None:
            return False
        description = compose_description(notes, str(row.get("summary") or ""))
        group = str(row["activity_id"])
        with self.db.conn:
            self.db.execute(
                "UPDATE activity_calls SET notes = ? WHERE call_key = ?", [notes, row["call_key"]]
            )
            # notes saved again before the last text went out: send only the latest (API limits)
            self.outbox.supersede("phonecall.update", group, "description")
            self.outbox.enqueue(
                "phonecall.update",
                {
                    "activityid": row["activity_id"],
                    "fields": {"description": description},
                    "state": _state(row),
                    "supersedes": "description",
                },
                group=group,
            )
        return True

    def found_party(self, call: Call, party: Party) -> bool:
        """The caller's record became known after the call's activity was written without it (the
        call ended — or was answered — before the caller lookup returned, or the CRM was down):
        fill in what the activity lacks — the record it regards, the caller as its from (to)
        party, the name in its subject — in one update. Only an activity written without any
        record; one the agent already linked keeps that. ``False`` when there is nothing to do."""
        row = self._row(call.id, call.started_at)
        if row is None or row.get("regarding_id") or party.source not in ("", "dynamics"):
            return False
        table = party.table or party.kind.value
        fields = _binds(party, self._agent(call), call.direction)
        fields.pop("ownerid@odata.bind", None)  # the owner does not change
        # The parties are set as a whole (the caller and the agent), as when the activity is made.
        # *call* may be the snapshot the lookup started with (ringing): the row says which it was.
        status = self.unanswered_status
        if row.get("status") == f"{status[0]},{status[1]}" and row.get("state") == "closed":
            fields["subject"] = self._unanswered_subject(call, party)
        else:
            fields["subject"] = self._subject(call, party)
        group = str(row["activity_id"])
        with self.db.conn:
            self.db.execute(
                "UPDATE activity_calls SET regarding_table = ?, regarding_id = ? WHERE call_key = ?",
                [table, party.id, row["call_key"]],
            )
            self.outbox.enqueue(
                "phonecall.update",
                {"activityid": row["activity_id"], "fields": fields, "state": _state(row)},
                group=group,
            )
        return True

    def link(self, call_id: str, table: str, record_id: str, *, started_at: datetime | None = None) -> bool:
        """Set the activity's *regarding* record (the agent's pick, or a record made from the
        call); *started_at*: as ``activity_id``."""
        row = self._row(call_id, started_at)
        if row is None or table not in _REGARDING_TABLES:
            return False
        bind = regarding_bind(table, record_id)
        with self.db.conn:
            self.db.execute(
                "UPDATE activity_calls SET regarding_table = ?, regarding_id = ? WHERE call_key = ?",
                [table, record_id, row["call_key"]],
            )
            self.outbox.enqueue(
                "phonecall.update",
                {"activityid": row["activity_id"], "fields": bind, "state": _state(row)},
                group=str(row["activity_id"]),
            )
        return True


def _state(row: Mapping[str, Any]) -> list[int] | None:
    status = str(row.get("status") or "")
    if row.get("state") != "closed" or "," not in status:
        return None
    a, b = status.split(",")
    return [int(a), int(b)]


# ------------------------------------------------------------------------------------ delivery
async def update_phonecall(crm: DynamicsCrm, activity_id: str, fields: Mapping[str, Any]) -> None:
    """Change an activity, open or closed. Closed activities are read-only, so a closed one is
    reopened, changed and closed again with its own state — in one atomic changeset (§3.2)."""
    row = await crm.retrieve("phonecalls", activity_id, ["statecode", "statuscode"])
    current = (int(row.get("statecode") or 0), int(row.get("statuscode") or 1))
    if current[0] == 0:
        await crm.update("phonecalls", activity_id, fields, what="update the phone call")
        return
    url = crm.url(f"phonecalls({activity_id})")
    await crm.changeset(
        [
            BatchRequest("PATCH", url, {"statecode": OPEN[0], "statuscode": OPEN[1]}, {"If-Match": "*"}),
            BatchRequest("PATCH", url, dict(fields), {"If-Match": "*"}),
            BatchRequest(
                "PATCH", url, {"statecode": current[0], "statuscode": current[1]}, {"If-Match": "*"}
            ),
        ],
        what="update the closed phone call",
    )


def regarding_bind(table: str, record_id: str) -> dict[str, str]:
    """``regardingobjectid_<table>_phonecall@odata.bind`` for contact, account, lead or incident."""
    if table not in _REGARDING_TABLES:
        raise CrmRejected(f"A phone call cannot be linked to a {table}.")
    return {f"regardingobjectid_{table}_phonecall@odata.bind": f"/{_REGARDING_TABLES[table]}({record_id})"}


def register_handlers(outbox: Outbox, crm: DynamicsCrm, *, batches: bool = True) -> None:
    """The outbox handlers that deliver ``ActivityLogger``'s items through *crm* — many to a
    ``$batch`` unless *batches* is false."""

    def entity(activity_id: str) -> str:
        return crm.url(f"phonecalls({activity_id})")

    async def read_state(activity_id: str) -> tuple[int, int]:
        row = await crm.retrieve("phonecalls", activity_id, ["statecode", "statuscode"])
        return int(row.get("statecode") or 0), int(row.get("statuscode") or 1)

    async def create(payload: Mapping[str, Any]) -> None:
        body = dict(payload["body"])
        try:
            await crm.create("phonecalls", body, select=["activityid", "statecode"], what="log the call")
        except CrmConflict as exc:
            if not is_duplicate(exc):
                raise
            log.info("phone call %s already exists: an earlier attempt got through", payload["activityid"])
        except CrmNotFound:
            # the caller's record (or the agent) was deleted since the lookup: log without it
            try:
                await crm.create(
                    "phonecalls", _without_binds(body), select=["activityid"], what="log the call"
                )
            except CrmConflict as exc:
                if not is_duplicate(exc):
                    raise

    async def create_closed(payload: Mapping[str, Any]) -> None:
        activity_id = str(payload["activityid"])
        state = {"statecode": payload["state"][0], "statuscode": payload["state"][1]}

        async def attempt(body: Mapping[str, Any]) -> None:
            await crm.changeset(
                [
                    BatchRequest("POST", crm.url("phonecalls"), dict(body)),
                    BatchRequest("PATCH", "$1", state, {"If-Match": "*"}),
                ],
                what="log the unanswered call",
            )

        try:
            await attempt(payload["body"])
        except CrmConflict as exc:
            if not is_duplicate(exc):
                raise
            if (await read_state(activity_id))[0] == 0:  # created by an earlier attempt, not closed
                await crm.update("phonecalls", activity_id, state, what="close the phone call")
        except CrmNotFound:
            await attempt(_without_binds(payload["body"]))

    async def complete(payload: Mapping[str, Any]) -> None:
        activity_id = str(payload["activityid"])
        target = (int(payload["state"][0]), int(payload["state"][1]))
        try:
            await crm.changeset(
                [
                    BatchRequest("PATCH", entity(activity_id), dict(payload["fields"]), {"If-Match": "*"}),
                    BatchRequest(
                        "PATCH",
                        entity(activity_id),
                        {"statecode": target[0], "statuscode": target[1]},
                        {"If-Match": "*"},
                    ),
                ],
                what="complete the phone call",
            )
        except CrmRejected as exc:
            if isinstance(exc, CrmNotFound):
                raise
            # closed already: an earlier attempt got through but its answer was lost
            if await read_state(activity_id) != target:
                raise

    async def update(payload: Mapping[str, Any]) -> None:
        await update_phonecall(crm, str(payload["activityid"]), dict(payload["fields"]))

    # Many at a time (a backlog after an outage): each item one changeset in a shared $batch.
    # A failure the handler knows how to settle (the caller's record deleted, the call closed by
    # an earlier attempt whose answer was lost) goes to the handler above.
    def create_changeset(payload: Mapping[str, Any]) -> list[BatchRequest]:
        return [BatchRequest("POST", crm.url("phonecalls"), dict(payload["body"]))]

    def already_there(_payload: Mapping[str, Any], error: CrmError) -> bool:
        return isinstance(error, CrmConflict) and is_duplicate(error)

    def create_closed_changeset(payload: Mapping[str, Any]) -> list[BatchRequest]:
        state = {"statecode": payload["state"][0], "statuscode": payload["state"][1]}
        return [
            BatchRequest("POST", crm.url("phonecalls"), dict(payload["body"])),
            BatchRequest("PATCH", "$1", state, {"If-Match": "*"}),
        ]

    def complete_changeset(payload: Mapping[str, Any]) -> list[BatchRequest]:
        activity_id = str(payload["activityid"])
        return [
            BatchRequest("PATCH", entity(activity_id), dict(payload["fields"]), {"If-Match": "*"}),
            BatchRequest(
                "PATCH",
                entity(activity_id),
                {"statecode": payload["state"][0], "statuscode": payload["state"][1]},
                {"If-Match": "*"},
            ),
        ]

    outbox.register("phonecall.create", create, batch=Batchable(create_changeset, already_there))
    outbox.register("phonecall.create_closed", create_closed, batch=Batchable(create_closed_changeset))
    outbox.register("phonecall.complete", complete, batch=Batchable(complete_changeset))
    outbox.register("phonecall.update", update)  # reads the state first: one at a time
    outbox.use_batches(
        (lambda changesets: crm.changesets(changesets, what="log the calls")) if batches else None
    )
