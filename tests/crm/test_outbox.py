"""The durable outbox (B4, R2): nothing lost, 429 waits exactly Retry-After, backoff with jitter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from callsys.errors import CrmRejected, CrmThrottled, CrmUnavailable
from callsys.outbox import Outbox
from callsys.store import open_database
from tests.crm.helpers import FakeClock


@pytest.mark.asyncio
async def test_items_survive_a_restart_and_are_delivered_in_order(tmp_path: Path) -> None:
    path = tmp_path / "callsys.sqlite3"
    db = open_database(path)
    first = Outbox(db)
    ids = [first.enqueue("note", {"n": n}, group="g") for n in range(3)]
    db.conn.close()  # the process goes away without flushing

    db2 = open_database(path)
    try:
        again = Outbox(db2)
        assert [i.id for i in again.pending()] == ids
        seen: list[int] = []

        async def handler(payload: Mapping[str, Any]) -> None:
            seen.append(payload["n"])

        again.register("note", handler)
        result = await again.flush()
        assert (result.done, result.pending) == (3, 0)
        assert seen == [0, 1, 2]
    finally:
        db2.conn.close()


@pytest.mark.asyncio
async def test_429_pauses_the_queue_for_exactly_retry_after(tmp_path: Path) -> None:
    clock = FakeClock()
    box = Outbox(open_database(tmp_path / "db"), clock=clock, sleep=clock.sleep)
    calls: list[float] = []

    async def handler(payload: Mapping[str, Any]) -> None:
        calls.append(clock.now)
        if len(calls) == 1:
            raise CrmThrottled("throttled", retry_after=7)

    box.register("w", handler)
    box.enqueue("w", {})
    box.enqueue("w", {})
    result = await box.drain()
    assert result.pending == 0
    assert clock.sleeps == [7]  # exactly Retry-After, no jitter, no extra
    assert calls[1] - calls[0] == 7
    assert [i.attempts for i in box.pending()] == []
    box.db.conn.close()


@pytest.mark.asyncio
async def test_unavailable_backs_off_exponentially_with_jitter(tmp_path: Path) -> None:
    clock = FakeClock()
    jitters = iter([0.0, 1.0, 0.5, 0.0])
    box = Outbox(
        open_database(tmp_path / "db"),
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: next(jitters),
        base_delay=2.0,
    )
    failures = 4

    async def handler(payload: Mapping[str, Any]) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise CrmUnavailable("503")

    box.register("w", handler)
    box.enqueue("w", {})
    result = await box.drain()
    assert result.pending == 0
    # base·2^(n-1) = 2, 4, 8, 16, scaled by 50 % + 50 %·jitter
    assert clock.sleeps == [1.0, 4.0, 6.0, 8.0]
    box.db.conn.close()


@pytest.mark.asyncio
async def test_rejected_item_is_parked_not_dropped_and_does_not_block(tmp_path: Path) -> None:
    box = Outbox(open_database(tmp_path / "db"))
    delivered: list[str] = []

    async def handler(payload: Mapping[str, Any]) -> None:
        if payload["bad"]:
            raise CrmRejected("400 invalid column")
        delivered.append(payload["name"])

    box.register("w", handler)
    box.enqueue("w", {"bad": True, "name": "a"})
    box.enqueue("w", {"bad": False, "name": "b"})
    result = await box.flush()
    assert (result.done, result.dead, result.pending) == (1, 1, 0)
    assert delivered == ["b"]
    [dead] = box.dead()
    assert dead.payload["name"] == "a" and "invalid column" in dead.last_error
    assert box.retry_dead() == 1 and box.pending_count() == 1
    box.db.conn.close()


@pytest.mark.asyncio
async def test_run_loop_delivers_what_is_enqueued_later(tmp_path: Path) -> None:
    import asyncio

    box = Outbox(open_database(tmp_path / "db"))
    got = asyncio.Event()

    async def handler(payload: Mapping[str, Any]) -> None:
        got.set()

    box.register("w", handler)
    stop = asyncio.Event()
    runner = asyncio.create_task(box.run(stop, idle=30))
    await asyncio.sleep(0.01)
    box.enqueue("w", {})
    await asyncio.wait_for(got.wait(), 5)
    stop.set()
    await asyncio.wait_for(runner, 5)
    box.db.conn.close()


@pytest.mark.asyncio
async def test_run_loop_stops_promptly_during_a_long_backoff(tmp_path: Path) -> None:
    import asyncio

    box = Outbox(open_database(tmp_path / "db"), base_delay=300.0)

    async def handler(payload: Mapping[str, Any]) -> None:
        raise CrmUnavailable("down")

    box.register("w", handler)
    box.enqueue("w", {})
    stop = asyncio.Event()
    runner = asyncio.create_task(box.run(stop))
    await asyncio.sleep(0.05)
    assert box.paused_until() > box.clock() + 100  # backing off for minutes
    stop.set()
    await asyncio.wait_for(runner, 2)  # … yet a shutdown does not wait for it
    assert box.pending_count() == 1  # and nothing was lost
    box.db.conn.close()
