"""Call reports (IN10, OUT8): average talk time, answered vs unanswered, calls per user, per line
and per direction over a date range — from Dynamics 365 (FetchXML aggregates, contract §6) or,
offline, from the local call log.

Dynamics knows what was logged there by anyone (the server logs every extension, IN14); the
local call log knows this desktop's calls to the second, including the line (which Dynamics has
no column for). Differences the reader should know are listed in ``CallReport.notes``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callsys.crm.dynamics.client import FORMATTED, DynamicsCrm
from callsys.errors import CrmRejected
from callsys.store import Database

__all__ = ["Bucket", "CallReport", "dynamics_report", "fetch_xml", "local_report"]

AGGREGATE_LIMIT = "8004E023"
ANSWERED_STATUSES = (2, 4)  # Completed/Made, Completed/Received


@dataclass
class Bucket:
    calls: int = 0
    answered: int = 0
    unanswered: int = 0
    talk_seconds: float = 0.0

    def add(self, other: Bucket) -> None:
        self.calls += other.calls
        self.answered += other.answered
        self.unanswered += other.unanswered
        self.talk_seconds += other.talk_seconds

    @property
    def average_talk_seconds(self) -> float:
        return self.talk_seconds / self.answered if self.answered else 0.0

    @property
    def answered_percent(self) -> float:
        decided = self.answered + self.unanswered
        return 100.0 * self.answered / decided if decided else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "average_talk_seconds": round(self.average_talk_seconds, 1),
            "answered_percent": round(self.answered_percent, 1),
        }


@dataclass
class CallReport:
    source: str  # "dynamics" | "local"
    start: datetime
    end: datetime
    total: Bucket = field(default_factory=Bucket)
    by_user: dict[str, Bucket] = field(default_factory=dict)
    by_line: dict[str, Bucket] = field(default_factory=dict)
    by_direction: dict[str, Bucket] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        bucket: Bucket,
        *,
        user: str | None = None,
        line: str | None = None,
        direction: str | None = None,
    ) -> None:
        self.total.add(bucket)
        for key, table in ((user, self.by_user), (line, self.by_line), (direction, self.by_direction)):
            if key is not None:
                table.setdefault(key, Bucket()).add(bucket)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "total": self.total.to_dict(),
            "by_user": {k: v.to_dict() for k, v in sorted(self.by_user.items())},
            "by_line": {k: v.to_dict() for k, v in sorted(self.by_line.items())},
            "by_direction": {k: v.to_dict() for k, v in sorted(self.by_direction.items())},
            "notes": list(self.notes),
        }


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_xml(start: datetime, end: datetime) -> str:
    """The aggregate query: count and summed minutes by direction, status and owner."""
    fetch = ET.Element("fetch", aggregate="true")
    entity = ET.SubElement(fetch, "entity", name="phonecall")
    ET.SubElement(entity, "attribute", name="activityid", alias="calls", aggregate="count")
    ET.SubElement(entity, "attribute", name="actualdurationminutes", alias="minutes", aggregate="sum")
    ET.SubElement(entity, "attribute", name="directioncode", alias="direction", groupby="true")
    ET.SubElement(entity, "attribute", name="statuscode", alias="status", groupby="true")
    ET.SubElement(entity, "attribute", name="ownerid", alias="owner", groupby="true")
    flt = ET.SubElement(entity, "filter", type="and")
    ET.SubElement(flt, "condition", attribute="actualstart", operator="ge", value=_utc(start))
    ET.SubElement(flt, "condition", attribute="actualstart", operator="lt", value=_utc(end))
    return ET.tostring(fetch, encoding="unicode")


async def _fetch_rows(
    crm: DynamicsCrm, start: datetime, end: datetime, depth: int = 0
) -> list[dict[str, Any]]:
    try:
        data = await crm.get_json(
            "phonecalls",
            {"fetchXml": fetch_xml(start, end)},
            headers={"Prefer": f'odata.include-annotations="{FORMATTED}"'},
            what="call report",
        )
    except CrmRejected as exc:
        # aggregates are capped at 50,000 rows (§5): halve the range and add up
        if AGGREGATE_LIMIT in (exc.code or "").upper() and depth < 12 and end - start > timedelta(minutes=1):
            middle = start + (end - start) / 2
            return [
                *await _fetch_rows(crm, start, middle, depth + 1),
                *await _fetch_rows(crm, middle, end, depth + 1),
            ]
        raise
    rows: list[dict[str, Any]] = data.get("value", [])
    return rows


async def dynamics_report(
    crm: DynamicsCrm, start: datetime, end: datetime, *, unanswered_status: tuple[int, int] = (2, 3)
) -> CallReport:
    report = CallReport("dynamics", start, end)
    for row in await _fetch_rows(crm, start, end):
        status = int(row.get("status") or 0)
        calls = int(row.get("calls") or 0)
        bucket = Bucket(calls=calls)
        if status in ANSWERED_STATUSES:
            bucket.answered = calls
            bucket.talk_seconds = float(row.get("minutes") or 0) * 60
        elif status == unanswered_status[1]:
            bucket.unanswered = calls
        direction = "outgoing" if row.get("direction") in (True, 1, "1", "true") else "incoming"
        user = str(row.get(f"owner@{FORMATTED}") or row.get("owner") or "")
        report.add(bucket, user=user, direction=direction)
    report.notes.append(
        "Talk time from Dynamics 365 is in whole minutes (actualdurationminutes, rounded up)."
    )
    report.notes.append("Dynamics 365 has no line column: calls per line come from the local call log.")
    return report


def _midnight(when: datetime, *, up: bool = False) -> datetime:
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1) if up and day < when else day


def _month(when: datetime, *, up: bool = False) -> datetime:
    first = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if up and first < when:
        first = (first + timedelta(days=32)).replace(day=1)
    return first


def _report_pieces(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """[start, end) (UTC) cut into what each source can answer exactly: call rows for the partial
    days at the ends, daily roll-ups for whole days, monthly roll-ups for whole months."""
    day_from, day_to = _midnight(start, up=True), _midnight(end)
    if day_from >= day_to:
        return [("calls", start, end)]
    pieces = [("calls", start, day_from), ("calls", day_to, end)]
    month_from, month_to = _month(day_from, up=True), _month(day_to)
    if month_from < month_to:
        pieces += [("calls_daily", day_from, month_from), ("calls_monthly", month_from, month_to)]
        pieces += [("calls_daily", month_to, day_to)]
    else:
        pieces.append(("calls_daily", day_from, day_to))
    return [(table, since, until) for table, since, until in pieces if since < until]


def local_report(db: Database, start: datetime, end: datetime) -> CallReport:
    """The same figures from this computer's call log (exact seconds, with lines).

    Whole UTC months and days inside the range come from the roll-ups (``calls_monthly``,
    ``calls_daily``, kept by triggers, see ``callsys.store``); only the call rows of the partial
    days at either end are read, so a year costs a few thousand roll-up rows, not every call."""
    report = CallReport("local", start, end)
    if "calls" not in db.table_names():
        report.notes.append("The local call log is empty.")
        return report
    rows: list[tuple[Any, ...]] = []
    migrated = "calls_monthly" in db.table_names()
    pieces = (
        _report_pieces(start.astimezone(UTC), end.astimezone(UTC)) if migrated else [("calls", start, end)]
    )
    for table, since, until in pieces:
        if table == "calls":
            rows += db.execute(
                "SELECT direction, line, extension, answered_at IS NOT NULL, count(*), sum(duration) "
                "FROM calls WHERE started_at >= ? AND started_at < ? AND state = 'ended' AND loggable = 1 "
                "AND coalesce(result, '') != 'answered_elsewhere' GROUP BY 1, 2, 3, 4",
                [since.isoformat(timespec="microseconds"), until.isoformat(timespec="microseconds")],
            ).fetchall()
        else:
            width = 10 if table == "calls_daily" else 7
            rows += db.execute(
                f"SELECT direction, line, extension, answered, sum(calls), sum(talk) FROM {table} "
                "WHERE period >= ? AND period < ? GROUP BY 1, 2, 3, 4",
                [since.isoformat()[:width], until.isoformat()[:width]],
            ).fetchall()
    for direction, line, extension, answered, count, seconds in rows:
        if not count:
            continue
        bucket = Bucket(calls=int(count))
        if answered:
            bucket.answered = int(count)
            bucket.talk_seconds = float(seconds or 0)
        else:
            bucket.unanswered = int(count)
        report.add(bucket, user=str(extension or ""), line=str(line or ""), direction=str(direction))
    report.notes.append("From this computer's call log only; users are extensions.")
    return report
    rows = db.execute(
        "SELECT direction, line, extension, answered_at IS NOT NULL, count(*), sum(duration) FROM calls "
        "WHERE started_at >= ? AND started_at < ? AND state = 'ended' AND loggable = 1 "
        "AND coalesce(result, '') != 'answered_elsewhere' GROUP BY 1, 2, 3, 4",
        [
            start.astimezone(UTC).isoformat(timespec="microseconds"),
            end.astimezone(UTC).isoformat(timespec="microseconds"),
        ],
    ).fetchall()
    for direction, line, extension, answered, count, seconds in rows:
        bucket = Bucket(calls=int(count))
        if answered:
            bucket.answered = int(count)
            bucket.talk_seconds = float(seconds or 0)
        else:
            bucket.unanswered = int(count)
        report.add(bucket, user=str(extension or ""), line=str(line or ""), direction=str(direction))
    report.notes.append("From this computer's call log only; users are extensions.")
    return report
