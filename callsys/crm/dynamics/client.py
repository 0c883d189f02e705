"""``DynamicsCrm`` — the ``Crm`` protocol over the Dataverse Web API v9.2 (httpx, async).

Contract: ``../shared/reference/dataverse-webapi.md``. What this module holds:

- Caller lookup (IN1, IN2, IN4, B2): one ``$batch`` of GETs — one per table (contact, account,
  lead, systemuser and any configured custom table), each with an ``eq`` on every phone column
  for every canonical written form of the number (``NumberPlan.written_forms``). Never
  ``contains``/``endswith``: they are table scans that Dataverse throttles (§1.2).
- The request layer every other module uses (outbox handlers, phone index sync, conversions,
  reports): common headers, one token refresh after a 401, and the mapping of status codes to
  the ``CrmError`` tree (429 → ``CrmThrottled(retry_after)``, 5xx/transport → ``CrmUnavailable``,
  404 → ``CrmNotFound``, 412 → ``CrmConflict``, other 4xx → ``CrmRejected``). No retries here:
  the ring path must not wait, and writes are retried by the outbox.
- Record URLs for the browser (§8).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx

from callsys.auth import TokenProvider, check_org_url
from callsys.crm import Match
from callsys.crm.dynamics.batch import (
    BatchRequest,
    BatchResponse,
    ChangeSet,
    decode_batch,
    decode_batch_parts,
    encode_batch,
)
from callsys.crm.dynamics.odata import (
    SAFE_PHONE_TEXT,
    encode_query,
    eq_any,
    error_from_body,
    is_guid,
    literal,
)
from callsys.errors import (
    AuthError,
    CrmConflict,
    CrmError,
    CrmNotFound,
    CrmRejected,
    CrmThrottled,
    CrmUnavailable,
)
from callsys.model import Party, PartyKind, PhoneNumber
from callsys.numbers import NumberPlan

if TYPE_CHECKING:
    pass

__all__ = [
    "ACCOUNT",
    "CONTACT",
    "DEFAULT_TABLES",
    "LEAD",
    "SYSTEMUSER",
    "DynamicsCrm",
    "LocalIndex",
    "TableSpec",
    "error_for",
    "is_duplicate",
    "response_error",
]

log = logging.getLogger(__name__)

API_VERSION = "v9.2"
MAX_BATCH_GET = 60_000  # characters; the service takes up to 64 KB for a GET inside $batch
#: Caller lookups in flight at once (the outbox has its own ≤ 10 of the user's 52).
LOOKUP_CONCURRENCY = 4
#: Background confirmations of the phone index's answer waiting or running at once; a ring
#: beyond that is answered from the index alone (the next sync brings any change).
MAX_PENDING_CONFIRMATIONS = 8
#: Seconds during which a number confirmed online is not confirmed again (a customer who
#: calls back at once, an extension that calls all day).
CONFIRM_AGAIN_AFTER = 300.0
FORMATTED = "OData.Community.Display.V1.FormattedValue"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table that callers can be found in, with *all* its phone columns (contract §1.1)."""

    logical: str
    entity_set: str
    id_col: str
    name_col: str
    phones: tuple[str, ...]
    company_col: str = ""  # a text column, or a lookup "_x_value" (formatted value is read)
    weight: float = 1.5  # ranking: a person beats a company beats a custom table beats a colleague
    extra: tuple[str, ...] = field(default=())  # other columns worth reading

    @property
    def kind(self) -> PartyKind:
        try:
            return PartyKind(self.logical)
        except ValueError:
            return PartyKind.CUSTOM

    def select(self) -> list[str]:
        cols = [self.id_col, self.name_col, *self.phones, *self.extra]
        if self.company_col:
            cols.append(self.company_col)
        return list(dict.fromkeys(cols))

    def with_phones(self, more: Sequence[str]) -> TableSpec:
        return TableSpec(
            self.logical,
            self.entity_set,
            self.id_col,
            self.name_col,
            tuple(dict.fromkeys([*self.phones, *more])),
            self.company_col,
            self.weight,
            self.extra,
        )


_ADDR = tuple(f"address{a}_telephone{n}" for a in (1, 2, 3) for n in (1, 2, 3))
CONTACT = TableSpec(
    "contact",
    "contacts",
    "contactid",
    "fullname",
    (
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
    ),
    company_col="_parentcustomerid_value",
    weight=3.0,
)
ACCOUNT = TableSpec(
    "account",
    "accounts",
    "accountid",
    "name",
    ("telephone1", "telephone2", "telephone3", "fax", *_ADDR[:6]),
    weight=2.0,
)
LEAD = TableSpec(
    "lead",
    "leads",
    "leadid",
    "fullname",
    ("telephone1", "telephone2", "telephone3", "mobilephone", "pager", "fax", *_ADDR[:6]),
    company_col="companyname",
    weight=2.5,
)
SYSTEMUSER = TableSpec(
    "systemuser",
    "systemusers",
    "systemuserid",
    "fullname",
    (*_ADDR[:6], "homephone", "mobilephone"),
    weight=1.0,
)
DEFAULT_TABLES: tuple[TableSpec, ...] = (CONTACT, ACCOUNT, LEAD, SYSTEMUSER)


# ---------------------------------------------------------------------------------- errors
def _retry_after(value: str | None) -> float:
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else 1.0


def error_for(status: int, headers: Mapping[str, str], text: str, what: str) -> CrmError:
    """The ``CrmError`` for a failed response (contract §5)."""
    code, message = error_from_body(text)
    detail = f"{what}: Dynamics 365 answered {status}" + (f" ({message})" if message else "")
    if status == 429:
        return CrmThrottled(detail, retry_after=_retry_after(headers.get("retry-after")), code=code)
    if status == 401:
        return AuthError(
            f"{what}: Dynamics 365 refused the sign-in ({message or 'token rejected'})",
            status=status,
            code=code,
        )
    if status == 404:
        return CrmNotFound(detail, status=status, code=code)
    if status == 412:
        return CrmConflict(detail, status=status, code=code)
    if status >= 500 or status in (408, 0):
        return CrmUnavailable(detail, status=status, code=code)
    return CrmRejected(detail, status=status, code=code)


def response_error(resp: httpx.Response, what: str) -> CrmError:
    """The ``CrmError`` for a failed response, a failed ``$batch`` included.

    Without ``odata.continue-on-error`` Dataverse answers a batch whose operation failed with
    that operation's status as the batch's own, and the operation's response (its headers,
    ``Retry-After`` among them, and its ``{"error":…}`` body) as the one part of a
    ``multipart/mixed`` body. The error is the failing part's: a 412 ``0x80040237`` is "already
    exists", a 429 waits the part's ``Retry-After``, and nobody reads multipart text.
    """
    ctype = resp.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/"):
        return error_for(resp.status_code, resp.headers, resp.text, what)
    try:
        parts = decode_batch(ctype, resp.text)
    except ValueError:
        parts = []
    failed = next((p for p in parts if p.status >= 400), None)
    if failed is None:
        return error_for(resp.status_code, resp.headers, "", what)
    headers = {k.lower(): v for k, v in resp.headers.items()}
    headers.update(failed.headers)  # the operation's own Retry-After, when it has one
    return error_for(failed.status, headers, failed.text, what)


def is_duplicate(exc: CrmError) -> bool:
    """A create that found its client-chosen id already there (§3.3: counts as done)."""
    return exc.code == "0x80040237" or (exc.status == 412 and "already exists" in str(exc))


class LocalIndex(Protocol):
    """What the ring path needs from ``callsys.crm.dynamics.phoneindex.PhoneIndex``."""

    def lookup(self, number: PhoneNumber) -> list[Match]: ...

    def forget(self, table: str, record_id: str) -> None:
        """The record is gone (404 ``0x80040217``): drop it from the index (§5)."""

    def remember(self, table: str, row: Mapping[str, Any]) -> None:
        """A record we just created or changed: index it now, before the next sync."""


# ---------------------------------------------------------------------------------- client
class DynamicsCrm:
    """The ``Crm`` protocol for Dynamics 365 / Dataverse. Close it (``await crm.close()``)."""

    name = "dynamics"

    def __init__(
        self,
        org_url: str,
        tokens: TokenProvider,
        *,
        plan: NumberPlan,
        tables: Sequence[TableSpec] = DEFAULT_TABLES,
        app_id: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        max_results: int = 20,
    ) -> None:
        self.org = check_org_url(org_url)
        self.api = f"{self.org}/api/data/{API_VERSION}"
        self.tokens = tokens
        self.plan = plan
        self.tables = tuple(tables)
        self.app_id = app_id
        self.max_results = max_results
        self._token: str | None = None
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=True,
            follow_redirects=False,
            headers={"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"},
        )
        self.requests_sent = 0
        #: The local phone index (B3): when set, a ring is answered from it without a network
        #: round trip, and the online lookup runs in the background to confirm.
        self.index: LocalIndex | None = None
        #: Called with the online result of a background confirmation when it differs.
        self.on_confirmed: Callable[[PhoneNumber, list[Match]], None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        # Caller lookups share the user's service-protection budget with the outbox (52
        # concurrent requests, 6,000 per 5 minutes): a burst of rings waits its turn for one
        # of a few slots instead of opening a request each, a 429's Retry-After is honoured by
        # every lookup until it has passed, and a number confirmed lately is not asked again.
        self._lookup_slots = asyncio.Semaphore(LOOKUP_CONCURRENCY)
        self._throttled_until = 0.0  # time.monotonic() before which no lookup is sent
        self._confirmed: dict[str, float] = {}  # number key → when it was last confirmed

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._client.aclose()

    async def __aenter__(self) -> DynamicsCrm:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def table(self, logical: str) -> TableSpec:
        for t in self.tables:
            if t.logical == logical:
                return t
        raise KeyError(logical)

    # ---------------------------------------------------------------- the request layer
    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        if path.startswith(("http://", "https://")):
            # a nextLink / deltaLink from the service: followed as-is, but never to another host —
            # our bearer token goes with it
            if not path.startswith(self.org + "/"):
                raise CrmRejected(f"Refusing to follow a link outside {self.org}: {path[:100]}")
            base = path
        else:
            base = f"{self.api}/{path.lstrip('/')}"
        return f"{base}?{encode_query(params)}" if params else base

    async def _auth_header(self, force: bool) -> str:
        if self._token is None or force:
            self._token = await self.tokens.token(force_refresh=force)
        return f"Bearer {self._token}"

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        what: str = "",
    ) -> httpx.Response:
        """One request with a 401 → refresh → retry-once. Raises the mapped ``CrmError``."""
        url = self.url(path, params)
        what = what or f"{method} {path.split('?', maxsplit=1)[0]}"
        hdrs = dict(headers or {})
        if method == "GET":
            hdrs.setdefault("If-None-Match", "null")
        for attempt in (0, 1):
            hdrs["Authorization"] = await self._auth_header(force=attempt == 1)
            try:
                self.requests_sent += 1
                resp = await self._client.request(method, url, json=json, content=content, headers=hdrs)
            except httpx.TransportError as exc:
                raise CrmUnavailable(
                    f"{what}: cannot reach Dynamics 365 ({type(exc).__name__}: {exc})"
                ) from None
            if resp.status_code == 401 and attempt == 0:
                log.info("%s: 401, refreshing the token once", what)
                continue
            if resp.status_code >= 400:
                raise response_error(resp, what)
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    async def batch(
        self,
        parts: Sequence[BatchRequest | ChangeSet],
        *,
        continue_on_error: bool = False,
        what: str = "$batch",
    ) -> list[BatchResponse]:
        ctype, body = encode_batch(parts)
        headers = {"Content-Type": ctype}
        if continue_on_error:
            headers["Prefer"] = "odata.continue-on-error"
        resp = await self.send("POST", "$batch", content=body, headers=headers, what=what)
        try:
            return decode_batch(resp.headers.get("content-type", ""), resp.text)
        except ValueError:
            raise _garbled(what, resp) from None

    async def changeset(self, requests: Sequence[BatchRequest], *, what: str) -> list[BatchResponse]:
        """Apply *requests* atomically; raises the mapped error of the failing part."""
        out = await self.batch([ChangeSet(requests)], what=what)
        for r in out:
            if r.status >= 400:
                raise error_for(r.status, r.headers, r.text, what)
        return out

    async def changesets(
        self, changesets: Sequence[Sequence[BatchRequest]], *, what: str = "deliver"
    ) -> list[CrmError | None]:
        """Apply many independent changesets in one ``$batch`` with ``odata.continue-on-error``:
        each is atomic on its own, one failing does not stop the others. Returns, for each,
        ``None`` (applied) or the mapped error of its failing request (a 429 with that
        operation's ``Retry-After``). Raises for the batch as a whole (throttled, unavailable,
        signed out, refused) — then nothing is known about any of them."""
        if not changesets:
            return []
        ctype, body = encode_batch([ChangeSet(list(c)) for c in changesets])
        resp = await self.send(
            "POST",
            "$batch",
            content=body,
            headers={"Content-Type": ctype, "Prefer": "odata.continue-on-error"},
            what=what,
        )
        try:
            parts = decode_batch_parts(resp.headers.get("content-type", ""), resp.text)
        except ValueError:
            raise _garbled(what, resp) from None
        if len(parts) != len(changesets):
            raise _garbled(what, resp)
        out: list[CrmError | None] = []
        for part in parts:
            failed = next((r for r in part if not 200 <= r.status < 400), None)  # 0: not decodable
            out.append(
                None if failed is None else error_for(failed.status, failed.headers, failed.text, what)
            )
        return out

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        what: str = "",
    ) -> Any:
        resp = await self.send("GET", path, params=params, headers=headers, what=what)
        try:
            return resp.json()
        except ValueError:
            raise _garbled(what, resp) from None

    async def create(
        self, entity_set: str, body: Mapping[str, Any], *, select: Sequence[str] = (), what: str = ""
    ) -> dict[str, Any]:
        """POST with ``return=representation``; returns the created row."""
        params = {"$select": ",".join(select)} if select else None
        resp = await self.send(
            "POST",
            entity_set,
            params=params,
            json=dict(body),
            headers={"Prefer": "return=representation", "Content-Type": "application/json"},
            what=what or f"create {entity_set}",
        )
        try:
            data: dict[str, Any] = resp.json() if resp.content else {}
        except ValueError:
            raise _garbled(what, resp) from None
        return data

    async def update(
        self, entity_set: str, record_id: str, body: Mapping[str, Any], *, if_match: str = "*", what: str = ""
    ) -> None:
        """PATCH an existing row (``If-Match: *`` by default: never an accidental upsert)."""
        await self.send(
            "PATCH",
            f"{entity_set}({_guid(record_id)})",
            json=dict(body),
            headers={"If-Match": if_match, "Content-Type": "application/json"},
            what=what or f"update {entity_set}",
        )

    async def retrieve(
        self,
        entity_set: str,
        record_id: str,
        select: Sequence[str],
        *,
        annotations: bool = False,
        what: str = "",
    ) -> dict[str, Any]:
        headers = {"Prefer": f'odata.include-annotations="{FORMATTED}"'} if annotations else None
        data: dict[str, Any] = await self.get_json(
            f"{entity_set}({_guid(record_id)})",
            {"$select": ",".join(select)},
            headers=headers,
            what=what or f"read {entity_set}",
        )
        return data

    async def pages(self, first_url: str, *, prefer: str) -> AsyncIterator[dict[str, Any]]:
        """Follow ``@odata.nextLink`` unchanged, sending the same ``Prefer`` each time (§2)."""
        url: str | None = first_url
        while url:
            page: dict[str, Any] = await self.get_json(url, headers={"Prefer": prefer}, what="sync")
            yield page
            url = page.get("@odata.nextLink")

    async def get_bytes(self, url: str, *, prefer: str, what: str = "sync") -> bytes:
        """One page of a query, undecoded: the phone index decodes it in a worker thread, so a
        big page does not hold the event loop (``callsys.crm.dynamics.phoneindex``)."""
        resp = await self.send("GET", url, headers={"Prefer": prefer}, what=what)
        if "json" not in resp.headers.get("content-type", "").lower():
            raise _garbled(what, resp)
        return resp.content

    async def who_am_i(self) -> str:
        data = await self.get_json("WhoAmI", what="WhoAmI")
        return str(data["UserId"])

    # ---------------------------------------------------------------- Crm protocol
    def _lookup_query(self, table: TableSpec, forms: Sequence[str]) -> str:
        forms = list(forms)
        while True:
            params = {
                "$select": ",".join(table.select()),
                "$filter": eq_any(table.phones, forms),
                "$top": str(self.max_results),
            }
            url = self.url(table.entity_set, params)
            # a GET inside $batch may be 64 KB (§0); many custom phone columns × forms can exceed
            # it, so the least common written forms go first
            if len(url) <= MAX_BATCH_GET or len(forms) == 1:
                return url
            forms.pop()

    async def lookup(self, number: PhoneNumber) -> list[Match]:
        """Every record with *number* in a phone column, best first.

        With a phone index: its answer at once, and the online lookup confirms in the
        background (``on_confirmed``). Without one, or when it knows nothing: online.
        """
        if self.index is not None:
            local = self.index.lookup(number)
            if local:
                if self._should_confirm(number):
                    task = asyncio.get_running_loop().create_task(self._confirm(number, local))
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
                return local
        return await self.lookup_online(number)

    def _should_confirm(self, number: PhoneNumber) -> bool:
        """A background confirmation for this ring? Not while throttled, not when as many are
        already waiting as could run, not for a number confirmed within ``CONFIRM_AGAIN_AFTER``."""
        now = time.monotonic()
        if now < self._throttled_until or len(self._background) >= MAX_PENDING_CONFIRMATIONS:
            return False
        key = number.key or number.raw
        if now - self._confirmed.get(key, -CONFIRM_AGAIN_AFTER) < CONFIRM_AGAIN_AFTER:
            return False
        self._confirmed[key] = now
        if len(self._confirmed) > 10_000:  # forget the oldest half
            for old in sorted(self._confirmed, key=self._confirmed.__getitem__)[:5_000]:
                del self._confirmed[old]
        return True

    async def _confirm(self, number: PhoneNumber, local: list[Match]) -> None:
        try:
            online = await self.lookup_online(number)
        except Exception as exc:  # a background check must never disturb the ring
            log.info("online confirmation of %s failed: %s", number, exc)
            return
        changed = {(m.party.table, m.party.id) for m in online} != {
            (m.party.table, m.party.id) for m in local
        }
        if changed and self.on_confirmed is not None:
            self.on_confirmed(number, online)

    async def lookup_online(self, number: PhoneNumber) -> list[Match]:
        """The online lookup: all tables in one ``$batch`` round trip, ``eq`` on written forms.
        At most ``LOOKUP_CONCURRENCY`` at once; while the service asked us to wait (429
        ``Retry-After``) it raises ``CrmThrottled`` at once rather than spend another request."""
        forms = [f for f in self.plan.written_forms(number) if SAFE_PHONE_TEXT.match(f)]
        if not forms:
            return []
        async with self._lookup_slots:
            self._check_throttle()
            try:
                return await self._lookup_online(number, forms)
            except CrmThrottled as exc:
                self._throttle(exc.retry_after)
                raise

    def _check_throttle(self) -> None:
        wait = self._throttled_until - time.monotonic()
        if wait > 0:
            raise CrmThrottled(
                f"Dynamics 365 asked callsys to wait {wait:.0f} s before the next caller lookup.",
                retry_after=wait,
            )

    def _throttle(self, seconds: float) -> None:
        self._throttled_until = max(self._throttled_until, time.monotonic() + max(seconds, 0.0))

    async def _lookup_online(self, number: PhoneNumber, forms: list[str]) -> list[Match]:
        parts = [
            BatchRequest(
                "GET",
                self._lookup_query(t, forms),
                headers={"Prefer": f'odata.include-annotations="{FORMATTED}"'},
            )
            for t in self.tables
            if t.phones
        ]
        tables = [t for t in self.tables if t.phones]
        responses = await self.batch(parts, continue_on_error=True, what="caller lookup")
        keys = set(self.plan.lookup_keys(number))
        lowered = {f.lower() for f in forms}
        matches: list[Match] = []
        for table, resp in zip(tables, responses, strict=False):
            if resp.status >= 400:
                err = error_for(resp.status, resp.headers, resp.text, f"caller lookup in {table.logical}")
                if isinstance(err, CrmThrottled):
                    self._throttle(err.retry_after)
                if isinstance(err, CrmUnavailable | AuthError):
                    raise err
                log.warning("%s", err)  # a bad custom column must not hide the other tables
                continue
            for row in (resp.json() or {}).get("value", []):
                match = self._match(table, row, keys, lowered, number)
                if match is not None:
                    matches.append(match)
        matches.sort(key=lambda m: -m.score)
        return matches

    def _match(
        self, table: TableSpec, row: Mapping[str, Any], keys: set[str], forms: set[str], number: PhoneNumber
    ) -> Match | None:
        party = self.party_from_row(table, row)
        best_field, best = "", 0.0
        for col in table.phones:
            value = row.get(col)
            if not isinstance(value, str) or not value:
                continue
            parsed = self.plan.parse(value)
            score = 0.0
            if number.e164 and value == number.e164:
                score = 1.0
            elif parsed.key and parsed.key in keys:
                score = 0.9
            elif value.lower() in forms:
                score = 0.8
            if score > best:
                best_field, best = col, score
        if not best_field:
            return None
        bonus = 0.2 if best_field in ("mobilephone", "telephone1") else 0.0
        return Match(party=party, field=best_field, score=round(table.weight + best + bonus, 3))

    def party_from_row(self, table: TableSpec, row: Mapping[str, Any]) -> Party:
        numbers = []
        fields = []
        for col in table.phones:
            value = row.get(col)
            if isinstance(value, str) and value.strip():
                numbers.append(self.plan.parse(value))
                fields.append(col)
        company = ""
        if table.company_col:
            company = str(row.get(f"{table.company_col}@{FORMATTED}") or row.get(table.company_col) or "")
            if company and is_guid(company):
                company = ""
        party = Party(
            kind=table.kind,
            id=str(row[table.id_col]),
            name=str(row.get(table.name_col) or ""),
            company=company,
            numbers=tuple(numbers),
            table=table.logical,
            source=self.name,
            fields=tuple(fields),
        )
        return Party(
            party.kind,
            party.id,
            party.name,
            party.company,
            party.numbers,
            self.record_url(party),
            party.table,
            party.source,
            party.fields,
        )

    async def search(self, text: str, limit: int = 20) -> list[Party]:
        """Records whose name starts with *text* (``startswith`` uses the index; §1.2), or, for a
        number, the caller lookup."""
        text = text.strip()
        if not text:
            return []
        number = self.plan.parse(text)
        if number.digits and len(number.digits) >= 5 and not any(c.isalpha() for c in text):
            return [m.party for m in await self.lookup_online(number)][:limit]
        tables = list(self.tables)
        parts = [
            BatchRequest(
                "GET",
                self.url(
                    t.entity_set,
                    {
                        "$select": ",".join(t.select()),
                        "$filter": f"startswith({t.name_col},{literal(text[:100])})",
                        "$top": str(limit),
                    },
                ),
                headers={"Prefer": f'odata.include-annotations="{FORMATTED}"'},
            )
            for t in tables
        ]
        responses = await self.batch(parts, continue_on_error=True, what="search")
        out: list[Party] = []
        for table, resp in zip(tables, responses, strict=False):
            if resp.status < 400:
                out.extend(self.party_from_row(table, row) for row in (resp.json() or {}).get("value", []))
        return out[:limit]

    async def get(self, kind: str, record_id: str) -> Party | None:
        try:
            table = self.table(kind)
        except KeyError:
            return None
        if not is_guid(record_id):
            return None
        try:
            row = await self.retrieve(table.entity_set, record_id, table.select(), annotations=True)
        except CrmNotFound:
            if self.index is not None:
                self.index.forget(table.logical, record_id.lower())
            return None
        return self.party_from_row(table, row)

    def record_url(self, party: Party) -> str:
        """``main.aspx?…pagetype=entityrecord&etn=…&id=%7B…%7D`` (§8); ``""`` for non-CRM parties."""
        if party.source not in ("", self.name) or not is_guid(party.id):
            return ""
        return self.entity_url(party.table or party.kind.value, party.id)

    def entity_url(self, logical: str, record_id: str) -> str:
        app = f"appid={quote(self.app_id, safe='')}&" if self.app_id else ""
        return f"{self.org}/main.aspx?{app}pagetype=entityrecord&etn={quote(logical, safe='')}&id=%7B{record_id}%7D"

    def new_record_url(self, logical: str, values: Mapping[str, str]) -> str:
        """A prefilled new-record form. ``extraqs`` is encoded twice for its values, as the form
        parameters page demands for ``=``, ``&`` and ``+`` (§8). Partylist and regarding fields
        cannot be prefilled, so they are not accepted here."""
        inner = "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in values.items())
        app = f"appid={quote(self.app_id, safe='')}&" if self.app_id else ""
        return (
            f"{self.org}/main.aspx?{app}pagetype=entityrecord&etn={quote(logical, safe='')}"
            f"&extraqs={quote(inner, safe='')}"
        )


def _garbled(what: str, resp: httpx.Response) -> CrmUnavailable:
    """A 2xx answer that is not what the Web API sends (a proxy's or captive portal's page):
    transient, never a reason to give up on a write."""
    kind = resp.headers.get("content-type", "?")
    return CrmUnavailable(
        f"{what or 'request'}: Dynamics 365 answered {resp.status_code} with {kind!r}, not OData"
    )


def _guid(value: str) -> str:
    if not is_guid(value):
        raise CrmRejected(f"{value!r} is not a record id")
    return value.lower()
