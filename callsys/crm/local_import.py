"""CSV and vCard files into the local directory (``LocalCrm``): ``import_file`` tells the two
apart by content, ``import_csv`` and ``import_vcard`` read one kind.

An import runs in one transaction and reports what was imported, updated (same id, or same name
and company as an existing record: its numbers are merged) and skipped, with the line number and
the reason. A file is read whatever its encoding (a BOM, UTF-8, UTF-16 without a BOM, or the
Windows-1256 of Persian Excel exports), its delimiter, and its header's language (English or
Persian column names; without a header the cells that look like numbers are the numbers).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import quopri
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callsys.crm.local import Entry, LocalCrm, fold, now_text
from callsys.errors import ImportFailed
from callsys.model import PartyKind
from callsys.numbers import number_from_uri, to_ascii_digits

__all__ = [
    "PROGRESS_EVERY",
    "ImportReport",
    "Progress",
    "SkippedRow",
    "import_csv",
    "import_file",
    "import_vcard",
]

log = logging.getLogger(__name__)

#: Called now and then during an import with (rows done, rows in the file).
Progress = Callable[[int, int], None]
#: Rows between two ``Progress`` calls, unless an import is given its own ``every``.
PROGRESS_EVERY = 5000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
class _Tally:
    imported: int = 0
    updated: int = 0
    numbers: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)


def import_file(
    crm: LocalCrm, path: Path | str, progress: Progress | None = None, *, every: int = 0
) -> ImportReport:
    """Import a CSV or vCard file, telling them apart by content (then by extension)."""
    target = Path(path)
    data = _read(target)
    text = _decode(data, target)
    head = text.lstrip()[:2000].upper()
    if head.startswith("BEGIN:VCARD") or (
        target.suffix.lower() in (".vcf", ".vcard") and "BEGIN:VCARD" in head
    ):
        return _import(crm, target, "vcard", _vcard_entries(text), text, progress, every)
    return _import(crm, target, "csv", _csv_entries(text, target), text, progress, every)


def import_csv(
    crm: LocalCrm, path: Path | str, progress: Progress | None = None, *, every: int = 0
) -> ImportReport:
    target = Path(path)
    text = _decode(_read(target), target)
    return _import(crm, target, "csv", _csv_entries(text, target), text, progress, every)


def import_vcard(
    crm: LocalCrm, path: Path | str, progress: Progress | None = None, *, every: int = 0
) -> ImportReport:
    target = Path(path)
    text = _decode(_read(target), target)
    if "BEGIN:VCARD" not in text[:100_000].upper():
        raise ImportFailed(f"{target} is not a vCard file (no BEGIN:VCARD).")
    return _import(crm, target, "vcard", _vcard_entries(text), text, progress, every)


def _import(
    crm: LocalCrm,
    path: Path,
    kind: str,
    entries: Iterator[Entry | SkippedRow],
    text: str,
    progress: Progress | None,
    every: int,
) -> ImportReport:
    started = datetime.now(UTC)
    total = text.count("\n") + 1 if kind == "csv" else text.upper().count("BEGIN:VCARD")
    tally = _Tally()
    now = now_text()
    done = 0
    every = every or PROGRESS_EVERY
    with crm.atomic():
        for item in entries:
            done += 1
            if progress is not None and done % every == 0:
                progress(done, total)
            if isinstance(item, SkippedRow):
                tally.skipped.append(item)
                continue
            stored = crm.store_entry(item, now)
            if stored.outcome == "skipped":
                tally.skipped.append(SkippedRow(item.line, stored.reason))
            elif stored.outcome == "imported":
                tally.imported += 1
            else:
                tally.updated += 1
            tally.numbers += stored.numbers
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


def _csv_entries(text: str, path: Path) -> Iterator[Entry | SkippedRow]:
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
        columns = _guess_columns(first)
    if not columns:
        raise ImportFailed(
            f"{path}: cannot tell which column holds the phone numbers. Give the file a header "
            "row with column names such as name, company, phone, mobile (or نام، شرکت، تلفن، موبایل)."
        )
    if headerless:
        yield from _csv_row(first, columns, 1)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SkippedRow(reader.line_num, f"unreadable CSV: {exc}")
            continue
        yield from _csv_row(row, columns, reader.line_num)


def _guess_columns(row: list[str]) -> list[tuple[int, str]]:
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


def _csv_row(row: list[str], columns: list[tuple[int, str]], line: int) -> Iterator[Entry | SkippedRow]:
    if not any(cell.strip() for cell in row):
        return  # blank lines are not worth a report line
    entry = Entry(line=line)
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


def _vcard_entries(text: str) -> Iterator[Entry | SkippedRow]:
    entry: Entry | None = None
    structured = ""
    for line_no, line in _vcard_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        upper = stripped.upper()
        if upper == "BEGIN:VCARD":
            if entry is not None:
                yield SkippedRow(entry.line, "vCard without END:VCARD")
            entry, structured = Entry(line=line_no), ""
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
