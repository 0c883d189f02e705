"""The one local SQLite database (CARD3): call log, local directory, outbox, phone index.

``open_database`` opens (or creates) the file named by the ``storage.database`` setting — by
default ``callsys.sqlite3`` under the platform's data dir — in WAL mode with a busy timeout, and
brings the core schema up to date with the ordered ``MIGRATIONS`` (tracked in
``PRAGMA user_version``). Modules written later (outbox, phone index) create their own tables
with their own ``ensure_schema(db)``; the core tables live here so that their history is one list.

A database that cannot be opened (a read-only or missing folder, a file that is not a database,
a database written by a newer callsys) raises ``StoreError`` with a sentence that names the file.

``Database`` is the connection every module is handed: the stdlib ``sqlite3`` connection
(``db.conn``; ``with db.conn:`` is one transaction) and the three helpers callsys uses on it —
``execute``, ``atomic`` and ``table_names``. callsys writes its own SQL (schema, migrations,
upserts, imports), so a database library would only add import time and memory
(docs/dev/layout.md, "The database").
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from callsys.errors import StoreError
from callsys.settings import DATABASE, Settings, data_dir

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DB_FILENAME",
    "MIGRATIONS",
    "Database",
    "database_path",
    "open_database",
    "schema_version",
]

log = logging.getLogger(__name__)

DB_FILENAME = "callsys.sqlite3"
#: How long a writer waits for another connection's lock (UI + CLI on one file) before failing.
BUSY_TIMEOUT_MS = 5000

#: A statement that begins or ends a transaction itself: ``Database.execute`` leaves it alone.
_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


class Database:
    """One SQLite connection (``conn``) and the helpers callsys uses on it.

    The connection keeps the ``sqlite3`` module's default transaction handling: ``with db.conn:``
    is one transaction, committed at the end of the block (rolled back on an exception).
    ``execute`` outside such a block commits a write at once, as if the connection were in
    autocommit mode — the driver would otherwise leave the transaction it opened before an
    INSERT, UPDATE or DELETE open, holding the write lock that the other processes on the file
    (the window, the command line, the server) wait for.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # Triggers fire for rows deleted by REPLACE conflict resolution too (what sqlite-utils,
        # which callsys used before, set on every connection).
        self.execute("PRAGMA recursive_triggers = ON")

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement; a write outside a transaction is committed (see the class)."""
        opened = not self.conn.in_transaction
        try:
            cursor = self.conn.execute(sql, parameters)
        except Exception:
            if opened and self.conn.in_transaction:  # the failed write's own transaction
                self.conn.execute("ROLLBACK")
            raise
        if (
            opened
            and self.conn.in_transaction
            and cursor.description is None
            and not _TRANSACTION_CONTROL.match(sql)
        ):
            self.conn.execute("COMMIT")
        return cursor

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """One transaction: all of the block is written, or none of it; a savepoint when a
        transaction is already open (an import inside a larger one)."""
        if self.conn.in_transaction:
            self.conn.execute("SAVEPOINT callsys_atomic")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # a RAISE(ROLLBACK) may have ended it already
                    self.conn.execute("ROLLBACK TO SAVEPOINT callsys_atomic")
                    self.conn.execute("RELEASE SAVEPOINT callsys_atomic")
                raise
            self.conn.execute("RELEASE SAVEPOINT callsys_atomic")
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def table_names(self) -> list[str]:
        return [str(r[0]) for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def close(self) -> None:
        self.conn.close()


Migration = Callable[[Database], None]


def _v1_call_log(db: Database) -> None:
    """The session call log (IN9, CARD3). One row per call, upserted on every event. ``id`` is the
    row's key; ``call_id`` the provider's id, which another session may use again."""
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS calls (
            id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL DEFAULT '',
            direction TEXT NOT NULL,
            state TEXT NOT NULL,
            number_e164 TEXT,
            number_raw TEXT NOT NULL DEFAULT '',
            number_digits TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL DEFAULT '',
            line TEXT NOT NULL DEFAULT '',
            dnis TEXT NOT NULL DEFAULT '',
            extension TEXT NOT NULL DEFAULT '',
            provider TEXT NOT NULL DEFAULT '',
            started_at TEXT NOT NULL,
            answered_at TEXT,
            ended_at TEXT,
            duration INTEGER NOT NULL DEFAULT 0,
            result TEXT,
            missed INTEGER NOT NULL DEFAULT 0,
            waiting INTEGER NOT NULL DEFAULT 0,
            loggable INTEGER NOT NULL DEFAULT 1,
            variables TEXT NOT NULL DEFAULT '{}',
            notes TEXT NOT NULL DEFAULT '',
            activity_id TEXT,
            party_kind TEXT,
            party_id TEXT,
            party_name TEXT NOT NULL DEFAULT '',
            party_company TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS calls_started ON calls(started_at);
        CREATE INDEX IF NOT EXISTS calls_number ON calls(number_e164);
        CREATE INDEX IF NOT EXISTS calls_missed ON calls(missed, started_at);
        """,
    )


def _v2_directory(db: Database) -> None:
    """The local directory behind ``LocalCrm``: parties and their numbers, keyed for lookup."""
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS parties (
            pk INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            company TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            name_fold TEXT NOT NULL DEFAULT '',
            company_fold TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS parties_name ON parties(name_fold, company_fold);
        CREATE TABLE IF NOT EXISTS party_numbers (
            party INTEGER NOT NULL REFERENCES parties(pk) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            field TEXT NOT NULL DEFAULT '',
            raw TEXT NOT NULL,
            e164 TEXT,
            digits TEXT NOT NULL DEFAULT '',
            extension TEXT,
            key TEXT NOT NULL,
            PRIMARY KEY (party, position)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS party_numbers_key ON party_numbers(key);
        """,
    )


#: A call row that counts in the reports (IN10): over, meant for the CRM, not someone else's.
_COUNTED = "{t}.state = 'ended' AND {t}.loggable = 1 AND coalesce({t}.result, '') != 'answered_elsewhere'"
#: The roll-up tables (IN10): per UTC day and per UTC month (the prefix of the ISO time).
ROLLUPS = (("calls_daily", 10), ("calls_monthly", 7))
#: The columns ``callsys log --search`` looks in (IN9).
SEARCH_COLUMNS = (
    "name",
    "party_name",
    "party_company",
    "notes",
    "number_e164",
    "number_digits",
    "number_raw",
)


def _rollup_key(table: str, width: int) -> str:
    return f"substr({table}.started_at, 1, {width}), {table}.direction, {table}.line, {table}.extension, {table}.answered_at IS NOT NULL"


def _rollup_change(row: str, sign: str) -> str:
    """The trigger body that adds (+) or takes away (-) the call row *row* in every roll-up."""
    return "".join(
        f"INSERT INTO {table} (period, direction, line, extension, answered, calls, talk) "
        f"VALUES ({_rollup_key(row, width)}, {sign}1, {sign}{row}.duration) "
        "ON CONFLICT (period, direction, line, extension, answered) DO UPDATE SET "
        "calls = calls + excluded.calls, talk = talk + excluded.talk; "
        for table, width in ROLLUPS
    )


def _v3_report_rollup_and_search(db: Database) -> None:
    """Reports and search over a year of calls without reading every call (IN9, IN10).

    ``calls_daily`` and ``calls_monthly`` hold, per UTC day and per UTC month, direction, line,
    extension and answered-or-not, how many calls counted in the reports and their talk seconds;
    triggers keep them exact on every insert, update and delete of a call row. ``callsys report``
    reads whole months from the monthly table, the whole days around them from the daily one,
    and only the call rows of the partial days at the ends of its range.

    ``calls_fts`` is a full-text index (FTS5, trigram tokenizer: any substring of three or more
    characters, case-insensitive, any script) over the columns the log search looks in. It is an
    external-content index keyed by the call row's rowid, kept by triggers; a ``VACUUM`` by hand
    may renumber those rowids, after which ``INSERT INTO calls_fts(calls_fts) VALUES('rebuild')``
    rebuilds it."""
    counted_new, counted_old = _COUNTED.format(t="new"), _COUNTED.format(t="old")
    columns = ", ".join(SEARCH_COLUMNS)
    new_values = ", ".join(f"new.{c}" for c in SEARCH_COLUMNS)
    old_values = ", ".join(f"old.{c}" for c in SEARCH_COLUMNS)
    statements: list[str] = []
    for table, width in ROLLUPS:
        statements += [
            f"""CREATE TABLE IF NOT EXISTS {table} (
                period TEXT NOT NULL,
                direction TEXT NOT NULL,
                line TEXT NOT NULL,
                extension TEXT NOT NULL,
                answered INTEGER NOT NULL,
                calls INTEGER NOT NULL,
                talk INTEGER NOT NULL,
                PRIMARY KEY (period, direction, line, extension, answered)
            ) WITHOUT ROWID""",
            f"""INSERT INTO {table} (period, direction, line, extension, answered, calls, talk)
                SELECT {_rollup_key("calls", width)}, count(*), coalesce(sum(calls.duration), 0)
                FROM calls WHERE {_COUNTED.format(t="calls")} GROUP BY 1, 2, 3, 4, 5""",
        ]
    statements += [
        f"CREATE TRIGGER IF NOT EXISTS calls_rollup_ai AFTER INSERT ON calls WHEN {counted_new} "
        f"BEGIN {_rollup_change('new', '+')}END",
        f"CREATE TRIGGER IF NOT EXISTS calls_rollup_ad AFTER DELETE ON calls WHEN {counted_old} "
        f"BEGIN {_rollup_change('old', '-')}END",
        f"CREATE TRIGGER IF NOT EXISTS calls_rollup_au_old AFTER UPDATE ON calls WHEN {counted_old} "
        f"BEGIN {_rollup_change('old', '-')}END",
        f"CREATE TRIGGER IF NOT EXISTS calls_rollup_au_new AFTER UPDATE ON calls WHEN {counted_new} "
        f"BEGIN {_rollup_change('new', '+')}END",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS calls_fts USING fts5({columns}, content='calls', "
        "content_rowid='rowid', tokenize='trigram')",
        "INSERT INTO calls_fts(calls_fts) VALUES ('rebuild')",
        f"CREATE TRIGGER IF NOT EXISTS calls_fts_ai AFTER INSERT ON calls "
        f"BEGIN INSERT INTO calls_fts(rowid, {columns}) VALUES (new.rowid, {new_values}); END",
        f"CREATE TRIGGER IF NOT EXISTS calls_fts_ad AFTER DELETE ON calls "
        f"BEGIN INSERT INTO calls_fts(calls_fts, rowid, {columns}) VALUES ('delete', old.rowid, {old_values}); END",
        # Only when a searched column changes: most events of a call change its state and times.
        f"CREATE TRIGGER IF NOT EXISTS calls_fts_au AFTER UPDATE OF {columns} ON calls "
        f"WHEN {' OR '.join(f'new.{c} IS NOT old.{c}' for c in SEARCH_COLUMNS)} "
        f"BEGIN INSERT INTO calls_fts(calls_fts, rowid, {columns}) VALUES ('delete', old.rowid, {old_values}); "
        f"INSERT INTO calls_fts(rowid, {columns}) VALUES (new.rowid, {new_values}); END",
    ]
    for statement in statements:
        db.execute(statement)


def _v4_call_handover(db: Database) -> None:
    """What became of a call's party: ``transferred_to`` (the number or address it was handed
    to, blind or after a consultation) and ``conference`` (it was joined in a three-way
    conference)."""
    _run(
        db,
        """
        ALTER TABLE calls ADD COLUMN transferred_to TEXT NOT NULL DEFAULT '';
        ALTER TABLE calls ADD COLUMN conference INTEGER NOT NULL DEFAULT 0
        """,
    )


def _run(db: Database, script: str) -> None:
    # Statement by statement: ``executescript`` would COMMIT the migration's transaction first.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


#: The core schema's history, oldest first. ``PRAGMA user_version`` is how many have run.
#: Never edit or reorder a released migration — append a new one.
MIGRATIONS: tuple[Migration, ...] = (
    _v1_call_log,
    _v2_directory,
    _v3_report_rollup_and_search,
    _v4_call_handover,
)


def database_path(settings: Settings | None = None) -> Path:
    """Where the database lives: the ``storage.database`` setting, else the platform data dir."""
    configured = settings[DATABASE] if settings is not None else ""
    if configured:
        return Path(configured).expanduser()
    return data_dir() / DB_FILENAME


def schema_version(db: Database) -> int:
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def open_database(settings_or_path: Settings | Path | str) -> Database:
    """Open the callsys database, creating and migrating it as needed.

    *settings_or_path* is the ``Settings`` (uses ``storage.database`` or the data dir), or a
    path; ``":memory:"`` gives a private in-memory database (tests). The caller closes it.
    """
    if isinstance(settings_or_path, Settings):
        configured = settings_or_path[DATABASE]
        path: Path | None = None if configured == ":memory:" else database_path(settings_or_path)
    elif str(settings_or_path) == ":memory:":
        path = None
    else:
        path = Path(settings_or_path).expanduser()

    if path is not None:
        if path.is_dir():
            raise StoreError(f"The database path {path} is a folder, not a file.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the folder {path.parent} for the database: {exc.strerror or exc}."
            ) from None
    where = str(path) if path is not None else ":memory:"
    try:
        # Our own connection: a busy timeout, and usable from the worker thread that the UI
        # hands slow imports to (sqlite itself serialises; we never share a cursor).
        conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the database {where}: {exc}.") from None
    try:
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys = ON")
        # A directory of a million numbers is ~250 MB: keep the hot index pages in memory and
        # read the rest through mmap, so a caller lookup never waits for read() calls.
        db.execute("PRAGMA cache_size = -16384")  # 16 MiB
        db.execute("PRAGMA mmap_size = 268435456")  # 256 MiB
        if path is not None:
            mode = db.execute("PRAGMA journal_mode = wal").fetchone()
            if not mode or str(mode[0]).lower() != "wal":
                log.warning("database %s is not in WAL mode (%s)", where, mode)
            db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; survives a process crash
        _migrate(db, where)
    except StoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            raise StoreError(
                f"The database {where} is damaged or is not a callsys database ({text}). "
                "Move it away and callsys will start a new one."
            ) from None
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            raise StoreError(
                f"The database {where} cannot be written ({text}). Check the permissions of the "
                "file and of its folder, or choose another file in the 'storage.database' setting."
            ) from None
        raise StoreError(f"Cannot open the database {where}: {text}.") from None
    return db


def _migrate(db: Database, where: str) -> None:
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise StoreError(
            f"The database {where} was written by a newer callsys (schema {version}, this version "
            f"knows {len(MIGRATIONS)}). Update callsys or choose another database file."
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        # Another process may open the same new file at this moment (a second launch handing
        # over a tel: link, a CLI command): each step runs under SQLite's write lock, and a step
        # that process has run meanwhile is not run again (ALTER TABLE would fail the second time).
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(db) < number:
                with db.atomic():
                    MIGRATIONS[number - 1](db)
                    db.execute(f"PRAGMA user_version = {number}")
                log.info("database %s migrated to schema %d", where, number)
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
