"""LocalCrm — the embedded default CRM: a directory of contacts and companies in the local database.

It implements the same ``Crm`` protocol as the Dynamics connector, so callsys is useful with no
Dynamics at all. Records live in ``parties``; each of their numbers is a row of ``party_numbers``
with a ``key`` — the number's E.164 form, or its digits when it has none (an extension) — made by
the ``NumberPlan``. A lookup parses the caller's number with the same plan and asks the index for
each of the plan's lookup keys: a person is found whichever of their numbers they call from
(IN4), however the number was written in the file (``0912…``, ``+98 912…``, Persian digits), and
two records sharing a number come back as two ranked matches (B2).

CSV and vCard files come in through ``callsys.crm.local_import``, which reads them and hands each
record to ``store_entry``.

Not thread-safe: use one ``LocalCrm`` (and its database connection) from one thread at a time.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from callsys.crm import Match
from callsys.errors import CrmNotFound
from callsys.model import Party, PartyKind, PhoneNumber, clean_text
from callsys.numbers import NumberPlan, to_ascii_digits
from callsys.store import Database

__all__ = ["Entry", "LocalCrm", "NumberInput", "Stored", "fold", "now_text"]

log = logging.getLogger(__name__)

#: A number to store: the text as written, or ``(field, text)`` with the field it belongs to.
NumberInput = str | tuple[str, str]

_SOURCE = "local"
_PERSON_KINDS = frozenset({PartyKind.CONTACT, PartyKind.LEAD, PartyKind.SYSTEMUSER})
_MAX_NUMBERS = 32  # per record; more is a broken file, not a person
_NUMBER_SPLIT = re.compile(r"\s*(?:[;,|\n]|:::)\s*|\s{3,}")  # ":::" joins values in Google exports
_FOLD_TABLE = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ـ": None, "أ": "ا", "إ": "ا", "آ": "ا"})


def fold(text: str) -> str:
    """Text as searched: NFKC, case-folded, Arabic letter forms as Persian ones, one space."""
    cleaned = unicodedata.normalize("NFKC", clean_text(text)).casefold().translate(_FOLD_TABLE)
    return " ".join(cleaned.split())


def now_text() -> str:
    """Now, as the directory's ``created_at`` / ``updated_at`` columns keep it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Entry:
    """One record read from a file, before it is stored."""

    line: int
    name: str = ""
    company: str = ""
    kind: PartyKind | None = None
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (field, raw)
    email: str = ""
    notes: str = ""
    record_id: str = ""


@dataclass(frozen=True, slots=True)
class Stored:
    """What ``store_entry`` did: ``imported`` (a new record), ``updated`` (merged into one) or
    ``skipped`` (``reason`` says why); ``numbers``: the phone numbers it stored."""

    outcome: str
    numbers: int = 0
    reason: str = ""


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

    def __init__(self, db: Database, plan: NumberPlan) -> None:
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
                PartyKind(kind), name, company, email, notes, record_id or str(uuid.uuid4()), now_text()
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
        changes: dict[str, object] = {"updated_at": now_text()}
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

    # ------------------------------------------------------------------ records read from files
    def atomic(self) -> AbstractContextManager[Any]:
        """One transaction (an import's): all of it is stored, or none."""
        return self._db.atomic()

    def store_entry(self, entry: Entry, now: str) -> Stored:
        """Store one record read from a file: a new record, or merged into the record with the
        same id (or the same name, company and kind) — its new numbers added, an empty e-mail
        or note filled in. Call it inside ``atomic()``."""
        name, company = clean_text(entry.name), clean_text(entry.company)
        if not name and not company:
            if entry.numbers:
                return Stored("skipped", reason="no name or company for the number(s)")
            return Stored("skipped", reason="empty row")
        bad: list[str] = []
        numbers = self._parse_numbers(entry.numbers, bad=bad)
        if not numbers:
            who = name or company
            if bad:
                shown = bad[0] if len(bad[0]) <= 40 else bad[0][:39] + "…"  # a cell of 10,000 digits
                return Stored("skipped", reason=f"{who}: {shown!r} is not a phone number")
            return Stored("skipped", reason=f"{who}: no phone number")
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
            return Stored("imported", len(numbers))
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
        return Stored("updated", len(new))


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
