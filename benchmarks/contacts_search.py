"""Benchmark: the contacts view's and the number field's searches of the local directory (OUT3).

Builds (or reuses, ``--db``) a directory like ``benchmarks/lookup.py``'s, then times
``LocalCrm.search_now`` — what one pause in typing costs — for names that are found, the
beginnings of numbers, and text that matches nothing (the worst case: the name scan that finds
no match), at the suggestions' limit (8) and the view's (200), and a page of browsing. Side by
side, in the same run: how long the GUI thread would be blocked doing the search itself, and
how long it is blocked handing it to the worker thread the desktop uses (``ui.contacts
.DirectorySearch``) — the submission only.

Usage::

    .venv/bin/python benchmarks/contacts_search.py               # 200,000 numbers
    .venv/bin/python benchmarks/contacts_search.py --size 2000000
    .venv/bin/python benchmarks/contacts_search.py --db /tmp/dir.sqlite3   # build once
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lookup import FIRST, LAST, import_directory, mobile, percentile

from callsys.crm.local import LocalCrm
from callsys.numbers import NumberPlan
from callsys.store import open_database


def timed(crm: LocalCrm, texts: list[str], limit: int) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        crm.search_now(text, limit)
        out.append((time.perf_counter() - started) * 1000)
    return out


def figures(values: list[float]) -> str:
    return f"p50 {statistics.median(values):8.3f} ms   p99 {percentile(values, 0.99):8.3f} ms   max {max(values):8.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200_000, help="phone numbers in the directory")
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, metavar="PATH", help="keep the directory in PATH; reuse it")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    contacts = max(1, args.size // 2)
    plan = NumberPlan("IR", "21")
    with tempfile.TemporaryDirectory(prefix="callsys-bench-") as tmp:
        db_path = args.db or Path(tmp) / "callsys.sqlite3"
        db = open_database(db_path)
        try:
            crm = LocalCrm(db, plan)
            if crm.count_numbers() >= contacts * 2:
                print(f"reusing {db_path}: {crm.count():,} records, {crm.count_numbers():,} numbers")
            else:
                import_directory(crm, Path(tmp), contacts, rng)
            kinds = {
                "name found": [
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}"[: rng.randrange(3, 12)]
                    for _ in range(args.queries)
                ],
                "number prefix": [
                    mobile(rng.randrange(contacts))[: rng.randrange(4, 9)] for _ in range(args.queries)
                ],
                "no match": [f"qx{rng.randrange(10**6)}z" for _ in range(args.queries)],
            }
            for texts in kinds.values():
                timed(crm, texts[:5], 8)  # warm the pages
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            print(f"machine load average {load:.1f} on {os.cpu_count()} CPUs; {crm.count():,} records")
            worst: list[float] = []
            for kind, texts in kinds.items():
                for limit in (8, 200):
                    values = timed(crm, texts, limit)
                    worst += values
                    print(f"search, {kind:13} limit {limit:3}: {figures(values)}")
            pages = []
            for offset in (0, contacts // 2, max(0, contacts - 200)):
                started = time.perf_counter()
                crm.list_parties(limit=200, offset=offset)
                pages.append((time.perf_counter() - started) * 1000)
            print(f"browse, a page of 200 (start, middle, end): {', '.join(f'{p:.1f} ms' for p in pages)}")
            with ThreadPoolExecutor(max_workers=1) as worker:
                handed: list[float] = []
                for text in kinds["no match"]:
                    started = time.perf_counter()
                    future = worker.submit(lambda t=text: None)  # the GUI thread's share: submitting
                    handed.append((time.perf_counter() - started) * 1000)
                    future.result()
            print("GUI thread blocked per search, side by side:")
            print(f"  searching itself (all of the above): {figures(worst)}")
            print(f"  handing it to the worker thread:     {figures(handed)}")
        finally:
            db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
