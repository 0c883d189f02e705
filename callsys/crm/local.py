"""LocalCrm — the embedded default CRM: a directory of contacts and companies in the local database.

It implements the same ``Crm`` protocol as the Dynamics connector, so callsys is useful with no
Dynamics at all. Records live in ``parties``; each of their numbers is a row of ``party_numbers``
with a ``key`` — the number's E.164 form, or its digits when it has none (an extension) — made by
the ``NumberPlan``. A lookup parses the caller's number with the same plan and asks the index for
each of the plan's lookup keys: a person is found whichever of their numbers they call from
(IN4), however the number was written in the file (``0912…``, ``+98 912…``, Persian digits), and
two records sharing a number come back as two ranked matches (B2).

Imports (``import_csv``, ``import_vcard``, ``import_file``) run in one transaction and report
what was imported, updated (same name and company as an existing record: its numbers are
merged) and skipped, with the line number and the reason.

Not thread-safe: use one ``LocalCrm`` (and its database connection) from one thread at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import quopri
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import sqlite_utils

from callsys.crm import Match
from callsys.errors import CrmNotFound, ImportFailed
from callsys.model import Party, PartyKind, PhoneNumber, clean_text
from callsys.numbers import NumberPlan, number_from_uri, to_ascii_digits

__all__ = ["ImportReport", "LocalCrm", "NumberInput", "Progress", "SkippedRow", "fold"]

log = logging.getLogger(__name__)

#: A number to store: the text as written, or ``(field, text)`` with the field it belongs to.
NumberInput = str | tuple[str, str]
#: Called now and then during an import with (rows done, rows in the file).
Progress = Callable[[int, int], None]

_SOURCE = "local"
_PERSON_KINDS = frozenset({PartyKind.CONTACT, PartyKind.LEAD, PartyKind.SYSTEMUSER})
_MAX_NUMBERS = 32  # per record; more is a broken file, not a person
_PROGRESS_EVERY = 5000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NUMBER_SPLIT = re.compile(r"\s*(?:[;,|\n]|:::)\s*|\s{3,}")  # ":::" joins values in Google exports
_FOLD_TABLE = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ـ": None, "أ": "ا", "إ": "ا", "آ": "ا"})


def fold(text: str) -> str:
    """Text as searched: NFKC, case-folded, Arabic letter forms as Persian ones, one space."""
    cleaned = unicodedata.normalize("NFKC", clean_text(text)).casefold().translate(_FOLD_TABLE)
    return " ".join(cleaned.split())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class SkippedRow:
    line: int  # 1-based line of the file where the row (or vCard) starts
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did. ``skipped`` says which rows were left out and why."""

    path: str
    format: str  # "csv" or "vcard"
    imported: int = 0
    updated: int = 0
    numbers: int = 0  # phone numbers stored (new and merged)
    skipped: tuple[SkippedRow, ...] = ()
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "imported": self.imported,
            "updated": self.updated,
            "numbers": self.numbers,
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Entry:
    """One record read from a file, before it is stored."""

    line: int
    name: str = ""
    company: str = ""
    kind: PartyKind | None = None
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (field, raw)
    email: str = ""
    notes: str = ""
    record_id: str = ""


@dataclass
class _Tally:
    imported: int = 0
    updated: int = 0
    numbers: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)


_LOOKUP_SQL = {
    n: (
        "SELECT n.party, n.field, n.key, p.kind, p.id, p.updated_at, p.name, p.company FROM party_numbers n "
        "JOIN parties p ON p.pk = n.party WHERE n.key IN (" + ",".join("?" * n) + ")"
    )
    for n in range(1, 5)
}
_PARTY_SQL = "SELECT pk, kind, id, name, company FROM parties WHERE pk = ?"
_NUMBERS_SQL = (
    "SELECT raw, e164, digits, extension, field FROM party_numbers WHERE party = ? ORDER BY position"
)


class LocalCrm:
    """The local directory as a ``Crm``. *db* comes from ``callsys.store.open_database``."""

    name = _SOURCE
    #: An import calls its ``progress`` callback every this many rows.
    progress_every = _PROGRESS_EVERY

    def __init__(self, db: sqlite_utils.Database, plan: NumberPlan) -> None:
        self._db = db
        self._conn = db.conn
        self.plan = plan
        self._country_code = str(phonenumbers.country_code_for_region(plan.region) or "")

    # ------------------------------------------------------------------ Crm protocol
    async def lookup(self, number: PhoneNumber) -> Sequence[Match]:
        return self.lookup_now(number)

    async def search(self, text: str, limit: int = 20) -> Sequence[Party]:
        return self.search_now(text, limit)

    async def get(self, kind: str, record_id: str) -> Party | None:
        party = self.get_now(record_id)
        if party is None or (kind and kind not in (party.kind.value, party.table)):
            return None
        return party

    def record_url(self, party: Party) -> str:
        return ""  # a local record opens in the app's own details view

    async def close(self) -> None:
        """Nothing to release: the database belongs to whoever opened it."""

    # ------------------------------------------------------------------ synchronous reads
    def lookup_now(self, number: PhoneNumber) -> list[Match]:
        """Every record having *number* (in any written form), best first (IN4, B2)."""
        query = number if number.e164 or not number.raw else self.plan.parse(number.raw)
        keys = _lookup_keys(self.plan, query)
        if not keys:
            return []
        best: dict[int, tuple[float, str, str, tuple[str, str, str, str]]] = {}
        rows = self._conn.execute(_LOOKUP_SQL[len(keys)], keys)
        for pk, field_name, key, kind, record_id, updated, name, company in rows:
            score = 1.0 if key == keys[0] else 0.9
            if kind in _PERSON_KINDS:
                score += 0.05
            previous = best.get(pk)
            if previous is None or score > previous[0]:
                best[pk] = (score, field_name, updated, (kind, record_id, name, company))
        # Best score first; among equals the record changed most recently.
        ranked = sorted(best.items(), key=lambda item: item[1][2], reverse=True)
        ranked.sort(key=lambda item: item[1][0], reverse=True)
        return [
            Match(party=self._build_party(pk, *record), field=field_name, score=score)
            for pk, (score, field_name, _updated, record) in ranked
        ]

    def search_now(self, text: str, limit: int = 20) -> list[Party]:
        """Records whose name or company contains *text*, or one of whose numbers starts with it."""
        limit = max(0, min(int(limit), 1000))
        cleaned = clean_text(text)
        if not cleaned or limit == 0:
            return []
        pks: list[int] = []
        if (
            re.fullmatch(r"[+\d\s\-().]+", to_ascii_digits(cleaned))
            and sum(ch.isdigit() for ch in cleaned) >= 2
        ):
            for prefix in self._number_prefixes(cleaned):
                rows = self._conn.execute(
                    "SELECT DISTINCT party FROM party_numbers WHERE key >= ? AND key < ? LIMIT ?",
                    (prefix, prefix + "\uffff", limit),
                )
                pks.extend(row[0] for row in rows if row[0] not in pks)
        else:
            # Names starting with the text first (a range over the name index: fast on a big
            # directory), then names or companies containing it (a scan that stops at *limit*).
            needle = fold(cleaned)
            rows = self._conn.execute(
                "SELECT pk FROM parties WHERE name_fold >= ? AND name_fold < ? ORDER BY name_fold, company_fold LIMIT ?",
                (needle, needle + "\U0010ffff", limit),
            )
            pks = [row[0] for row in rows]
            if len(pks) < limit:
                like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                rows = self._conn.execute(
                    "SELECT pk, name_fold, company_fold FROM parties "
                    "WHERE name_fold LIKE ?1 ESCAPE '\\' OR company_fold LIKE ?1 ESCAPE '\\' LIMIT ?2",
                    (like, limit + len(pks)),
                )
                found = sorted(rows.fetchall(), key=lambda row: (row[1], row[2]))
                pks += [row[0] for row in found if row[0] not in pks]
        parties = (self._party(pk) for pk in pks[:limit])
        return [p for p in parties if p is not None]

    def _number_prefixes(self, text: str) -> list[str]:
        digits = "".join(ch for ch in to_ascii_digits(text) if ch.isdigit())
        if text.lstrip().startswith("+"):
            return ["+" + digits]
        if digits.startswith("00"):
            return ["+" + digits[2:]]
        if digits.startswith("0") and self._country_code:
            return ["+" + self._country_code + digits[1:], digits]
        return [digits, "+" + digits]

    def get_now(self, record_id: str) -> Party | None:
        row = self._conn.execute("SELECT pk FROM parties WHERE id = ?", (record_id,)).fetchone()
        return self._party(row[0]) if row else None

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM parties").fetchone()[0])

    def count_numbers(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM party_numbers").fetchone()[0])

    def list_parties(self, limit: int = 100, offset: int = 0) -> list[Party]:
        """Records in name order, for the directory view and ``callsys directory list``."""
        rows = self._conn.execute(
            "SELECT pk FROM parties ORDER BY name_fold, company_fold, pk LIMIT ? OFFSET ?",
            (max(0, limit), max(0, offset)),
        ).fetchall()
        parties = (self._party(row[0]) for row in rows)
        return [p for p in parties if p is not None]

    def details(self, record_id: str) -> dict[str, str]:
        """The extra fields the details view shows (e-mail, notes, number fields)."""
        row = self._conn.execute(
            "SELECT email, notes, created_at, updated_at FROM parties WHERE id = ?", (record_id,)
        ).fetchone()
        if row is None:
            return {}
        return {"email": row[0], "notes": row[1], "created_at": row[2], "updated_at": row[3]}

    def _party(self, pk: int) -> Party | None:
        row = self._conn.execute(_PARTY_SQL, (pk,)).fetchone()
        return self._build_party(pk, row[1], row[2], row[3], row[4]) if row is not None else None

    def _build_party(self, pk: int, kind: str, record_id: str, name: str, company: str) -> Party:
        rows = self._conn.execute(_NUMBERS_SQL, (pk,)).fetchall()
        numbers = tuple(_stored_number(raw, e164, digits, ext) for raw, e164, digits, ext, _f in rows)
        return Party(
            kind=_kind(kind),
            id=record_id,
            name=name,
            company=company,
            numbers=numbers,
            url="",
            source=_SOURCE,
            fields=tuple(str(row[4] or "") for row in rows),
        )

    # ------------------------------------------------------------------ writing
    def add(
        self,
        name: str,
        numbers: Iterable[NumberInput] = (),
        *,
        kind: PartyKind | str = PartyKind.CONTACT,
        company: str = "",
        email: str = "",
        notes: str = "",
        record_id: str | None = None,
    ) -> Party:
        """Add one record and return it. Numbers that are not phone numbers raise ``ValueError``."""
        parsed = self._parse_numbers(_as_pairs(numbers), strict=True)
        if not clean_text(name) and not clean_text(company):
            raise ValueError("a record needs a name or a company")
        name = name if clean_text(name) else company  # a company on its own goes by its name
        with self._db.atomic():
            pk = self._insert(
                PartyKind(kind), name, company, email, notes, record_id or str(uuid.uuid4()), _now()
            )
            self._insert_numbers(pk, 0, parsed)
        party = self._party(pk)
        assert party is not None
        return party

    def update(
        self,
        record_id: str,
        *,
        name: str | None = None,
        company: str | None = None,
        kind: PartyKind | str | None = None,
        numbers: Iterable[NumberInput] | None = None,
        email: str | None = None,
        notes: str | None = None,
    ) -> Party:
        """Change a record; *numbers*, when given, replaces all of its numbers."""
        row = self._conn.execute("SELECT pk FROM parties WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise CrmNotFound(f"There is no record {record_id} in the local directory.")
        pk = int(row[0])
        changes: dict[str, object] = {"updated_at": _now()}
        if name is not None:
            changes["name"] = clean_text(name)
            changes["name_fold"] = fold(name)
        if company is not None:
            changes["company"] = clean_text(company)
            changes["company_fold"] = fold(company)
        if kind is not None:
            changes["kind"] = PartyKind(kind).value
        if email is not None:
            changes["email"] = clean_text(email)
        if notes is not None:
            changes["notes"] = str(notes)[:20_000]
        parsed = self._parse_numbers(_as_pairs(numbers), strict=True) if numbers is not None else None
        with self._db.atomic():
            sets = ", ".join(f"{column} = ?" for column in changes)
            self._conn.execute(f"UPDATE parties SET {sets} WHERE pk = ?", [*changes.values(), pk])
            if parsed is not None:
                self._conn.execute("DELETE FROM party_numbers WHERE party = ?", (pk,))
                self._insert_numbers(pk, 0, parsed)
        party = self._party(pk)
        assert party is not None
        return party

    def delete(self, record_id: str) -> bool:
        with self._db.atomic():
            row = self._conn.execute("SELECT pk FROM parties WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return False
            self._conn.execute("DELETE FROM party_numbers WHERE party = ?", (row[0],))
            self._conn.execute("DELETE FROM parties WHERE pk = ?", (row[0],))
        return True

    def reindex(self) -> int:
        """Recompute every number's lookup key with the current plan (after the default country
        or area code changed). Returns how many keys changed."""
        changed = 0
        with self._db.atomic():
            rows = self._conn.execute("SELECT party, position, raw, key FROM party_numbers").fetchall()
            for party, position, raw, key in rows:
                number = self.plan.parse(raw)
                if number.key and number.key != key:
                    self._conn.execute(
                        "UPDATE party_numbers SET e164 = ?, digits = ?, extension = ?, key = ? "
                        "WHERE party = ? AND position = ?",
                        (number.e164, number.digits, number.extension, number.key, party, position),
                    )
                    changed += 1
        return changed

    def _insert(
        self, kind: PartyKind, name: str, company: str, email: str, notes: str, record_id: str, now: str
    ) -> int:
        cursor = self._conn.execute(
            "INSERT INTO parties (kind, id, name, company, email, notes, name_fold, company_fold, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                kind.value,
                record_id,
                clean_text(name),
                clean_text(company),
                clean_text(email),
                notes[:20_000],
                fold(name),
                fold(company),
                now,
                now,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _insert_numbers(self, pk: int, start: int, numbers: Sequence[tuple[str, PhoneNumber]]) -> None:
        self._conn.executemany(
            "INSERT INTO party_numbers (party, position, field, raw, e164, digits, extension, key) "
            "VALUES (?,?,?,?,?,?,?,?)",
            [
                (pk, start + i, field_name, n.raw, n.e164, n.digits, n.extension, n.key)
                for i, (field_name, n) in enumerate(numbers)
            ],
        )

    def _parse_numbers(
        self, pairs: Iterable[tuple[str, str]], *, strict: bool = False, bad: list[str] | None = None
    ) -> list[tuple[str, PhoneNumber]]:
        out: list[tuple[str, PhoneNumber]] = []
        seen: set[str] = set()
        for field_name, raw in pairs:
            for piece in _split_numbers(raw):
                number = self.plan.parse(piece)
                if not number.key or len(number.digits or number.key) < 3:
                    if strict:
                        raise ValueError(f"{piece!r} is not a phone number")
                    if bad is not None:
                        bad.append(piece)
                    continue
                if number.key not in seen and len(out) < _MAX_NUMBERS:
                    seen.add(number.key)
                    out.append((field_name, number))
        return out

    # ------------------------------------------------------------------ imports
    def import_file(self, path: Path | str, progress: Progress | None = None) -> ImportReport:
        """Import a CSV or vCard file, telling them apart by content (then by extension)."""
        target = Path(path)
        data = _read(target)
        text = _decode(data, target)
        head = text.lstrip()[:2000].upper()
        if head.startswith("BEGIN:VCARD") or (
            target.suffix.lower() in (".vcf", ".vcard") and "BEGIN:VCARD" in head
        ):
            return self._import(target, "vcard", _vcard_entries(text), text, progress)
        return self._import(target, "csv", self._csv_entries(text, target), text, progress)

    def import_csv(self, path: Path | str, progress: Progress | None = None) -> ImportReport:
        target = Path(path)
        text = _decode(_read(target), target)
        return self._import(target, "csv", self._csv_entries(text, target), text, progress)

    def import_vcard(self, path: Path | str, progress: Progress | None = None) -> ImportReport:
        target = Path(path)
        text = _decode(_read(target), target)
        if "BEGIN:VCARD" not in text[:100_000].upper():
            raise ImportFailed(f"{target} is not a vCard file (no BEGIN:VCARD).")
        return self._import(target, "vcard", _vcard_entries(text), text, progress)

    def _import(
        self,
        path: Path,
        kind: str,
        entries: Iterator[_Entry | SkippedRow],
        text: str,
        progress: Progress | None,
    ) -> ImportReport:
        started = datetime.now(UTC)
        total = text.count("\n") + 1 if kind == "csv" else text.upper().count("BEGIN:VCARD")
        tally = _Tally()
        now = _now()
        done = 0
        with self._db.atomic():
            for item in entries:
                done += 1
                if progress is not None and done % self.progress_every == 0:
                    progress(done, total)
                if isinstance(item, SkippedRow):
                    tally.skipped.append(item)
                else:
                    self._store_entry(item, tally, now)
        if progress is not None:
            progress(done, done)
        seconds = (datetime.now(UTC) - started).total_seconds()
        log.info(
            "imported %s: %d new, %d updated, %d skipped",
            path,
            tally.imported,
            tally.updated,
            len(tally.skipped),
        )
        return ImportReport(
            path=str(path),
            format=kind,
            imported=tally.imported,
            updated=tally.updated,
            numbers=tally.numbers,
            skipped=tuple(tally.skipped),
            seconds=seconds,
        )

    def _store_entry(self, entry: _Entry, tally: _Tally, now: str) -> None:
        name, company = clean_text(entry.name), clean_text(entry.company)
        if not name and not company:
            if entry.numbers:
                tally.skipped.append(SkippedRow(entry.line, "no name or company for the number(s)"))
            else:
                tally.skipped.append(SkippedRow(entry.line, "empty row"))
            return
        bad: list[str] = []
        numbers = self._parse_numbers(entry.numbers, bad=bad)
        if not numbers:
            who = name or company
            if bad:
                shown = bad[0] if len(bad[0]) <= 40 else bad[0][:39] + "…"  # a cell of 10,000 digits
                tally.skipped.append(SkippedRow(entry.line, f"{who}: {shown!r} is not a phone number"))
            else:
                tally.skipped.append(SkippedRow(entry.line, f"{who}: no phone number"))
            return
        kind = entry.kind or (PartyKind.CONTACT if name else PartyKind.ACCOUNT)
        if not name:
            name = company
        existing = None
        if entry.record_id:
            existing = self._conn.execute(
                "SELECT pk FROM parties WHERE id = ?", (entry.record_id,)
            ).fetchone()
            if existing is not None:  # the same record (vCard UID, CSV id): take its new name
                self._conn.execute(
                    "UPDATE parties SET kind = ?, name = ?, company = ?, name_fold = ?, company_fold = ? "
                    "WHERE pk = ?",
                    (kind.value, name, company, fold(name), fold(company), existing[0]),
                )
        if existing is None:
            existing = self._conn.execute(
                "SELECT pk FROM parties WHERE name_fold = ? AND company_fold = ? AND kind = ? LIMIT 1",
                (fold(name), fold(company), kind.value),
            ).fetchone()
        if existing is None:
            pk = self._insert(
                kind, name, company, entry.email, entry.notes, entry.record_id or str(uuid.uuid4()), now
            )
            self._insert_numbers(pk, 0, numbers)
            tally.imported += 1
            tally.numbers += len(numbers)
            return
        pk = int(existing[0])
        have = {row[0] for row in self._conn.execute("SELECT key FROM party_numbers WHERE party = ?", (pk,))}
        last = self._conn.execute(
            "SELECT coalesce(max(position), -1) FROM party_numbers WHERE party = ?", (pk,)
        )
        start = int(last.fetchone()[0]) + 1
        new = [(f, n) for f, n in numbers if n.key not in have][: max(0, _MAX_NUMBERS - len(have))]
        self._insert_numbers(pk, start, new)
        self._conn.execute(
            "UPDATE parties SET updated_at = ?, email = CASE WHEN email = '' THEN ? ELSE email END, "
            "notes = CASE WHEN notes = '' THEN ? ELSE notes END WHERE pk = ?",
            (now, clean_text(entry.email), entry.notes[:20_000], pk),
        )
        tally.updated += 1
        tally.numbers += len(new)

    def _csv_entries(self, text: str, path: Path) -> Iterator[_Entry | SkippedRow]:
        sample = text[:64_000]
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        try:
            first = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFailed(f"{path} is not a readable CSV file: {exc}.") from None
        columns = _header_columns(first)
        headerless = columns is None
        if columns is None:
            columns = self._guess_columns(first)
        if not columns:
            raise ImportFailed(
                f"{path}: cannot tell which column holds the phone numbers. Give the file a header "
                "row with column names such as name, company, phone, mobile (or نام، شرکت، تلفن، موبایل)."
            )
        if headerless:
            yield from self._csv_row(first, columns, 1)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield SkippedRow(reader.line_num, f"unreadable CSV: {exc}")
                continue
            yield from self._csv_row(row, columns, reader.line_num)

    def _guess_columns(self, row: list[str]) -> list[tuple[int, str]]:
        """No header: numbers are the cells that parse as phone numbers, the name is the first
        other non-empty cell, the company the second."""
        columns: list[tuple[int, str]] = []
        texts = 0
        for index, cell in enumerate(row):
            value = cell.strip()
            if not value:
                continue
            digits = sum(ch.isdigit() for ch in to_ascii_digits(value))
            if digits >= 3 and digits >= len(value.replace(" ", "")) * 0.6:
                columns.append((index, "phone:telephone"))
            elif texts < 2:
                columns.append((index, "name" if texts == 0 else "company"))
                texts += 1
        return columns if any(role.startswith("phone") for _, role in columns) else []

    @staticmethod
    def _csv_row(row: list[str], columns: list[tuple[int, str]], line: int) -> Iterator[_Entry | SkippedRow]:
        if not any(cell.strip() for cell in row):
            return  # blank lines are not worth a report line
        entry = _Entry(line=line)
        first = last = ""
        for index, role in columns:
            if index >= len(row):
                continue
            value = row[index].strip()
            if not value:
                continue
            if role.startswith("phone:"):
                field_name, _, type_column = role[6:].partition("@")
                if type_column and int(type_column) < len(row):
                    field_name = _tel_field(row[int(type_column)].lower(), field_name)
                entry.numbers.append((field_name, value))
            elif role == "name":  # the first name-like column wins ("Name" before "Nickname")
                entry.name = entry.name or value
            elif role == "first":
                first = first or value
            elif role == "last":
                last = last or value
            elif role == "company":
                entry.company = entry.company or value
            elif role == "email":
                entry.email = entry.email or value
            elif role == "notes":
                entry.notes = value
            elif role == "id":
                entry.record_id = value
            elif role == "kind":
                entry.kind = _kind_from_text(value)
        if not entry.name:
            entry.name = " ".join(part for part in (first, last) if part)
        yield entry


# ---------------------------------------------------------------------- helpers: records
def _lookup_keys(plan: NumberPlan, number: PhoneNumber) -> tuple[str, ...]:
    """The index keys to try for *number*, best first.

    For a number that came out of ``NumberPlan.parse`` they are its E.164 form and its
    dialable digits (the national digits for a domestic number) — exactly what
    ``plan.lookup_keys`` returns, without formatting the number five ways on the ring path.
    """
    if number.is_anonymous:
        return ()
    if number.e164 and number.digits:
        return tuple(dict.fromkeys((number.e164, number.digits)))
    return plan.lookup_keys(number)[:4]


def _as_pairs(numbers: Iterable[NumberInput] | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in numbers or ():
        if isinstance(item, tuple):
            pairs.append((item[0], item[1]))
        else:
            pairs.append(("telephone", item))
    return pairs


def _split_numbers(raw: str) -> list[str]:
    text = raw.strip()
    if not text:
        return []
    return [piece for piece in _NUMBER_SPLIT.split(text) if piece.strip()]


def _stored_number(raw: str, e164: str | None, digits: str, extension: str | None) -> PhoneNumber:
    try:
        return PhoneNumber(raw=raw, e164=e164, digits=digits, extension=extension)
    except ValueError:  # a row edited by hand
        return PhoneNumber(raw=raw)


def _kind(value: str) -> PartyKind:
    try:
        return PartyKind(value)
    except ValueError:
        return PartyKind.CUSTOM


def _kind_from_text(value: str) -> PartyKind | None:
    word = fold(value)
    table = {
        "contact": PartyKind.CONTACT,
        "person": PartyKind.CONTACT,
        "مخاطب": PartyKind.CONTACT,
        "شخص": PartyKind.CONTACT,
        "account": PartyKind.ACCOUNT,
        "company": PartyKind.ACCOUNT,
        "organization": PartyKind.ACCOUNT,
        "organisation": PartyKind.ACCOUNT,
        "شرکت": PartyKind.ACCOUNT,
        "حساب": PartyKind.ACCOUNT,
        "lead": PartyKind.LEAD,
        "سرنخ": PartyKind.LEAD,
    }
    return table.get(word)


# ---------------------------------------------------------------------- helpers: files
def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} is a folder, not a file.") from None
    except OSError as exc:
        raise ImportFailed(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _decode(data: bytes, path: Path) -> str:
    """Bytes → text: a BOM decides (UTF-8, UTF-16, UTF-32); then UTF-8; then UTF-16 without
    BOM (many NULs); then Windows-1256, which Persian Excel exports use."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ImportFailed(
                    f"{path} says it is {encoding.upper()} but is not: {exc.reason}."
                ) from None
    if b"\x00" in data[:4096]:
        head = data[:4096]
        encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            raise ImportFailed(f"{path} is a binary file, not CSV or vCard text.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1256", errors="replace")


def _header_key(cell: str) -> str:
    return "".join(ch for ch in fold(cell) if ch.isalnum())


# Ordered: the first rule whose words appear in a header wins ("نام شرکت" is a company,
# "Mobile Phone" a mobile, "Phone 1 - Type" a label we ignore).
_HEADER_RULES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    # role, words, exact (whole header) or contained
    ("id", ("id", "externalid", "recordid", "contactid", "شناسه"), True),
    ("kind", ("type", "kind", "recordtype", "نوع"), True),
    ("ignore", ("type", "label", "نوع", "برچسب"), False),
    ("phone:mobilephone", ("mobile", "cell", "handy", "موبایل", "همراه"), False),
    ("phone:fax", ("fax", "فکس", "نمابر"), False),
    ("phone:home", ("homephone", "hometel", "منزل"), False),
    ("email", ("email", "mail", "ایمیل", "رایانامه", "پستالکترونیک"), False),
    ("phone:telephone", ("phone", "tel", "number", "تلفن", "شماره", "تماس"), False),
    ("last", ("lastname", "surname", "familyname", "family", "نامخانوادگی", "فامیلی", "فامیل"), False),
    ("first", ("firstname", "givenname", "first", "نامکوچک"), False),
    (
        "company",
        (
            "company",
            "organization",
            "organisation",
            "org",
            "account",
            "business",
            "firm",
            "شرکت",
            "سازمان",
            "موسسه",
        ),
        False,
    ),
    ("notes", ("note", "notes", "description", "comment", "یادداشت", "توضیحات", "توضیح"), False),
    (
        "name",
        ("name", "fullname", "displayname", "contact", "person", "نام", "نامونامخانوادگی", "نامکامل", "اسم"),
        False,
    ),
)


def _header_role(cell: str) -> str | None:
    key = _header_key(cell)
    if not key:
        return None
    for role, words, exact in _HEADER_RULES:
        if exact:
            if key in words:
                return role
        elif any(word in key for word in words):
            return role
    return None


def _header_columns(row: list[str]) -> list[tuple[int, str]] | None:
    """The (column, role) pairs when *row* is a header row, else ``None``."""
    if any(sum(ch.isdigit() for ch in to_ascii_digits(cell)) >= 5 for cell in row):
        return None  # a cell holding a phone number: this is data, not a header
    columns = [(i, role) for i, cell in enumerate(row) if (role := _header_role(cell)) and role != "ignore"]
    roles = {role for _, role in columns}
    has_phone = any(role.startswith("phone:") for role in roles)
    has_who = bool(roles & {"name", "first", "last", "company"})
    if not (has_phone and has_who):
        return None
    # "نام" next to "نام خانوادگی" is the given name.
    if "last" in roles:
        columns = [(i, "first" if role == "name" and "first" not in roles else role) for i, role in columns]
    # Google's "Phone 1 - Type" says what "Phone 1 - Value" is: remember the type's column.
    keys = [_header_key(cell) for cell in row]
    typed = []
    for index, role in columns:
        key = keys[index]
        if role.startswith("phone:") and key.endswith("value") and key[:-5] + "type" in keys:
            typed.append((index, f"{role}@{keys.index(key[:-5] + 'type')}"))
        else:
            typed.append((index, role))
    return typed


# ---------------------------------------------------------------------- helpers: vCard
_TEL_TYPES = (
    ("cell", "mobilephone"),
    ("mobile", "mobilephone"),
    ("fax", "fax"),
    ("home", "home"),
    ("work", "telephone"),
    ("main", "telephone"),
)


def _tel_field(types: str, default: str) -> str:
    """The phone field named by vCard TYPEs or a CSV type cell ("cell", "Mobile", "work fax")."""
    return next((f for t, f in _TEL_TYPES if t in types), default)


def _vcard_lines(text: str) -> Iterator[tuple[int, str]]:
    """Unfolded content lines with the line number where each starts.

    RFC 6350/2426 folding (a line starting with a space or tab continues the previous one) and
    vCard 2.1 quoted-printable soft breaks (a line ending in ``=``) are both undone.
    """
    current: str | None = None
    start = 0
    qp_soft = False
    # Only CR/LF end a line: str.splitlines would also split at U+2028 or \x1c inside a value.
    for number, line in enumerate(_LINE_BREAK.split(text.removesuffix("\n").removesuffix("\r")), start=1):
        if current is not None and (qp_soft or (line[:1] in (" ", "\t"))):
            current += line if qp_soft else line[1:]
            qp_soft = _qp_continues(current)
            if qp_soft:
                current = current[:-1]
            continue
        if current is not None:
            yield start, current
        current, start = line, number
        qp_soft = _qp_continues(current)
        if qp_soft:
            current = current[:-1]
    if current is not None:
        yield start, current


def _qp_continues(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head and line.endswith("=")


def _split_unescaped(value: str, sep: str) -> list[str]:
    parts, buf, escape = [], [], False
    for ch in value:
        if escape:
            buf.append("\\" + ch)
            escape = False
        elif ch == "\\":
            escape = True
        elif ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\([nN,;:\\])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _parse_content_line(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    # NAME;PARAM=a,b;PARAM="x:y":value — the first ':' outside quotes ends the parameters.
    in_quotes = False
    for index, ch in enumerate(line):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == ":" and not in_quotes:
            head, value = line[:index], line[index + 1 :]
            break
    else:
        return None
    parts = head.split(";")
    name = parts[0].split(".")[-1].strip().upper()  # drop a group prefix ("item1.TEL")
    params: dict[str, list[str]] = {}
    for part in parts[1:]:
        if "=" in part:
            key, _, raw = part.partition("=")
            values = [v.strip().strip('"') for v in raw.strip('"').split(",")]
            params.setdefault(key.strip().upper(), []).extend(v.lower() for v in values if v)
        elif part.strip():
            params.setdefault("TYPE", []).append(part.strip().lower())  # vCard 2.1 bare types
    return name, params, value


def _decode_value(params: dict[str, list[str]], value: str) -> str:
    if "quoted-printable" in params.get("ENCODING", []):
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            return quopri.decodestring(value.encode("latin-1", errors="replace")).decode(
                charset, errors="replace"
            )
        except LookupError:
            return quopri.decodestring(value.encode("latin-1", errors="replace")).decode(
                "utf-8", errors="replace"
            )
    return value


def _vcard_entries(text: str) -> Iterator[_Entry | SkippedRow]:
    entry: _Entry | None = None
    structured = ""
    for line_no, line in _vcard_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        upper = stripped.upper()
        if upper == "BEGIN:VCARD":
            if entry is not None:
                yield SkippedRow(entry.line, "vCard without END:VCARD")
            entry, structured = _Entry(line=line_no), ""
            continue
        if entry is None:
            continue
        if upper == "END:VCARD":
            if not entry.name and structured:
                entry.name = structured
            yield entry
            entry = None
            continue
        parsed = _parse_content_line(stripped)
        if parsed is None:
            continue
        name, params, raw_value = parsed
        value = _decode_value(params, raw_value)
        if name == "FN":
            entry.name = _unescape(value).strip()
        elif name == "N":
            parts = [_unescape(p).strip() for p in _split_unescaped(value, ";")]
            family, given, additional = ([*parts, "", "", ""])[:3]
            structured = " ".join(p for p in (given, additional, family) if p)
        elif name == "ORG":
            entry.company = _unescape(_split_unescaped(value, ";")[0]).strip()
        elif name == "TEL":
            types = params.get("TYPE", [])
            number = value.strip()
            if number.lower().startswith("tel:"):  # vCard 4.0 VALUE=uri, maybe with ";ext=45"
                number = (number_from_uri(number) or number[4:]).replace(";", " ")
            field_name = _tel_field(" ".join(types), "telephone")
            entry.numbers.append((field_name, _unescape(number)))
        elif name == "EMAIL" and not entry.email:
            entry.email = _unescape(value).strip()
        elif name == "NOTE":
            entry.notes = _unescape(value)
        elif name == "KIND":
            if value.strip().lower() == "org":
                entry.kind = PartyKind.ACCOUNT
        elif name == "UID" and not entry.record_id:
            entry.record_id = value.strip()[:100]
    if entry is not None:
        yield SkippedRow(entry.line, "vCard without END:VCARD")
