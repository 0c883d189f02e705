"""The local phone index: normalised numbers → CRM records, kept current by change tracking (B3).

A ring looks here first — one indexed SQLite query, no network — and the pop-up shows the
caller at once; the online lookup only confirms. ``IndexSync`` fills it from Dataverse
(contract §2): a full sync per table (``Prefer: odata.track-changes, odata.maxpagesize=5000``,
following ``@odata.nextLink`` unchanged, no ``odata.include-annotations`` because of the known
bug that drops the deltaLink), then deltas from the stored ``@odata.deltaLink``: created and
changed rows replace the record's numbers, ``$deletedEntity`` rows remove it. A delta link that
the service refuses (expired after ``expirechangetrackingindays``) means a full resync.

A full sync must neither freeze the program nor hold the database: a million records arrive
while calls ring and the call log writes. So nothing of it runs in the program's process but
the HTTP requests: each page's bytes go to a writer process of the sync's own (``_Writer``),
which decodes them (``msgspec``), keys the numbers a page at a time (``IndexKeys.keys``) and
writes them on its own connection to the index file, ``BUFFER_PAGES`` pages' rows at a time,
sorted by key, in one transaction (nothing is written while it gathers them). A thread
would not do: its Python work holds the interpreter lock that the event loop needs (and its
allocations start collections of the whole heap under that lock), so the loop waited for it in
slices of 5 ms and more, and for as long as the system left the thread without a CPU. Deltas
are small: they are decoded (in slices) and written in a worker thread; so is everything where
no Python can be started (a bundle's launcher) or the index is in memory (tests). Rows carry the *generation* of the full sync
that wrote them; a record's index entries count only while their generation is the record's
(``i.gen = r.gen``), so a record rewritten by the running sync switches from its old numbers to
its new ones in one transaction, and lookups answer from the old index until then. When
the last page is in, what the sync did not see (older generations: records deleted in the CRM,
numbers changed away) is deleted in chunks of a few thousand rows, each its own transaction. A
sync that dies half-way leaves a usable index: the old generation plus what was rewritten.

Tables without change tracking cannot ask for "what changed": between their full syncs (every
``untracked_every`` seconds, an hour by default) each cycle reads only the rows modified since
the last pass (``modifiedon ge …``); deletions there wait for the next full sync.

Normalising 25,000 records a second cannot go through ``phonenumbers`` (~0.25 ms a number), so
``IndexKeys`` has a fast path for the shapes phone columns really hold (``+…``, international
prefix, trunk prefix + national number) and uses ``NumberPlan.parse`` for everything else. The
ring side asks for the same keys, so both sides always agree.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import functools
import gc
import itertools
import logging
import operator
import os
import pickle
import re
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import compress
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

import msgspec

from callsys.crm import Match
from callsys.errors import AuthError, CrmRejected, CrmUnavailable
from callsys.model import Party, PartyKind, PhoneNumber

if TYPE_CHECKING:  # the writer process imports this module: it stays light (no httpx, no numpy)
    from callsys.crm.dynamics.client import DynamicsCrm, TableSpec
    from callsys.numbers import NumberPlan
    from callsys.store import Database

__all__ = [
    "IndexKeys",
    "IndexSync",
    "PhoneIndex",
    "SyncProgress",
    "SyncReport",
    "ensure_schema",
    "index_database",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 5000  # the service's maximum (contract §2)

# one pass: Persian/Arabic-Indic digits → ASCII, separators and direction marks dropped
_FOLD = str.maketrans(
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789", " -.()/\u00a0\t\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
)

_ASCII_SEPARATORS = b" -.()/\t"


def ensure_schema(db: Database) -> None:
    with db.conn:
        # one b-tree, keyed for the ring: a lookup is a prefix scan on `key`
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_index (key TEXT NOT NULL, tbl TEXT NOT NULL, record_id TEXT NOT NULL, "
            "col TEXT NOT NULL, gen INTEGER NOT NULL, PRIMARY KEY (key, tbl, record_id, col)) WITHOUT ROWID"
        )
        # `keys` lists the keys of the record's index entries, one a line, so a delta can remove
        # them (earlier versions wrote "key<TAB>col" lines: read the same)
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_records (tbl TEXT NOT NULL, record_id TEXT NOT NULL, name TEXT NOT NULL, "
            "company TEXT NOT NULL DEFAULT '', company_ref TEXT NOT NULL DEFAULT '', gen INTEGER NOT NULL, "
            "keys TEXT NOT NULL DEFAULT '', PRIMARY KEY (tbl, record_id)) WITHOUT ROWID"
        )
        # the staging tables of earlier versions (a full sync wrote there, then swapped in one
        # long transaction): no longer used
        db.execute("DROP TABLE IF EXISTS phone_stage_index")
        db.execute("DROP TABLE IF EXISTS phone_stage_records")
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_sync (tbl TEXT PRIMARY KEY, delta_link TEXT NOT NULL DEFAULT '', "
            "gen INTEGER NOT NULL DEFAULT 0, synced_at TEXT NOT NULL DEFAULT '', records INTEGER NOT NULL DEFAULT 0)"
        )
        have = {str(r[1]) for r in db.execute("PRAGMA table_info(phone_sync)").fetchall()}
        for column, declaration in (
            ("writing", "INTEGER NOT NULL DEFAULT 0"),  # the generation a running full sync writes
            ("tracked", "INTEGER NOT NULL DEFAULT 1"),  # 0: the table has no change tracking
            ("full_at", "REAL NOT NULL DEFAULT 0"),  # when the last full sync started (epoch)
            ("since", "TEXT NOT NULL DEFAULT ''"),  # untracked tables: modifiedon watermark
        ):
            if column not in have:
                db.execute(f"ALTER TABLE phone_sync ADD COLUMN {column} {declaration}")


def index_path(main: Database) -> str:
    """The phone index's own file beside the main database (``callsys.sqlite3`` →
    ``callsys-phoneindex.sqlite3``); ``""`` when the main database is in memory."""
    row = main.execute("PRAGMA database_list").fetchone()
    path = str(row[2]) if row and row[2] else ""
    if not path:
        return ""
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}-phoneindex.{suffix}" if dot and "/" not in suffix else f"{path}-phoneindex"


def index_database(main: Database) -> Database:
    """The database the phone index lives in: a file of its own, so that a sync's write
    transactions never hold the lock that the call log, the outbox and the settings write under
    (SQLite locks a whole file); the main one when it is in memory (tests). The index is a cache
    of the CRM: an index in the main file from an earlier version is dropped, the next sync
    fills the new file."""
    path = index_path(main)
    if not path:
        return main
    from callsys.store import Database

    old = {str(r[0]) for r in main.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    stale = [t for t in ("phone_index", "phone_records", "phone_sync", "phone_stage_index", "phone_stage_records")
             if t in old]  # fmt: skip
    if stale:
        with main.conn:
            for table in stale:
                main.execute(f"DROP TABLE IF EXISTS {table}")
    conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
    db = Database(conn)
    db.execute("PRAGMA busy_timeout = 5000")
    # a new file only (an existing one keeps its page size): a full sync writes a million rows
    # in key order with 16 KiB pages in about three quarters of the CPU time it takes with 4 KiB
    db.execute("PRAGMA page_size = 16384")
    db.execute("PRAGMA journal_mode = wal")  # rings read while the sync writes
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -16384")
    db.execute("PRAGMA mmap_size = 268435456")
    # no checkpoints from this connection (the event loop's): a commit here after a full sync
    # would copy the sync's whole write-ahead log into the file, on the loop. The sync's writer
    # connections checkpoint as they write.
    db.execute("PRAGMA wal_autocheckpoint = 0")
    return db


class IndexKeys:
    """The index key of a written number: E.164 when it can be told cheaply, else ``plan.parse``."""

    def __init__(self, plan: NumberPlan) -> None:
        import phonenumbers

        self.plan = plan
        self.cc = str(phonenumbers.country_code_for_region(plan.region))
        meta = phonenumbers.PhoneMetadata.metadata_for_region(plan.region)
        self.trunk = (meta.national_prefix or "") if meta is not None else ""
        idd = "00"
        if meta is not None:
            for prefix in (meta.preferred_international_prefix, meta.international_prefix):
                if prefix and prefix.isdigit():
                    idd = prefix
                    break
        self.idd = idd

    def fast(self, raw: str) -> str | None:
        if raw.isascii():  # nearly always: folded as bytes, several times cheaper than str.translate
            b = raw.encode()
            if b"(0)" in b:  # "+49 (0)30 …": the trunk prefix written inside an international number
                b = b.replace(b"(0)", b"")
            b = b.translate(None, _ASCII_SEPARATORS)
            if not b:
                return None
            if b[0] == 43:  # "+"
                body = b[1:]
                if body.isdigit() and 7 <= len(body) <= 15 and body[0] != 48:
                    return b.decode()
                return None
            s = b.decode()
        else:
            if "(0)" in raw:
                raw = raw.replace("(0)", "")
            s = raw.translate(_FOLD)
            if not s:
                return None
            if s[0] == "+":
                rest = s[1:]
                if rest.isdigit() and 7 <= len(rest) <= 15 and rest[0] != "0":
                    return s
                return None
        if not s.isdigit():
            return None
        idd = self.idd
        if s.startswith(idd) and 7 <= len(s) - len(idd) <= 15 and s[len(idd)] != "0":
            return "+" + s[len(idd) :]
        trunk = self.trunk
        if trunk and s.startswith(trunk) and 6 <= len(s) - len(trunk) <= 13:
            rest = s[len(trunk) :]
            if rest[0] != "0":
                return "+" + self.cc + rest
        return None

    def key(self, raw: str) -> str | None:
        fast = self.fast(raw)
        if fast is not None:
            return fast
        number = self.plan.parse(raw)
        return number.key or None

    def keys(self, values: Sequence[str]) -> list[str]:
        """``key`` of each of *values* (``""`` for none), a page's worth at once: the ASCII ones
        folded and classified by a few passes of C over all of them joined (one line each),
        the rest one by one. Gives exactly what ``key`` gives."""
        n = len(values)
        text = "\n".join(values)
        if text.count("\n") != n - 1:  # a value with a line break: one by one
            return [self.key(v) or "" for v in values]
        if text.isascii():
            out = self._ascii_keys(text)
        else:
            ascii_ones = list(map(str.isascii, values))
            done = iter(self._ascii_keys("\n".join(compress(values, ascii_ones))))
            out = [
                next(done) if plain else (self.fast(v) or "")
                for v, plain in zip(values, ascii_ones, strict=True)
            ]
        if "" in out:  # what the fast rules do not know: NumberPlan.parse
            for i in compress(range(n), map(operator.not_, out)):
                out[i] = self.key(values[i]) or ""
        return out

    def _ascii_keys(self, text: str) -> list[str]:
        bad_plus, idd, trunk, other = _key_patterns(self.cc, self.trunk, self.idd)
        b = b"\n" + text.encode()  # each number follows a line break: what the patterns begin with
        if b"(0)" in b:
            b = b.replace(b"(0)", b"")
        b = b.translate(None, _ASCII_SEPARATORS)
        b = bad_plus.sub(b"\n", b)  # "+" and not 7-15 digits without a leading 0: not for the fast rules
        b = idd[0].sub(idd[1], b)  # international prefix → "+"
        if trunk is not None:
            b = trunk[0].sub(trunk[1], b)  # trunk prefix → "+" and the country code
        return other.sub(b"\n", b)[1:].decode().split("\n")  # everything else: ""

    def ring_keys(self, number: PhoneNumber) -> list[str]:
        keys = list(self.plan.lookup_keys(number))
        for text in (number.e164, number.digits, number.raw):
            if text:
                fast = self.fast(text)
                if fast:
                    keys.append(fast)
        return list(dict.fromkeys(k for k in keys if k))


_Sub = tuple["re.Pattern[bytes]", bytes]


@functools.lru_cache(maxsize=8)
def _key_patterns(
    cc: str, trunk: str, idd: str
) -> tuple[re.Pattern[bytes], _Sub, _Sub | None, re.Pattern[bytes]]:
    """``IndexKeys.fast``'s rules as substitutions on lines (one number a line, each after a
    line break). Each pattern begins with the line break, not ``^``: a literal start lets the
    regular expression engine jump from line to line instead of trying every character."""
    end = rb"(?:\n|\Z)"
    return (
        re.compile(rb"\n\+(?![1-9][0-9]{6,14}" + end + rb")[^\n]*"),
        # the prefix only, the number looked ahead at: a literal replacement is far cheaper than
        # a template with a group
        (re.compile(rb"\n" + re.escape(idd.encode()) + rb"(?=[1-9][0-9]{6,14}" + end + rb")"), b"\n+"),
        (
            re.compile(rb"\n" + re.escape(trunk.encode()) + rb"(?=[1-9][0-9]{5,12}" + end + rb")"),
            b"\n+" + cc.encode(),
        )
        if trunk
        else None,
        re.compile(rb"\n[^+\n][^\n]*"),
    )


@dataclass(frozen=True, slots=True)
class SyncProgress:
    table: str
    records: int  # rows received for this table so far
    pages: int
    mode: str  # "full", "delta" or "changed" (a table without change tracking, between full syncs)
    finished: bool = False
    expected: int = 0  # records the table had at its last sync (0: not known): the ETA's base
    seconds: float = 0.0  # since this table's sync started

    @property
    def rate(self) -> float:
        """Records a second so far."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds still to go, estimated from the last sync's size; ``None`` when unknown."""
        if self.finished:
            return 0.0
        if not self.expected or self.rate <= 0 or self.mode != "full":
            return None
        return max(0.0, (self.expected - self.records) / self.rate)


@dataclass
class SyncReport:
    mode: dict[str, str]  # table → "full" | "delta" | "full (token expired)" | …
    upserted: int = 0
    deleted: int = 0
    seconds: float = 0.0
    writer_cpu: float = 0.0  # CPU seconds of the writer process (not in this process's own)
    #: where the time went: the writer process's CPU seconds by step ("decode", "records",
    #: "sqlite", "finish", "pipe"), this process's in handing pages over ("handover"), and the
    #: seconds its loop waited for the service ("wait for pages") and for the writer
    #: ("wait for the writer")
    spent: dict[str, float] = field(default_factory=dict)

    def add(self, what: str, seconds: float) -> None:
        self.spent[what] = self.spent.get(what, 0.0) + seconds

    @property
    def records_per_second(self) -> float:
        return self.upserted / self.seconds if self.seconds else 0.0


@dataclass(slots=True)
class Page:
    """One decoded page: its rows as tuples (``PageDecoder.columns`` order), and its links.
    With *structs* the rows are the decoder's structs (field ``c<n>``: the n-th column)."""

    rows: list[Any]
    next_link: str
    delta_link: str
    structs: bool = False


_ROW_START = b',{"@odata.etag"'  # where a row of the page's "value" array begins (see decode)
SLICE_BYTES = 256 * 1024  # ~400 rows: decoded in well under a millisecond or two


class PageDecoder:
    """Decodes a page of a table (full or delta) straight into tuples of the selected columns.

    ``json.loads`` of a 5,000-row page (3 MB: every phone column, mostly null) builds 5,000
    dicts of 25 keys and holds the interpreter for tens of milliseconds; ``msgspec`` with the
    page's shape skips what is not selected and builds one small struct a row, several times
    faster. A long page is decoded in slices of about ``SLICE_BYTES``, cut where a row begins, so
    the event loop gets the interpreter back between slices (decoding runs in a worker thread,
    but a C call does not let go of the GIL until it returns).

    Why a cut is always between two rows: the bytes ``,{"@odata.etag"`` cannot be inside a JSON
    string (the ``"`` after ``{`` would end the string, and ``@`` cannot follow a string), so the
    ``{`` opens an object that is an element of an array. Without ``$expand`` the only array of
    objects in a page is ``value``; a cut anywhere else would leave the slices unbalanced, they
    would not decode, and the page is decoded whole instead.
    """

    def __init__(self, spec: TableSpec) -> None:
        self.columns = spec.select()
        fields: list[tuple[str, Any, Any]] = [(f"c{n}", Any, None) for n in range(len(self.columns))]
        rename = {f"c{n}": col for n, col in enumerate(self.columns)}
        # a delta's deleted rows: {"@odata.context": "…$deletedEntity", "id": …, "reason": "deleted"}
        self.deletions = not {"id", "reason"} & set(self.columns)
        if self.deletions:
            fields += [("did", Any, None), ("reason", Any, None)]
            rename.update({"did": "id", "reason": "reason"})
        # gc=False: decoded JSON holds no cycles, and 5,000 tracked objects a page would only make
        # the garbage collector run (holding the interpreter lock) more often
        row = msgspec.defstruct("Row", fields, rename=rename, array_like=False, gc=False)
        page = msgspec.defstruct(
            "Page",
            [("value", list[row], []), ("next_link", Any, None), ("delta_link", Any, None)],  # type: ignore[valid-type]
            rename={"value": "value", "next_link": "@odata.nextLink", "delta_link": "@odata.deltaLink"},
            gc=False,
        )
        self._page: msgspec.json.Decoder[Any] = msgspec.json.Decoder(page)
        self._rows: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[row])  # type: ignore[valid-type]
        self._astuple = msgspec.structs.astuple

    def decode(self, body: bytes, *, sliced: bool = True, structs: bool = False) -> Page:
        """The page; in slices when *sliced* (a thread sharing the interpreter with the loop).
        With *structs* (not sliced: the writer process) the rows stay the decoder's structs:
        making a tuple of each costs about a third as much again as decoding it."""
        if structs:
            try:
                page = self._page.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ValueError(f"not a page of rows: {exc}") from None
            return Page(page.value, str(page.next_link or ""), str(page.delta_link or ""), structs=True)
        if sliced:
            try:
                return self._sliced(body)
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
        try:
            page = self._page.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"not a page of rows: {exc}") from None
        return self._make([page.value], page)

    def _sliced(self, body: bytes) -> Page:
        begin = body.find(b'"value":[')
        cuts: list[int] = []
        if begin >= 0:
            pos = begin + SLICE_BYTES
            while pos < len(body):
                cut = body.find(_ROW_START, pos)
                if cut < 0:
                    break
                cuts.append(cut)
                pos = cut + SLICE_BYTES
        if not cuts:
            page = self._page.decode(body)
            return self._make([page.value], page)
        # the first slice is the page's head with its first rows; the last one its last rows
        # and its tail (the links); the ones between are bare lists of rows
        first = self._page.decode(body[: cuts[0]] + b"]}")
        parts = [first.value]
        parts += [self._rows.decode(b"[" + body[a + 1 : b] + b"]") for a, b in itertools.pairwise(cuts)]
        last = self._page.decode(b'{"value":[' + body[cuts[-1] + 1 :])
        parts.append(last.value)
        # the links follow the rows in Dataverse's pages; a service that puts them first is read too
        page = self._make(parts, last)
        page.next_link = page.next_link or str(first.next_link or "")
        page.delta_link = page.delta_link or str(first.delta_link or "")
        return page

    def _make(self, parts: list[Any], tail: Any) -> Page:
        astuple = self._astuple
        rows: list[tuple[Any, ...]] = []
        for part in parts:
            rows += [astuple(r) for r in part]
            _yield()  # let the event loop have the interpreter between slices
        return Page(rows, str(tail.next_link or ""), str(tail.delta_link or ""))


def _yield() -> None:
    """Let another thread — the event loop — take the interpreter lock now. ``sleep(0)`` drops
    and takes it back at once, before a waiting thread has woken; 50 µs lets it in. Waiting
    threads otherwise get the lock only after the 5 ms switch interval. Not in the writer
    process, which shares its interpreter with nobody."""
    if _SHARED_INTERPRETER:
        time.sleep(0.00005)


_SHARED_INTERPRETER = True  # False in the writer process


class _Columns:
    """Where a table's columns are in a decoded row: a tuple (``PageDecoder.decode``), or the
    writer process's structs (``structs``: no tuple made of each row)."""

    def __init__(self, spec: TableSpec, columns: Sequence[str], *, structs: bool = False) -> None:
        at = {c: n for n, c in enumerate(columns)}
        self.id = at[spec.id_col]
        self.name = at[spec.name_col]
        self.company = at.get(spec.company_col, -1) if spec.company_col else -1
        self.is_ref = spec.company_col.startswith("_")
        self.phones = tuple(spec.phones)
        positions = [at[c] for c in self.phones]
        getter: Callable[..., Any] = (
            (lambda *n: operator.attrgetter(*(f"c{i}" for i in n))) if structs else itemgetter
        )
        self.get_id: Callable[[Any], Any] = getter(self.id)
        self.get_name: Callable[[Any], Any] = getter(self.name)
        self.get_company: Callable[[Any], Any] = getter(max(self.company, 0))
        self.phone_getters = [(c, getter(p)) for c, p in zip(self.phones, positions, strict=True)]
        many = getter(*positions)
        self.get_phones: Callable[[Any], tuple[Any, ...]] = (
            many if len(positions) > 1 else (lambda t: (many(t),))
        )
        self.did = len(columns)  # a deleted row's "id" (PageDecoder.deletions)


ROWS_PER_INSERT = 200
#: the writer process writes a full sync's rows this many pages at once, sorted (``_writer_main``)
BUFFER_PAGES = 16


def _insert_rows(
    conn: sqlite3.Connection, table: str, row: str, width: int, rows: list[tuple[Any, ...]]
) -> None:
    """``INSERT OR REPLACE`` *rows* (tuples of *width* values, the ``?`` of *row*) into *table*,
    ``ROWS_PER_INSERT`` a statement (fewer where SQLite takes fewer parameters)."""
    if not rows:
        return
    per = max(1, min(ROWS_PER_INSERT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    head = f"INSERT OR REPLACE INTO {table} VALUES "
    whole = len(rows) // per * per
    flat = list(itertools.chain.from_iterable(rows))
    if whole:
        step = per * width
        chunks = map(
            flat.__getitem__,
            map(slice, range(0, whole * width, step), range(step, whole * width + 1, step)),
        )
        conn.executemany(head + ",".join(itertools.repeat(row, per)), chunks)
    if whole < len(rows):
        conn.execute(head + ",".join(itertools.repeat(row, len(rows) - whole)), flat[whole * width :])


def _sql_text(text: str) -> str:
    """*text* as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class PhoneIndex:
    def __init__(
        self,
        db: Database,
        plan: NumberPlan,
        *,
        tables: Sequence[TableSpec] | None = None,
        url_for: Callable[[str, str], str] = lambda _table, _id: "",
    ) -> None:
        if tables is None:
            from callsys.crm.dynamics.client import DEFAULT_TABLES

            tables = DEFAULT_TABLES
        self.db = index_database(db)
        ensure_schema(self.db)
        self.plan = plan
        self.keys = IndexKeys(plan)
        self.tables = {t.logical: t for t in tables}
        self.url_for = url_for
        #: table → the generation a full sync running in this process writes (start_full)
        self._writing: dict[str, int] = {}
        #: (table, generation) of full syncs that began with none of the table's rows indexed
        self._fresh: set[tuple[str, int]] = set()

    # ---------------------------------------------------------------- reading
    def lookup(self, number: PhoneNumber) -> list[Match]:
        """Every indexed record with *number*, best first — local only, never the network."""
        keys = self.keys.ring_keys(number)
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        # an entry counts only in its record's generation: during a full sync a record switches
        # from its old entries to its new ones in one page transaction (see the module's doc)
        rows = self.db.execute(
            "SELECT i.tbl, i.record_id, i.col, i.key, r.name, r.company, r.company_ref FROM phone_index i "
            "JOIN phone_records r ON r.tbl = i.tbl AND r.record_id = i.record_id AND r.gen = i.gen "
            f"WHERE i.key IN ({marks})",
            keys,
        ).fetchall()
        best: dict[tuple[str, str], Match] = {}
        for tbl, record_id, col, key, name, stored_company, company_ref in rows:
            company = stored_company
            spec = self.tables.get(tbl)
            weight = spec.weight if spec else 1.0
            exact = 1.0 if key == keys[0] else 0.9
            bonus = 0.2 if col in ("mobilephone", "telephone1") else 0.0
            if company_ref and not company:
                company = self.company_name(company_ref)
            try:
                kind = PartyKind(tbl)
            except ValueError:
                kind = PartyKind.CUSTOM
            party = Party(
                kind=kind,
                id=record_id,
                name=name,
                company=company,
                url=self.url_for(tbl, record_id),
                table=tbl,
                source="dynamics",
            )
            match = Match(party=party, field=col, score=round(weight + exact + bonus, 3))
            old = best.get((tbl, record_id))
            if old is None or match.score > old.score:
                best[(tbl, record_id)] = match
        return sorted(best.values(), key=lambda m: -m.score)

    def company_name(self, record_id: str) -> str:
        """The name of a contact's parent (an account, or a contact; a custom table's lookup may
        point at any indexed table). The key is ``(tbl, record_id)``: naming the tables lets
        SQLite search it — by ``record_id`` alone it read all of ``phone_records``, ~100 ms a ring
        at 1,000,000 records when the parent was not indexed."""
        tables = list(dict.fromkeys(("account", "contact", *self.tables)))
        marks = ",".join("?" * len(tables))
        row = self.db.execute(
            f"SELECT name FROM phone_records WHERE tbl IN ({marks}) AND record_id = ? "
            "ORDER BY tbl = 'account' DESC LIMIT 1",
            [*tables, record_id],
        ).fetchone()
        return str(row[0]) if row else ""

    def count(self, table: str | None = None) -> int:
        if table:
            row = self.db.execute("SELECT count(*) FROM phone_records WHERE tbl = ?", [table]).fetchone()
        else:
            row = self.db.execute("SELECT count(*) FROM phone_records").fetchone()
        return int(row[0])

    def state(self, table: str) -> tuple[str, int]:
        row = self.db.execute("SELECT delta_link, gen FROM phone_sync WHERE tbl = ?", [table]).fetchone()
        return (str(row[0]), int(row[1])) if row else ("", 0)

    def sync_state(self, table: str) -> dict[str, Any]:
        """Everything stored about the table's syncs (``phone_sync``'s row; defaults if none)."""
        cur = self.db.execute("SELECT * FROM phone_sync WHERE tbl = ?", [table])
        row = cur.fetchone()
        if row is None:
            return {"tbl": table, "delta_link": "", "gen": 0, "synced_at": "", "records": 0, "writing": 0,
                    "tracked": 1, "full_at": 0.0, "since": ""}  # fmt: skip
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    # ---------------------------------------------------------------- writing
    def _rows(
        self, spec: TableSpec, rows: Iterable[Mapping[str, Any]], gen: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(records, index entries) of rows given as mappings (deltas, ``remember``)."""
        columns = spec.select()
        tuples = [tuple(row.get(c) for c in columns) for row in rows]
        return self._tuple_rows(spec, _Columns(spec, columns), tuples, gen)

    def _tuple_rows(
        self, spec: TableSpec, where: _Columns, rows: Iterable[Any], gen: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(records, index entries) of decoded rows (tuples, or the writer's structs) — the hot
        loop of a full sync, written as passes of C over the page a column at a time (``map``,
        ``compress``, ``zip``) rather than Python statements per record: a column that is null in
        every row (most of the 21 phone columns) costs one pass, and the keys of all the page's
        numbers are made at once (``IndexKeys.keys``). Records are ``(record_id, name, company
        or its reference, entries)``, entries ``(key, record_id, col)``: the table and the
        generation are the same for all (``_insert`` writes them)."""
        rows = rows if isinstance(rows, list) else list(rows)
        ids = list(map(where.get_id, rows))
        if not all(ids):  # a row without its id is not a record
            keep = list(map(bool, ids))
            rows, ids = list(compress(rows, keep)), list(compress(ids, keep))
        n = len(rows)
        names = list(map(where.get_name, rows))
        if not set(map(type, names)) <= {str}:
            return self._tuple_rows_one_by_one(spec, where, rows, gen)  # odd values: Python decides
        values: list[str] = []
        at: list[int] = []  # the row of each of values
        present: list[tuple[str, list[int], int, int]] = []  # (column, its rows, first, last in values)
        everyone = range(n)
        for col, get in where.phone_getters:
            column = list(map(get, rows))
            if column.count(None) == n:  # the common case: nobody has one in this column
                continue
            rows_of = list(compress(everyone, column))  # null and "" are no number
            if not rows_of:
                continue
            texts = column if len(rows_of) == n else list(compress(column, column))
            if not set(map(type, texts)) <= {str}:
                return self._tuple_rows_one_by_one(spec, where, rows, gen)
            present.append((col, rows_of, len(values), len(values) + len(texts)))
            values += texts
            at += rows_of
        keys = self.keys.keys(values)
        owners = list(map(ids.__getitem__, at))
        cols = list(itertools.chain.from_iterable(itertools.repeat(c, b - a) for c, _, a, b in present))
        numbers = list(compress(zip(keys, owners, cols, strict=True), keys))
        # each record's keys, one a line
        spread: list[list[str]] = []  # per column with numbers: each row's key there ("" if none)
        for _, rows_of, first, last in present:
            mine = keys[first:last]
            if len(rows_of) < n:
                full = [""] * n
                collections.deque(map(full.__setitem__, rows_of, mine), 0)
                mine = full
            spread.append(mine)
        if not spread:
            entries = [""] * n
        elif len(spread) == 1:
            entries = spread[0]
        else:
            entries = list(map("\n".join, map(filter, itertools.repeat(None), zip(*spread, strict=True))))
        company = list(map(where.get_company, rows)) if where.company >= 0 else []
        if not company or company.count(None) == n:
            company = [""] * n
        elif not set(map(type, company)) <= {str}:
            company = [c if c.__class__ is str else str(c or "") for c in company]
        records = list(zip(ids, names, company, entries, strict=True))
        return records, numbers

    def _tuple_rows_one_by_one(
        self, spec: TableSpec, where: _Columns, rows: Iterable[Any], gen: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """``_tuple_rows`` for rows with values of other types than text (Python decides each)."""
        records: list[tuple[Any, ...]] = []
        numbers: list[tuple[Any, ...]] = []
        get_id, get_name, get_company = where.get_id, where.get_name, where.get_company
        phones, get_phones = where.phones, where.get_phones
        fast, slow = self.keys.fast, self.keys.key
        add_number, add_record = numbers.append, records.append
        for n, row in enumerate(rows):
            if n % 200 == 199:
                _yield()  # in a worker thread: the event loop gets the interpreter now, not in 5 ms
            record_id = get_id(row)
            if not record_id:
                continue
            entries = []
            values = get_phones(row)
            # most phone columns are null: compress/filter skip them in C
            for col, value in zip(compress(phones, values), filter(None, values)):  # noqa: B905 (same length)
                if value.__class__ is str:  # a non-text value is not a number
                    k = fast(value) or slow(value)
                    if k:
                        add_number((k, record_id, col))
                        entries.append(k)
            company = get_company(row) if where.company >= 0 else None
            add_record(
                (
                    record_id,
                    name if (name := get_name(row)).__class__ is str else str(name or ""),
                    str(company or ""),
                    "\n".join(entries),
                )
            )
        return records, numbers

    @staticmethod
    def _insert(
        conn: sqlite3.Connection,
        spec: TableSpec,
        gen: int,
        records: list[tuple[Any, ...]],
        numbers: list[tuple[Any, ...]],
    ) -> None:
        """Write ``_tuple_rows``'s records and entries (inside the caller's transaction). The
        table and the generation are written into the statements, and each statement inserts
        up to ``ROWS_PER_INSERT`` rows, so that SQLite is entered once per few hundred rows and
        only what differs from row to row is bound: a row at a time, that cost more than
        SQLite's own work."""
        tbl, gen_ = _sql_text(spec.logical), int(gen)
        company = "'', ?" if spec.company_col.startswith("_") else "?, ''"
        # in key order: real numbers (and ids) come in no order, and rows inserted in order
        # land on the same few b-tree pages one after the other instead of on a different page
        # each — with random numbers about half the CPU of an unsorted page
        records = sorted(records, key=itemgetter(0))
        numbers = sorted(numbers, key=itemgetter(0))
        _insert_rows(conn, "phone_records", f"({tbl}, ?, ?, {company}, {gen_}, ?)", 4, records)
        _insert_rows(conn, "phone_index", f"(?, {tbl}, ?, ?, {gen_})", 3, numbers)

    def _forget(self, conn: sqlite3.Connection, table: str, record_ids: Iterable[str]) -> None:
        """Remove the index entries of these records (inside the caller's transaction)."""
        gone: list[tuple[str, str, str]] = []
        for record_id in record_ids:
            row = conn.execute(
                "SELECT keys FROM phone_records WHERE tbl = ? AND record_id = ?", [table, record_id]
            ).fetchone()
            if row and row[0]:
                for entry in dict.fromkeys(str(row[0]).split("\n")):
                    gone.append((entry.partition("\t")[0], table, record_id))  # "key" or "key<TAB>col"
        conn.executemany("DELETE FROM phone_index WHERE key = ? AND tbl = ? AND record_id = ?", gone)

    def forget(self, table: str, record_id: str) -> None:
        """Drop one record (it was deleted in the CRM)."""
        with self.db.conn:
            self._forget(self.db.conn, table, [record_id])
            self.db.execute("DELETE FROM phone_records WHERE tbl = ? AND record_id = ?", [table, record_id])

    def remember(self, table: str, row: Mapping[str, Any]) -> None:
        """Index one record now (one we just created or changed), before the next sync brings it."""
        spec = self.tables.get(table)
        if spec is not None:
            self.apply_delta(spec, [row], self.current_gen(table))

    def current_gen(self, table: str) -> int:
        """The generation a change is written with: a running full sync's, so that its final
        sweep keeps the change, else the table's."""
        return self._writing.get(table) or self.state(table)[1]

    def start_full(self, spec: TableSpec) -> int:
        """Begin a full sync of *spec*: returns its generation, higher than any written before
        (a full sync that died half-way may have written one above the stored ``gen``)."""
        state = self.sync_state(spec.logical)
        gen = max(int(state["gen"]), int(state["writing"])) + 1
        with self.db.conn:
            self.db.execute(
                "INSERT INTO phone_sync (tbl, gen, writing) VALUES (?, ?, ?) "
                "ON CONFLICT(tbl) DO UPDATE SET writing = excluded.writing",
                [spec.logical, int(state["gen"]), gen],
            )
        self._writing[spec.logical] = gen
        # nothing of this table indexed yet: nothing for the final sweep to find
        had = self.db.execute("SELECT 1 FROM phone_records WHERE tbl = ? LIMIT 1", [spec.logical]).fetchone()
        if had is None:
            self._fresh.add((spec.logical, gen))
        return gen

    def abandon_full(self, spec: TableSpec) -> None:
        """A full sync failed: changes go back to the stored generation."""
        gen = self._writing.pop(spec.logical, None)
        self._fresh.discard((spec.logical, gen or 0))

    def write_full_page(
        self,
        spec: TableSpec,
        rows: Sequence[Mapping[str, Any]] | Page,
        gen: int,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """Write one page of a full sync with its generation, in one short transaction (on
        *conn*, the sync's own writer connection, if given): each record and its entries replace
        the old ones together."""
        if isinstance(rows, Page):
            where = _Columns(spec, spec.select(), structs=rows.structs)
            records, numbers = self._tuple_rows(spec, where, rows.rows, gen)
        else:
            records, numbers = self._rows(spec, rows, gen)
        conn = conn or self.db.conn
        with conn:
            self._insert(conn, spec, gen, records, numbers)

    def path(self) -> str:
        """The index's file; ``""`` when it is in memory."""
        row = self.db.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row and row[2] else ""

    def writer_connection(self) -> sqlite3.Connection | None:
        """A second connection to the same file for the sync's worker thread (WAL: the ring
        keeps reading on the first); ``None`` for an in-memory database."""
        path = self.path()
        return self.connect_writer(path) if path else None

    @staticmethod
    def connect_writer(path: str) -> sqlite3.Connection:
        """The sync's writer connection to the index file (a worker thread's or the writer process's)."""
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA synchronous = NORMAL")
        # 256 MiB while the sync runs (its process ends with it): a resync's b-tree pages, old and new
        # rows, stay in memory instead of being read back from the file between batches
        conn.execute("PRAGMA cache_size = -262144")
        # a checkpoint copies every page changed since the last one into the file: every 64 MiB
        # of log instead of every 1,000 pages, a page changed by several commits is copied once
        # (a fifth less SQLite CPU with numbers in no order); the log is cut back to that size
        conn.execute("PRAGMA wal_autocheckpoint = 4096")
        conn.execute("PRAGMA journal_size_limit = 67108864")
        return conn

    def sweep(
        self, spec: TableSpec, gen: int, conn: sqlite3.Connection | None = None, *, chunk: int = 4000
    ) -> int:
        """Delete the table's rows of generations before *gen* — what the full sync did not see —
        a chunk of about *chunk* rows per transaction, walking each table's key in order, so no
        transaction holds the database for long. Returns how many records went. A table with
        no such rows (a resync where nothing was deleted or changed its numbers) is only read,
        once, in C."""
        conn = conn or self.db.conn
        table = spec.logical
        gone = 0
        last: str | None = ""
        stale = "SELECT EXISTS (SELECT 1 FROM {} WHERE tbl = ? AND gen < ?)"
        if not conn.execute(stale.format("phone_records"), [table, gen]).fetchone()[0]:
            last = None  # nothing to delete
        while last is not None:  # records: the key is (tbl, record_id)
            row = conn.execute(
                "SELECT record_id FROM phone_records WHERE tbl = ? AND record_id > ? ORDER BY record_id "
                "LIMIT 1 OFFSET ?",
                [table, last, chunk - 1],
            ).fetchone()
            with conn:
                if row is None:
                    cur = conn.execute(
                        "DELETE FROM phone_records WHERE tbl = ? AND record_id > ? AND gen < ?",
                        [table, last, gen],
                    )
                else:
                    cur = conn.execute(
                        "DELETE FROM phone_records WHERE tbl = ? AND record_id > ? AND record_id <= ? AND gen < ?",
                        [table, last, row[0], gen],
                    )
            gone += max(0, cur.rowcount)
            if row is None:
                break
            last = str(row[0])
        last = ""
        if not conn.execute(stale.format("phone_index"), [table, gen]).fetchone()[0]:
            last = None
        while last is not None:  # entries: the key is (key, tbl, record_id, col); every table's, in key order
            row = conn.execute(
                "SELECT key FROM phone_index WHERE key > ? ORDER BY key LIMIT 1 OFFSET ?", [last, chunk - 1]
            ).fetchone()
            with conn:
                if row is None:
                    conn.execute(
                        "DELETE FROM phone_index WHERE key > ? AND tbl = ? AND gen < ?", [last, table, gen]
                    )
                else:
                    conn.execute(
                        "DELETE FROM phone_index WHERE key > ? AND key <= ? AND tbl = ? AND gen < ?",
                        [last, row[0], table, gen],
                    )
            if row is None:
                break
            last = str(row[0])
        return gone

    def finish_full(
        self,
        spec: TableSpec,
        gen: int,
        delta_link: str,
        conn: sqlite3.Connection | None = None,
        *,
        tracked: bool = True,
        started: float = 0.0,
    ) -> None:
        """The last page is in: sweep the older generations, then store the new state."""
        self._finish(
            conn or self.db.conn, spec, gen, delta_link, tracked, started, sweep=self._took_fresh(spec, gen)
        )
        self._writing.pop(spec.logical, None)

    def _took_fresh(self, spec: TableSpec, gen: int) -> bool:
        """Whether the full sync *gen* has older rows to sweep (forgets that it began fresh)."""
        fresh = (spec.logical, gen) in self._fresh
        self._fresh.discard((spec.logical, gen))
        return not fresh

    def _finish(
        self, conn: sqlite3.Connection, spec: TableSpec, gen: int, delta_link: str, tracked: bool, started: float,
        *, sweep: bool,
    ) -> None:  # fmt: skip
        """``finish_full``'s writes (also run by the writer process)."""
        if sweep:
            self.sweep(spec, gen, conn)
        since = _modified_since(started) if started else ""
        with conn:
            self._save_state(conn, spec.logical, delta_link, gen)
            conn.execute(
                "UPDATE phone_sync SET writing = 0, tracked = ?, full_at = ?, since = ? WHERE tbl = ?",
                [int(tracked), started, since, spec.logical],
            )

    def apply_delta(
        self,
        spec: TableSpec,
        rows: Sequence[Mapping[str, Any]] | Page,
        gen: int,
        conn: sqlite3.Connection | None = None,
    ) -> tuple[int, int]:
        """Created and changed rows replace the record's numbers; ``$deletedEntity`` rows remove it."""
        columns = spec.select()
        where = _Columns(spec, columns)
        if isinstance(rows, Page):
            tuples = rows.rows
            deleted = [str(t[where.did]) for t in tuples if t[where.id] is None and len(t) > where.did
                       and t[where.did + 1] == "deleted"]  # fmt: skip
            changed = [t for t in tuples if t[where.id] is not None]
        else:
            changed = [
                tuple(r.get(c) for c in columns) for r in rows if "reason" not in r or spec.id_col in r
            ]
            deleted = [
                str(r.get("id")) for r in rows if r.get("reason") == "deleted" and spec.id_col not in r
            ]
        records, numbers = self._tuple_rows(spec, where, changed, gen)
        conn = conn or self.db.conn
        with conn:
            self._forget(conn, spec.logical, [r[0] for r in records] + deleted)
            conn.executemany(
                "DELETE FROM phone_records WHERE tbl = ? AND record_id = ?",
                [(spec.logical, d) for d in deleted],
            )
            self._insert(conn, spec, gen, records, numbers)
        return len(records), len(deleted)

    def _save_state(self, conn: sqlite3.Connection, table: str, delta_link: str, gen: int) -> None:
        count = conn.execute("SELECT count(*) FROM phone_records WHERE tbl = ?", [table]).fetchone()[0]
        conn.execute(
            "INSERT INTO phone_sync (tbl, delta_link, gen, synced_at, records) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(tbl) DO UPDATE SET delta_link = excluded.delta_link, gen = excluded.gen, "
            "synced_at = excluded.synced_at, records = excluded.records",
            [table, delta_link, gen, datetime.now(UTC).isoformat(timespec="seconds"), count],
        )

    def save_delta_link(self, table: str, delta_link: str, conn: sqlite3.Connection | None = None) -> None:
        conn = conn or self.db.conn
        _, gen = self.state(table)
        with conn:
            self._save_state(conn, table, delta_link, gen)

    def save_since(self, table: str, started: float, conn: sqlite3.Connection | None = None) -> None:
        """An untracked table's pass of changed rows is done: the next one starts from here."""
        conn = conn or self.db.conn
        with conn:
            conn.execute("UPDATE phone_sync SET since = ? WHERE tbl = ?", [_modified_since(started), table])


def _modified_since(started: float) -> str:
    """The ``modifiedon`` watermark for a pass that started at *started*: a minute earlier, for
    clocks that disagree and rows committed while the pass ran (read twice, written the same)."""
    when = datetime.fromtimestamp(started, UTC) - timedelta(minutes=1)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class IndexSync:
    """Fills and refreshes a ``PhoneIndex`` from a ``DynamicsCrm``, off the event loop (see the
    module's doc): the loop only waits for HTTP answers and worker threads."""

    def __init__(
        self,
        index: PhoneIndex,
        crm: DynamicsCrm,
        progress: Callable[[SyncProgress], None] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        untracked_every: float = 3600.0,
        clock: Callable[[], float] = time.time,
        writer_process: bool = True,
    ) -> None:
        self.index = index
        self.crm = crm
        self.progress = progress or (lambda _p: None)
        # never odata.include-annotations here: it makes the service drop the deltaLink (§2)
        self.prefer = f"odata.track-changes,odata.maxpagesize={page_size}"
        self.plain_prefer = f"odata.maxpagesize={page_size}"
        #: tables without change tracking (found during a sync, or stored by an earlier one)
        self.untracked: set[str] = set()
        self.untracked_every = untracked_every
        self.clock = clock
        #: full syncs decode and write in a process of their own (``_Writer``), so nothing of
        #: them holds this process's interpreter lock; False, or when that process cannot be
        #: started: in a worker thread (deltas always are: they are small)
        self.writer_process = writer_process
        self._writer: _Writer | None = None
        #: the running sync's waits (``SyncReport.spent``)
        self.spent: dict[str, float] = {}

    async def sync(self, *, full: bool = False, tables: Sequence[str] | None = None) -> SyncReport:
        """Delta where a delta link is stored, full otherwise (or when *full*)."""
        started = time.perf_counter()
        report = SyncReport(mode={})
        self.spent = report.spent
        try:
            await self._sync(report, full, tables)
        finally:
            writer, self._writer = self._writer, None
            if writer is not None:
                cpu, spent = await writer.close()
                report.writer_cpu += cpu
                for what, seconds in spent.items():
                    report.add(what, seconds)
        report.seconds = time.perf_counter() - started
        return report

    async def _sync(self, report: SyncReport, full: bool, tables: Sequence[str] | None) -> None:
        for spec in self.index.tables.values():
            if tables and spec.logical not in tables:
                continue
            if not spec.phones:
                continue
            state = self.index.sync_state(spec.logical)
            link = str(state["delta_link"])
            if not state["tracked"]:
                self.untracked.add(spec.logical)
            if link and not full:
                try:
                    up, down = await self._delta(spec, link)
                    report.mode[spec.logical] = "delta"
                    report.upserted += up
                    report.deleted += down
                    continue
                except CrmRejected as exc:
                    # an expired or unknown change token (contract §2): start again from scratch
                    log.info("delta link for %s refused (%s): full resync", spec.logical, exc)
                    report.mode[spec.logical] = "full (token expired)"
            elif (
                not full
                and spec.logical in self.untracked
                and state["since"]
                and self.clock() - float(state["full_at"]) < self.untracked_every
            ):
                # no change tracking: between full syncs, only the rows modified since the last pass
                report.upserted += await self._changed(spec, str(state["since"]))
                report.mode[spec.logical] = "changed (no change tracking)"
                continue
            report.upserted += await self._full(spec, int(state["records"]))
            report.mode.setdefault(
                spec.logical, "full (no change tracking)" if spec.logical in self.untracked else "full"
            )

    async def run(
        self,
        stop: asyncio.Event,
        *,
        interval: float = 900.0,
        retry: float = 60.0,
        after: Callable[[], None] | None = None,
    ) -> None:
        """Keep the index current: a sync now, then every *interval* seconds (after a failure,
        again in *retry* seconds) until *stop* is set, calling *after()* once each attempt is over
        (done or failed) — the desktop and the server forget their cached caller answers there.
        Never raises for a failed sync: offline, throttled or signed out, the old index answers."""
        while not stop.is_set():
            wait = interval
            try:
                report = await self.sync()
                log.info("phone index: %s", report.mode)
            except (CrmUnavailable, AuthError, CrmRejected) as exc:
                log.warning("phone index sync failed (%s); trying again in %.0f s", exc, retry)
                wait = retry
            except Exception:
                log.exception("phone index sync failed; trying again in %.0f s", retry)
                wait = retry
            if after is not None:
                try:
                    after()
                except Exception:
                    log.exception("after the phone index sync")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def _full(self, spec: TableSpec, expected: int) -> int:
        started = self.clock()
        url = self.crm.url(spec.entity_set, {"$select": ",".join(spec.select())})
        gen = self.index.start_full(spec)
        writer = await self._start_writer()
        async with _Worker(self.index) if writer is None else _nothing() as worker:
            sink: _Sink = writer or cast("_Worker", worker)
            try:
                tracked = spec.logical not in self.untracked
                pages = sink.pages
                try:
                    received, _, delta_link = await self._pull(
                        sink, spec, gen, url, self.prefer if tracked else self.plain_prefer, "full", expected
                    )
                except CrmRejected as exc:
                    if not tracked or sink.pages > pages:
                        raise  # refused half-way: not about change tracking
                    # change tracking is off for this table (§2): index it anyway
                    log.warning("%s: no change tracking (%s); full syncs every %.0f s", spec.logical, exc,
                                self.untracked_every)  # fmt: skip
                    self.untracked.add(spec.logical)
                    tracked = False
                    received, _, delta_link = await self._pull(
                        sink, spec, gen, url, self.plain_prefer, "full", expected
                    )
                await sink.finish_full(spec, gen, delta_link, tracked=tracked, started=started)
            except BaseException:
                self.index.abandon_full(spec)
                if writer is not None:  # it may be half-way through a page: not to be used again
                    self._writer = None
                    writer.kill()
                raise
        return received

    async def _start_writer(self) -> _Writer | None:
        """The writer process of this ``sync()`` (started by its first full sync), or ``None``:
        not wanted, an in-memory database, or it could not be started."""
        if self._writer is None and self.writer_process:
            path = self.index.path()
            if path and _can_start_python():
                try:
                    self._writer = await _Writer.start(self.index, path)
                except (OSError, RuntimeError) as exc:
                    log.warning("phone index: no writer process (%s); writing in a thread", exc)
                    self.writer_process = False
        return self._writer

    async def _delta(self, spec: TableSpec, link: str) -> tuple[int, int]:
        gen = self.index.current_gen(spec.logical)
        async with _Worker(self.index) as worker:
            up, down, new_link = await self._pull(worker, spec, gen, link, self.prefer, "delta", 0)
            if new_link:
                await worker.run(lambda: self.index.save_delta_link(spec.logical, new_link, worker.conn))
        return up, down

    async def _changed(self, spec: TableSpec, since: str) -> int:
        """An untracked table between full syncs: the rows modified since *since*."""
        started = self.clock()
        gen = self.index.current_gen(spec.logical)
        url = self.crm.url(
            spec.entity_set, {"$select": ",".join(spec.select()), "$filter": f"modifiedon ge {since}"}
        )
        async with _Worker(self.index) as worker:
            up, _, _ = await self._pull(worker, spec, gen, url, self.plain_prefer, "changed", 0)
            await worker.run(lambda: self.index.save_since(spec.logical, started, worker.conn))
        return up

    async def _pull(
        self, sink: _Sink, spec: TableSpec, gen: int, url: str, prefer: str, mode: str, expected: int
    ) -> tuple[int, int, str]:
        """Fetch the pages on the loop; *sink* decodes and writes each (in its thread or its
        process). Page N+1 is on the wire while page N is decoded and written: its link is read
        from the end of page N's bytes (``_next_link_ahead``) and checked against the decoded
        one. Returns (rows written, rows deleted, the deltaLink)."""
        write = "full" if mode == "full" else "delta"
        started = time.perf_counter()
        received = up = down = pages = 0
        delta_link = ""

        def fetch(link: str) -> Awaitable[bytes]:
            return self.crm.get_bytes(link, prefer=prefer, what="sync")

        following: asyncio.Future[bytes] | None = None
        clock = time.perf_counter
        waited_pages = waited_writer = 0.0
        try:
            t0 = clock()
            body: bytes | None = await fetch(url)
            waited_pages += clock() - t0
            while body is not None:
                t0 = clock()
                done = await sink.drain()  # at most one page being written: memory stays flat
                waited_writer += clock() - t0
                up, down = up + done[0], down + done[1]
                ahead = _next_link_ahead(body)
                following = asyncio.ensure_future(fetch(ahead)) if ahead else None
                t0 = clock()
                try:
                    rows, next_url, link = await sink.feed(write, spec, gen, body)
                except ValueError as exc:
                    raise CrmUnavailable(
                        f"sync: Dynamics 365 answered a page that is not OData ({exc})"
                    ) from None
                waited_writer += clock() - t0
                if ahead and next_url != ahead:
                    raise CrmUnavailable("sync: a page's @odata.nextLink was not where it was read ahead")
                sink.pages += 1
                pages += 1
                received += rows
                delta_link = link or delta_link
                self.progress(
                    SyncProgress(spec.logical, received, pages, mode, False, expected,
                                 time.perf_counter() - started)
                )  # fmt: skip
                t0 = clock()
                if following is not None:
                    body, following = await following, None
                else:
                    body = await fetch(next_url) if next_url else None
                waited_pages += clock() - t0
            t0 = clock()
            done = await sink.drain()
            waited_writer += clock() - t0
            up, down = up + done[0], down + done[1]
        finally:
            if following is not None:
                following.cancel()
                with contextlib.suppress(BaseException):
                    await following
            with contextlib.suppress(Exception):
                await sink.drain()
            self.spent["wait for pages"] = self.spent.get("wait for pages", 0.0) + waited_pages
            self.spent["wait for the writer"] = self.spent.get("wait for the writer", 0.0) + waited_writer
        self.progress(
            SyncProgress(spec.logical, received, pages, mode, True, expected, time.perf_counter() - started)
        )
        return up, down, delta_link


_NEXT_LINK = re.compile(rb'"@odata\.nextLink"\s*:\s*("(?:[^"\\]|\\.)*")')


def _next_link_ahead(body: bytes) -> str | None:
    """The page's ``@odata.nextLink`` read from its last 64 KB (Dataverse writes the links after
    the rows), without decoding the page; ``None`` when it is not there. Outside a JSON string
    ``"@odata.nextLink":`` can only be a key, and inside one its quotes would be escaped."""
    at = body.rfind(b'"@odata.nextLink"', max(0, len(body) - 65536))
    match = _NEXT_LINK.match(body, at) if at >= 0 else None
    if match is None:
        return None
    try:
        link = msgspec.json.decode(match.group(1))
    except msgspec.DecodeError:
        return None
    return link if isinstance(link, str) and link else None


@contextlib.asynccontextmanager
async def _nothing() -> Any:
    yield None


class _Sink(Protocol):
    """Where ``IndexSync._pull`` hands its pages: ``_Worker`` (a thread) or ``_Writer`` (a process)."""

    pages: int

    async def feed(self, write: str, spec: TableSpec, gen: int, body: bytes) -> tuple[int, str, str]:
        """Decode *body*; returns (rows, nextLink, deltaLink) and writes the rows meanwhile
        (``write``: ``"full"`` or ``"delta"``)."""

    async def drain(self) -> tuple[int, int]:
        """Wait for the page being written: (rows written, rows deleted); (0, 0) if none."""

    async def finish_full(
        self, spec: TableSpec, gen: int, delta_link: str, *, tracked: bool, started: float
    ) -> None:
        """``PhoneIndex.finish_full``."""


class _Worker:
    """The sync's worker thread: it decodes pages and writes them (it owns the writer
    connection; SQLite wants one writer). One thread, not one per job: a second busy thread would
    compete with the event loop for the interpreter lock. Not at a lower CPU priority either: a
    niced thread that the system leaves waiting while it holds the interpreter lock would make
    the loop wait too. An in-memory database has no second connection: its writes run on the loop
    (tests only). Full syncs use the writer process instead when they can (``_Writer``)."""

    def __init__(self, index: PhoneIndex) -> None:
        self.index = index
        self.conn: sqlite3.Connection | None = None
        self.pages = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="phoneindex")
        self._decoders: dict[str, PageDecoder] = {}
        self._writing: asyncio.Future[tuple[int, int]] | None = None

    async def __aenter__(self) -> _Worker:
        self.conn = self.index.writer_connection()  # on the loop: it reads the main connection
        return self

    async def __aexit__(self, *exc: object) -> None:
        conn = self.conn
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, conn.close)
        self._pool.shutdown(wait=False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        if self.conn is None:
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            try:
                future.set_result(fn(*args))
            except Exception as exc:
                future.set_exception(exc)
            return future
        return asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def run(self, fn: Callable[[], Any]) -> Any:
        return await self.submit(fn)

    async def feed(self, write: str, spec: TableSpec, gen: int, body: bytes) -> tuple[int, str, str]:
        decoder = self._decoders.get(spec.logical) or self._decoders.setdefault(
            spec.logical, PageDecoder(spec)
        )
        page: Page = await asyncio.get_running_loop().run_in_executor(self._pool, decoder.decode, body)
        self._writing = self.submit(_write_page, self.index, write, spec, gen, page, self.conn)
        return len(page.rows), page.next_link, page.delta_link

    async def drain(self) -> tuple[int, int]:
        writing, self._writing = self._writing, None
        return (0, 0) if writing is None else await writing

    async def finish_full(
        self, spec: TableSpec, gen: int, delta_link: str, *, tracked: bool, started: float
    ) -> None:
        await self.run(
            lambda: self.index.finish_full(spec, gen, delta_link, self.conn, tracked=tracked, started=started)
        )


def _write_page(
    index: PhoneIndex, write: str, spec: TableSpec, gen: int, page: Page, conn: sqlite3.Connection | None
) -> tuple[int, int]:
    if write == "full":
        index.write_full_page(spec, page, gen, conn)
        return len(page.rows), 0
    return index.apply_delta(spec, page, gen, conn)


# ------------------------------------------------------------------------------ writer process
# A full sync's decoding, keys and SQLite writes hold the interpreter lock for most of their
# time; in a thread of the window's process they make its event loop wait for the lock (and a
# garbage collection of the whole heap, started by the worker's allocations, holds it for
# hundreds of milliseconds). So full syncs hand each page's bytes to a process of their own that
# decodes and writes them on its own connection to the index file; this process only fetches.
# Messages on the child's stdin/stdout: a frame is <u32 head length><u32 body length><pickled
# head><body bytes>; answers are <u32 length><pickled answer>.


@dataclass(frozen=True, slots=True)
class _Spec:
    """What the writer process needs of a ``TableSpec`` (which lives beside httpx)."""

    logical: str
    id_col: str
    name_col: str
    company_col: str
    phones: tuple[str, ...]
    columns: tuple[str, ...]

    @classmethod
    def of(cls, spec: TableSpec) -> _Spec:
        return cls(spec.logical, spec.id_col, spec.name_col, spec.company_col, tuple(spec.phones),
                   tuple(spec.select()))  # fmt: skip

    def select(self) -> list[str]:
        return list(self.columns)


class _LazyPlan:
    """The number plan in the writer process, unpickled (importing ``phonenumbers``) only when a
    number needs more than ``IndexKeys.fast``."""

    def __init__(self, pickled: bytes) -> None:
        self._pickled = pickled
        self._plan: NumberPlan | None = None

    def parse(self, raw: str) -> PhoneNumber:
        if self._plan is None:
            self._plan = pickle.loads(self._pickled)
        return self._plan.parse(raw)


def _spawn(code: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-S", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    if proc.stdin is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        # a page is megabytes: the pipe's default 64 KiB made both processes switch every 64 KiB
        with contextlib.suppress(OSError):
            fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    return proc


def _can_start_python() -> bool:
    """``sys.executable`` is a Python that runs ``-c`` (not a bundle's launcher)."""
    name = os.path.basename(sys.executable or "").lower()
    return not getattr(sys, "frozen", False) and name.startswith(("python", "pypy"))


class _Writer:
    """The parent's end of the writer process: its calls run in one I/O thread (the pipe writes
    release the interpreter lock), and at most one page is being written at a time."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.index: PhoneIndex | None = None
        self.pages = 0
        self._io = ThreadPoolExecutor(1, thread_name_prefix="phoneindex-io")
        self._writing = False
        self.handover = 0.0  # CPU seconds of this process's I/O thread: pages handed to the writer

    @classmethod
    async def start(cls, index: PhoneIndex, path: str) -> _Writer:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        paths = [root, *(p for p in sys.path if p)]
        code = f"import sys; sys.path[:0] = {paths!r}; from callsys.crm.dynamics.phoneindex import _writer_main; _writer_main()"
        writer = cls()
        writer.index = index
        keys = index.keys
        try:
            # in the I/O thread: starting a process waits until it runs
            writer.proc = await asyncio.get_running_loop().run_in_executor(writer._io, _spawn, code)
            await writer.call("open", path, keys.cc, keys.trunk, keys.idd, pickle.dumps(keys.plan))
        except BaseException:
            writer.kill()
            raise
        return writer

    def _call(self, head: tuple[Any, ...], body: bytes) -> Any:
        assert self.proc is not None
        stdin, stdout = cast("IO[bytes]", self.proc.stdin), cast("IO[bytes]", self.proc.stdout)
        cpu = time.thread_time()
        packed = pickle.dumps(head)
        try:
            stdin.write(struct.pack("<II", len(packed), len(body)) + packed)
            if body:
                stdin.write(body)
            stdin.flush()
            size = stdout.read(4)
            answer = pickle.loads(stdout.read(struct.unpack("<I", size)[0])) if len(size) == 4 else None
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"the phone index writer process is gone ({exc})") from None
        finally:
            self.handover += time.thread_time() - cpu
        if answer is None:
            raise RuntimeError(f"the phone index writer process ended (exit code {self.proc.poll()})")
        if answer[0] == "ok":
            return answer[1]
        _, kind, message = answer
        if kind == "ValueError":
            raise ValueError(message)
        if kind == "OperationalError":
            raise sqlite3.OperationalError(message)
        raise RuntimeError(f"phone index writer: {kind}: {message}")

    async def call(self, op: str, *args: Any, body: bytes = b"") -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, self._call, (op, *args), body)

    async def feed(self, write: str, spec: TableSpec, gen: int, body: bytes) -> tuple[int, str, str]:
        rows, next_link, delta_link = await self.call("page", write, _Spec.of(spec), gen, body=body)
        self._writing = True
        return int(rows), str(next_link), str(delta_link)

    async def drain(self) -> tuple[int, int]:
        if not self._writing:
            return (0, 0)
        self._writing = False
        up, down = await self.call("drain")
        return int(up), int(down)

    async def finish_full(
        self, spec: TableSpec, gen: int, delta_link: str, *, tracked: bool, started: float
    ) -> None:
        assert self.index is not None
        sweep = self.index._took_fresh(spec, gen)
        await self.call("finish", _Spec.of(spec), gen, delta_link, tracked, started, sweep)
        self.index._writing.pop(spec.logical, None)

    async def close(self) -> tuple[float, dict[str, float]]:
        """End the process; returns the CPU seconds it used, and where they went (its steps',
        and this process's in handing it pages: ``SyncReport.spent``)."""
        try:
            cpu, steps = await self.call("bye")
            assert self.proc is not None
            await asyncio.get_running_loop().run_in_executor(self._io, self.proc.wait, 10)
        except Exception as exc:
            log.warning("phone index writer: %s", exc)
            self.kill()
            return 0.0, {}
        finally:
            self._release()
        return float(cpu), {**steps, "handover": self.handover}

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(5)
        self._release()

    def _release(self) -> None:
        self._io.shutdown(wait=False)
        if self.proc is None:
            return
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _writer_main() -> None:
    """The writer process: ``open`` once, then ``page``/``drain`` per page and ``finish`` per
    table, until ``bye`` or the end of its stdin (the parent is gone: it exits too)."""
    global _SHARED_INTERPRETER
    _SHARED_INTERPRETER = False
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing stray reaches the channel
    gc.freeze()  # the imports' objects: collections walk only what the pages make

    def answer(value: tuple[Any, ...]) -> None:
        packed = pickle.dumps(value)
        out.write(struct.pack("<I", len(packed)) + packed)
        out.flush()

    def failed(exc: BaseException) -> tuple[str, str, str]:
        return ("err", type(exc).__name__, str(exc))

    conn: sqlite3.Connection | None = None
    index = PhoneIndex.__new__(PhoneIndex)
    decoders: dict[str, PageDecoder] = {}
    pending: tuple[Any, ...] = ("ok", (0, 0))
    cpu = time.process_time
    steps = dict.fromkeys(("pipe", "decode", "records", "sqlite", "finish"), 0.0)  # CPU seconds
    # A full sync's rows are gathered for BUFFER_PAGES pages, then sorted by key and written in
    # one transaction. Numbers and ids come in no order: a page's rows, sorted, still land on a
    # different b-tree leaf each; several pages' rows land several to a leaf, and each changed
    # leaf is logged once. Nothing is written while rows are gathered, so the index's write
    # lock is held only while a batch is written, never while waiting for the service.
    gathered: list[tuple[Any, ...]] = []  # (spec, gen, records, numbers) of each gathered page

    def flush() -> None:
        if not gathered or conn is None:
            return
        t0 = cpu()
        batch = gathered[:]
        gathered.clear()
        spec, gen = batch[0][0], batch[0][1]
        records = list(itertools.chain.from_iterable(b[2] for b in batch))
        numbers = list(itertools.chain.from_iterable(b[3] for b in batch))
        del batch
        try:
            with conn:
                index._insert(conn, spec, gen, records, numbers)
        finally:
            steps["sqlite"] += cpu() - t0

    while True:
        t0 = cpu()
        frame = inp.read(8)
        if len(frame) < 8:
            return
        head_len, body_len = struct.unpack("<II", frame)
        op, *args = pickle.loads(inp.read(head_len))
        body = inp.read(body_len) if body_len else b""
        steps["pipe"] += cpu() - t0
        try:
            if op not in ("page", "drain"):
                flush()
            if op == "open":
                path, cc, trunk, idd, plan = args
                keys = IndexKeys.__new__(IndexKeys)
                keys.cc, keys.trunk, keys.idd = cc, trunk, idd
                keys.plan = cast("NumberPlan", _LazyPlan(plan))
                index.keys, index.tables, index._writing, index._fresh = keys, {}, {}, set()
                conn = PhoneIndex.connect_writer(path)
                answer(("ok", os.getpid()))
            elif op == "page":
                write, spec, gen = args
                decoder = decoders.get(spec.logical) or decoders.setdefault(spec.logical, PageDecoder(spec))
                t0 = cpu()
                page = decoder.decode(body, sliced=False, structs=write == "full")
                del body
                t1 = cpu()
                steps["decode"] += t1 - t0
                answer(("ok", (len(page.rows), page.next_link, page.delta_link)))
                try:
                    if gathered and (write != "full" or gathered[0][:2] != (spec, gen)):
                        flush()
                    if write == "full":  # write_full_page, its steps timed apart
                        where = _Columns(spec, spec.columns, structs=True)
                        t1 = cpu()
                        records, numbers = index._tuple_rows(spec, where, page.rows, gen)
                        steps["records"] += cpu() - t1
                        gathered.append((spec, gen, records, numbers))
                        if len(gathered) >= BUFFER_PAGES:
                            flush()
                        pending = ("ok", (len(records), 0))
                        del records, numbers
                    else:
                        pending = ("ok", _write_page(index, write, spec, gen, page, conn))
                except Exception as exc:
                    gathered.clear()
                    if conn is not None and conn.in_transaction:
                        conn.rollback()  # the sync fails; what was committed before stays
                    pending = failed(exc)
            elif op == "drain":
                answer(pending)
                pending = ("ok", (0, 0))
            elif op == "finish":
                spec, gen, delta_link, tracked, started, sweep = args
                t0 = cpu()
                index._finish(
                    cast("sqlite3.Connection", conn), spec, gen, delta_link, tracked, started, sweep=sweep
                )
                steps["finish"] += cpu() - t0
                answer(("ok", None))
            elif op == "bye":
                t0 = cpu()
                if conn is not None:
                    conn.close()  # the last checkpoint
                steps["finish"] += cpu() - t0
                times = os.times()
                answer(("ok", (times.user + times.system, steps)))
                return
            else:
                answer(("err", "ValueError", f"unknown operation {op!r}"))
        except Exception as exc:
            answer(failed(exc))
