"""The server's shared state on a real PostgreSQL (a throwaway cluster per module): the one outbox
and the one ActivityLogger work unchanged over ``PgDatabase``; two nodes on one database never make
two activities for one call; one node leads, and another takes over when the leader is killed."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from callsys.activity import ActivityLogger
from callsys.callmanager import CallManager
from callsys.model import CallEvent, Direction, EndReason, ProviderEvent
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.server.pg import Leadership, PgDatabase, migrate, translate
from callsys.server.reconcile import LegBook

from .pgcluster import PgCluster, cluster

PLAN = NumberPlan(region="DE", min_log_digits=0)
_names = itertools.count()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    with cluster() as running:
        yield running


@pytest.fixture
def url(pg: PgCluster) -> str:
    return pg.database(f"t{os.getpid()}_{next(_names)}")


def test_sqlite_spellings_are_translated() -> None:
    assert translate("INSERT OR IGNORE INTO outbox (id) VALUES (?)") == (
        "INSERT INTO outbox (id) VALUES (%s) ON CONFLICT DO NOTHING"
    )
    assert translate("SELECT 1 WHERE json_extract(payload, '$.supersedes') = ?") == (
        "SELECT 1 WHERE (payload::jsonb ->> 'supersedes') = %s"
    )
    assert translate("SELECT 1 WHERE id NOT IN () AND kind IN ()") == (
        "SELECT 1 WHERE id IS NOT NULL AND kind IN (NULL)"
    )
    assert translate("PRAGMA wal_autocheckpoint = 0") is None
    assert translate("CREATE TABLE IF NOT EXISTS outbox (id TEXT)") is None


def test_migrations_apply_once(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        assert migrate(conn) == 1
        assert migrate(conn) == 1
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"outbox", "outbox_queue", "activity_calls", "pbx_legs", "pbx_links", "callsys_schema"} <= tables


@pytest.mark.asyncio
async def test_the_outbox_delivers_in_order_once_over_postgresql(url: str) -> None:
    db = PgDatabase(url)
    outbox = Outbox(db)  # type: ignore[arg-type]
    seen: list[Any] = []

    async def handler(payload: Any) -> None:
        seen.append(payload["n"])

    outbox.register("k", handler)
    outbox.enqueue("k", {"n": 1}, group="g", item_id="a")
    outbox.enqueue("k", {"n": 1}, group="g", item_id="a")  # the same id again: nothing new
    outbox.enqueue("k", {"n": 2, "supersedes": "d"}, group="g")
    outbox.enqueue("k", {"n": 3, "supersedes": "d"}, group="g")
    assert outbox.supersede("k", "g", "d") == 2
    outbox.enqueue("k", {"n": 4}, group="g")
    assert outbox.pending_count() == 2
    result = await outbox.drain()
    assert (result.done, result.pending) == (2, 0)
    assert seen == [1, 4]
    # the batched path's bookkeeping (several items marked done in one statement)
    db.conn.executemany("UPDATE outbox SET attempts = ? WHERE id = ?", [(7, "a")])
    assert db.execute("SELECT attempts FROM outbox WHERE id = ?", ["a"]).fetchone() == (7,)
    db.close()


def _call(manager: CallManager, call_id: str, start: datetime) -> None:
    manager.handle(
        ProviderEvent(
            CallEvent.INCOMING, call_id, direction=Direction.INCOMING, remote=PLAN.parse("030 1234567"),
            extension="1001", at=start,
        )
    )  # fmt: skip
    manager.handle(ProviderEvent(CallEvent.ANSWERED, call_id, at=start + timedelta(seconds=2)))


def test_two_nodes_on_one_database_make_one_activity_per_call(url: str) -> None:
    start = datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC)
    nodes = []
    for _ in range(2):
        db = PgDatabase(url)
        logger = ActivityLogger(Outbox(db))  # type: ignore[arg-type]
        manager = CallManager.for_plan(PLAN)
        manager.subscribe(logger)
        nodes.append((db, logger, manager))
    # the leader logs the call's start; it dies; the next leader sees the same call (the PBX still
    # has it) and ends it: one activity, created once and completed once
    _call(nodes[0][2], "hq/ami:1.1", start)
    _call(nodes[1][2], "hq/ami:1.1", start)
    nodes[1][2].handle(
        ProviderEvent(
            CallEvent.ENDED, "hq/ami:1.1", reason=EndReason.COMPLETED, at=start + timedelta(seconds=9)
        )
    )
    db = nodes[1][0]
    rows = db.execute("SELECT call_id, state FROM activity_calls").fetchall()
    assert rows == [("hq/ami:1.1", "closed")]
    kinds = [r[0] for r in db.execute("SELECT kind FROM outbox ORDER BY rowid").fetchall()]
    assert kinds == ["phonecall.create", "phonecall.complete"]
    # and the database itself refuses a second activity for the call key, whatever a node does
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(
            "INSERT INTO activity_calls (call_key, call_id, activity_id, created_at) VALUES (?, ?, ?, ?)",
            [db.execute("SELECT call_key FROM activity_calls").fetchone()[0], "hq/ami:1.1", "x", "now"],
        )
    for node in nodes:
        node[0].close()


def test_the_leg_book_is_shared(url: str) -> None:
    a, b = PgDatabase(url), PgDatabase(url)
    at = datetime(2026, 12, 7, 9, 0, 0, 250000, tzinfo=UTC)
    LegBook(a).note("hq", "hq/ami:1.2", "PJSIP/1001-00000002", CallEvent.INCOMING, at)
    LegBook(a).heard("hq", at)
    found = LegBook(b).find("hq", "PJSIP/1001-00000002", at, at + timedelta(seconds=5))
    assert found is not None and found.call_id == "hq/ami:1.2" and found.started == at
    assert LegBook(b).last_heard("hq") == at
    a.close()
    b.close()


HOLDER = """
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1], autocommit=True)
assert conn.execute("SELECT pg_try_advisory_lock(%s)", [int(sys.argv[2])]).fetchone()[0]
print("leading", flush=True)
time.sleep(600)
"""


@pytest.mark.asyncio
async def test_a_standby_node_leads_once_the_leader_is_killed(url: str) -> None:
    standby = Leadership(url, poll=0.05)
    leader = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(standby.key)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert leader.stdout is not None and leader.stdout.readline().strip() == "leading"
        stop = asyncio.Event()
        waiting = asyncio.create_task(standby.acquire(stop))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the lock is held: the standby waits
        os.kill(leader.pid, signal.SIGKILL)  # no goodbye: PostgreSQL frees the lock with the session
        assert await asyncio.wait_for(waiting, 30) is True
        # while this node leads, nobody else can
        other = Leadership(url)
        assert await other.try_acquire() is False
        await standby.release()
        assert await other.try_acquire() is True
        await other.release()
    finally:
        leader.kill()
        leader.wait()
        if leader.stdout is not None:
            leader.stdout.close()
        await standby.release()


@pytest.mark.asyncio
async def test_a_leader_whose_lock_connection_is_cut_knows_it(url: str) -> None:
    leader = Leadership(url, check=0.05)
    stop = asyncio.Event()
    assert await leader.acquire(stop)
    watching = asyncio.create_task(leader.watch(stop))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
            [leader.key & 0xFFFFFFFF],
        )
    await asyncio.wait_for(leader.lost.wait(), 30)
    await watching
    await leader.release()
