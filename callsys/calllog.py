"""The session call log (IN9, CARD3): every call the agent saw, kept in the local database.

``CallLog`` is a ``CallManager`` observer. It writes one row per call and upserts it on *every*
event, so a crash in the middle of a call still leaves the call in the log (with the state it
had). What the agent adds later — notes, the CRM activity id, the matched party — is set with
``set_notes`` / ``set_activity`` / ``set_party`` and never overwritten by a later event.

Reading back: ``query(...)`` returns frozen ``CallRecord`` values, newest first;
``missed_count(since)`` feeds the "missed calls" badge.

A row's key is not the provider's call id: those are unique within one run of the provider only
(the simulator starts at ``sim-1`` again after a restart, a PBX reuses its ids), so yesterday's row
``sim-1`` and today's call ``sim-1`` are two rows. ``row_id(call_id)`` gives (and, the first time,
allocates) the row of *this session's* call; every method that reads or changes one row —
``get``, ``set_notes``, ``set_party``, ``set_activity``, ``delete`` — takes that row key, never a
call id, so nothing written for today's call can land on yesterday's row or the other way round.

Times are stored as ISO-8601 text in UTC (``2026-11-25T18:20:00.000000+00:00``), so text order
is time order and the ``started_at`` index serves the range queries.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callsys.model import Call, CallEvent, CallState, Direction, EndReason, PartyKind, PhoneNumber, clean_text
from callsys.store import Database

__all__ = ["CallLog", "CallRecord"]

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 500
MAX_NOTES = 20_000
#: What the free-text search looks in (the full-text index ``calls_fts`` covers both).
_TEXT_COLUMNS = ("name", "party_name", "party_company", "notes")
_NUMBER_COLUMNS = ("number_e164", "number_digits", "number_raw")


def _like_clause(needle: str, digits: str, params: list[object]) -> str:
    """The search as a scan: *needle* in the text columns, *digits* in the number columns."""
    like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    clauses = [f"{col} LIKE ? ESCAPE '\\'" for col in _TEXT_COLUMNS]
    params.extend([like] * len(_TEXT_COLUMNS))
    if digits:
        clauses += [f"{col} LIKE ?" for col in _NUMBER_COLUMNS]
        params.extend([f"%{digits}%"] * len(_NUMBER_COLUMNS))
    return "(" + " OR ".join(clauses) + ")"


def _phrase(text: str) -> str:
    """*text* as one FTS5 string (a substring to find, whatever characters it holds)."""
    return '"' + text.replace('"', '""') + '"'


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # a naive time from a provider: take it as UTC rather than guess
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One row of the call log, as the UI and the CLI show it."""

    id: str  # the row's key (unique in the log)
    direction: Direction
    state: CallState
    number: PhoneNumber
    name: str  # the caller ID name the phone system sent
    started_at: datetime
    line: str = ""
    dnis: str = ""
    extension: str = ""
    provider: str = ""
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration: int = 0  # talk time in whole seconds
    result: EndReason | None = None  # the end reason; None while the call is live
    missed: bool = False
    waiting: bool = False
    loggable: bool = True
    variables: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    activity_id: str | None = None
    party_kind: PartyKind | None = None
    party_id: str | None = None
    party_name: str = ""
    party_company: str = ""
    call_id: str = ""  # the provider's id of the call (unique only within its session)
    transferred_to: str = ""  # the party was handed over to this number or address
    conference: bool = False  # the call was part of a three-way conference (kept when it left it)

    @property
    def display_name(self) -> str:
        """Who it was: the matched CRM record's name, else the caller ID name, else the number."""
        return self.party_name or self.name or str(self.number)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``callsys log --json``)."""
        return {
            "id": self.id,
            "call_id": self.call_id,
            "direction": self.direction.value,
            "state": self.state.value,
            "number": self.number.e164 or self.number.digits or None,
            "number_written": self.number.raw,
            "name": self.name,
            "display_name": self.display_name,
            "line": self.line,
            "dnis": self.dnis,
            "extension": self.extension,
            "provider": self.provider,
            "started_at": _ts(self.started_at),
            "answered_at": _ts(self.answered_at),
            "ended_at": _ts(self.ended_at),
            "duration": self.duration,
            "result": self.result.value if self.result else None,
            "missed": self.missed,
            "waiting": self.waiting,
            "loggable": self.loggable,
            "variables": dict(self.variables),
            "notes": self.notes,
            "activity_id": self.activity_id,
            "party_kind": self.party_kind.value if self.party_kind else None,
            "party_id": self.party_id,
            "party_name": self.party_name,
            "party_company": self.party_company,
            "transferred_to": self.transferred_to,
            "conference": self.conference,
        }


_UPSERT = """
INSERT INTO calls (
    id, call_id, direction, state, number_e164, number_raw, number_digits, name, line, dnis, extension,
    provider, started_at, answered_at, ended_at, duration, result, missed, waiting, loggable, variables,
    transferred_to, conference
) VALUES (
    :id, :call_id, :direction, :state, :number_e164, :number_raw, :number_digits, :name, :line, :dnis, :extension,
    :provider, :started_at, :answered_at, :ended_at, :duration, :result, :missed, :waiting, :loggable,
    :variables, :transferred_to, :conference
)
ON CONFLICT(id) DO UPDATE SET
    direction = excluded.direction,
    state = excluded.state,
    number_e164 = excluded.number_e164,
    number_raw = excluded.number_raw,
    number_digits = excluded.number_digits,
    name = excluded.name,
    line = excluded.line,
    dnis = excluded.dnis,
    extension = excluded.extension,
    provider = excluded.provider,
    started_at = excluded.started_at,
    answered_at = excluded.answered_at,
    ended_at = excluded.ended_at,
    duration = excluded.duration,
    result = excluded.result,
    missed = excluded.missed,
    waiting = excluded.waiting,
    loggable = excluded.loggable,
    variables = excluded.variables,
    transferred_to = excluded.transferred_to,
    conference = max(conference, excluded.conference)
"""


class CallLog:
    """The session call log over the ``calls`` table of the callsys database.

    Subscribe it to the manager: ``manager.subscribe(call_log)``. Writing never raises into the
    manager (a full disk is logged, the phone keeps ringing).
    """

    def __init__(self, db: Database) -> None:
        self._db = db  # opened by callsys.store.open_database, which made the ``calls`` table
        # Provider call ids are unique within a session only (the simulator restarts at sim-1,
        # a PBX restart reuses ids): each call of this session gets its own row key.
        self._rows: dict[str, str] = {}  # this session's call id → its row
        self._calls: dict[str, str] = {}  # and back
        self._table_names: set[str] | None = None

    def row_id(self, call_id: str) -> str:
        """The row of this session's call *call_id*: its id the first time the log sees it, or,
        when an earlier session left a row with that key, ``call_id#2``, ``#3``… Allocated on
        the first question (before the call's first write, if asked first) and the same from
        then on."""
        row = self._rows.get(call_id)
        if row is None:
            row = call_id
            suffix = 1
            while (
                row in self._calls
                or self._db.conn.execute("SELECT 1 FROM calls WHERE id = ?", (row,)).fetchone()
            ):
                suffix += 1
                row = f"{call_id}#{suffix}"
            self._rows[call_id] = row
            self._calls[row] = call_id
            while len(self._rows) > 10_000:
                self._calls.pop(self._rows.pop(next(iter(self._rows))), None)
        return row

    def session_call(self, row_id: str) -> str | None:
        """This session's call id of the row *row_id*; ``None`` for a row of an earlier session."""
        return self._calls.get(row_id)

    # ------------------------------------------------------------------ writing
    def __call__(self, event: CallEvent, call: Call) -> None:
        """``CallManager`` observer: record the call as it is now."""
        if event is CallEvent.DTMF:
            return
        try:
            self.record(call)
        except Exception:
            log.exception("could not write call %s to the call log", call.id)

    def record(self, call: Call) -> None:
        """Insert or update the row of *call* (keeps notes, activity and party)."""
        row = {
            "id": self.row_id(call.id),
            "call_id": call.id,
            "direction": call.direction.value,
            "state": call.state.value,
            "number_e164": call.remote.e164,
            "number_raw": call.remote.raw,
            "number_digits": call.remote.digits,
            "name": call.remote_name,
            "line": call.line,
            "dnis": call.dnis,
            "extension": call.extension,
            "provider": call.provider,
            "started_at": _ts(call.started_at),
            "answered_at": _ts(call.answered_at),
            "ended_at": _ts(call.ended_at),
            "duration": call.duration_seconds,
            "result": call.end_reason.value if call.end_reason else None,
            "missed": int(call.is_missed),
            "waiting": int(call.waiting),
            "loggable": int(call.loggable),
            "variables": json.dumps(dict(call.variables), ensure_ascii=False),
            "transferred_to": call.transferred_to,
            "conference": int(call.conference),
        }
        self._write(_UPSERT, row)

    def set_notes(self, row_id: str, text: str) -> bool:
        """Store the agent's notes for the row *row_id* (multi-line text kept). False if no such row."""
        notes = "".join(ch for ch in str(text)[:MAX_NOTES] if ch in "\n\t" or ch.isprintable())
        return self._update(row_id, notes=notes)

    def set_activity(self, row_id: str, activity_id: str | None) -> bool:
        """Remember the CRM phone-call activity written for this row's call (IN7)."""
        return self._update(row_id, activity_id=activity_id or None)

    def set_party(
        self,
        row_id: str,
        kind: PartyKind | str | None,
        party_id: str | None,
        name: str = "",
        company: str = "",
    ) -> bool:
        """Remember which CRM record the call was matched to (or ``None`` to clear)."""
        kind_value = PartyKind(kind).value if kind else None
        return self._update(
            row_id,
            party_kind=kind_value,
            party_id=party_id or None,
            party_name=clean_text(name),
            party_company=clean_text(company),
        )

    def delete(self, row_id: str) -> bool:
        return self._write("DELETE FROM calls WHERE id = ?", (row_id,)) > 0

    def mark_interrupted(self, before: datetime | None = None) -> int:
        """End the rows of calls that were still live when callsys stopped (a crash, a kill):
        they become ``failed``. Call at start-up, before any provider runs. Returns how many."""
        cutoff = _ts(before or datetime.now(UTC))
        return self._write(
            "UPDATE calls SET state = 'ended', result = 'failed', ended_at = COALESCE(ended_at, ?)"
            " WHERE state != 'ended' AND started_at < ?",
            (cutoff, cutoff),
        )

    def _update(self, row_id: str, **values: object) -> bool:
        columns = ", ".join(f"{name} = :{name}" for name in values)
        return self._write(f"UPDATE calls SET {columns} WHERE id = :id", {**values, "id": row_id}) > 0

    def _write(self, sql: str, params: dict[str, Any] | tuple[Any, ...]) -> int:
        conn = self._db.conn
        if conn.in_transaction:  # someone else's transaction: join it
            return conn.execute(sql, params).rowcount
        with conn:
            return conn.execute(sql, params).rowcount

    # ------------------------------------------------------------------ reading
    def get(self, row_id: str) -> CallRecord | None:
        """The row *row_id* (for this session's call: ``get(row_id(call_id))``)."""
        rows = self._select("WHERE id = ?", [row_id], 1)
        return rows[0] if rows else None

    def query(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        direction: Direction | str | None = None,
        result: EndReason | str | None = None,
        text: str | None = None,
        *,
        missed: bool | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[CallRecord]:
        """Calls that started in ``[since, until)``, newest first, filtered by direction, end
        result, missed flag and a free *text* (name, company, number, notes)."""
        where: list[str] = []
        params: list[object] = []
        if since is not None:
            where.append("started_at >= ?")
            params.append(_ts(since))
        if until is not None:
            where.append("started_at < ?")
            params.append(_ts(until))
        if direction is not None:
            where.append("direction = ?")
            params.append(Direction(direction).value)
        if result is not None:
            where.append("result = ?")
            params.append(EndReason(result).value)
        if missed is not None:
            where.append("missed = ?")
            params.append(int(missed))
        matches: str | None = None
        if text:
            needle = clean_text(text)
            digits = "".join(ch for ch in needle if ch.isdigit())
            ascii_digits = ""
            if digits:
                from callsys.numbers import to_ascii_digits  # phonenumbers: not at start-up

                ascii_digits = to_ascii_digits(digits)
            if "calls_fts" in self._tables() and len(needle) >= 3 and (not digits or len(digits) >= 3):
                # The trigram index finds any substring of 3+ characters without reading every
                # call; the matches are then sorted by time (a few hundred, not a million).
                terms = [f"{{{' '.join(_TEXT_COLUMNS)}}} : {_phrase(needle)}"]
                if ascii_digits:
                    terms.append(f"{{{' '.join(_NUMBER_COLUMNS)}}} : {_phrase(ascii_digits)}")
                matches = " OR ".join(terms)
            else:  # one or two characters: too short for the index, read the rows
                where.append(_like_clause(needle, ascii_digits, params))
        sql = ("WHERE " + " AND ".join(where)) if where else ""
        if matches is not None:
            limit = max(0, int(limit))
            if self._few_matches(matches, limit):
                return self._select(sql, params, limit, matches=matches)
            # A common word: walking the calls newest first finds *limit* of them sooner than
            # sorting every match by time would.
            where.append(_like_clause(needle, ascii_digits, params))
            sql = "WHERE " + " AND ".join(where)
        return self._select(sql, params, max(0, int(limit)))

    def missed_count(self, since: datetime | None = None) -> int:
        """How many calls were missed (B1: not counting those answered elsewhere) since *since*."""
        if since is None:
            row = self._db.conn.execute("SELECT count(*) FROM calls WHERE missed = 1").fetchone()
        else:
            row = self._db.conn.execute(
                "SELECT count(*) FROM calls WHERE missed = 1 AND started_at >= ?", (_ts(since),)
            ).fetchone()
        return int(row[0])

    def _few_matches(self, matches: str, limit: int) -> bool:
        """Whether the index finds few enough calls to sort them all by time (at most 40 per
        call shown, and at least 2,000): reading the first matches only is cheap."""
        bound = max(2000, 40 * limit)
        row = self._db.conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM calls_fts WHERE calls_fts MATCH ? LIMIT ?)", (matches, bound)
        ).fetchone()
        return int(row[0]) < bound

    def _tables(self) -> set[str]:
        if self._table_names is None:
            self._table_names = set(self._db.table_names())
        return self._table_names

    def _select(
        self, where: str, params: list[object], limit: int, matches: str | None = None
    ) -> list[CallRecord]:
        if matches is None:
            sql = f"SELECT * FROM calls {where} ORDER BY started_at DESC, rowid DESC LIMIT ?"
        else:
            # The matching rows first (CROSS JOIN keeps that order): otherwise SQLite may walk the
            # whole time index newest-first and test each call against the matches.
            sql = (
                "WITH found(r) AS MATERIALIZED (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?) "
                f"SELECT calls.* FROM found CROSS JOIN calls ON calls.rowid = found.r {where} "
                "ORDER BY calls.started_at DESC, calls.rowid DESC LIMIT ?"
            )
            params = [matches, *params]
        cursor = self._db.conn.execute(sql, [*params, limit])
        names = [d[0] for d in cursor.description]
        return [_record(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _record(row: dict[str, Any]) -> CallRecord:
    try:
        variables = json.loads(row["variables"] or "{}")
        if not isinstance(variables, dict):
            variables = {}
    except ValueError:
        variables = {}
    try:
        number = PhoneNumber(
            raw=row["number_raw"] or "",
            e164=row["number_e164"] or None,
            digits=row["number_digits"] or "",
        )
    except ValueError:  # a row written by hand or by an older version
        number = PhoneNumber(raw=row["number_raw"] or "")
    started = _dt(row["started_at"])
    return CallRecord(
        id=row["id"],
        direction=Direction(row["direction"]),
        state=CallState(row["state"]),
        number=number,
        name=row["name"] or "",
        started_at=started or datetime.fromtimestamp(0, UTC),
        line=row["line"] or "",
        dnis=row["dnis"] or "",
        extension=row["extension"] or "",
        provider=row["provider"] or "",
        answered_at=_dt(row["answered_at"]),
        ended_at=_dt(row["ended_at"]),
        duration=int(row["duration"] or 0),
        result=EndReason(row["result"]) if row["result"] else None,
        missed=bool(row["missed"]),
        waiting=bool(row["waiting"]),
        loggable=bool(row["loggable"]),
        variables={str(k): str(v) for k, v in variables.items()},
        notes=row["notes"] or "",
        activity_id=row["activity_id"],
        party_kind=PartyKind(row["party_kind"]) if row["party_kind"] else None,
        party_id=row["party_id"],
        party_name=row["party_name"] or "",
        party_company=row["party_company"] or "",
        call_id=row["call_id"] or row["id"],
        transferred_to=row.get("transferred_to") or "",
        conference=bool(row.get("conference")),
    )
