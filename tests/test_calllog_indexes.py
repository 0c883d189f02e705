"""The call log's roll-ups and search index (IN9, IN10): the report and the search read far less
than every call, and give exactly what reading every call gives."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callsys.calllog import CallLog
from callsys.crm.dynamics.reports import local_report
from callsys.store import MIGRATIONS, Database, open_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ["Sara Ahmadi", "Reza Karimi", "Contoso Ltd", "مریم حسینی", 'O"Neil *', "x"]
RESULTS = ["completed", "missed", "cancelled", "answered_elsewhere", "busy"]


def _row(rng: random.Random, i: int) -> dict[str, object]:
    started = T0 + timedelta(seconds=rng.randint(0, 200 * 86400))
    answered = rng.random() < 0.6
    duration = rng.randint(1, 600) if answered else 0
    number = f"+98912{rng.randint(0, 9_999_999):07d}"
    return {
        "id": f"c{i}",
        "direction": rng.choice(["incoming", "outgoing"]),
        "state": rng.choice(["ended", "ended", "ended", "ringing", "active"]),
        "number_e164": number,
        "number_raw": "0" + number[3:],
        "number_digits": "0" + number[3:],
        "name": rng.choice(NAMES),
        "line": rng.choice(["Sales", "Support", ""]),
        "extension": rng.choice(["1001", "1002"]),
        "started_at": started.isoformat(timespec="microseconds"),
        "answered_at": started.isoformat(timespec="microseconds") if answered else None,
        "duration": duration,
        "result": "completed" if answered else rng.choice(RESULTS[1:]),
        "loggable": int(rng.random() < 0.9),
        "notes": rng.choice(["", "invoice 8877", "wants a quote", "پیگیری"]),
        "party_name": rng.choice(NAMES),
        "party_company": rng.choice(["", "Contoso", "Fabrikam"]),
    }


def _insert(db: Database, row: dict[str, object]) -> None:
    columns = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    with db.conn:
        db.conn.execute(f"INSERT INTO calls ({columns}) VALUES ({marks})", row)


def _scan_report(db: Database, start: datetime, end: datetime) -> dict[str, object]:
    """The figures by reading every call row: what the roll-ups must agree with."""
    rows = db.execute(
        "SELECT direction, line, extension, answered_at IS NOT NULL, count(*), sum(duration) FROM calls "
        "WHERE started_at >= ? AND started_at < ? AND state = 'ended' AND loggable = 1 "
        "AND coalesce(result, '') != 'answered_elsewhere' GROUP BY 1, 2, 3, 4",
        [start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")],
    ).fetchall()
    totals = {"calls": sum(r[4] for r in rows), "answered": sum(r[4] for r in rows if r[3])}
    totals["talk"] = sum(r[5] or 0 for r in rows if r[3])
    per_line: dict[str, int] = {}
    for r in rows:
        per_line[r[1]] = per_line.get(r[1], 0) + r[4]
    return {**totals, "per_line": per_line}


def _report(db: Database, start: datetime, end: datetime) -> dict[str, object]:
    report = local_report(db, start, end)
    per_line = {k: v.calls for k, v in report.by_line.items() if v.calls}
    return {
        "calls": report.total.calls,
        "answered": report.total.answered,
        "talk": int(report.total.talk_seconds),
        "per_line": per_line,
    }


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "cs.sqlite3")
    yield database
    database.close()


def test_report_from_rollups_equals_reading_every_call_through_inserts_updates_and_deletes(
    db: Database,
) -> None:
    rng = random.Random(7)
    rows = [_row(rng, i) for i in range(1500)]
    for row in rows:
        _insert(db, row)
    log = CallLog(db)
    # calls change after they were written: end, get answered, are deleted, move lines
    for row in rng.sample(rows, 400):
        with db.conn:
            db.conn.execute(
                "UPDATE calls SET state = 'ended', loggable = ?, duration = ?, line = ? WHERE id = ?",
                (rng.randint(0, 1), rng.randint(0, 900), rng.choice(["Sales", "Other"]), row["id"]),
            )
    for row in rng.sample(rows, 100):
        log.delete(str(row["id"]))
    ranges = [
        (T0, T0 + timedelta(days=365)),  # everything
        (T0 + timedelta(days=31), T0 + timedelta(days=59)),  # exactly February: months only
        (T0 + timedelta(days=3, hours=5), T0 + timedelta(days=3, hours=17)),  # inside one day
        (T0 + timedelta(days=10, hours=23), T0 + timedelta(days=11, hours=1)),  # across midnight
    ]
    for _ in range(40):
        a = T0 + timedelta(seconds=rng.randint(0, 210 * 86400))
        ranges.append((a, a + timedelta(seconds=rng.randint(1, 150 * 86400))))
    for start, end in ranges:
        assert _report(db, start, end) == _scan_report(db, start, end), (start, end)
    assert _report(db, T0, T0 + timedelta(days=365))["calls"] > 500  # not vacuously equal


def test_report_reads_rollups_not_every_call(db: Database) -> None:
    rng = random.Random(3)
    for i in range(300):
        _insert(db, _row(rng, i))
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        local_report(db, T0 + timedelta(hours=5), T0 + timedelta(days=150, hours=7))
    finally:
        db.conn.set_trace_callback(None)
    text = "\n".join(statements)
    assert "FROM calls_monthly" in text and "FROM calls_daily" in text
    # the call rows are read only for the partial first and last days
    raw = [s for s in statements if "FROM calls WHERE started_at" in s]
    assert len(raw) == 2


def test_migrating_an_older_database_fills_the_rollups_and_the_index(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    old = Database(conn)
    for migration in MIGRATIONS[:2]:
        migration(old)
    conn.execute("PRAGMA user_version = 2")
    rng = random.Random(5)
    rows = [_row(rng, i) for i in range(200)]
    for row in rows:
        _insert(old, row)
    conn.close()
    db = open_database(path)
    try:
        assert _report(db, T0, T0 + timedelta(days=365)) == _scan_report(db, T0, T0 + timedelta(days=365))
        found = {r.id for r in CallLog(db).query(text="Contoso", limit=10_000)}
        expected = {
            str(r["id"])
            for r in rows
            if "contoso" in f"{r['name']} {r['party_name']} {r['party_company']}".lower()
        }
        assert found == expected and found
    finally:
        db.close()


@pytest.mark.parametrize("limit", [5, 10_000])
def test_search_finds_what_a_scan_finds_whatever_the_text(db: Database, limit: int) -> None:
    """Both ways of searching (the index for rare text, a newest-first scan for common text) and
    text the index's query language would otherwise read as syntax."""
    rng = random.Random(11)
    rows = [_row(rng, i) for i in range(2500)]
    for row in rows:
        _insert(db, row)
    log = CallLog(db)
    needles = [
        "8877",
        "۸۸۷۷",
        "invoice",
        "INVOICE",
        "Contoso",
        "حسینی",
        'O"Neil',
        "*",
        '" OR "',
        "NEAR(",
        "x",
    ]
    needles += [str(rows[5]["number_e164"])[-6:], "0912", "zz-no-such"]
    for needle in needles:
        got = [r.id for r in log.query(text=needle, limit=limit)]
        expected = _scan(db, needle, limit)
        assert got == expected, needle
    assert len(log.query(text="invoice", limit=10_000)) > 100  # a common word: the scan path


def _scan(db: Database, needle: str, limit: int) -> list[str]:
    from callsys.numbers import to_ascii_digits

    digits = to_ascii_digits("".join(ch for ch in needle if ch.isdigit()))
    hits = []
    for row in db.execute(
        "SELECT id, name, party_name, party_company, notes, number_e164, number_digits, "
        "number_raw, started_at, rowid FROM calls"
    ).fetchall():
        text = " ".join(str(v or "") for v in row[1:5]).lower()
        numbers = " ".join(str(v or "") for v in row[5:8])
        if needle.lower() in text or (digits and digits in numbers):
            hits.append((row[8], row[9], row[0]))
    hits.sort(reverse=True)
    return [h[2] for h in hits[:limit]]


def test_search_index_follows_notes_and_matches_written_later(db: Database) -> None:
    rng = random.Random(1)
    row = _row(rng, 1) | {"notes": "", "party_name": "", "name": ""}
    _insert(db, row)
    log = CallLog(db)
    assert log.query(text="refund") == []
    log.set_notes("c1", "customer asked for a refund")
    assert [r.id for r in log.query(text="refund")] == ["c1"]
    log.set_party("c1", "contact", "p1", name="Fatemeh Moradi", company="Tailspin")
    assert [r.id for r in log.query(text="Tailspin")] == ["c1"]
    log.set_notes("c1", "done")
    assert log.query(text="refund") == []
    log.delete("c1")
    assert log.query(text="Tailspin") == []
