"""The local call log at a year of a busy call centre: 1,000,000 calls.

    .venv/bin/python benchmarks/calllog.py [--calls 1000000] [--db PATH] [--repeat 5]

Fills a database (or reuses ``--db``), then times, best and median of ``--repeat`` runs each:

* ``callsys report --from 365d`` — the aggregates (``local_report``), and the same figures by the
  plain ``GROUP BY`` over the call rows that the daily roll-up replaced, side by side;
* ``callsys log --search 8877`` — the full-text index, and the ``LIKE`` scan it replaced;
* newest 50, missed 50 and the missed count (the window's call log and badge).

Also prints how long filling took (the triggers that keep the roll-up and the search index are
on the write path of every call event) and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callsys.calllog import CallLog
from callsys.crm.dynamics.reports import local_report
from callsys.store import open_database

NAMES = ["Sara Ahmadi", "Reza Karimi", "Contoso Ltd", "Ali Rezaei", "مریم حسینی", "Fabrikam", "John Smith"]
NOTES = ["", "", "", "called back about the invoice", "wants a quote", "پیگیری سفارش"]


def fill(db_path: Path, count: int, seed: int = 1) -> float:
    rng = random.Random(seed)
    db = open_database(db_path)
    now = datetime.now(UTC)
    start = now - timedelta(days=365)
    span = (now - start).total_seconds()
    sql = (
        "INSERT INTO calls (id, call_id, direction, state, number_e164, number_raw, number_digits, name, line,"
        " extension, provider, started_at, answered_at, ended_at, duration, result, missed, loggable, notes,"
        " party_name, party_company) VALUES (?, ?, ?, 'ended', ?, ?, ?, ?, ?, ?, 'sip', ?, ?, ?, ?, ?, ?, 1, ?,"
        " ?, ?)"
    )
    began = time.perf_counter()
    batch: list[tuple[object, ...]] = []
    for i in range(count):
        t = start + timedelta(seconds=span * i / count + rng.random())
        answered = rng.random() < 0.8
        duration = rng.randint(5, 900) if answered else 0
        national = f"021{rng.randint(10_000_000, 99_999_999)}"
        e164 = "+98" + national[1:]
        ts = t.isoformat(timespec="microseconds")
        batch.append(
            (
                f"c{i}",
                f"c{i}",
                "incoming" if rng.random() < 0.7 else "outgoing",
                e164,
                national,
                national,
                rng.choice(NAMES),
                rng.choice(["Sales", "Support", ""]),
                str(rng.randint(1001, 1040)),
                ts,
                ts if answered else None,
                (t + timedelta(seconds=duration)).isoformat(timespec="microseconds"),
                duration,
                "completed"
                if answered
                else rng.choice(["missed", "missed", "cancelled", "answered_elsewhere"]),
                0 if answered else int(rng.random() < 0.5),
                rng.choice(NOTES),
                rng.choice(NAMES),
                rng.choice(["", "Contoso", "Fabrikam"]),
            )
        )
        if len(batch) == 10_000:
            with db.conn:
                db.conn.executemany(sql, batch)
            batch.clear()
    if batch:
        with db.conn:
            db.conn.executemany(sql, batch)
    took = time.perf_counter() - began
    db.conn.close()
    return took


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    results = []
    value: object = None
    for _ in range(repeat):
        began = time.perf_counter()
        value = fn()
        results.append((time.perf_counter() - began) * 1000)
    return min(results), statistics.median(results), value


def scan_report(db: object, start: datetime, end: datetime) -> int:
    """The aggregate query as it was: GROUP BY over every call row in the range."""
    rows = db.execute(  # type: ignore[attr-defined]
        "SELECT direction, line, extension, answered_at IS NOT NULL, count(*), sum(duration) FROM calls "
        "WHERE started_at >= ? AND started_at < ? AND state = 'ended' AND loggable = 1 "
        "AND coalesce(result, '') != 'answered_elsewhere' GROUP BY 1, 2, 3, 4",
        [start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")],
    ).fetchall()
    return sum(int(r[4]) for r in rows)


def scan_search(db: object, needle: str) -> int:
    """The search as it was: LIKE over name, company, notes and the number columns."""
    like = f"%{needle}%"
    rows = db.execute(  # type: ignore[attr-defined]
        "SELECT * FROM calls WHERE (name LIKE ? OR party_name LIKE ? OR party_company LIKE ? OR notes LIKE ?"
        " OR number_e164 LIKE ? OR number_digits LIKE ? OR number_raw LIKE ?)"
        " ORDER BY started_at DESC, rowid DESC LIMIT 50",
        [like] * 7,
    ).fetchall()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse (or create) this database instead of a temporary one")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callsys-bench-") as tmp:
        path = args.db or Path(tmp) / "callsys.sqlite3"
        fresh = not path.exists()
        if fresh:
            took = fill(path, args.calls)
            print(
                f"filled {args.calls:,} calls in {took:.1f} s ({args.calls / took:,.0f} calls/s, triggers included)"
            )
        db = open_database(path)
        log = CallLog(db)
        total = db.execute("SELECT count(*) FROM calls").fetchone()[0]
        now = datetime.now(UTC)
        start = now - timedelta(days=365)
        print(f"calls in the log: {total:,}; load average {os.getloadavg()[0]:.2f}")
        rows: list[tuple[str, float, float, str]] = []

        best, median, report = timed(lambda: local_report(db, start, now), args.repeat)
        rows.append(("report --from 365d (roll-up)", best, median, f"{report.total.calls:,} calls"))  # type: ignore[attr-defined]
        best, median, counted = timed(lambda: scan_report(db, start, now), args.repeat)
        rows.append(("report --from 365d (GROUP BY scan, before)", best, median, f"{counted:,} calls"))
        week = now - timedelta(days=7)
        best, median, report = timed(lambda: local_report(db, week, now), args.repeat)
        rows.append(("report --from 7d (roll-up)", best, median, f"{report.total.calls:,} calls"))  # type: ignore[attr-defined]
        best, median, found = timed(lambda: log.query(text="8877", limit=50), args.repeat)
        rows.append(("log --search 8877 (full-text index)", best, median, f"{len(found):,} shown"))  # type: ignore[arg-type]
        best, median, count = timed(lambda: scan_search(db, "8877"), args.repeat)
        rows.append(("log --search 8877 (LIKE scan, before)", best, median, f"{count:,} shown"))
        best, median, found = timed(lambda: log.query(text="invoice", limit=50), args.repeat)
        rows.append(("log --search invoice (full-text index)", best, median, f"{len(found):,} shown"))  # type: ignore[arg-type]
        best, median, found = timed(lambda: log.query(limit=50), args.repeat)
        rows.append(("newest 50", best, median, f"{len(found):,} shown"))  # type: ignore[arg-type]
        best, median, found = timed(lambda: log.query(missed=True, limit=50), args.repeat)
        rows.append(("missed 50", best, median, f"{len(found):,} shown"))  # type: ignore[arg-type]
        best, median, count = timed(log.missed_count, args.repeat)
        rows.append(("missed count", best, median, f"{count:,} missed"))
        width = max(len(r[0]) for r in rows)
        print(f"{'what':<{width}}  {'best ms':>9}  {'median ms':>9}  result")
        for name, best, median, result in rows:
            print(f"{name:<{width}}  {best:9.2f}  {median:9.2f}  {result}")
        print(f"load average after {os.getloadavg()[0]:.2f}")
        db.conn.close()


if __name__ == "__main__":
    main()
