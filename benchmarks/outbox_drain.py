"""Benchmark: draining a backlog of phone-call activities into Dynamics 365 (B4).

After a CRM outage the outbox holds every call of the meantime (10 calls/s for 10 minutes is
6,000 activities). Here: N calls (70 % answered — a create, then a completion; 30 % missed — one
create-and-close), written by ``ActivityLogger`` into the outbox while the CRM was away, then
delivered through ``register_handlers`` to the Dataverse fake (in-process, behind
``httpx.MockTransport``) with **+300 ms latency on every request** and the service protection
limits switched on (52 concurrent requests, 6,000 requests per 5 minutes: a breach is a 429).

Printed side by side, in one run: the drain time of the whole backlog **many to a ``$batch``**
(each activity its own changeset, ``odata.continue-on-error``, ``batch_size`` a batch,
``concurrency`` batches in flight), and **one at a time** (the handlers alone, as before) — the
latter on a sample of the backlog, its rate extrapolated. Also: HTTP requests used, the most in
flight at once, and 429s met. Goal: 10,000 activities in <= 2 minutes, inside the limits.

Usage::

    .venv/bin/python benchmarks/outbox_drain.py                     # 10,000 activities
    .venv/bin/python benchmarks/outbox_drain.py --calls 1000 --sample 50   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callsys.activity import ActivityLogger, register_handlers
from callsys.auth import StaticTokens
from callsys.callmanager import CallManager
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.model import EndReason
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database
from tests.crm.helpers import play_call
from tests.dataverse_fake import ORG, DataverseFake


def backlog(db_path: Path, calls: int, plan: NumberPlan) -> tuple[Outbox, int]:
    """*calls* calls logged while the CRM was away; returns the outbox and its item count."""
    db = open_database(db_path)
    outbox = Outbox(db)
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(ActivityLogger(outbox))
    for n in range(calls):
        number = f"+49301{n:07d}"
        if n % 10 < 7:
            play_call(manager, plan, f"c{n}", number, talk=30 + n % 300)
        else:
            play_call(manager, plan, f"c{n}", number, answer_after=None, reason=EndReason.MISSED)
    return outbox, outbox.pending_count()


async def drain(
    outbox: Outbox, *, batches: bool, latency: float, limit: float | None = None
) -> dict[str, float]:
    fake = DataverseFake()
    fake.latency = latency
    fake.max_concurrent = 52
    fake.request_limit = (6000, 300.0)
    throttled = [0]
    original = fake._admit

    def admit() -> object:
        refused = original()
        throttled[0] += refused is not None
        return refused

    fake._admit = admit  # type: ignore[method-assign,assignment]
    plan = NumberPlan(region="DE")
    async with DynamicsCrm(
        ORG, StaticTokens(fake.issue_token()), plan=plan, transport=fake.transport()
    ) as crm:
        register_handlers(outbox, crm, batches=batches)
        start_items = outbox.pending_count()
        t0 = time.perf_counter()
        if limit is None:
            result = await outbox.drain(max_wait=600)
        else:  # one at a time: as many as fit in *limit* seconds, then the rate
            with_deadline = asyncio.create_task(outbox.drain(max_wait=600))
            await asyncio.sleep(limit)
            with_deadline.cancel()
            await asyncio.gather(with_deadline, return_exceptions=True)
            result = None
        seconds = time.perf_counter() - t0
    delivered = start_items - outbox.pending_count()
    activities = len(fake.rows["phonecall"])
    return {
        "seconds": seconds,
        "items": delivered,
        "activities": activities,
        "complete": sum(1 for r in fake.rows["phonecall"].values() if r["statecode"] != 0),
        "requests": fake.requests,
        "peak": fake.peak_in_flight,
        "throttled": throttled[0],
        "dead": float(result.dead if result else 0),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="activities in the backlog")
    parser.add_argument("--latency", type=float, default=0.300, help="seconds added to every request")
    parser.add_argument("--sample", type=float, default=20.0, help="seconds of the one-at-a-time run")
    args = parser.parse_args()
    plan = NumberPlan(region="DE")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        outbox, items = backlog(Path(tmp) / "batched.sqlite3", args.calls, plan)
        print(
            f"backlog: {args.calls:,} calls → {items:,} outbox items, logged in {time.perf_counter() - t0:.1f} s; "
            f"every request +{args.latency * 1000:.0f} ms; limits 52 concurrent, 6,000 requests / 5 min "
            f"(load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        many = await drain(outbox, batches=True, latency=args.latency)
        outbox.db.conn.close()
        print(
            f"many to a $batch ({outbox.batch_size} a batch, {outbox.concurrency} in flight): "
            f"{many['activities']:,.0f} activities ({many['complete']:,.0f} closed) in {many['seconds']:.1f} s "
            f"= {many['activities'] / many['seconds']:,.0f} activities/s; {many['requests']:,.0f} HTTP requests "
            f"(all within 5 minutes: the limit is 6,000), "
            f"at most {many['peak']:.0f} at once, {many['throttled']:.0f} refused with 429, "
            f"{many['dead']:.0f} dead  (goal: {args.calls:,} in <= 120 s)"
        )
        assert many["activities"] == args.calls and many["complete"] == args.calls, many

        single_outbox, _ = backlog(Path(tmp) / "single.sqlite3", args.calls, plan)
        one = await drain(single_outbox, batches=False, latency=args.latency, limit=args.sample)
        single_outbox.db.conn.close()
        rate = one["activities"] / one["seconds"]
        print(
            f"one at a time (before): {one['activities']:,.0f} activities in {one['seconds']:.1f} s "
            f"= {rate:,.1f} activities/s → {args.calls:,} in ~{args.calls / max(rate, 1e-9) / 60:,.0f} min; "
            f"{one['requests']:,.0f} HTTP requests"
        )
        print(
            f"→ many to a $batch drains {many['activities'] / many['seconds'] / max(rate, 1e-9):,.0f}× faster"
        )


if __name__ == "__main__":
    asyncio.run(main())
