"""A contract-strict Dataverse Web API v9.2 fake (``../shared/reference/dataverse-webapi.md``).

Use it in-process behind ``httpx.MockTransport`` (``fake.transport()``), or as a real HTTP
server on a loopback port for subprocess tests (``fake.serve()`` or
``python -m tests.dataverse_fake --port 8555``).

What it enforces, as the contract describes the real service:
- ``Authorization: Bearer`` with a token it issued (401 otherwise; ``expire_token`` for refresh).
- Query strings decoded the way the service does: a bare ``+`` is a space (§1.2).
- ``$select``, ``$top``, ``$filter`` with eq/ne/gt/ge/lt/le/and/or/not and
  contains/startswith/endswith; 400 ``0x80060888`` for unknown columns and a syntax error for a
  malformed filter; 400 ``0x80048573`` (LeadingWildcardCauseTimeout) for ``contains``/``endswith``
  without ``$top`` or on a table larger than ``wildcard_timeout_rows``.
- ``$batch`` multipart with atomic changesets, ``$n`` references, GETs refused in changesets, a
  Content-ID used twice in one batch refused (OData: unique within the batch request).
  Without ``Prefer: odata.continue-on-error`` the batch stops at the first failing operation and
  *the batch itself* answers with that operation's status (400, 412, 429 …); its body is a
  ``multipart/mixed`` with the failing operation's response as the one part (headers such as
  ``Retry-After`` and the ``{"error":…}`` body inside the part). With the preference: ``200 OK``
  and every part's own status ("Handling errors" in Microsoft's "Execute batch operations using
  the Web API").
- ``Prefer: return=representation`` (201 + body), ``odata.maxpagesize`` (≤ 5000) with
  ``@odata.nextLink``, ``odata.track-changes`` (no ``$filter/$orderby/$expand/$top``) ending in a
  deltaLink; delta responses with created/updated rows first and ``$deletedEntity`` rows last;
  tokens that expire (``expire_change_tokens``). The known bug that drops the deltaLink when
  annotations are requested is reproduced (§2).
- ETags (``W/"versionnumber"``), ``If-Match`` / ``If-None-Match`` → 412, upsert by PATCH.
- Client-chosen ids; a create with an id that exists → 412 ``0x80040237``.
- Text longer than its column's ``MaxLength`` (served in ``StringAttributeMetadata``) → 400
  ``0x80044331`` "A validation error occurred.  The length of the 'x' attribute …".
- 404 ``0x80040217`` for a missing record; statecode refused on create; closed activities are
  read-only except for their state; a case needs a customer.
- Service protection when asked (``max_concurrent``, ``request_limit``): 429 with the service's
  codes and a ``Retry-After``; ``peak_in_flight`` and ``requests`` say what a client used.
- Faults: ``inject(status=429, retry_after=…)``, 503, 401, connection drops before or after the
  request is applied, and a fixed ``latency`` (every request waits that long first); ``inject(…, inner=True)`` hits an operation inside
  a ``$batch`` instead (a 429 for one operation of a changeset, with its ``Retry-After``).
- Metadata (``EntityDefinitions``, every table's attributes with ``RequiredLevel``, ``AttributeType``,
  ``DisplayName`` labels and picklist option sets, string attributes with ``FormatName``, status
  options); columns an organisation made required (``require(table, Column(…))``), whose absence
  a create is refused for as the organisation's plug-in would (``0x80040265``),
  ``WhoAmI``, and FetchXML aggregates on ``GET phonecalls?fetchXml=…``.

``FakeIdentityProvider`` is the MSAL ``http_client``: openid-configuration, token endpoint
(client credentials, device code, refresh token, authorization code) issuing tokens that the
Dataverse fake accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx

ORG = "https://contoso.crm.dynamics.com"
API_PATH = "/api/data/v9.2/"

# ------------------------------------------------------------------------------------ schema
_ADDR = [f"address{a}_telephone{n}" for a in (1, 2, 3) for n in (1, 2, 3)]
CONTACT_PHONES = [
    "telephone1",
    "telephone2",
    "telephone3",
    "mobilephone",
    "business2",
    "home2",
    "assistantphone",
    "managerphone",
    "callback",
    "company",
    "pager",
    "fax",
    *_ADDR,
]
ACCOUNT_PHONES = ["telephone1", "telephone2", "telephone3", "fax", *_ADDR[:6]]
LEAD_PHONES = ["telephone1", "telephone2", "telephone3", "mobilephone", "pager", "fax", *_ADDR[:6]]
SYSTEMUSER_PHONES = [*_ADDR[:6], "homephone", "mobilephone"]

COMMON = ["createdon", "modifiedon", "versionnumber", "statecode", "statuscode", "_ownerid_value"]


@dataclass
class Table:
    logical: str
    entity_set: str
    id_col: str
    name_col: str
    phones: list[str]
    columns: list[str]  # other writable columns
    computed: list[str] = field(default_factory=list)  # read-only
    binds: dict[str, tuple[str, str]] = field(default_factory=dict)  # nav → (attribute, target)
    custom: bool = False
    change_tracking: bool = True
    states: dict[int, set[int]] = field(default_factory=lambda: {0: {1}, 1: {2}})
    default_state: tuple[int, int] = (0, 1)

    def __post_init__(self) -> None:
        # every fake gets its own lists: a test that adds a column must not change the next fake
        self.phones = list(self.phones)
        self.columns = list(self.columns)
        self.computed = list(self.computed)
        self.binds = dict(self.binds)
        self.states = {k: set(v) for k, v in self.states.items()}

    @property
    def all_columns(self) -> set[str]:
        binds = {attr for attr, _ in self.binds.values()}
        return {self.id_col, *self.phones, *self.columns, *self.computed, *COMMON, *binds}


def _owner() -> dict[str, tuple[str, str]]:
    return {"ownerid": ("_ownerid_value", "systemuser")}


def default_tables() -> dict[str, Table]:
    tables = [
        Table(
            "contact",
            "contacts",
            "contactid",
            "fullname",
            CONTACT_PHONES,
            ["firstname", "lastname", "emailaddress1", "jobtitle", "description"],
            ["fullname"],
            {
                "parentcustomerid_account": ("_parentcustomerid_value", "account"),
                "parentcustomerid_contact": ("_parentcustomerid_value", "contact"),
                **_owner(),
            },
        ),
        Table(
            "account",
            "accounts",
            "accountid",
            "name",
            ACCOUNT_PHONES,
            ["name", "emailaddress1", "description", "websiteurl"],
            [],
            {"primarycontactid": ("_primarycontactid_value", "contact"), **_owner()},
        ),
        Table(
            "lead",
            "leads",
            "leadid",
            "fullname",
            LEAD_PHONES,
            ["subject", "firstname", "lastname", "companyname", "emailaddress1", "description"],
            ["fullname"],
            _owner(),
            states={0: {1, 2}, 1: {3}, 2: {4, 5, 6, 7}},
        ),
        Table(
            "systemuser",
            "systemusers",
            "systemuserid",
            "fullname",
            SYSTEMUSER_PHONES,
            ["firstname", "lastname", "internalemailaddress", "domainname"],
            ["fullname"],
            {},
        ),
        Table(
            "phonecall",
            "phonecalls",
            "activityid",
            "subject",
            ["phonenumber"],
            [
                "subject",
                "directioncode",
                "description",
                "actualstart",
                "actualend",
                "actualdurationminutes",
                "scheduledend",
                "scheduledstart",
                "leftvoicemail",
                "overriddencreatedon",
                "prioritycode",
            ],
            [],
            {
                **{
                    f"regardingobjectid_{t}_phonecall": ("_regardingobjectid_value", t)
                    for t in ("contact", "account", "lead", "incident")
                },
                **_owner(),
            },
            states={0: {1}, 1: {2, 4}, 2: {3}},
        ),
        Table(
            "incident",
            "incidents",
            "incidentid",
            "title",
            [],
            ["title", "caseorigincode", "description", "prioritycode"],
            ["ticketnumber"],
            {
                "customerid_contact": ("_customerid_value", "contact"),
                "customerid_account": ("_customerid_value", "account"),
                **_owner(),
            },
            states={0: {1, 2, 3, 4}, 1: {5, 1000}, 2: {6, 2000}},
        ),
    ]
    return {t.logical: t for t in tables}


#: Columns that are "business required" (ApplicationRequired) in a new organisation (contract §4).
APP_REQUIRED = {
    ("lead", "subject"),
    ("lead", "lastname"),
    ("contact", "lastname"),
    ("account", "name"),
    ("incident", "title"),
    ("phonecall", "subject"),
}
_TYPES = {  # built-in columns whose AttributeType is not String
    "directioncode": "Boolean",
    "leftvoicemail": "Boolean",
    "actualdurationminutes": "Integer",
    "caseorigincode": "Picklist",
    "prioritycode": "Picklist",
    "description": "Memo",
    "actualstart": "DateTime",
    "actualend": "DateTime",
    "scheduledend": "DateTime",
    "scheduledstart": "DateTime",
    "overriddencreatedon": "DateTime",
}
#: MaxLength of the built-in text columns of a new organisation (StringAttributeMetadata /
#: MemoAttributeMetadata); every other String column is 100.
MAX_LENGTH = {
    ("lead", "subject"): 300,
    ("phonecall", "subject"): 200,
    ("phonecall", "phonenumber"): 200,
    ("incident", "title"): 200,
    ("account", "websiteurl"): 200,
    ("systemuser", "domainname"): 1024,
    "firstname": 50,
    "lastname": 50,
    "fullname": 160,
    "name": 160,
    "description": 2000,
    **{c: 50 for c in {*CONTACT_PHONES, *ACCOUNT_PHONES, *LEAD_PHONES, *SYSTEMUSER_PHONES}},
}


def max_length(t: Table, c: str) -> int:
    found = MAX_LENGTH.get((t.logical, c)) or MAX_LENGTH.get(c)
    return found if isinstance(found, int) else 100


@dataclass
class Column:
    """A column an organisation added and made required (``fake.require``): served in the table's
    attribute metadata, writable, and — when *enforced* — a create without it is refused the way a
    plug-in or business rule of the organisation refuses it: ``400 {"error":{"code":"0x80040265",
    "message":…}}`` (IsvAborted). The Web API itself does not enforce ApplicationRequired."""

    logical: str
    attribute_type: str = "String"  # String | Memo | Integer | Decimal | Money | Boolean | Picklist | Lookup
    label: str = ""
    required: str = "ApplicationRequired"  # or "None", "Recommended"
    options: dict[int, str] = field(default_factory=dict)  # a Picklist's values and labels
    enforced: bool = True
    refusal: str = ""  # the plug-in's message; default "<label> is required."
    max_length: int = 100  # a String or Memo column's MaxLength


def _string_format(t: Table, column: str) -> str:
    """A String column's ``FormatName``: Phone, Email or Text."""
    if column in t.phones:
        return "Phone"
    return "Email" if "email" in column else "Text"


# ------------------------------------------------------------------------------------ errors
class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def _err(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, code, message)


def bad_filter(message: str) -> ApiError:
    return _err(400, "0x80060888", f"Syntax error: {message}")


NOT_FOUND = "0x80040217"
DUPLICATE = "0x80040237"
CONCURRENCY = "0x80060882"
WILDCARD = "0x80048573"
TOKEN_EXPIRED = "0x80044352"  # UNVERIFIED code; the client must treat any 4xx on a delta link as expiry


@dataclass
class Fault:
    status: int = 0  # 429, 503, 401 … (0 = a connection drop)
    retry_after: float | None = None
    times: int = 1
    drop: str = ""  # "before": the request never arrives; "after": applied, response lost
    method: str = ""
    path: str = ""  # substring of the path
    inner: bool = False  # an operation inside a $batch, not an HTTP request


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes = b""


class Drop(Exception):
    """The connection goes away (``applied`` says whether the server did the work first)."""

    def __init__(self, applied: bool):
        super().__init__("connection dropped")
        self.applied = applied


# ------------------------------------------------------------------------------------ filter
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12})|(?P<num>-?\d+(?:\.\d+)?)|(?P<date>\d{4}-\d\d-\d\dT[\d:.]+Z)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_/]*)|(?P<punct>[(),]))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {"contains", "startswith", "endswith"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise bad_filter(f"unexpected character at position {pos} in '{text}'")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "num" and re.match(r"\d{4}-", text[m.start(kind) :]):
            d = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z").match(text, m.start(kind))
            if d:
                kind, value, end = "date", d.group(0), d.end()
                out.append((kind, value))
                pos = end
                continue
        out.append((kind, value))
        pos = m.end()
    return out


Pred = Callable[[dict[str, Any]], bool]


class FilterParser:
    def __init__(self, text: str, columns: set[str], type_name: str):
        self.toks = _tokens(text)
        self.i = 0
        self.columns = columns
        self.type_name = type_name
        self.wildcard = False

    def parse(self) -> Pred:
        if not self.toks:
            raise bad_filter("empty $filter")
        pred = self.or_expr()
        if self.i != len(self.toks):
            raise bad_filter(f"unexpected '{self.toks[self.i][1]}'")
        return pred

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise bad_filter("unexpected end of $filter")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.take()
        if tok[1] != value:
            raise bad_filter(f"expected '{value}', found '{tok[1]}'")

    def or_expr(self) -> Pred:
        parts = [self.and_expr()]
        while (t := self.peek()) and t == ("ident", "or"):
            self.i += 1
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        eqs = [getattr(p, "string_eq", None) for p in parts]
        if all(eqs):  # "c1 eq 'a' or c2 eq 'b' …": the same answer, without 100s of closures per row
            wanted: dict[str, set[str]] = {}
            for col, val in eqs:  # type: ignore[misc]
                wanted.setdefault(col, set()).add(val)
            items = list(wanted.items())
            return lambda r: any(isinstance(v := r.get(c), str) and v.lower() in vals for c, vals in items)
        return lambda r: any(p(r) for p in parts)

    def and_expr(self) -> Pred:
        parts = [self.unary()]
        while (t := self.peek()) and t == ("ident", "and"):
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Pred:
        if self.peek() == ("ident", "not"):
            self.i += 1
            inner = self.unary()
            return lambda r: not inner(r)
        return self.primary()

    def column(self, name: str) -> str:
        if name not in self.columns:
            raise _err(
                400,
                "0x80060888",
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.Dynamics.CRM.{self.type_name}'.",
            )
        return name

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind in ("guid", "date"):
            return text
        if kind == "ident" and text in ("true", "false"):
            return text == "true"
        if kind == "ident" and text == "null":
            return None
        raise bad_filter(f"expected a literal, found '{text}'")

    def primary(self) -> Pred:
        kind, text = self.take()
        if (kind, text) == ("punct", "("):
            inner = self.or_expr()
            self.expect(")")
            return inner
        if kind != "ident":
            raise bad_filter(f"unexpected '{text}'")
        if text in _FUNCS and self.peek() == ("punct", "("):
            self.i += 1
            col = self.column(self.take()[1])
            self.expect(",")
            arg = self.value()
            self.expect(")")
            if not isinstance(arg, str):
                raise bad_filter(f"{text} needs a string")
            if text in ("contains", "endswith"):
                self.wildcard = True
            needle = arg.lower()
            if text == "contains":
                return lambda r: needle in str(r.get(col) or "").lower()
            if text == "startswith":
                return lambda r: str(r.get(col) or "").lower().startswith(needle)
            return lambda r: str(r.get(col) or "").lower().endswith(needle)
        # FormatName/Value style one-level complex filter (metadata)
        col = text if "/" in text else self.column(text)
        op = self.take()[1]
        if op not in _OPS:
            raise bad_filter(f"unknown operator '{op}'")
        val = self.value()

        def get(r: dict[str, Any]) -> Any:
            if "/" in col:
                cur: Any = r
                for piece in col.split("/"):
                    cur = cur.get(piece) if isinstance(cur, dict) else None
                return cur
            return r.get(col)

        def cmp(r: dict[str, Any]) -> bool:
            left = get(r)
            right = val
            if isinstance(left, str) and isinstance(right, str):
                left, right = left.lower(), right.lower()
            if op == "eq":
                return bool(left == right)
            if op == "ne":
                return bool(left != right)
            if left is None or right is None:
                return False
            try:
                return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
            except TypeError:
                return False

        if op == "eq" and isinstance(val, str) and "/" not in col:
            cmp.string_eq = (col, val.lower())  # type: ignore[attr-defined]
        return cmp


# ------------------------------------------------------------------------------------ the fake
def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Resp:
    h = {"Content-Type": "application/json; odata.metadata=minimal", "OData-Version": "4.0"}
    h.update(headers or {})
    return Resp(status, h, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


def _error(e: ApiError) -> Resp:
    return _json(e.status, {"error": {"code": e.code, "message": e.message}}, e.headers)


_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class DataverseFake:
    def __init__(self, org: str = ORG, *, custom_tables: list[Table] | None = None):
        self.org = org.rstrip("/")
        self.api = self.org + API_PATH.rstrip("/")
        self.tables = default_tables()
        for t in custom_tables or []:
            self.tables[t.logical] = replace(t, custom=True)  # a copy: tests may change it
        self.by_set = {t.entity_set: t for t in self.tables.values()}
        self.rows: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in self.tables}
        self.tombstones: list[tuple[int, str, str]] = []
        self.seq = 1000
        self.min_token_seq = 0
        self.tokens: dict[str, str] = {}  # access token → systemuserid
        self.faults: list[Fault] = []
        #: seconds every HTTP request takes before it is handled (both transports)
        self.latency = 0.0
        #: service protection (contract §5), off unless set: at most this many requests at once
        #: (429 0x80072326), and at most N requests in a sliding window of W seconds (429
        #: 0x80072322 with the Retry-After that frees a slot)
        self.max_concurrent: int | None = None
        self.request_limit: tuple[int, float] | None = None
        self.in_flight = 0
        self.peak_in_flight = 0
        self.requests = 0  # HTTP requests received (a $batch is one)
        self._stamps: list[float] = []
        self.wildcard_timeout_rows = 5000
        self.aggregate_limit = 50000  # AggregateQueryRecordLimit (contract §5)
        self._page_cache: tuple[tuple[Any, ...], list[dict[str, Any]]] | None = None
        self.log: list[tuple[str, str]] = []  # (method, path) of every HTTP request received
        self.batch_parts: list[tuple[str, str]] = []  # requests executed inside batches
        self.lock = threading.RLock()
        self._undo: list[Callable[[], None]] | None = None
        self.status_labels: dict[tuple[str, int], str] = {}
        #: table → required custom columns (``require``)
        self.required: dict[str, dict[str, Column]] = {}
        #: called with (method, path) before each request is handled: "someone else" acts here
        self.before_request: Callable[[str, str], None] | None = None
        self.default_user = self.add(
            "systemuser",
            {"firstname": "Default", "lastname": "Agent", "internalemailaddress": "agent@contoso.test"},
        )

    # ---------------------------------------------------------------- test helpers
    def issue_token(self, user_id: str | None = None) -> str:
        token = "tok-" + uuid.uuid4().hex
        self.tokens[token] = user_id or self.default_user
        return token

    def expire_token(self, token: str) -> None:
        self.tokens.pop(token, None)

    def inject(
        self,
        status: int = 0,
        *,
        retry_after: float | None = None,
        times: int = 1,
        drop: str = "",
        method: str = "",
        path: str = "",
        inner: bool = False,
    ) -> None:
        if inner and drop:
            raise ValueError("a connection drop is a fault of the HTTP request, not of an operation")
        self.faults.append(Fault(status, retry_after, times, drop, method, path, inner))

    def require(self, table: str, column: Column) -> None:
        """The organisation adds *column* to *table* and makes it required (see ``Column``)."""
        with self.lock:
            t = self.tables[table]
            if column.logical not in t.columns:
                t.columns.append(column.logical)
            self.required.setdefault(table, {})[column.logical] = column

    def add_status_reason(self, table: str, state: int, status: int, label: str) -> None:
        self.tables[table].states.setdefault(state, set()).add(status)
        self.status_labels[(table, status)] = label

    def expire_change_tokens(self) -> None:
        """Every delta token issued so far is now too old (organization.expirechangetrackingindays)."""
        self.min_token_seq = self.next_seq()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def add(self, table: str, values: dict[str, Any], record_id: str | None = None) -> str:
        """Insert a record directly (no HTTP), as if someone created it in the CRM."""
        with self.lock:
            t = self.tables[table]
            rid = record_id or str(uuid.uuid4())
            row = {k: v for k, v in values.items()}
            row[t.id_col] = rid
            self._finish_row(t, row, created=True)
            self.rows[table][rid] = row
            return rid

    def bulk_add(self, table: str, rows: Iterator[dict[str, Any]]) -> int:
        """Fast seeding for benchmarks: rows already carry the id column."""
        t = self.tables[table]
        store = self.rows[table]
        n = 0
        stamp = _now()
        with self.lock:
            for row in rows:
                seq = self.next_seq()
                row.setdefault("statecode", 0)
                row.setdefault("statuscode", 1)
                row["versionnumber"] = seq
                row["createdon"] = row["modifiedon"] = stamp
                row["_seq"] = seq
                store[row[t.id_col]] = row
                n += 1
        return n

    def update(self, table: str, record_id: str, values: dict[str, Any]) -> None:
        with self.lock:
            row = self.rows[table][record_id]
            row.update(values)
            self._finish_row(self.tables[table], row, created=False)

    def delete(self, table: str, record_id: str) -> None:
        with self.lock:
            del self.rows[table][record_id]
            self.tombstones.append((self.next_seq(), table, record_id))

    def count(self, table: str, **where: Any) -> int:
        with self.lock:
            return sum(1 for r in self.rows[table].values() if all(r.get(k) == v for k, v in where.items()))

    def find(self, table: str, record_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.rows[table].get(record_id)
            return copy.deepcopy(row) if row else None

    def _finish_row(self, t: Table, row: dict[str, Any], created: bool) -> None:
        seq = self.next_seq()
        if "fullname" in t.computed:
            row["fullname"] = " ".join(x for x in (row.get("firstname"), row.get("lastname")) if x)
        if t.logical == "incident" and created:
            row.setdefault("ticketnumber", f"CAS-{seq:05d}")
        if created:
            row.setdefault("statecode", t.default_state[0])
            row.setdefault("statuscode", t.default_state[1])
            row["createdon"] = _now()
        row["modifiedon"] = _now()
        row["versionnumber"] = seq
        row["_seq"] = seq

    # ---------------------------------------------------------------- transports
    def _admit(self) -> Resp | None:
        """Count a request in; a 429 if it breaks a service protection limit (then it is not
        counted as in flight)."""
        with self.lock:
            self.requests += 1
            now = time.monotonic()
            if self.max_concurrent is not None and self.in_flight >= self.max_concurrent:
                message = f"Number of concurrent requests exceeded the limit of {self.max_concurrent}."
                return _error(ApiError(429, "0x80072326", message, {"Retry-After": "1"}))
            if self.request_limit is not None:
                limit, window = self.request_limit
                self._stamps = [t for t in self._stamps if t > now - window]
                if len(self._stamps) >= limit:
                    wait = max(1, int(self._stamps[0] + window - now) + 1)
                    message = f"Number of requests exceeded the limit of {limit} over time window of {int(window)} seconds."
                    return _error(ApiError(429, "0x80072322", message, {"Retry-After": str(wait)}))
                self._stamps.append(now)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return None

    def _leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def transport(self) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            refused = self._admit()
            if refused is not None:
                return httpx.Response(refused.status, headers=refused.headers, content=refused.body)
            try:
                return await answer(request)
            finally:
                self._leave()

        async def answer(request: httpx.Request) -> httpx.Response:
            if self.latency:
                await asyncio.sleep(self.latency)
            body = await request.aread()
            try:
                resp = self.handle(request.method, str(request.url), dict(request.headers), body)
            except Drop as d:
                if d.applied:
                    raise httpx.ReadError(
                        "connection reset by peer (after the request)", request=request
                    ) from None
                raise httpx.ConnectError("connection refused", request=request) from None
            return httpx.Response(resp.status, headers=resp.headers, content=resp.body)

        return httpx.MockTransport(handler)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
        return FakeServer(self, host, port)

    # ---------------------------------------------------------------- dispatch
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Resp:
        headers = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(url)
        with self.lock:
            self.log.append((method, parts.path))
            if self.before_request is not None:
                self.before_request(method, parts.path)
            fault = self._take_fault(method, parts.path)
            if fault is not None and fault.drop == "before":
                raise Drop(applied=False)
            if fault is not None and fault.status:
                return _error(_fault_error(fault))
            try:
                user = self._auth(headers)
                resp = self._route(method, parts.path, parts.query, headers, body, user)
            except ApiError as e:
                resp = _error(e)
            if fault is not None and fault.drop == "after":
                raise Drop(applied=True)
            return resp

    def _take_fault(self, method: str, path: str, *, inner: bool = False) -> Fault | None:
        for f in self.faults:
            if (
                f.times > 0
                and f.inner == inner
                and (not f.method or f.method == method)
                and (not f.path or f.path in path)
            ):
                f.times -= 1
                if f.times == 0:
                    self.faults.remove(f)
                return f
        return None

    def _auth(self, headers: dict[str, str]) -> str:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise _err(
                401, "0x80044151", "ExpiredAuthTicket: the access token is missing, invalid or expired."
            )
        return self.tokens[auth[7:]]

    def _route(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, user: str
    ) -> Resp:
        if not path.startswith(API_PATH):
            raise _err(404, "0x80060888", f"Resource not found for the segment '{path}'.")
        rest = unquote(path[len(API_PATH) :])
        params = dict(
            parse_qsl(query, keep_blank_values=True)
        )  # a bare '+' becomes a space, as in the service
        if rest == "$batch":
            if method != "POST":
                raise _err(405, "0x80060888", "Method not allowed")
            return self._batch(headers, body, user)
        if rest == "WhoAmI":
            return _json(
                200,
                {
                    "UserId": user,
                    "BusinessUnitId": str(uuid.UUID(int=1)),
                    "OrganizationId": str(uuid.UUID(int=2)),
                },
            )
        if rest.startswith("EntityDefinitions"):
            return self._metadata(rest, params)
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\(([^)]*)\))?", rest)
        if not m:
            raise _err(404, "0x80060888", f"Resource not found for the segment '{rest}'.")
        t = self.by_set.get(m.group(1))
        if t is None:
            raise _err(404, "0x80060888", f"Resource not found for the segment '{m.group(1)}'.")
        key = m.group(2)
        data = self._body(body) if body else None
        if key is None:
            if method == "GET":
                return self._query(t, params, headers)
            if method == "POST":
                return self._create(t, data, params, headers)
            raise _err(405, "0x80060888", "Method not allowed")
        rid = key.strip("'")
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", rid):
            raise _err(400, "0x80060888", f"Invalid key '{key}'")
        rid = rid.lower()
        if method == "GET":
            return self._get(t, rid, params, headers)
        if method == "PATCH":
            return self._patch(t, rid, data or {}, params, headers)
        if method == "DELETE":
            self._require(t, rid)
            self._mutate_delete(t, rid)
            return Resp(204, {"OData-Version": "4.0"})
        raise _err(405, "0x80060888", "Method not allowed")

    @staticmethod
    def _body(body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise _err(400, "0x80060888", "The request body is not valid JSON.") from None

    # ---------------------------------------------------------------- reads
    def _require(self, t: Table, rid: str) -> dict[str, Any]:
        row = self.rows[t.logical].get(rid)
        if row is None:
            raise _err(404, NOT_FOUND, f"{t.logical} With Id = {rid} Does Not Exist")
        return row

    def _select(self, t: Table, params: dict[str, str]) -> list[str] | None:
        sel = params.get("$select")
        if sel is None:
            return None
        cols = [c.strip() for c in sel.split(",") if c.strip()]
        for c in cols:
            if c not in t.all_columns:
                raise _err(
                    400,
                    "0x80060888",
                    f"Could not find a property named '{c}' on type 'Microsoft.Dynamics.CRM.{t.logical}'.",
                )
        return cols

    def _shape(self, t: Table, row: dict[str, Any], cols: list[str] | None, annotate: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": f'W/"{row["versionnumber"]}"'}
        names = cols if cols is not None else sorted(c for c in t.all_columns)
        for c in names:
            v = row.get(c)
            out[c] = v
            if annotate and c.startswith("_") and c.endswith("_value") and v:
                target = row.get(c + "@table", "")
                if target:
                    tt = self.tables[target]
                    ref = self.rows[target].get(v, {})
                    out[c + "@OData.Community.Display.V1.FormattedValue"] = ref.get(tt.name_col, "")
                    out[c + "@Microsoft.Dynamics.CRM.lookuplogicalname"] = target
        out[t.id_col] = row[t.id_col]
        return out

    @staticmethod
    def _prefer(headers: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for piece in headers.get("prefer", "").split(","):
            k, _, v = piece.strip().partition("=")
            if k:
                out[k.strip()] = v.strip().strip('"')
        return out

    def _get(self, t: Table, rid: str, params: dict[str, str], headers: dict[str, str]) -> Resp:
        row = self._require(t, rid)
        etag = f'W/"{row["versionnumber"]}"'
        inm = headers.get("if-none-match")
        if inm and inm != "null" and inm == etag:
            return Resp(304, {"OData-Version": "4.0"})
        annotate = "odata.include-annotations" in self._prefer(headers)
        shaped = self._shape(t, row, self._select(t, params), annotate)
        return _json(
            200, {"@odata.context": f"{self.api}/$metadata#{t.entity_set}/$entity", **shaped}, {"ETag": etag}
        )

    def _query(self, t: Table, params: dict[str, str], headers: dict[str, str]) -> Resp:
        if "fetchXml" in params:
            return self._fetch(t, params["fetchXml"])
        prefer = self._prefer(headers)
        annotate = "odata.include-annotations" in prefer
        cols = self._select(t, params)
        track = "odata.track-changes" in prefer or "$deltatoken" in params
        page = 5000
        if "odata.maxpagesize" in prefer:
            try:
                page = int(prefer["odata.maxpagesize"])
            except ValueError:
                raise _err(400, "0x80060888", "odata.maxpagesize must be a number") from None
            if not 0 < page <= 5000:
                raise _err(400, "0x80060888", "odata.maxpagesize must be between 1 and 5000")
        if "$skip" in params:
            raise _err(400, "0x80060888", "The query parameter $skip is not supported")
        if track:
            for banned in ("$filter", "$orderby", "$expand", "$top"):
                if banned in params:
                    raise _err(400, "0x80060888", f"{banned} is not supported with change tracking")
            if not t.change_tracking:
                raise _err(400, "0x80060888", f"Change tracking is not enabled for {t.logical}")
            return self._tracked(t, params, cols, page, annotate)
        rows = list(self.rows[t.logical].values())
        if "$filter" in params:
            parser = FilterParser(params["$filter"], t.all_columns, t.logical)
            pred = parser.parse()
            if parser.wildcard and ("$top" not in params or len(rows) > self.wildcard_timeout_rows):
                raise _err(
                    400,
                    WILDCARD,
                    "LeadingWildcardCauseTimeout: the query uses a leading wildcard "
                    "and timed out. Use Dataverse search instead.",
                )
            rows = [r for r in rows if pred(r)]
        if "$orderby" in params:
            col, _, direction = params["$orderby"].partition(" ")
            if col not in t.all_columns:
                raise bad_filter(f"unknown $orderby column {col}")
            rows.sort(key=lambda r: (r.get(col) is None, str(r.get(col) or "")), reverse=direction == "desc")
        if "$top" in params:
            try:
                top = int(params["$top"])
            except ValueError:
                raise bad_filter("$top must be a number") from None
            if "odata.maxpagesize" not in prefer:
                rows = rows[:top]
        start = int(params.get("$skiptoken", "0") or 0)
        chunk = rows[start : start + page]
        body: dict[str, Any] = {
            "@odata.context": f"{self.api}/$metadata#{t.entity_set}",
            "value": [self._shape(t, r, cols, annotate) for r in chunk],
        }
        if start + page < len(rows):
            body["@odata.nextLink"] = self._link(t, params, {"$skiptoken": str(start + page)})
        return _json(200, body)

    def _link(self, t: Table, params: dict[str, str], extra: dict[str, str]) -> str:
        merged = {k: v for k, v in params.items() if k not in ("$skiptoken", "$deltatoken")}
        merged.update(extra)
        qs = "&".join(f"{quote(k, safe='$')}={quote(v, safe=',')}" for k, v in merged.items())
        return f"{self.api}/{t.entity_set}?{qs}"

    def _tracked(
        self, t: Table, params: dict[str, str], cols: list[str] | None, page: int, annotate: bool
    ) -> Resp:
        skip = params.get("$skiptoken", "")
        delta = params.get("$deltatoken")
        if delta is not None:
            try:
                since = int(delta.split("!")[0])
            except ValueError:
                raise _err(400, TOKEN_EXPIRED, "The change tracking token is not valid.") from None
            if since < self.min_token_seq:
                raise _err(400, TOKEN_EXPIRED, "The change tracking token has expired. Do a full sync.")
        else:
            since = -1
        if skip:
            offset_s, _, snap_s = skip.partition(":")
            offset, snapshot = int(offset_s), int(snap_s)
        else:
            offset, snapshot = 0, self.seq
        cache_key = (t.logical, since, snapshot, self.seq, len(self.tombstones))
        if self._page_cache is not None and self._page_cache[0] == cache_key:
            changed = self._page_cache[1]  # the next page of the same, unchanged snapshot
        else:
            changed = [r for r in self.rows[t.logical].values() if since < r["_seq"] <= snapshot]
            changed.sort(key=lambda r: r["_seq"])
            self._page_cache = (cache_key, changed)
        items: list[dict[str, Any]] = [
            self._shape(t, r, cols, annotate) for r in changed[offset : offset + page]
        ]
        remaining = len(changed) - (offset + page)
        if since >= 0 and remaining < 0:
            # deletes come last, after every created/updated row
            live = self.rows[t.logical]
            dels = [
                (s, rid)
                for s, tbl, rid in self.tombstones
                if tbl == t.logical and since < s <= snapshot and rid not in live
            ]
            d_offset = max(0, offset - len(changed))
            room = page - len(items)
            chosen = dels[d_offset : d_offset + room]
            items.extend(
                {
                    "@odata.context": f"{self.api}/$metadata#{t.entity_set}/$deletedEntity",
                    "id": rid,
                    "reason": "deleted",
                }
                for _, rid in chosen
            )
            remaining = len(dels) - (d_offset + room)
        elif since >= 0 and remaining == 0:
            dels = [1 for s, tbl, rid in self.tombstones if tbl == t.logical and since < s <= snapshot]
            remaining = len(dels)
        body: dict[str, Any] = {
            "@odata.context": f"{self.api}/$metadata#{t.entity_set}" + ("/$delta" if since >= 0 else ""),
            "value": items,
        }
        if remaining > 0:
            body["@odata.nextLink"] = self._link(
                t,
                params,
                {"$skiptoken": f"{offset + page}:{snapshot}", **({"$deltatoken": delta} if delta else {})},
            )
        elif not annotate:  # the known bug: annotations requested → no deltaLink (contract §2)
            token = f"{snapshot}!{datetime.now(UTC).strftime('%m/%d/%Y %H:%M:%S')}"
            body["@odata.deltaLink"] = self._link(t, params, {"$deltatoken": token})
        return _json(200, body)

    # ---------------------------------------------------------------- writes
    def _mutate_set(self, t: Table, rid: str, row: dict[str, Any] | None) -> None:
        store = self.rows[t.logical]
        old = store.get(rid)
        if self._undo is not None:
            prev = copy.deepcopy(old)
            seq_before = self.seq
            tomb_len = len(self.tombstones)

            def undo() -> None:
                if prev is None:
                    store.pop(rid, None)
                else:
                    store[rid] = prev
                del self.tombstones[tomb_len:]
                self.seq = max(self.seq, seq_before)

            self._undo.append(undo)
        if row is None:
            store.pop(rid, None)
            self.tombstones.append((self.next_seq(), t.logical, rid))
        else:
            store[rid] = row

    def _mutate_delete(self, t: Table, rid: str) -> None:
        self._mutate_set(t, rid, None)

    def _apply_values(
        self, t: Table, row: dict[str, Any], data: dict[str, Any], creating: bool
    ) -> list[dict[str, Any]]:
        parties: list[dict[str, Any]] = []
        for key, value in data.items():
            if key.endswith("@odata.bind"):
                nav = key[: -len("@odata.bind")]
                if nav not in t.binds:
                    raise _err(
                        400,
                        "0x80060888",
                        f"An undeclared property '{nav}' which only has property "
                        f"annotations in the payload but no property value was found.",
                    )
                attr, target = t.binds[nav]
                if value is None:
                    row[attr] = None
                    row.pop(attr + "@table", None)
                    continue
                tid = self._resolve_ref(str(value), target)
                row[attr] = tid
                row[attr + "@table"] = target
            elif key == "phonecall_activity_parties" and t.logical == "phonecall":
                if not isinstance(value, list):
                    raise _err(400, "0x80060888", "phonecall_activity_parties must be a collection")
                parties = value
            elif key in (t.id_col,) and creating:
                continue
            elif key in ("statecode", "statuscode"):
                if creating and key == "statecode":
                    raise _err(
                        400,
                        "0x80040203",
                        "statecode is not valid for create (IsValidForCreate=False); "
                        "set the state with an update (SetState).",
                    )
                row[key] = value
            elif key in t.phones or key in t.columns:
                if isinstance(value, str) and len(value) > (limit := self._max_length(t, key)):
                    # the service's own wording ("Handling errors", Execute batch operations)
                    raise _err(
                        400,
                        "0x80044331",
                        f"A validation error occurred.  The length of the '{key}' attribute of the "
                        f"'{t.logical}' entity exceeded the maximum allowed length of '{limit}'.",
                    )
                if key == "actualdurationminutes" and value is not None and not isinstance(value, int):
                    raise _err(400, "0x80060888", "actualdurationminutes must be an Int32")
                if key == "directioncode" and not isinstance(value, bool):
                    raise _err(400, "0x80060888", "directioncode must be a Boolean")
                row[key] = value
            else:
                raise _err(
                    400,
                    "0x80060888",
                    f"The property '{key}' does not exist on type 'Microsoft.Dynamics.CRM.{t.logical}'.",
                )
        return parties

    def _resolve_ref(self, ref: str, target: str) -> str:
        m = re.fullmatch(r"(?:.*/)?([A-Za-z_]+)\(([0-9a-fA-F-]{36})\)", ref)
        tt = self.tables[target]
        if not m or m.group(1) != tt.entity_set:
            raise _err(400, "0x80060888", f"Bad reference '{ref}' for {target}")
        rid = m.group(2).lower()
        if rid not in self.rows[target]:
            raise _err(404, NOT_FOUND, f"{target} With Id = {rid} Does Not Exist")
        return rid

    def _max_length(self, t: Table, c: str) -> int:
        custom = self.required.get(t.logical, {}).get(c)
        return custom.max_length if custom is not None else max_length(t, c)

    def _check_state(self, t: Table, row: dict[str, Any]) -> None:
        state, status = row.get("statecode"), row.get("statuscode")
        if state is None:
            return
        allowed = t.states.get(int(state), set())
        if status is None or int(status) not in allowed:
            raise _err(
                400,
                "0x80040203",
                f"{status} is not a valid status code for state code "
                f"{t.logical}State.{state} on {t.logical}.",
            )

    def _create(
        self, t: Table, data: Any, params: dict[str, str], headers: dict[str, str], rid: str | None = None
    ) -> Resp:
        if not isinstance(data, dict):
            raise _err(400, "0x80060888", "The request body must be a JSON object.")
        given = data.get(t.id_col)
        if given is not None:
            if not isinstance(given, str) or not re.fullmatch(r"[0-9a-fA-F-]{36}", given):
                raise _err(400, "0x80060888", f"{t.id_col} must be a Guid")
            rid = given.lower()
        rid = (rid or str(uuid.uuid4())).lower()
        if rid in self.rows[t.logical]:
            raise _err(412, DUPLICATE, "A record with matching key values already exists.")
        row: dict[str, Any] = {t.id_col: rid}
        parties = self._apply_values(t, row, data, creating=True)
        for c in self.required.get(t.logical, {}).values():
            value = row.get(c.logical)
            if c.attribute_type == "Picklist" and value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise _err(
                        400,
                        "0x80060888",
                        f"Cannot convert the literal '{value}' to the expected type 'Edm.Int32'.",
                    )
                if c.options and value not in c.options:
                    raise _err(
                        400,
                        "0x80040203",  # UNVERIFIED code; the wording is the service's range message
                        f"A validation error occurred. The value {value} of '{c.logical}' on record of type "
                        f"'{t.logical}' is outside the valid range.",
                    )
            # "Recommended" is advice shown on forms: nothing refuses a create without it
            if c.enforced and c.required in ("ApplicationRequired", "SystemRequired") and value in (None, ""):
                raise _err(400, "0x80040265", c.refusal or f"{c.label or c.logical} is required.")
        if t.logical == "incident" and not row.get("_customerid_value"):
            raise _err(400, "0x80040203", "You should specify a parent contact or account.")
        if "_ownerid_value" in t.all_columns and not row.get("_ownerid_value") and t.logical != "systemuser":
            row["_ownerid_value"] = self.default_user
            row["_ownerid_value@table"] = "systemuser"
        stored_parties = []
        for p in parties:
            party: dict[str, Any] = {"participationtypemask": p.get("participationtypemask")}
            for k, v in p.items():
                if k.endswith("@odata.bind"):
                    target = k[len("partyid_") : -len("@odata.bind")]
                    if target not in ("contact", "account", "lead", "systemuser"):
                        raise _err(400, "0x80060888", f"Bad party binding {k}")
                    party["partyid"] = self._resolve_ref(str(v), target)
                    party["partyid@table"] = target
                elif k not in ("participationtypemask", "addressused"):
                    raise _err(400, "0x80060888", f"The property '{k}' does not exist on activityparty")
            if party["participationtypemask"] not in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11):
                raise _err(400, "0x80060888", "participationtypemask is required")
            stored_parties.append(party)
        if stored_parties:
            row["@parties"] = stored_parties
        self._finish_row(t, row, created=True)
        self._mutate_set(t, rid, row)
        location = f"{self.api}/{t.entity_set}({rid})"
        if "return=representation" in headers.get("prefer", ""):
            shaped = self._shape(t, row, self._select(t, params), False)
            return _json(
                201,
                {"@odata.context": f"{self.api}/$metadata#{t.entity_set}/$entity", **shaped},
                {"OData-EntityId": location, "ETag": shaped["@odata.etag"]},
            )
        return Resp(204, {"OData-EntityId": location, "OData-Version": "4.0"})

    def _patch(self, t: Table, rid: str, data: Any, params: dict[str, str], headers: dict[str, str]) -> Resp:
        if not isinstance(data, dict):
            raise _err(400, "0x80060888", "The request body must be a JSON object.")
        existing = self.rows[t.logical].get(rid)
        if_match = headers.get("if-match")
        if_none = headers.get("if-none-match")
        if if_none == "*" and existing is not None:
            raise _err(412, DUPLICATE, "A record with matching key values already exists.")
        if existing is None:
            if if_match:
                raise _err(404, NOT_FOUND, f"{t.logical} With Id = {rid} Does Not Exist")
            return self._create(t, {**data, t.id_col: rid}, params, headers)  # upsert creates
        if if_match and if_match != "*" and if_match != f'W/"{existing["versionnumber"]}"':
            raise _err(
                412,
                CONCURRENCY,
                "The version of the existing record doesn't match the RowVersion property provided.",
            )
        if data.get(t.id_col) not in (None, rid):
            raise _err(400, "0x80060888", "The key cannot be changed")
        row = copy.deepcopy(existing)
        state_only = set(data) <= {"statecode", "statuscode"}
        if t.logical == "phonecall" and existing.get("statecode") not in (0, None) and not state_only:
            target_state = data.get("statecode")
            if target_state != 0:
                raise _err(
                    400,
                    "0x80040203",
                    "The phonecall is closed and read-only. Reopen it (statecode 0) before changing it.",
                )
        if "statecode" in data and "statuscode" not in data:
            data = {**data, "statuscode": min(t.states.get(int(data["statecode"]), {1}))}
        self._apply_values(t, row, data, creating=False)
        self._check_state(t, row)
        self._finish_row(t, row, created=False)
        self._mutate_set(t, rid, row)
        if "return=representation" in headers.get("prefer", ""):
            shaped = self._shape(t, row, self._select(t, params), False)
            return _json(200, shaped, {"ETag": shaped["@odata.etag"]})
        return Resp(204, {"OData-EntityId": f"{self.api}/{t.entity_set}({rid})", "OData-Version": "4.0"})

    # ---------------------------------------------------------------- $batch
    def _batch(self, headers: dict[str, str], body: bytes, user: str) -> Resp:
        ctype = headers.get("content-type", "")
        boundary = _boundary(ctype)
        if not ctype.startswith("multipart/mixed") or not boundary:
            raise _err(
                400,
                "0x80060888",
                "The content type of a batch request must be multipart/mixed with a boundary",
            )
        continue_on_error = "odata.continue-on-error" in headers.get("prefer", "")
        text = body.decode("utf-8")
        parts = _split_multipart(text, boundary)
        if len(parts) > 1000:
            raise _err(400, "0x80060888", "The batch contains more than 1000 requests.")
        out_boundary = f"batchresponse_{uuid.uuid4()}"
        out: list[str] = []
        failed = 0  # without continue-on-error: the first failing operation's status
        content_ids: set[str] = set()
        for part_headers, part_body in parts:
            pct = part_headers.get("content-type", "")
            if pct.startswith("multipart/mixed"):
                cs_boundary = _boundary(pct)
                reqs = _split_multipart(part_body, cs_boundary)
                # OData: a Content-ID is unique within the whole batch, not only its changeset
                for req_headers, _ in reqs:
                    cid = req_headers.get("content-id", "")
                    if cid and cid in content_ids:
                        raise _err(400, "0x80060888", f"The Content-ID '{cid}' is used twice in the batch.")
                    content_ids.add(cid)
                status, rendered = self._changeset(reqs, user)
                if status >= 400 and not continue_on_error:
                    out, failed = [f"--{out_boundary}\r\n{rendered}"], status
                    break
                out.append(f"--{out_boundary}\r\n{rendered}")
                continue
            method, url, req_headers, req_body = _parse_http(part_body)
            if method != "GET":
                raise _err(400, "0x80060888", "Only GET requests may appear outside a change set.")
            self.batch_parts.append((method, url))
            resp = self._inner(method, url, req_headers, req_body, user)
            if resp.status >= 400 and not continue_on_error:
                out, failed = [f"--{out_boundary}\r\n" + _render_http(resp, None)], resp.status
                break
            out.append(f"--{out_boundary}\r\n" + _render_http(resp, None))
        out.append(f"--{out_boundary}--\r\n")
        # "When an error occurs for a request within a batch, the error for that request will be
        # returned for the batch request and more requests won't be processed" — the batch's own
        # status is the failing operation's; the body carries that operation's response
        return Resp(
            failed or 200,
            {"Content-Type": f"multipart/mixed; boundary={out_boundary}", "OData-Version": "4.0"},
            "\r\n".join(out).encode(),
        )

    def _inner(self, method: str, url: str, headers: dict[str, str], body: bytes, user: str) -> Resp:
        parts = urlsplit(url if "://" in url else self.org + (url if url.startswith("/") else API_PATH + url))
        if parts.netloc and parts.netloc != urlsplit(self.org).netloc:
            return _error(_err(400, "0x80060888", "The request URL is for another organization."))
        fault = self._take_fault(method, parts.path, inner=True)
        if fault is not None:
            return _error(_fault_error(fault))
        try:
            return self._route(method, parts.path, parts.query, headers, body, user)
        except ApiError as e:
            return _error(e)

    def _changeset(self, reqs: list[tuple[dict[str, str], str]], user: str) -> tuple[int, str]:
        """(status, rendered part): the changeset's responses, or the failing operation's alone."""
        self._undo = []
        ids: dict[str, str] = {}
        results: list[tuple[Resp, str]] = []
        try:
            for part_headers, part_body in reqs:
                cid = part_headers.get("content-id", "")
                method, url, req_headers, req_body = _parse_http(part_body)
                if method == "GET":
                    raise _err(400, "0x80060888", "GET requests are not allowed inside a change set.")
                m = re.match(r"\$(\d+)(.*)", url)
                if m:
                    if m.group(1) not in ids:
                        raise _err(
                            400,
                            "0x80060888",
                            f"Content-ID ${m.group(1)} was not defined earlier in the change set",
                        )
                    url = ids[m.group(1)] + m.group(2)
                self.batch_parts.append((method, url))
                resp = self._inner(method, url, req_headers, req_body, user)
                if resp.status >= 400:
                    raise ApiError(resp.status, "", "", {}) from _ResponseCarrier(resp, cid)
                entity = resp.headers.get("OData-EntityId")
                if cid and entity:
                    ids[cid] = entity
                results.append((resp, cid))
        except ApiError as e:
            for undo in reversed(self._undo):
                undo()
            self._undo = None
            carrier = e.__cause__
            failed = carrier.resp if isinstance(carrier, _ResponseCarrier) else _error(e)
            cid = carrier.cid if isinstance(carrier, _ResponseCarrier) else ""
            return failed.status, _render_http(failed, cid or None)
        self._undo = None
        b = f"changesetresponse_{uuid.uuid4()}"
        rendered = [f"Content-Type: multipart/mixed; boundary={b}\r\n"]
        for resp, cid in results:
            rendered.append(f"--{b}\r\n" + _render_http(resp, cid or None))
        rendered.append(f"--{b}--\r\n")
        return 200, "\r\n".join(rendered)

    # ---------------------------------------------------------------- metadata
    def _metadata(self, rest: str, params: dict[str, str]) -> Resp:
        if rest == "EntityDefinitions":
            rows = [
                {
                    "LogicalName": t.logical,
                    "EntitySetName": t.entity_set,
                    "IsCustomEntity": t.custom,
                    "ChangeTrackingEnabled": t.change_tracking,
                    "PrimaryIdAttribute": t.id_col,
                    "PrimaryNameAttribute": t.name_col,
                    "MetadataId": str(uuid.uuid5(uuid.NAMESPACE_URL, t.logical)),
                }
                for t in self.tables.values()
            ]
            if "$filter" in params:
                pred = FilterParser(params["$filter"], set(rows[0]), "EntityMetadata").parse()
                rows = [r for r in rows if pred(r)]
            sel = params.get("$select")
            if sel:
                keep = sel.split(",")
                rows = [{k: r[k] for k in keep if k in r} for r in rows]
            return _json(200, {"value": rows})
        m = re.fullmatch(r"EntityDefinitions\(LogicalName='([a-z_0-9]+)'\)/Attributes", rest)
        if m:
            return self._attributes(m.group(1), params)
        m = re.fullmatch(
            r"EntityDefinitions\(LogicalName='([a-z_0-9]+)'\)/Attributes"
            r"/Microsoft\.Dynamics\.CRM\.PicklistAttributeMetadata",
            rest,
        )
        if m:
            return self._attributes(m.group(1), params, only="Picklist")
        m = re.fullmatch(
            r"EntityDefinitions\(LogicalName='([a-z_0-9]+)'\)/Attributes"
            r"/Microsoft\.Dynamics\.CRM\.StringAttributeMetadata",
            rest,
        )
        if m:
            t = self.tables.get(m.group(1))
            if t is None:
                raise _err(404, NOT_FOUND, f"Could not find entity '{m.group(1)}'")
            # the String columns of the table's attribute metadata: no second list of column types
            attrs = [
                {
                    "LogicalName": c,
                    "FormatName": {"Value": _string_format(t, c)},
                    "MaxLength": self._max_length(t, c),
                }
                for r in self._attribute_rows(t)
                if r["AttributeType"] == "String" and (c := r["LogicalName"])
            ]
            sel = [x for x in params.get("$select", "").split(",") if x]
            if sel:
                attrs = [{k: v for k, v in a.items() if k in sel} for a in attrs]
            return _json(200, {"value": attrs})
        m = re.fullmatch(
            r"EntityDefinitions\(LogicalName='([a-z_0-9]+)'\)/Attributes\(LogicalName='statuscode'\)"
            r"/Microsoft\.Dynamics\.CRM\.StatusAttributeMetadata",
            rest,
        )
        if m:
            t = self.tables[m.group(1)]
            options = [
                {
                    "Value": status,
                    "State": state,
                    "Label": {
                        "UserLocalizedLabel": {
                            "Label": self.status_labels.get((t.logical, status), str(status))
                        }
                    },
                }
                for state, statuses in sorted(t.states.items())
                for status in sorted(statuses)
            ]
            return _json(200, {"LogicalName": "statuscode", "OptionSet": {"Options": options}})
        raise _err(404, "0x80060888", f"Resource not found for the segment '{rest}'.")

    @staticmethod
    def _label(text: str) -> dict[str, Any]:
        """A ``Label`` complex type: localized labels and the one in the user's language."""
        one = {
            "Label": text,
            "LanguageCode": 1033,
            "IsManaged": False,
            "MetadataId": str(uuid.uuid5(uuid.NAMESPACE_URL, "label:" + text)),
            "HasChanged": None,
        }
        return {"LocalizedLabels": [one] if text else [], "UserLocalizedLabel": one if text else None}

    def _attribute_rows(self, t: Table) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []

        def add(
            name: str,
            kind: str,
            level: str = "None",
            create: bool = True,
            of: str | None = None,
            label: str = "",
            options: dict[int, str] | None = None,
        ) -> None:
            row: dict[str, Any] = {
                "@odata.type": f"#Microsoft.Dynamics.CRM.{kind}AttributeMetadata",
                "LogicalName": name,
                "MetadataId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{t.logical}.{name}")),
                "AttributeType": kind,
                "AttributeOf": of,
                "IsValidForCreate": create,
                "RequiredLevel": {
                    "Value": level,
                    "CanBeChanged": level != "SystemRequired",
                    "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
                },
                "DisplayName": self._label(label or name.replace("_", " ").capitalize()),
            }
            if kind == "Picklist":
                row["_options"] = options or {}
            rows.append(row)

        add(t.id_col, "Uniqueidentifier", "SystemRequired")
        custom = self.required.get(t.logical, {})
        for c in [*t.phones, *t.columns]:
            if c in custom:
                col = custom[c]
                add(c, col.attribute_type, col.required, label=col.label, options=col.options)
                continue
            kind = _TYPES.get(c, "String")
            level = "ApplicationRequired" if (t.logical, c) in APP_REQUIRED else "None"
            add(c, kind, level, options={1: "Phone", 2: "Email", 3: "Web"} if c == "caseorigincode" else None)
        for c in t.computed:
            add(c, "String", create=False)
        seen: set[str] = set()
        for attr, _target in t.binds.values():
            name = attr[1 : -len("_value")]
            if name in seen:
                continue
            seen.add(name)
            if name == "ownerid":
                add(name, "Owner", "SystemRequired")
                add("owneridtype", "EntityName", "SystemRequired", of="ownerid")
            elif name == "customerid":
                add(name, "Customer", "SystemRequired")
            else:
                add(name, "Customer" if "customer" in name else "Lookup")
        add("statecode", "State", "SystemRequired", create=False)
        add("statuscode", "Status")
        add("createdon", "DateTime", create=False)
        add("modifiedon", "DateTime", create=False)
        return rows

    def _attributes(self, table: str, params: dict[str, str], only: str = "") -> Resp:
        t = self.tables.get(table)
        if t is None:
            raise _err(404, NOT_FOUND, f"Could not find entity '{table}'")
        rows = self._attribute_rows(t)
        if only:
            rows = [r for r in rows if r["AttributeType"] == only]
        if "$filter" in params:
            names = {k for r in rows for k in r if not k.startswith(("@", "_"))}
            pred = FilterParser(params["$filter"], names, "AttributeMetadata").parse()
            rows = [r for r in rows if pred(r)]
        expand = params.get("$expand", "")
        if expand and not only:
            raise _err(
                400, "0x80060888", "Could not find a property named 'OptionSet' on type AttributeMetadata."
            )
        sel = [c for c in params.get("$select", "").split(",") if c]
        out = []
        for r in rows:
            shaped = {k: v for k, v in r.items() if not k.startswith("_") and (not sel or k in sel)}
            shaped["@odata.type"] = r["@odata.type"]
            shaped["MetadataId"] = r["MetadataId"]  # always sent, as by the service
            if only == "Picklist":
                options = [
                    {"Value": v, "Label": self._label(text), "Color": None, "IsManaged": False}
                    for v, text in sorted(r["_options"].items())
                ]
                if "OptionSet" in expand:
                    shaped["OptionSet"] = {
                        "MetadataId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"os.{table}.{r['LogicalName']}")),
                        "IsGlobal": False,
                        "OptionSetType": "Picklist",
                        "Options": options,
                    }
                if "GlobalOptionSet" in expand:
                    shaped["GlobalOptionSet"] = None  # a local option set
            out.append(shaped)
        what = "Microsoft.Dynamics.CRM.PicklistAttributeMetadata" if only else "Attributes"
        context = f"{self.api}/$metadata#EntityDefinitions('{table}')/{what}"
        if sel:
            context += "(" + ",".join(sel) + ")"
        return _json(200, {"@odata.context": context, "value": out})

    # ---------------------------------------------------------------- FetchXML aggregates
    def _fetch(self, t: Table, xml: str) -> Resp:
        try:
            root = ET.fromstring(xml)
        except ET.ParseError as e:
            raise _err(400, "0x80041103", f"Invalid FetchXML: {e}") from None
        entity = root.find("entity")
        if root.tag != "fetch" or entity is None or entity.get("name") != t.logical:
            raise _err(400, "0x80041103", "FetchXML entity does not match the entity set")
        rows = list(self.rows[t.logical].values())
        for cond in entity.iterfind("filter/condition"):
            attr, op, val = cond.get("attribute", ""), cond.get("operator", ""), cond.get("value")
            if attr not in t.all_columns and f"_{attr}_value" not in t.all_columns:
                raise _err(
                    400, "0x80041103", f"'{t.logical}' entity doesn't contain attribute with Name = '{attr}'"
                )
            ops: dict[str, Callable[[Any], bool]] = {
                "ge": lambda v, val=val: v is not None and str(v) >= str(val),
                "gt": lambda v, val=val: v is not None and str(v) > str(val),
                "le": lambda v, val=val: v is not None and str(v) <= str(val),
                "lt": lambda v, val=val: v is not None and str(v) < str(val),
                "eq": lambda v, val=val: str(v).lower() == str(val).lower(),
                "not-null": lambda v: v is not None,
            }
            if op not in ops:
                raise _err(400, "0x80041103", f"Unsupported operator {op}")
            col = attr if attr in t.all_columns else f"_{attr}_value"
            rows = [r for r in rows if ops[op](r.get(col))]
        if len(rows) > self.aggregate_limit:
            raise _err(
                400, "0x8004E023", "AggregateQueryRecordLimit exceeded. Cannot perform this operation."
            )
        groups: list[tuple[str, str, str]] = []
        aggs: list[tuple[str, str, str]] = []
        for a in entity.iterfind("attribute"):
            name, alias = a.get("name", ""), a.get("alias", "")
            col = name if name in t.all_columns else f"_{name}_value"
            if col not in t.all_columns:
                raise _err(
                    400, "0x80041103", f"'{t.logical}' entity doesn't contain attribute with Name = '{name}'"
                )
            if a.get("groupby") == "true":
                groups.append((col, alias, a.get("dategrouping", "")))
            elif a.get("aggregate"):
                aggs.append((col, alias, a.get("aggregate", "")))
        buckets: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in rows:
            key = []
            for col, _alias, dg in groups:
                v = r.get(col)
                if dg and isinstance(v, str):
                    v = {"day": v[:10], "month": v[:7], "year": v[:4]}.get(dg, v[:10])
                key.append(v)
            buckets.setdefault(tuple(key), []).append(r)
        out = []
        for key, members in buckets.items():
            item: dict[str, Any] = {}
            for (col, alias, _dg), v in zip(groups, key, strict=True):
                if v is None:
                    continue  # FetchXML omits null columns
                item[alias] = v
                if col.startswith("_") and members[0].get(col + "@table"):
                    target = members[0][col + "@table"]
                    item[alias + "@OData.Community.Display.V1.FormattedValue"] = (
                        self.rows[target].get(v, {}).get(self.tables[target].name_col, "")
                    )
            for col, alias, fn in aggs:
                vals = [m.get(col) for m in members if m.get(col) is not None]
                if fn == "count":
                    item[alias] = len(members)
                elif fn == "countcolumn":
                    item[alias] = len(vals)
                elif fn == "sum":
                    item[alias] = sum(vals)
                elif fn == "avg":
                    if vals:
                        item[alias] = sum(vals) / len(vals)
                elif fn in ("min", "max"):
                    if vals:
                        item[alias] = (min if fn == "min" else max)(vals)
                else:
                    raise _err(400, "0x80041103", f"Unknown aggregate {fn}")
            out.append(item)
        return _json(200, {"@odata.context": f"{self.api}/$metadata#{t.entity_set}", "value": out})


def _fault_error(fault: Fault) -> ApiError:
    e = _err(
        fault.status,
        {429: "0x80072322", 503: "0x80040216", 401: "0x80044151"}.get(fault.status, "0x80040216"),
        {429: "Number of requests exceeded the limit of 6000 over time window of 300 seconds."}.get(
            fault.status, "Injected fault"
        ),
    )
    if fault.retry_after is not None:
        e.headers["Retry-After"] = str(fault.retry_after if fault.retry_after % 1 else int(fault.retry_after))
    return e


class _ResponseCarrier(Exception):
    def __init__(self, resp: Resp, cid: str):
        super().__init__("failed part")
        self.resp = resp
        self.cid = cid


def _boundary(content_type: str) -> str:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    return m.group(1) if m else ""


def _split_multipart(text: str, boundary: str) -> list[tuple[dict[str, str], str]]:
    if f"--{boundary}" not in text:
        raise _err(400, "0x80060888", "The batch body does not contain the boundary")
    if f"--{boundary}--" not in text:
        raise _err(400, "0x80060888", "The batch body is not terminated")
    chunks = text.split(f"--{boundary}")
    out = []
    for raw in chunks[1:]:
        if raw.startswith("--"):
            break
        chunk = raw[2:] if raw.startswith("\r\n") else raw.lstrip("\n")
        head, sep, rest = chunk.partition("\r\n\r\n")
        if not sep:
            raise _err(400, "0x80060888", "A batch part has no blank line after its headers")
        headers = {}
        for line in head.split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        out.append((headers, rest))
    return out


def _parse_http(text: str) -> tuple[str, str, dict[str, str], bytes]:
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    request_line = lines[0].split(" ")
    if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
        raise _err(400, "0x80060888", f"Malformed request line in batch: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return request_line[0], request_line[1], headers, body.rstrip("\r\n").encode()


def _render_http(resp: Resp, content_id: str | None) -> str:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [*head, "", f"HTTP/1.1 {resp.status} {_STATUS_TEXT.get(resp.status, '')}"]
    lines.extend(f"{k}: {v}" for k, v in resp.headers.items())
    lines.append("")
    lines.append(resp.body.decode())
    return "\r\n".join(lines) + "\r\n"


# ------------------------------------------------------------------------------------ HTTP server
class FakeServer:
    """The fake on a real loopback socket (for subprocess tests); use as a context manager."""

    def __init__(self, fake: DataverseFake, host: str, port: int):
        self.fake = fake
        self.response_delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                refused = outer.fake._admit()
                if refused is not None:
                    self._send(refused)
                    return
                try:
                    self._answer(body)
                finally:
                    outer.fake._leave()

            def _send(self, resp: Resp) -> None:
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                self.wfile.write(resp.body)

            def _answer(self, body: bytes) -> None:
                if outer.fake.latency:
                    time.sleep(outer.fake.latency)
                url = outer.fake.org + self.path
                try:
                    resp = outer.fake.handle(self.command, url, dict(self.headers.items()), body)
                except Drop:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if outer.response_delay:
                    time.sleep(outer.response_delay)  # the work is done; the answer is late
                self._send(resp)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        # a served fake answers under its own loopback address (absolute URLs inside $batch)
        fake.org = self.url
        fake.api = self.url + API_PATH.rstrip("/")
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# ------------------------------------------------------------------------------------ MSAL fake
class _MsalResponse:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self.status_code = status
        self.text = json.dumps(body)
        self.headers = headers or {"Content-Type": "application/json"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeIdentityProvider:
    """The ``http_client`` MSAL takes: openid-configuration and the token endpoint, in memory.

    Tokens it issues are registered with *dataverse* so the Web API fake accepts them.
    """

    def __init__(self, dataverse: DataverseFake, host: str = "login.fake.test", tenant: str = "contoso"):
        self.dataverse = dataverse
        self.base = f"https://{host}/{tenant}"
        self.authority = self.base
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.secrets: dict[str, str] = {}  # client_id → secret (confidential clients)
        self.device_pending = 0  # how many polls answer authorization_pending first
        self.refresh_tokens: dict[str, str] = {}
        self.device_scopes: dict[str, str] = {}

    def _config(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": f"{self.base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{self.base}/oauth2/v2.0/devicecode",
            "issuer": f"{self.base}/v2.0",
        }

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> _MsalResponse:
        self.calls.append(("GET", {"url": url}))
        if url.rstrip("/").endswith("/.well-known/openid-configuration"):
            return _MsalResponse(200, self._config())
        return _MsalResponse(404, {"error": "not_found"})

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any
    ) -> _MsalResponse:
        form = dict(data or {})
        self.calls.append(("POST", {"url": url, **form}))
        if url.endswith("/devicecode"):
            code = "dev-" + uuid.uuid4().hex
            self.device_scopes[code] = form.get("scope", "")
            return _MsalResponse(
                200,
                {
                    "device_code": code,
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 0,
                    "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
                },
            )
        if not url.endswith("/token"):
            return _MsalResponse(404, {"error": "not_found"})
        grant = form.get("grant_type")
        client_id = form.get("client_id", "")
        if grant == "client_credentials":
            expected = self.secrets.get(client_id)
            if (expected is None or form.get("client_secret") != expected) and "client_assertion" not in form:
                error = {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret.",
                }
                return _MsalResponse(401, error)
            return self._token(form, with_refresh=False)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            if self.device_pending > 0:
                self.device_pending -= 1
                return _MsalResponse(400, {"error": "authorization_pending"})
            scope = self.device_scopes.pop(str(form.get("device_code")), None)
            if scope is None:
                return _MsalResponse(400, {"error": "expired_token"})
            return self._token({**form, "scope": scope})
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _MsalResponse(400, {"error": "invalid_grant"})
            return self._token(form)
        if grant == "authorization_code":
            return self._token(form)
        return _MsalResponse(400, {"error": "unsupported_grant_type"})

    def _token(self, form: dict[str, Any], with_refresh: bool = True) -> _MsalResponse:
        token = self.dataverse.issue_token()
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": 3600,
            "scope": form.get("scope", ""),
        }
        if with_refresh:
            rt = "rt-" + uuid.uuid4().hex
            self.refresh_tokens[rt] = token
            body["refresh_token"] = rt
            body["client_info"] = _b64json({"uid": "user1", "utid": "contoso"})
            body["id_token"] = _fake_id_token(self.base, form.get("client_id", ""))
        return _MsalResponse(200, body)

    def close(self) -> None:
        pass


def _b64json(obj: Any) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _fake_id_token(issuer: str, client_id: str) -> str:
    now = int(time.time())
    claims = {
        "iss": f"{issuer}/v2.0",
        "sub": "user1",
        "aud": client_id,
        "exp": now + 3600,
        "iat": now,
        "oid": "user1",
        "tid": "contoso",
        "preferred_username": "agent@contoso.test",
        "name": "Agent",
    }
    return ".".join([_b64json({"alg": "none", "typ": "JWT"}), _b64json(claims), ""])


def main() -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description="Run the Dataverse fake on a loopback port")
    parser.add_argument("--port", type=int, default=8555)
    args = parser.parse_args()
    fake = DataverseFake()
    token = fake.issue_token()
    with fake.serve(port=args.port) as server:
        print(f"Dataverse fake on {server.url}{API_PATH}  token: {token}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
