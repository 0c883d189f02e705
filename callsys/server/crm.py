"""The server's CRM side: the one ``ActivityLogger`` over the one durable ``Outbox`` (no second
logger, no second outbox), adapted to what ``CallServer`` needs (``ActivityWriter``).

- Every branch's CallManager feeds ``OutboxActivities`` (IN14: whether or not a desktop runs).
- The caller's record comes from ``CallerLookup`` (started when the call starts, cached by the
  time the activity is written); the owner from the server's extension → Dynamics user map.
- ``Outbox.run`` delivers in the background; ``flush(timeout)`` is the graceful-shutdown drain,
  and whatever it cannot send stays in SQLite for the next start (kill -9 included).
- The connector reads numbers with the configured number plan (``numbers.*``), and its phone
  index (B3) is kept current by the same delta sync the desktop runs, every
  ``crm.phone_index_sync_seconds``; after each sync the cached caller answers are forgotten, and
  an online answer that differs from the index's replaces it at once — a number moved to another
  record is never logged against the old one for longer than one ring.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from callsys.activity import ActivityLogger, call_key, compose_description, duration_minutes
from callsys.crm import Crm, Match
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.crm.dynamics.phoneindex import IndexSync, PhoneIndex
from callsys.errors import ConfigError
from callsys.lookup import CallerLookup
from callsys.model import Call, CallEvent, Party, PhoneNumber
from callsys.outbox import Outbox
from callsys.server.config import ServerConfig
from callsys.server.reconcile import LegBook
from callsys.session import open_activities
from callsys.settings import CRM_INDEX_FULL_SECONDS, CRM_INDEX_SYNC_SECONDS, Settings
from callsys.store import Database

__all__ = ["OutboxActivities", "activity_factory", "open_crm"]

log = logging.getLogger(__name__)


class OutboxActivities:
    """``ActivityWriter`` over ``ActivityLogger`` + ``Outbox`` + ``CallerLookup``."""

    def __init__(
        self,
        outbox: Outbox,
        logger: ActivityLogger,
        *,
        lookup: CallerLookup | None = None,
        closers: tuple[Callable[[], Any], ...] = (),
        retry_max: float = 300.0,
        index_sync: IndexSync | None = None,
        index_sync_seconds: float = 300.0,
    ) -> None:
        self.outbox = outbox
        #: What the live stream saw of each PBX leg, for reconciliation with the PBX's CDR.
        self.legs = LegBook(outbox.db)
        self.index_sync = index_sync
        self.index_sync_seconds = index_sync_seconds
        #: Phone index syncs finished (done or failed) since the start.
        self.index_syncs = 0
        self._syncer: asyncio.Task[None] | None = None
        self.logger = logger
        self.lookup = lookup
        self._closers = closers
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._later: set[asyncio.Task[None]] = set()
        self._checkpointer: WalCheckpointer | None = None
        self.retry_max = retry_max

    def start(self, *, deliver: bool = True) -> None:
        """Begin checkpointing and (unless *deliver* is false: no CRM, e.g. the benchmark)
        delivering the outbox in the background."""
        self._checkpointer = WalCheckpointer(self.outbox.db)
        self._checkpointer.start()
        if self.lookup is not None:
            self.lookup.subscribe(self._party_found)
        if deliver:
            self._runner = asyncio.get_running_loop().create_task(self.outbox.run(self._stop, idle=5.0))
        if self.index_sync is not None:
            self._syncer = asyncio.get_running_loop().create_task(
                self.index_sync.run(self._stop, interval=self.index_sync_seconds, after=self._index_synced)
            )

    def _index_synced(self) -> None:
        """The phone index changed (or a sync failed): forget the cached answers, so the next
        call from a number is looked up in the current index."""
        if self.lookup is not None:
            self.lookup.forget()
        self.index_syncs += 1

    def confirmed(self, number: PhoneNumber, online: list[Match]) -> None:
        """``DynamicsCrm.on_confirmed``: the CRM's online answer differs from the phone index's
        (a number moved since the last sync). The online answer is the one calls are logged with."""
        if self.lookup is not None:
            self.lookup.remember(number, online)

    def __call__(self, event: CallEvent, call: Call) -> None:
        if self.lookup is not None:
            self.lookup(event, call)
        self.logger(event, call)
        if (
            event is CallEvent.ENDED
            and call.loggable
            and self.lookup is not None
            and self.lookup.cached(call.remote) is None
            and not call.remote.is_anonymous
            and not self._stop.is_set()
        ):
            # The CRM did not answer who the caller is (down, or slower than the call): keep
            # asking in the background, and make the activity regard the record once known.
            task = asyncio.get_running_loop().create_task(self._resolve_later(call))
            self._later.add(task)
            task.add_done_callback(self._later.discard)

    async def _resolve_later(self, call: Call) -> None:
        assert self.lookup is not None
        delay = 1.0
        while not self._stop.is_set():
            matches = await self.lookup.lookup(call.remote)
            if self.lookup.cached(call.remote) is not None:  # an answer, not an error
                self._party_found(call, matches)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    def _party_found(self, call: Call, matches: list[Match]) -> None:
        """The caller's record arrived after the activity was written (a call answered or ended
        faster than the CRM answered): fill in the record, the caller party and the name now —
        never a second activity."""
        party = _clear_match(matches)
        if party is not None:
            self.logger.found_party(call, party)

    async def set_notes(self, call: Call, text: str, author: str) -> bool:
        return self.logger.set_notes(call.id, text, started_at=call.started_at)

    async def link(self, call: Call, table: str, record_id: str) -> bool:
        return self.logger.link(call.id, table, record_id, started_at=call.started_at)

    def pending(self) -> int:
        return self.outbox.pending_count()

    def recall(self, call_id: str) -> tuple[datetime, datetime | None] | None:
        """When a call that is still open in the CRM log started and was answered — for a call
        the PBX still has after a restart (kill -9 mid-call), so that the adopted call is the same
        call (same start, same activity, exact talk time) rather than a new one."""
        db = self.logger.db
        row = db.execute(
            "SELECT call_key, activity_id FROM activity_calls WHERE call_id = ? AND state = 'open' "
            "ORDER BY created_at DESC LIMIT 1",
            [call_id],
        ).fetchone()
        if row is None:
            return None
        started = _parse_time(str(row[0]).rpartition("|")[2])
        if started is None:
            return None
        answered: datetime | None = None
        item = db.execute(
            "SELECT payload FROM outbox WHERE kind = 'phonecall.create' AND grp = ? ORDER BY created_at LIMIT 1",
            [row[1]],
        ).fetchone()
        if item is not None:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                answered = _parse_time(json.loads(item[0]).get("body", {}).get("actualstart"))
        return started, answered

    def started_of(self, call_id: str) -> datetime | None:
        """The start the latest activity of *call_id* is keyed by (``call_key``), or None."""
        row = self.logger.db.execute(
            "SELECT call_key FROM activity_calls WHERE call_id = ? ORDER BY created_at DESC LIMIT 1",
            [call_id],
        ).fetchone()
        return _parse_time(str(row[0]).rpartition("|")[2]) if row is not None else None

    def correct(self, call: Call) -> bool:
        """*call* (rebuilt from the PBX's CDR) was ended by the live stream when the PBX link was
        lost — as of the loss, not its real end: give its closed activity the PBX's end and talk
        time. An activity logged as not answered stays so (a closed activity's state is kept);
        ``False`` when there is nothing to change."""
        db = self.logger.db
        row = db.execute(
            "SELECT activity_id, state, status, notes FROM activity_calls WHERE call_key = ?",
            [call_key(call)],
        ).fetchone()
        if row is None or row[1] != "closed" or call.answered_at is None or call.ended_at is None:
            return False
        status = str(row[2])
        if not status.startswith("1,"):
            log.warning(
                "call %s was answered (the PBX's CDR says) but is logged as not answered; left as it is",
                call.id,
                extra={"event": "reconcile_state_kept", "call": call.id},
            )
            return False
        seconds = call.duration_seconds
        summary = f"Duration: {seconds // 60} min {seconds % 60:02d} s ({seconds} s)."
        end = call.ended_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {
            "actualend": end,
            "scheduledend": end,
            "actualdurationminutes": duration_minutes(seconds),
            "description": compose_description(str(row[3] or ""), summary),
        }
        state = [int(x) for x in status.split(",")]
        with db.conn:
            db.execute("UPDATE activity_calls SET summary = ? WHERE call_key = ?", [summary, call_key(call)])
            self.outbox.enqueue(
                "phonecall.update",
                {"activityid": str(row[0]), "fields": fields, "state": state},
                group=str(row[0]),
            )
        return True

    def rejected(self) -> int:
        """CRM writes Dynamics refused for good (kept; ``callsys crm`` can retry them)."""
        return len(self.outbox.dead())

    async def flush(self, timeout: float) -> int:
        await self._stop_runner()
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.drain(max_wait=timeout), timeout)
        return self.outbox.pending_count()

    async def _stop_runner(self) -> None:
        self._stop.set()
        if self._runner is not None:
            self.outbox.wake()
            try:
                await asyncio.wait_for(asyncio.shield(self._runner), 2.0)
            except TimeoutError:
                self._runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._runner
            self._runner = None

    async def close(self) -> None:
        await self._stop_runner()
        if self._syncer is not None:
            self._syncer.cancel()
            await asyncio.gather(self._syncer, return_exceptions=True)
            self._syncer = None
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)
        if self.lookup is not None:
            await self.lookup.close()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
        for close in self._closers:
            result = close()
            if asyncio.iscoroutine(result):
                await result


class WalCheckpointer:
    """Moves SQLite's WAL checkpoints (the only step that waits for the disk) off the event loop.

    By default the connection that commits the 1000th WAL page checkpoints inline — here, the
    loop that also pushes call events, which then stalls for the fsync. With automatic
    checkpoints off on the loop's connection, this thread checkpoints PASSIVE (never blocking a
    writer) once a second on a connection of its own, and TRUNCATEs once on stop.
    """

    def __init__(self, db: Database, interval: float = 1.0) -> None:
        row = db.execute("PRAGMA database_list").fetchone()
        self.path = str(row[2]) if row and row[2] else ""
        self.interval = interval
        self._db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.path:  # an in-memory database has no WAL
            return
        self._db.execute("PRAGMA wal_autocheckpoint = 0")
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5.0)
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                mode = "TRUNCATE" if stopping else "PASSIVE"
                try:
                    conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", exc)
                if stopping:
                    return
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_autocheckpoint = 1000")


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _clear_match(matches: list[Match]) -> Party | None:
    """The one record a number belongs to; None when several share it (B2: the agent picks)."""
    if matches and (len(matches) == 1 or matches[0].score > matches[1].score):
        return matches[0].party
    return None


def open_crm(settings: Settings, db: Database) -> DynamicsCrm:
    """The Dynamics connector configured by ``crm.*`` — the server logs to Dynamics 365 only."""
    from callsys.crm.factory import create_crm
    from callsys.numbers import plan_from_settings

    plan = plan_from_settings(settings)  # numbers.*: how the CRM's phone columns are read
    # A bug inside the connector's composition must surface, never switch the sign-in silently.
    crm: Crm = create_crm(settings, db, plan)
    if not isinstance(crm, DynamicsCrm):
        raise ConfigError(
            "The callsys server logs calls to Dynamics 365: set crm.backend = 'dynamics' and crm.url.",
            key="crm.backend",
        )
    return crm


def activity_factory(
    settings: Settings, db: Database, *, state: Any = None
) -> Callable[[ServerConfig, Callable[[Call], str | None]], Any]:
    """The ``ActivityFactory`` the command line hands to ``CallServer``. The outbox, the call →
    activity map and the PBX legs live in *state* when given (the nodes' shared PostgreSQL,
    ``callsys.server.pg.PgDatabase``), else in *db* with the rest (the phone index stays in *db*)."""

    async def build(config: ServerConfig, owner_for: Callable[[Call], str | None]) -> OutboxActivities:
        crm = open_crm(settings, db)
        lookup = CallerLookup(crm)
        index = crm.index if isinstance(crm.index, PhoneIndex) else None

        def resolve_party(call: Call) -> Party | None:
            return _clear_match(lookup.cached(call.remote) or [])

        # The desktop's outbox and activity logger (IN8: the organisation's unanswered status and
        # the titles in the configured language), with the server's owner for each call.
        outbox, logger = open_activities(
            crm,
            state if state is not None else db,
            settings,
            max_delay=config.crm_retry_max,
            resolve_party=resolve_party,
            agent_for=owner_for,
        )
        writer = OutboxActivities(
            outbox,
            logger,
            lookup=lookup,
            closers=(crm.close,),
            retry_max=config.crm_retry_max,
            index_sync=IndexSync(index, crm, untracked_every=float(settings[CRM_INDEX_FULL_SECONDS]))
            if index is not None
            else None,
            index_sync_seconds=float(settings[CRM_INDEX_SYNC_SECONDS]),
        )
        crm.on_confirmed = writer.confirmed
        writer.start()
        pending = outbox.pending_count()
        if pending:
            log.info(
                "%d CRM writes from before the restart are queued; sending them now",
                pending,
                extra={"event": "outbox_resume", "queued": pending},
            )
        return writer

    return build
