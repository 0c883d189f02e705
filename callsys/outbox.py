"""The one durable outbox: every CRM write is a row in SQLite before it is a request (B4, R2).

``enqueue`` commits the item (with its client-generated id) before it returns, so a process kill
at any moment loses nothing: on restart, ``flush`` picks up every pending item. Items are
delivered *at least once*; the handlers make that *exactly once* by being idempotent (a phone
call carries its client-chosen ``activityid``, and a create that finds it already there counts
as done).

Retry policy (contract §5):

- ``CrmThrottled`` (429): the whole queue pauses for exactly ``Retry-After`` seconds — no
  jitter, no extra — and the failure does not count against the item.
- ``CrmUnavailable`` (5xx, network) and ``AuthError`` (the one token refresh already failed):
  the queue backs off exponentially with jitter (``base·2ⁿ``, capped, 50–100 % of it).
- ``CrmRejected`` that the handler did not absorb: the item is parked as ``dead`` with the
  error (kept, listed by ``dead()``, re-armed by ``retry_dead()``, deleted by ``drop_dead()``;
  ``callsys crm outbox list|retry|drop``) — a retry will not fix it,
  and it must not block the queue.

Items with the same ``group`` run strictly in order (create before complete before notes); a
group whose head cannot run yet holds back only that group.

Throughput (a backlog after an outage): kinds registered with a ``Batchable`` are delivered many
at a time — each item one changeset (atomic on its own) in a shared ``$batch`` sent with
``odata.continue-on-error``, ``batch_size`` items a batch, at most ``concurrency`` batches in
flight. Only the head of each group goes into a round, so a call's create is applied before its
completion is sent; the next round takes the next items. An item whose changeset fails for a
reason only its handler understands (its record was deleted, it was closed already, a refusal)
goes to the handler, one at a time, in its group's order; a 429 or an outage in any part pauses
the queue exactly as for single requests. Exactly once holds as before: every changeset is
idempotent (client-chosen ids; "already exists" counts as done) and an item is marked done only
after the service answered for it.

The outbox is generic (handlers are registered per ``kind``) so the server and the desktop use
the same code with their own database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callsys.errors import AuthError, CrmError, CrmRejected, CrmThrottled, CrmUnavailable
from callsys.store import Database

__all__ = ["Batchable", "FlushResult", "Outbox", "OutboxItem", "Sender", "ensure_schema"]

log = logging.getLogger(__name__)

Handler = Callable[[Mapping[str, Any]], Awaitable[None]]
#: Sends changesets (each a sequence of requests) in one batch; returns, per changeset, ``None``
#: (applied) or its ``CrmError``; raises when the batch as a whole failed.
Sender = Callable[[Sequence[Sequence[Any]]], Awaitable[Sequence[CrmError | None]]]


@dataclass(frozen=True, slots=True)
class Batchable:
    """How an item of a kind is delivered inside a shared ``$batch``: *changeset(payload)* is
    its requests, applied atomically; *settled(payload, error)* tells whether that failure means
    the item is done anyway (a create that finds its client-chosen id already there)."""

    changeset: Callable[[Mapping[str, Any]], Sequence[Any]]
    settled: Callable[[Mapping[str, Any], CrmError], bool] = lambda _payload, _error: False


def ensure_schema(db: Database) -> None:
    """Create the outbox tables (idempotent)."""
    with db.conn:
        db.execute(
            """CREATE TABLE IF NOT EXISTS outbox (
                id TEXT PRIMARY KEY,
                queue TEXT NOT NULL,
                kind TEXT NOT NULL,
                grp TEXT NOT NULL DEFAULT '',
                payload TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at REAL NOT NULL DEFAULT 0,
                last_error TEXT NOT NULL DEFAULT '',
                created_at REAL NOT NULL,
                done_at REAL
            )"""
        )
        db.execute("CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (queue, state)")
        db.execute(
            """CREATE TABLE IF NOT EXISTS outbox_queue (
                queue TEXT PRIMARY KEY,
                paused_until REAL NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                reason TEXT NOT NULL DEFAULT ''
            )"""
        )


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    kind: str
    group: str
    payload: Mapping[str, Any]
    state: str
    attempts: int
    last_error: str


@dataclass(frozen=True, slots=True)
class FlushResult:
    done: int = 0
    dead: int = 0
    pending: int = 0
    next_at: float | None = None  # when something can run next (clock time), None = nothing pending
    paused_until: float = 0.0


def _open(db: Database | str | Path) -> Database:
    """A database path opens the SQLite database there; a database object is used as it is — the
    SQLite one, or a shared one speaking the same subset (``execute``, ``conn`` as a transaction;
    the server's PostgreSQL, ``callsys.server.pg.PgDatabase``)."""
    if not isinstance(db, str | Path):
        return db
    from callsys.store import open_database

    return open_database(db)


class Outbox:
    def __init__(
        self,
        db: Database | str | Path,
        *,
        queue: str = "crm",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        keep_done_for: float = 7 * 86400,
        batch_size: int = 10,
        concurrency: int = 10,
    ) -> None:
        """*batch_size*: items in one ``$batch`` (Microsoft's guidance: around 10); *concurrency*:
        batches in flight at once — far below the service's 52 concurrent requests a user, which
        the caller lookups and the phone index sync share."""
        self.db = _open(db)
        ensure_schema(self.db)
        self.queue = queue
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.keep_done_for = keep_done_for
        self._handlers: dict[str, Handler] = {}
        self._batchable: dict[str, Batchable] = {}
        self._sender: Sender | None = None
        self.batch_size = max(1, batch_size)
        self.concurrency = max(1, concurrency)
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()

    # ---------------------------------------------------------------- producing
    def register(self, kind: str, handler: Handler, *, batch: Batchable | None = None) -> None:
        """*handler* delivers one item; with *batch*, items of this kind go many to a ``$batch``
        first (``use_batches``), the handler taking those whose changeset failed."""
        self._handlers[kind] = handler
        if batch is not None:
            self._batchable[kind] = batch

    def use_batches(self, sender: Sender | None) -> None:
        """Deliver batchable kinds through *sender* (``None``: one at a time, by their handlers)."""
        self._sender = sender

    def enqueue(
        self, kind: str, payload: Mapping[str, Any], *, group: str = "", item_id: str | None = None
    ) -> str:
        """Store one item durably (committed when this returns) and wake the runner."""
        item_id = item_id or str(uuid.uuid4())
        with self.db.conn:
            self.db.execute(
                "INSERT OR IGNORE INTO outbox (id, queue, kind, grp, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    item_id,
                    self.queue,
                    kind,
                    group,
                    json.dumps(dict(payload), ensure_ascii=False),
                    self.clock(),
                ],
            )
        self._wake.set()
        return item_id

    def wake(self) -> None:
        self._wake.set()

    # ---------------------------------------------------------------- inspecting
    def _items(self, where: str, args: list[Any]) -> list[OutboxItem]:
        rows = self.db.execute(
            f"SELECT id, kind, grp, payload, state, attempts, last_error FROM outbox WHERE queue = ? AND {where} "
            "ORDER BY rowid",
            [self.queue, *args],
        ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]

    def pending(self) -> list[OutboxItem]:
        return self._items("state = 'pending'", [])

    def dead(self) -> list[OutboxItem]:
        return self._items("state = 'dead'", [])

    def pending_count(self) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM outbox WHERE queue = ? AND state = 'pending'", [self.queue]
        ).fetchone()
        return int(row[0])

    def supersede(self, kind: str, group: str, key: str) -> int:
        """Drop pending items of *kind* in *group* whose payload has ``"supersedes": key`` — a newer
        item says everything they said (the agent typing notes: only the latest text is sent)."""
        with self.db.conn:
            cur = self.db.execute(
                "DELETE FROM outbox WHERE queue = ? AND state = 'pending' AND kind = ? AND grp = ? "
                "AND json_extract(payload, '$.supersedes') = ?",
                [self.queue, kind, group, key],
            )
        return int(cur.rowcount)

    def retry_dead(self, ids: Sequence[str] | None = None) -> int:
        """Re-arm dead items (all of them, or those in *ids*): they are delivered again, in their
        group's order. Returns how many."""
        where, args = self._dead_where(ids)
        with self.db.conn:
            cur = self.db.execute(
                f"UPDATE outbox SET state = 'pending', next_at = 0, last_error = '' WHERE {where}", args
            )
        self._wake.set()
        return int(cur.rowcount)

    def drop_dead(self, ids: Sequence[str] | None = None) -> int:
        """Delete dead items (all of them, or those in *ids*) for good. Returns how many."""
        where, args = self._dead_where(ids)
        with self.db.conn:
            cur = self.db.execute(f"DELETE FROM outbox WHERE {where}", args)
        return int(cur.rowcount)

    def _dead_where(self, ids: Sequence[str] | None) -> tuple[str, list[Any]]:
        where, args = "queue = ? AND state = 'dead'", [self.queue]
        if ids is not None:
            marks = ",".join("?" * len(ids)) or "NULL"
            where += f" AND id IN ({marks})"
            args += list(ids)
        return where, args

    def paused_until(self) -> float:
        row = self.db.execute(
            "SELECT paused_until FROM outbox_queue WHERE queue = ?", [self.queue]
        ).fetchone()
        return float(row[0]) if row else 0.0

    def _failures(self) -> int:
        row = self.db.execute("SELECT failures FROM outbox_queue WHERE queue = ?", [self.queue]).fetchone()
        return int(row[0]) if row else 0

    def _pause(self, until: float, failures: int, reason: str) -> None:
        with self.db.conn:
            self.db.execute(
                "INSERT INTO outbox_queue (queue, paused_until, failures, reason) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(queue) DO UPDATE SET paused_until = excluded.paused_until, "
                "failures = excluded.failures, reason = excluded.reason",
                [self.queue, until, failures, reason[:500]],
            )

    def backoff(self, failures: int) -> float:
        """Exponential backoff with jitter: between 50 % and 100 % of ``base·2^(n-1)`` (capped)."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** max(0, failures - 1))
        return ceiling * (0.5 + 0.5 * self.jitter())

    # ---------------------------------------------------------------- delivering
    async def flush(self) -> FlushResult:
        """Deliver every item that is due, in order. Never raises for a CRM error."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> FlushResult:
        done = dead = 0
        now = self.clock()
        paused = self.paused_until()
        if paused > now:
            return self._result(done, dead)
        if self._sender is not None and self._batchable:
            by_handler: set[str] = set()
            while True:
                delivered, stopped = await self._batch_round(self._sender, by_handler)
                done += delivered
                if stopped:
                    return self._result(done, dead)
                if not delivered:
                    break
        blocked: set[str] = set()
        for item in self.pending():
            if item.group and item.group in blocked:
                continue
            handler = self._handlers.get(item.kind)
            if handler is None:
                blocked.add(item.group)
                continue
            try:
                await handler(item.payload)
            except CrmThrottled as exc:
                # exactly Retry-After, for the whole queue; not the item's fault
                self._note(item, str(exc), count=False)
                self._pause(self.clock() + exc.retry_after, self._failures(), f"throttled: {exc}")
                log.info("CRM throttled: pausing the outbox for %.3g s", exc.retry_after)
                return self._result(done, dead)
            except (CrmUnavailable, AuthError) as exc:
                failures = self._failures() + 1
                delay = self.backoff(failures)
                self._note(item, str(exc), count=True)
                self._pause(self.clock() + delay, failures, str(exc))
                log.info("CRM unavailable (%s): retrying in %.1f s", exc, delay)
                return self._result(done, dead)
            except CrmRejected as exc:
                self._finish(item, "dead", str(exc))
                dead += 1
                log.warning("outbox item %s (%s) rejected for good: %s", item.id, item.kind, exc)
                continue
            except CrmError as exc:  # any other CRM error: treat as transient
                self._note(item, str(exc), count=True)
                blocked.add(item.group)
                continue
            except Exception as exc:  # a bug in a handler must not lose the item or stop the queue
                log.exception("outbox handler for %s failed", item.kind)
                self._finish(item, "dead", f"{type(exc).__name__}: {exc}")
                dead += 1
                continue
            self._finish(item, "done", "")
            done += 1
            if self._failures():
                self._pause(0.0, 0, "")
        self._purge()
        return self._result(done, dead)

    async def _batch_round(self, sender: Sender, by_handler: set[str]) -> tuple[int, bool]:
        """Send the head of every group that is batchable, ``batch_size`` to a ``$batch``, at most
        ``concurrency`` batches at once. Returns (items done, whether the queue paused)."""
        heads = self._heads(by_handler, self.batch_size * self.concurrency * 8)
        if not heads:
            return 0, False
        gate = asyncio.Semaphore(self.concurrency)
        stopped = False
        delivered = 0

        def stop_for(exc: CrmError, items: Sequence[OutboxItem]) -> None:
            nonlocal stopped
            throttled = isinstance(exc, CrmThrottled)
            for item in items:
                self._note(item, str(exc), count=not throttled)
            if stopped:
                return  # another batch paused the queue already
            stopped = True
            if isinstance(exc, CrmThrottled):
                self._pause(self.clock() + exc.retry_after, self._failures(), f"throttled: {exc}")
                log.info("CRM throttled: pausing the outbox for %.3g s", exc.retry_after)
            else:
                failures = self._failures() + 1
                delay = self.backoff(failures)
                self._pause(self.clock() + delay, failures, str(exc))
                log.info("CRM unavailable (%s): retrying in %.1f s", exc, delay)

        async def deliver(chunk: list[OutboxItem]) -> None:
            nonlocal delivered
            async with gate:
                if stopped:
                    return
                try:
                    outcomes = await sender([self._batchable[i.kind].changeset(i.payload) for i in chunk])
                except (CrmThrottled, CrmUnavailable, AuthError) as exc:
                    stop_for(exc, chunk)
                    return
                except CrmError as exc:  # the batch as a whole refused: each item goes its own way
                    log.warning("a batch of %d outbox items was refused (%s): one at a time", len(chunk), exc)
                    by_handler.update(i.id for i in chunk)
                    return
                finished: list[OutboxItem] = []
                for item, error in zip(chunk, outcomes, strict=True):
                    if error is None or self._batchable[item.kind].settled(item.payload, error):
                        finished.append(item)
                    elif isinstance(error, CrmThrottled | CrmUnavailable | AuthError):
                        stop_for(error, [item])
                    else:  # its handler knows what this means (record deleted, closed already …)
                        by_handler.add(item.id)
                self._finish_all(finished)
                delivered += len(finished)
                if finished and not stopped and self._failures():
                    self._pause(0.0, 0, "")  # the service answers again: backoff starts over

        size = self.batch_size
        await asyncio.gather(*(deliver(heads[n : n + size]) for n in range(0, len(heads), size)))
        return delivered, stopped

    def _heads(self, skip: set[str], limit: int) -> list[OutboxItem]:
        """The first pending item of each group (every ungrouped item is its own group), oldest
        first, if it is batchable and not in *skip* — at most *limit*, so that a round after a long
        outage decodes a few hundred payloads on the loop, not the whole backlog."""
        kinds = sorted(self._batchable)
        skipped = sorted(skip)
        rows = self.db.execute(
            "SELECT id, kind, grp, payload, state, attempts, last_error FROM outbox WHERE rowid IN ("
            "SELECT min(rowid) FROM outbox WHERE queue = ? AND state = 'pending' "
            "GROUP BY CASE WHEN grp = '' THEN id ELSE grp END) "
            f"AND kind IN ({','.join('?' * len(kinds))}) AND id NOT IN ({','.join('?' * len(skipped))}) "
            "ORDER BY rowid LIMIT ?",
            [self.queue, *kinds, *skipped, limit],
        ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]

    def _finish_all(self, items: Sequence[OutboxItem]) -> None:
        """Mark delivered items done, in one transaction."""
        if not items:
            return
        now = self.clock()
        with self.db.conn:
            self.db.conn.executemany(
                "UPDATE outbox SET state = 'done', last_error = '', done_at = ?, attempts = attempts + 1 WHERE id = ?",
                [(now, item.id) for item in items],
            )

    def _note(self, item: OutboxItem, error: str, *, count: bool) -> None:
        with self.db.conn:
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + ?, last_error = ? WHERE id = ?",
                [1 if count else 0, error[:1000], item.id],
            )

    def _finish(self, item: OutboxItem, state: str, error: str) -> None:
        with self.db.conn:
            self.db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, done_at = ?, attempts = attempts + 1 WHERE id = ?",
                [state, error[:1000], self.clock(), item.id],
            )

    def _purge(self) -> None:
        with self.db.conn:
            self.db.execute(
                "DELETE FROM outbox WHERE queue = ? AND state = 'done' AND done_at < ?",
                [self.queue, self.clock() - self.keep_done_for],
            )

    def _result(self, done: int, dead: int) -> FlushResult:
        pending = self.pending_count()
        paused = self.paused_until()
        next_at: float | None = None
        if pending:
            next_at = max(paused, self.clock())
        return FlushResult(done=done, dead=dead, pending=pending, next_at=next_at, paused_until=paused)

    async def run(self, stop: asyncio.Event | None = None, *, idle: float = 30.0) -> None:
        """Flush whenever there is work, waiting exactly as long as the policy says in between."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            result = await self.flush()
            if result.pending and result.paused_until > self.clock():
                await self._wait(result.paused_until - self.clock(), stop, wakeable=False)
            elif result.pending and result.done == 0 and result.dead == 0:
                await self._wait(idle, stop, wakeable=True)  # nothing runnable (unknown kind…)
            elif not result.pending:
                await self._wait(idle, stop, wakeable=True)

    async def _wait(self, seconds: float, stop: asyncio.Event, *, wakeable: bool) -> None:
        """Wait *seconds*; a stop always ends the wait, new work only when *wakeable* (a pause for
        Retry-After or a backoff is not shortened by new items)."""
        if self.sleep is not asyncio.sleep:  # an injected clock (tests): time is theirs
            await self.sleep(seconds)
            return
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def drain(self, *, max_wait: float = 3600.0) -> FlushResult:
        """Flush until nothing is pending (or *max_wait* of waiting passed) — for the CLI and tests."""
        waited = 0.0
        while True:
            result = await self.flush()
            if not result.pending:
                return result
            delay = max(0.0, (result.paused_until or self.clock()) - self.clock())
            if result.done == 0 and result.dead == 0 and delay == 0:
                return result  # stuck on items nobody can handle
            if waited + delay > max_wait:
                return result
            waited += delay
            await self.sleep(delay)
