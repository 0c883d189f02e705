"""Two (or more) server nodes on PostgreSQL: the shared call state, the shared outbox, and who leads.

SQLite stays the embedded default for one node. With ``[server] database = "postgresql://…"``:

- **The shared state** is the server's outbox (``outbox``, ``outbox_queue``), its call → activity
  map (``activity_calls``) and what it saw of each PBX leg (``pbx_legs``, ``pbx_links``) — the tables
  that decide whether a call has its activity. ``PgDatabase`` gives the outbox, the ActivityLogger
  and the reconciliation the part of ``callsys.store.Database`` they use (``execute``, ``conn`` as a
  transaction), translating the few SQLite spellings they use; the schema comes from the
  migrations below (``MIGRATIONS``), applied once under a lock. Every node's own caches (the phone
  index, the caller lookups) stay in its local SQLite database.
- **One node leads**: it holds the session advisory lock ``pg_try_advisory_lock(LOCK_KEY)`` on a
  connection of its own, and only the leader connects to the PBXes, logs calls and delivers the
  outbox. The others poll the lock every ``poll`` seconds (0.2 s); when the leader dies (``kill -9``,
  power loss: its connection closes, PostgreSQL frees the lock at once) the next poll wins, the new
  leader connects to the PBXes (adopting their live calls: ``CoreShowChannels``) and reconciles the
  gap from the CDR. A leader that loses its lock connection (the database restarted, or the network
  to it) stops at once rather than lead without the lock.
- **Duplicates are impossible by construction**: an activity exists once per call key
  (``activity_calls.call_key`` is the primary key; ``activity_id`` is unique) and an outbox item
  once per id, in one shared database; a node that is not the leader writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import psycopg

from callsys.errors import ConfigError

__all__ = ["LOCK_KEY", "MIGRATIONS", "Leadership", "PgDatabase", "is_postgres", "migrate"]

log = logging.getLogger(__name__)

#: The advisory lock the leader holds (an arbitrary 64-bit constant: "callsys" in ASCII).
LOCK_KEY = 0x63616C6C737973
#: The lock that serialises migrations between nodes starting together.
MIGRATION_LOCK_KEY = LOCK_KEY + 1

#: The schema, one step per version; a step never changes once released (add a new one).
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE outbox (
            rowid BIGSERIAL UNIQUE,
            id TEXT PRIMARY KEY,
            queue TEXT NOT NULL,
            kind TEXT NOT NULL,
            grp TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at DOUBLE PRECISION NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            created_at DOUBLE PRECISION NOT NULL,
            done_at DOUBLE PRECISION
        );
        CREATE INDEX outbox_pending ON outbox (queue, state);
        CREATE TABLE outbox_queue (
            queue TEXT PRIMARY KEY,
            paused_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE activity_calls (
            rowid BIGSERIAL UNIQUE,
            call_key TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            activity_id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'open',
            status TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            regarding_table TEXT NOT NULL DEFAULT '',
            regarding_id TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX activity_calls_call ON activity_calls (call_id);
        CREATE TABLE pbx_legs (
            call_id TEXT PRIMARY KEY,
            branch TEXT NOT NULL,
            channel TEXT NOT NULL,
            started DOUBLE PRECISION NOT NULL,
            answered DOUBLE PRECISION,
            ended DOUBLE PRECISION
        );
        CREATE INDEX pbx_legs_channel ON pbx_legs (branch, channel, started);
        CREATE TABLE pbx_links (
            branch TEXT PRIMARY KEY,
            heard DOUBLE PRECISION NOT NULL
        );
        """,
    ),
)


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgresql", "postgres")


#: libpq keepalives: a connection whose peer vanished (a node's network cut) fails in seconds.
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 2,
    "keepalives_interval": 1,
    "keepalives_count": 2,
}


def _connect(url: str, *, password: str | None = None) -> psycopg.Connection[Any]:
    extra: dict[str, Any] = {"password": password} if password else {}
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=5,
            **KEEPALIVES,
            **extra,
        )
    except psycopg.Error as exc:
        raise ConfigError(
            f"Cannot connect to the server database: {exc}".strip(), key="server.database"
        ) from None


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply the migrations this database lacks (serialised between nodes). Returns the version."""
    conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS callsys_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM callsys_schema").fetchone()
        current = int(row[0]) if row else 0
        for version, sql in MIGRATIONS:
            if version <= current:
                continue
            with conn.transaction():
                conn.execute(sql)  # our own constant DDL
                conn.execute("INSERT INTO callsys_schema (version) VALUES (%s)", [version])
            log.info("server database migrated to version %d", version, extra={"event": "db_migrated"})
            current = version
        return current
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])


# ---------------------------------------------------------------------------- SQLite → PostgreSQL
_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\s", re.IGNORECASE)
_JSON = re.compile(r"json_extract\((\w+),\s*'\$\.(\w+)'\)")
_SKIP = re.compile(r"^\s*(PRAGMA|CREATE\s+(TABLE|INDEX)\s+IF\s+NOT\s+EXISTS)\b", re.IGNORECASE)


def translate(sql: str) -> str | None:
    """The PostgreSQL spelling of one of our SQLite statements; None for one that has no meaning
    there (PRAGMA; CREATE … IF NOT EXISTS — the migrations own the schema)."""
    if _SKIP.match(sql):
        return None
    out = sql.replace("%", "%%").replace("?", "%s")
    out = _JSON.sub(lambda m: f"({m.group(1)}::jsonb ->> '{m.group(2)}')", out)
    # an empty list (SQLite allows ``IN ()``): nothing is in it
    out = re.sub(r"\bNOT IN \(\)", "IS NOT NULL", out)
    out = re.sub(r"\bIN \(\)", "IN (NULL)", out)
    if _IGNORE.match(out):
        out = _IGNORE.sub("INSERT INTO ", out) + " ON CONFLICT DO NOTHING"
    return out


class _NoRows:
    rowcount = 0
    description: tuple[Any, ...] = ()

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []


class PgDatabase:
    """The part of ``callsys.store.Database`` the outbox, the ActivityLogger and the leg book use —
    ``execute(sql, params)`` and ``conn`` (``with db.conn:`` is one transaction) — over one
    psycopg connection (autocommit outside ``with db.conn``)."""

    def __init__(self, url: str, *, password: str | None = None, run_migrations: bool = True) -> None:
        self.url = url
        self._password = password
        self._pg = _connect(url, password=password)
        if run_migrations:
            migrate(self._pg)
        self._sql: dict[str, str | None] = {}
        self.conn = _Transactions(self)

    def _translated(self, sql: str) -> str | None:
        try:
            return self._sql[sql]
        except KeyError:
            pg = self._sql[sql] = translate(sql)
            return pg

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        pg = self._translated(sql)
        if pg is None:
            return _NoRows()
        return self._pg.execute(pg, list(params or ()))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        pg = self._translated(sql)
        if pg is None:
            return
        with self._pg.cursor() as cur:
            cur.executemany(pg, [list(row) for row in rows])

    def ensure(self) -> None:
        """Reconnect if the connection went (a standby's idle connection across a database restart)."""
        try:
            self._pg.execute("SELECT 1")
        except psycopg.Error:
            self.close()
            self._pg = _connect(self.url, password=self._password)

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._pg.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._pg.transaction():
            yield


class _Transactions:
    """``with db.conn:`` — a transaction (a savepoint when nested); ``db.conn.close()`` closes."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._open: list[contextlib.AbstractContextManager[None]] = []

    def __enter__(self) -> None:
        ctx = self._db._transaction()
        ctx.__enter__()
        self._open.append(ctx)

    def __exit__(self, *exc: Any) -> None:
        self._open.pop().__exit__(*exc)

    def close(self) -> None:
        self._db.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


# ---------------------------------------------------------------------------- leadership
class Leadership:
    """The leader's advisory lock, on a connection used for nothing else."""

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        key: int = LOCK_KEY,
        poll: float = 0.2,
        check: float = 0.5,
    ) -> None:
        self.url = url
        self._extra: dict[str, Any] = {"password": password} if password else {}
        self.key = key
        self.poll = poll
        self.check = check
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.lost = asyncio.Event()

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                connect_timeout=5,
                **KEEPALIVES,
                **self._extra,
            )
        return self._conn

    async def try_acquire(self) -> bool:
        conn = await self._connection()
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
        row = await cur.fetchone()
        return bool(row and row[0])

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this node leads (True) or *stop* is set (False). Database errors are retried."""
        announced = False
        while not stop.is_set():
            try:
                if await self.try_acquire():
                    return True
                if not announced:
                    announced = True
                    log.info(
                        "another node leads; standing by",
                        extra={"event": "standby"},
                    )
            except psycopg.Error as exc:
                log.warning(
                    "cannot reach the server database (%s); retrying", exc, extra={"event": "db_unreachable"}
                )
                await self._drop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll)
        return False

    async def watch(self, stop: asyncio.Event) -> None:
        """While leading: check the lock's connection; if it is gone, the lock is too — set
        ``lost`` (the node must stop leading at once)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.check)
            if stop.is_set():
                return
            try:
                conn = await self._connection_alive()
                await asyncio.wait_for(conn.execute("SELECT 1"), self.check * 4)
            except (psycopg.Error, TimeoutError, OSError) as exc:
                log.critical(
                    "lost the connection that holds the leader's lock (%s): stopping",
                    exc,
                    extra={"event": "leadership_lost"},
                )
                self.lost.set()
                return

    async def _connection_alive(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            raise psycopg.OperationalError("the lock's connection is closed")
        return self._conn

    async def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = None

    async def release(self) -> None:
        """Give up leading (a graceful stop): the next node takes over at its next poll."""
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(psycopg.Error):
                await self._conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        await self._drop()
