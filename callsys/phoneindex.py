"""The local phone index: normalised numbers → CRM records, kept current by change tracking (B3).

A ring looks here first — one indexed SQLite query, no network — and the pop-up shows the
caller at once; the online lookup only confirms. ``IndexSync`` fills it from Dataverse
(contract §2): a full sync per table (``Prefer: odata.track-changes, odata.maxpagesize=5000``,
following ``@odata.nextLink`` unchanged, no ``odata.include-annotations`` because of the known
bug that drops the deltaLink), then deltas from the stored ``@odata.deltaLink``: created and
changed rows replace the record's numbers, ``$deletedEntity`` rows remove it. A delta link that
the service refuses (expired after ``expirechangetrackingindays``) means a full resync.

A full sync writes into unindexed staging tables and swaps them in, sorted, in one transaction
at the end: lookups keep answering from the old index during a resync, a resync that dies
half-way leaves the old index usable, and building the b-trees from sorted input is far cheaper
than a million random inserts. Pages are staged on a second connection in a worker thread, so
writing page N overlaps fetching page N+1. Tables without change tracking are synced in full
every time.

Normalising 25,000 records a second cannot go through ``phonenumbers`` (~0.25 ms a number), so
``IndexKeys`` has a fast path for the shapes phone columns really hold (``+…``, international
prefix, trunk prefix + national number) and uses ``NumberPlan.parse`` for everything else. The
ring side asks for the same keys, so both sides always agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
import sqlite_utils

from callsys.crm import Match
from callsys.crm.dynamics import DEFAULT_TABLES, DynamicsCrm, TableSpec
from callsys.errors import AuthError, CrmRejected, CrmUnavailable
from callsys.model import Party, PartyKind, PhoneNumber
from callsys.numbers import NumberPlan

__all__ = ["IndexKeys", "IndexSync", "PhoneIndex", "SyncProgress", "SyncReport", "ensure_schema"]

log = logging.getLogger(__name__)

PAGE_SIZE = 5000  # the service's maximum (contract §2)

# one pass: Persian/Arabic-Indic digits → ASCII, separators and direction marks dropped
_FOLD = str.maketrans(
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789", " -.()/\u00a0\t\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
)


def ensure_schema(db: sqlite_utils.Database) -> None:
    with db.conn:
        # one b-tree, keyed for the ring: a lookup is a prefix scan on `key`
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_index (key TEXT NOT NULL, tbl TEXT NOT NULL, record_id TEXT NOT NULL, "
            "col TEXT NOT NULL, gen INTEGER NOT NULL, PRIMARY KEY (key, tbl, record_id, col)) WITHOUT ROWID"
        )
        # `keys` lists the record's index entries ("key<TAB>col" lines) so a delta can remove them
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_records (tbl TEXT NOT NULL, record_id TEXT NOT NULL, name TEXT NOT NULL, "
            "company TEXT NOT NULL DEFAULT '', company_ref TEXT NOT NULL DEFAULT '', gen INTEGER NOT NULL, "
            "keys TEXT NOT NULL DEFAULT '', PRIMARY KEY (tbl, record_id)) WITHOUT ROWID"
        )
        # a full sync lands here first (no indexes: appends are cheap), then moves over sorted in one
        # transaction — lookups see the old index until the new one is complete
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_stage_index (key TEXT, tbl TEXT, record_id TEXT, col TEXT, gen INTEGER)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_stage_records (tbl TEXT, record_id TEXT, name TEXT, company TEXT, "
            "company_ref TEXT, gen INTEGER, keys TEXT)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS phone_sync (tbl TEXT PRIMARY KEY, delta_link TEXT NOT NULL DEFAULT '', "
            "gen INTEGER NOT NULL DEFAULT 0, synced_at TEXT NOT NULL DEFAULT '', records INTEGER NOT NULL DEFAULT 0)"
        )


class IndexKeys:
    """The index key of a written number: E.164 when it can be told cheaply, else ``plan.parse``."""

    def __init__(self, plan: NumberPlan) -> None:
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
        if "(0)" in raw:  # "+49 (0)30 …": the trunk prefix written inside an international number
            raw = raw.replace("(0)", "")
        s = raw.translate(_FOLD)
        if not s:
            return None
        if s[0] == "+":
            body = s[1:]
            if body.isdigit() and 7 <= len(body) <= 15 and body[0] != "0":
                return "+" + body
            return None
        if not s.isdigit():
            return None
        if s.startswith(self.idd) and 7 <= len(s) - len(self.idd) <= 15 and s[len(self.idd)] != "0":
            return "+" + s[len(self.idd) :]
        if self.trunk and s.startswith(self.trunk) and 6 <= len(s) - len(self.trunk) <= 13:
            rest = s[len(self.trunk) :]
            if not rest.startswith("0"):
                return "+" + self.cc + rest
        return None

    def key(self, raw: str) -> str | None:
        fast = self.fast(raw)
        if fast is not None:
            return fast
        number = self.plan.parse(raw)
        return number.key or None

    def ring_keys(self, number: PhoneNumber) -> list[str]:
        keys = list(self.plan.lookup_keys(number))
        for text in (number.e164, number.digits, number.raw):
            if text:
                fast = self.fast(text)
                if fast:
                    keys.append(fast)
        return list(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True, slots=True)
class SyncProgress:
    table: str
    records: int  # rows received for this table so far
    pages: int
    mode: str  # "full" or "delta"
    finished: bool = False


@dataclass
class SyncReport:
    mode: dict[str, str]  # table → "full" | "delta" | "full (token expired)"
    upserted: int = 0
    deleted: int = 0
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.upserted / self.seconds if self.seconds else 0.0


class PhoneIndex:
    def __init__(
        self,
        db: sqlite_utils.Database,
        plan: NumberPlan,
        *,
        tables: Sequence[TableSpec] = DEFAULT_TABLES,
        url_for: Callable[[str, str], str] = lambda _table, _id: "",
    ) -> None:
        self.db = db
        ensure_schema(db)
        self.plan = plan
        self.keys = IndexKeys(plan)
        self.tables = {t.logical: t for t in tables}
        self.url_for = url_for

    # ---------------------------------------------------------------- reading
    def lookup(self, number: PhoneNumber) -> list[Match]:
        """Every indexed record with *number*, best first — local only, never the network."""
        keys = self.keys.ring_keys(number)
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            "SELECT i.tbl, i.record_id, i.col, i.key, r.name, r.company, r.company_ref FROM phone_index i "
            f"JOIN phone_records r ON r.tbl = i.tbl AND r.record_id = i.record_id WHERE i.key IN ({marks})",
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

    # ---------------------------------------------------------------- writing
    def _rows(
        self, spec: TableSpec, rows: Iterable[Mapping[str, Any]], gen: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        records: list[tuple[Any, ...]] = []
        numbers: list[tuple[Any, ...]] = []
        company_col = spec.company_col
        is_ref = company_col.startswith("_")
        logical, id_col, name_col, phones = spec.logical, spec.id_col, spec.name_col, spec.phones
        fast, slow = self.keys.fast, self.keys.key
        phone_set = frozenset(phones)
        for row in rows:
            record_id = row.get(id_col)
            if not record_id:
                continue
            entries = []
            # one pass over the row (most phone columns are null) instead of a get per column
            for col, value in row.items():
                if value and col in phone_set and value.__class__ is str:
                    k = fast(value) or slow(value)
                    if k:
                        numbers.append((k, logical, record_id, col, gen))
                        entries.append(f"{k}\t{col}")
            company = row.get(company_col) if company_col else None
            records.append(
                (
                    logical,
                    record_id,
                    str(row.get(name_col) or ""),
                    "" if is_ref else str(company or ""),
                    str(company or "") if is_ref else "",
                    gen,
                    "\n".join(entries),
                )
            )
        return records, numbers

    def _forget(self, table: str, record_ids: Iterable[str]) -> None:
        """Remove the index entries of these records (inside the caller's transaction)."""
        gone: list[tuple[str, str, str, str]] = []
        for record_id in record_ids:
            row = self.db.execute(
                "SELECT keys FROM phone_records WHERE tbl = ? AND record_id = ?", [table, record_id]
            ).fetchone()
            if row and row[0]:
                for entry in str(row[0]).split("\n"):
                    k, _, col = entry.partition("\t")
                    gone.append((k, table, record_id, col))
        self.db.conn.executemany(
            "DELETE FROM phone_index WHERE key = ? AND tbl = ? AND record_id = ? AND col = ?", gone
        )

    def forget(self, table: str, record_id: str) -> None:
        """Drop one record (it was deleted in the CRM)."""
        with self.db.conn:
            self._forget(table, [record_id])
            self.db.execute("DELETE FROM phone_records WHERE tbl = ? AND record_id = ?", [table, record_id])

    def remember(self, table: str, row: Mapping[str, Any]) -> None:
        """Index one record now (one we just created or changed), before the next sync brings it."""
        spec = self.tables.get(table)
        if spec is not None:
            self.apply_delta(spec, [row], self.state(table)[1])

    def start_full(self, spec: TableSpec) -> None:
        with self.db.conn:  # leftovers of a full sync that died half-way
            self.db.execute("DELETE FROM phone_stage_index WHERE tbl = ?", [spec.logical])
            self.db.execute("DELETE FROM phone_stage_records WHERE tbl = ?", [spec.logical])

    def write_full_page(
        self,
        spec: TableSpec,
        rows: Sequence[Mapping[str, Any]],
        gen: int,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """Stage one page of a full sync (on *conn*, the sync's own writer connection, if given)."""
        records, numbers = self._rows(spec, rows, gen)
        conn = conn or self.db.conn
        with conn:
            conn.executemany("INSERT INTO phone_stage_records VALUES (?, ?, ?, ?, ?, ?, ?)", records)
            conn.executemany("INSERT INTO phone_stage_index VALUES (?, ?, ?, ?, ?)", numbers)

    def writer_connection(self) -> sqlite3.Connection | None:
        """A second connection to the same file for staging in a worker thread, so writing page
        N overlaps fetching page N+1; ``None`` for an in-memory database."""
        row = self.db.execute("PRAGMA database_list").fetchone()
        path = str(row[2]) if row and row[2] else ""
        if not path:
            return None
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def finish_full(self, spec: TableSpec, gen: int, delta_link: str) -> None:
        """Swap the staged table in, atomically; sorted inserts keep the b-trees cheap to build."""
        table = [spec.logical]
        with self.db.conn:
            self.db.execute("DELETE FROM phone_index WHERE tbl = ?", table)
            self.db.execute("DELETE FROM phone_records WHERE tbl = ?", table)
            self.db.execute(
                "INSERT OR REPLACE INTO phone_records SELECT * FROM phone_stage_records WHERE tbl = ? "
                "ORDER BY tbl, record_id",
                table,
            )
            self.db.execute(
                "INSERT OR REPLACE INTO phone_index SELECT * FROM phone_stage_index WHERE tbl = ? "
                "ORDER BY key, tbl, record_id, col",
                table,
            )
            self.db.execute("DELETE FROM phone_stage_index WHERE tbl = ?", table)
            self.db.execute("DELETE FROM phone_stage_records WHERE tbl = ?", table)
            self._save_state(spec.logical, delta_link, gen)

    def apply_delta(self, spec: TableSpec, rows: Sequence[Mapping[str, Any]], gen: int) -> tuple[int, int]:
        changed = [r for r in rows if "reason" not in r or spec.id_col in r]
        deleted = [str(r.get("id")) for r in rows if r.get("reason") == "deleted" and spec.id_col not in r]
        records, numbers = self._rows(spec, changed, gen)
        with self.db.conn:
            self._forget(spec.logical, [r[1] for r in records] + deleted)
            self.db.conn.executemany(
                "DELETE FROM phone_records WHERE tbl = ? AND record_id = ?",
                [(spec.logical, d) for d in deleted],
            )
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO phone_records VALUES (?, ?, ?, ?, ?, ?, ?)", records
            )
            self.db.conn.executemany("INSERT OR REPLACE INTO phone_index VALUES (?, ?, ?, ?, ?)", numbers)
        return len(records), len(deleted)

    def _save_state(self, table: str, delta_link: str, gen: int) -> None:
        count = self.db.execute("SELECT count(*) FROM phone_records WHERE tbl = ?", [table]).fetchone()[0]
        self.db.execute(
            "INSERT INTO phone_sync (tbl, delta_link, gen, synced_at, records) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(tbl) DO UPDATE SET delta_link = excluded.delta_link, gen = excluded.gen, "
            "synced_at = excluded.synced_at, records = excluded.records",
            [table, delta_link, gen, datetime.now(UTC).isoformat(timespec="seconds"), count],
        )

    def save_delta_link(self, table: str, delta_link: str) -> None:
        _, gen = self.state(table)
        with self.db.conn:
            self._save_state(table, delta_link, gen)


class IndexSync:
    """Fills and refreshes a ``PhoneIndex`` from a ``DynamicsCrm``."""

    def __init__(
        self,
        index: PhoneIndex,
        crm: DynamicsCrm,
        progress: Callable[[SyncProgress], None] | None = None,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.index = index
        self.crm = crm
        self.progress = progress or (lambda _p: None)
        # never odata.include-annotations here: it makes the service drop the deltaLink (§2)
        self.prefer = f"odata.track-changes,odata.maxpagesize={page_size}"
        self.plain_prefer = f"odata.maxpagesize={page_size}"
        self.untracked: set[str] = set()  # tables without change tracking (found during a sync)

    async def sync(self, *, full: bool = False, tables: Sequence[str] | None = None) -> SyncReport:
        """Delta where a delta link is stored, full otherwise (or when *full*)."""
        started = time.perf_counter()
        report = SyncReport(mode={})
        for spec in self.index.tables.values():
            if tables and spec.logical not in tables:
                continue
            if not spec.phones:
                continue
            link, _ = self.index.state(spec.logical)
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
            report.upserted += await self._full(spec)
            report.mode.setdefault(
                spec.logical, "full (no change tracking)" if spec.logical in self.untracked else "full"
            )
        report.seconds = time.perf_counter() - started
        return report

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

    async def _full(self, spec: TableSpec) -> int:
        _, gen = self.index.state(spec.logical)
        gen += 1
        url = self.crm.url(spec.entity_set, {"$select": ",".join(spec.select())})
        self.index.start_full(spec)
        try:
            received, pages, delta_link = await self._pull(spec, url, self.prefer, gen)
        except CrmRejected as exc:
            staged = self.index.db.execute(
                "SELECT 1 FROM phone_stage_records WHERE tbl = ? LIMIT 1", [spec.logical]
            ).fetchone()
            if staged:
                raise  # refused half-way: not about change tracking
            # change tracking is off for this table (§2): index it anyway, in full every time
            log.warning("%s: no change tracking (%s); syncing it in full each time", spec.logical, exc)
            self.untracked.add(spec.logical)
            received, pages, delta_link = await self._pull(spec, url, self.plain_prefer, gen)
        self.index.finish_full(spec, gen, delta_link)
        self.progress(SyncProgress(spec.logical, received, pages, "full", finished=True))
        return received

    async def _pull(self, spec: TableSpec, url: str, prefer: str, gen: int) -> tuple[int, int, str]:
        received = pages = 0
        delta_link = ""
        conn = self.index.writer_connection()
        writing: asyncio.Future[None] | None = None
        try:
            async for page in self.crm.pages(url, prefer=prefer):
                rows = page.get("value", [])
                if writing is not None:
                    await writing  # at most one page in flight: memory stays flat
                if conn is None:
                    self.index.write_full_page(spec, rows, gen)
                else:
                    writing = asyncio.ensure_future(
                        asyncio.to_thread(self.index.write_full_page, spec, rows, gen, conn)
                    )
                received += len(rows)
                pages += 1
                delta_link = str(page.get("@odata.deltaLink") or delta_link)
                self.progress(SyncProgress(spec.logical, received, pages, "full"))
            if writing is not None:
                await writing
                writing = None
        finally:
            if writing is not None:
                with contextlib.suppress(Exception):
                    await writing
            if conn is not None:
                conn.close()
        return received, pages, delta_link

    async def _delta(self, spec: TableSpec, link: str) -> tuple[int, int]:
        _, gen = self.index.state(spec.logical)
        up = down = pages = 0
        new_link = ""
        try:
            async for page in self.crm.pages(link, prefer=self.prefer):
                u, d = self.index.apply_delta(spec, page.get("value", []), gen)
                up, down, pages = up + u, down + d, pages + 1
                new_link = str(page.get("@odata.deltaLink") or new_link)
                self.progress(SyncProgress(spec.logical, up + down, pages, "delta"))
        except (CrmUnavailable, AuthError):
            raise
        if new_link:
            self.index.save_delta_link(spec.logical, new_link)
        self.progress(SyncProgress(spec.logical, up + down, pages, "delta", finished=True))
        return up, down
