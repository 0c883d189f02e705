"""Conversions from a call (IN11, OUT7; contract §4): a Case, a Lead, a Contact, an Account or a
follow-up Phone Call, prefilled from the caller; or the number added to an existing record.

Every create is ``POST … Prefer: return=representation`` with a client-chosen id. A conversion
*of a call* derives that id from the call's activity and the table (``record_id_for``), so doing
it again — after the link failed (one 503 is enough), the answer was lost, or the command was
simply run twice — finds the record made the first time (412 ``0x80040237``: already there) and
finishes the link instead of making a second record. Adding a number uses optimistic concurrency: read the
record with its ETag, ``PATCH`` with ``If-Match``, and on 412 read again and retry — never
overwriting a number someone else just typed. Linking the call's activity to the new record
goes through ``callsys.activity`` (a closed activity is reopened, relinked and closed again).
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from callsys.activity import regarding_bind, update_phonecall
from callsys.crm.dynamics.client import DynamicsCrm, TableSpec, is_duplicate
from callsys.crm.dynamics.odata import column, is_guid
from callsys.errors import CrmConflict, CrmError, CrmRejected
from callsys.model import PhoneNumber

__all__ = [
    "CallerDetails",
    "ColumnLengths",
    "Converter",
    "Created",
    "column_lengths",
    "record_id_for",
    "split_name",
]

log = logging.getLogger(__name__)

CASE_ORIGIN_PHONE = 1
#: "A validation error occurred. The length of the 'x' attribute … exceeded the maximum allowed length"
TOO_LONG = "0x80044331"
_SETS = {
    "contact": "contacts",
    "account": "accounts",
    "lead": "leads",
    "incident": "incidents",
    "phonecall": "phonecalls",
    "systemuser": "systemusers",
}
_IDS = {
    "contact": "contactid",
    "account": "accountid",
    "lead": "leadid",
    "incident": "incidentid",
    "phonecall": "activityid",
}


@dataclass(frozen=True, slots=True)
class CallerDetails:
    """What we know about the caller, to prefill the new record."""

    number: PhoneNumber
    name: str = ""
    company: str = ""
    email: str = ""
    subject: str = ""
    description: str = ""
    #: values for the other columns the organisation requires (``dataverse_required``), by logical name
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Created:
    table: str
    id: str
    url: str
    linked: bool = False  # the call's activity now points at it


def split_name(name: str) -> tuple[str, str]:
    """("Ana María", "Ruiz") from "Ana María Ruiz"; a single word is the last name."""
    parts = name.split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


class ColumnLengths:
    """``MaxLength`` of each text column per table, read once per session from the table's
    ``StringAttributeMetadata`` (an organisation may have changed the defaults)."""

    def __init__(self, crm: DynamicsCrm) -> None:
        self.crm = crm
        self._cache: dict[str, dict[str, int]] = {}

    async def of(self, table: str) -> dict[str, int]:
        if table not in self._cache:
            try:
                data = await self.crm.get_json(
                    f"EntityDefinitions(LogicalName='{column(table)}')/Attributes"
                    "/Microsoft.Dynamics.CRM.StringAttributeMetadata",
                    {"$select": "LogicalName,MaxLength"},
                    what=f"read the column lengths of a {table}",
                )
            except CrmError as exc:  # unreadable for now: the create's own refusal is shown
                log.info("cannot read the column lengths of %s: %s", table, exc)
                return {}
            self._cache[table] = {
                str(a["LogicalName"]): int(a["MaxLength"])
                for a in data.get("value") or ()
                if isinstance(a, Mapping) and a.get("LogicalName") and isinstance(a.get("MaxLength"), int)
            }
        return self._cache[table]


_LENGTHS: weakref.WeakKeyDictionary[DynamicsCrm, ColumnLengths] = weakref.WeakKeyDictionary()


def column_lengths(crm: DynamicsCrm) -> ColumnLengths:
    """The session's ``ColumnLengths`` of *crm* (one metadata read per table and connector)."""
    found = _LENGTHS.get(crm)
    if found is None:
        found = _LENGTHS[crm] = ColumnLengths(crm)
    return found


#: Namespace of the ids of records made from a call (``record_id_for``).
_FROM_CALL = uuid.UUID("6f1d8a52-3c1e-4b7a-9a53-2f0c6d1e8b40")


def record_id_for(activity_id: str, table: str) -> str:
    """The id of the *table* record made from the call whose activity is *activity_id*: the same
    every time, so converting a call again finds the first record rather than making another."""
    return str(uuid.uuid5(_FROM_CALL, f"{activity_id.lower()}/{table}"))


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Converter:
    def __init__(self, crm: DynamicsCrm, *, agent_id: str | None = None) -> None:
        self.crm = crm
        self.agent_id = agent_id

    def _number_text(self, number: PhoneNumber) -> str:
        text = number.e164 or number.digits
        if not text:
            raise CrmRejected("The call has no phone number to put into the record.")
        return text

    def _is_mobile(self, number: PhoneNumber) -> bool:
        if not number.e164:
            return False
        try:
            kind = phonenumbers.number_type(phonenumbers.parse(number.e164))
        except phonenumbers.NumberParseException:
            return False
        return kind in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )

    async def _create(self, table: str, body: dict[str, Any], link_activity: str | None) -> Created:
        record_id = record_id_for(link_activity, table) if link_activity else str(uuid.uuid4())
        body = {_IDS[table]: record_id, **body}
        if self.agent_id and table != "systemuser":
            body.setdefault("ownerid@odata.bind", f"/systemusers({self.agent_id})")
        spec = next((t for t in self.crm.tables if t.logical == table), None)
        select = spec.select() if spec is not None else [_IDS[table]]
        try:
            row = await self._post(table, body, select)
        except CrmConflict as exc:
            if not is_duplicate(exc) or not link_activity:
                raise
            # made from this call before (its link failed, or the answer was lost): the same record
            row = await self.crm.retrieve(_SETS[table], record_id, select, what=f"read the {table}")
        if spec is not None and self.crm.index is not None:
            self.crm.index.remember(table, row)  # the next ring finds it, before any sync
        linked = False
        if link_activity and table in ("contact", "account", "lead", "incident"):
            await self.link(link_activity, table, record_id)
            linked = True
        return Created(table, record_id, self.crm.entity_url(table, record_id), linked)

    async def _post(self, table: str, body: dict[str, Any], select: list[str]) -> dict[str, Any]:
        """Create; text too long for its column (400 ``0x80044331``, a caller's name is 50
        characters in ``firstname``) is cut to the columns' ``MaxLength`` read from the metadata,
        and the create sent again — the metadata is read only when it is needed."""
        what = f"create the {table}"
        try:
            return await self.crm.create(_SETS[table], body, select=select, what=what)
        except CrmRejected as exc:
            if exc.code != TOO_LONG:
                raise
            fitted = await self._fit(table, body)
            if fitted == body:
                raise
            return await self.crm.create(_SETS[table], fitted, select=select, what=what)

    async def _fit(self, table: str, body: dict[str, Any]) -> dict[str, Any]:
        """Text cut to its column's ``MaxLength``."""
        limits = await column_lengths(self.crm).of(table)
        out = dict(body)
        for key, value in body.items():
            limit = limits.get(key)
            if isinstance(value, str) and limit and len(value) > limit:
                out[key] = value[:limit].rstrip()
        return out

    async def link(self, activity_id: str, table: str, record_id: str) -> None:
        """Point the call's activity at *record* (reopening a closed activity for it, §3.2)."""
        await update_phonecall(self.crm, activity_id, regarding_bind(table, record_id))

    # ---------------------------------------------------------------- the conversions
    async def case(
        self,
        details: CallerDetails,
        customer: tuple[str, str],
        *,
        title: str = "",
        link_activity: str | None = None,
    ) -> Created:
        """A Case needs a customer: a contact or an account (§4)."""
        table, customer_id = customer
        if table not in ("contact", "account") or not is_guid(customer_id):
            raise CrmRejected(
                "A case needs a customer: choose or create a contact or an account for the caller first."
            )
        body: dict[str, Any] = {
            "title": (title or details.subject or f"Call {datetime.now(UTC):%Y-%m-%d %H:%M}")[:200],
            "caseorigincode": CASE_ORIGIN_PHONE,
            f"customerid_{table}@odata.bind": f"/{_SETS[table]}({customer_id})",
        }
        if details.description:
            body["description"] = details.description[:2000]
        body.update(details.extra)
        return await self._create("incident", body, link_activity)

    async def lead(self, details: CallerDetails, *, link_activity: str | None = None) -> Created:
        first, last = split_name(details.name)
        column = "mobilephone" if self._is_mobile(details.number) else "telephone1"
        body: dict[str, Any] = {
            "subject": (details.subject or f"Call from {details.number}")[:300],
            "lastname": last or f"Caller {details.number}",
            column: self._number_text(details.number),
        }
        if first:
            body["firstname"] = first
        if details.company:
            body["companyname"] = details.company
        if details.email:
            body["emailaddress1"] = details.email
        if details.description:
            body["description"] = details.description[:2000]
        body.update(details.extra)
        return await self._create("lead", body, link_activity)

    async def contact(
        self, details: CallerDetails, *, account_id: str | None = None, link_activity: str | None = None
    ) -> Created:
        first, last = split_name(details.name)
        column = "mobilephone" if self._is_mobile(details.number) else "telephone1"
        body: dict[str, Any] = {
            "lastname": last or f"Caller {details.number}",
            column: self._number_text(details.number),
        }
        if first:
            body["firstname"] = first
        if details.email:
            body["emailaddress1"] = details.email
        if account_id:
            body["parentcustomerid_account@odata.bind"] = f"/accounts({account_id})"
        body.update(details.extra)
        return await self._create("contact", body, link_activity)

    async def account(self, details: CallerDetails, *, link_activity: str | None = None) -> Created:
        name = details.company or details.name or f"Caller {details.number}"
        body: dict[str, Any] = {"name": name[:160], "telephone1": self._number_text(details.number)}
        if details.email:
            body["emailaddress1"] = details.email
        body.update(details.extra)
        return await self._create("account", body, link_activity)

    async def follow_up(
        self,
        details: CallerDetails,
        due: datetime,
        *,
        regarding: tuple[str, str] | None = None,
        subject: str = "",
    ) -> Created:
        """An open, outgoing phone call scheduled for *due*, to the caller, owned by the agent."""
        body: dict[str, Any] = {
            "subject": (subject or f"Call back {details.name or details.number}")[:200],
            "phonenumber": self._number_text(details.number),
            "directioncode": True,
            "scheduledend": _when(due),
        }
        if details.description:
            body["description"] = details.description[:2000]
        parties: list[dict[str, Any]] = []
        if regarding is not None:
            table, record_id = regarding
            body.update(regarding_bind(table, record_id))
            if table in ("contact", "account", "lead"):
                parties.append(
                    {
                        f"partyid_{table}@odata.bind": f"/{_SETS[table]}({record_id})",
                        "participationtypemask": 2,
                    }
                )
        if self.agent_id:
            parties.append(
                {
                    "partyid_systemuser@odata.bind": f"/systemusers({self.agent_id})",
                    "participationtypemask": 1,
                }
            )
        if parties:
            body["phonecall_activity_parties"] = parties
        body.update(details.extra)
        return await self._create("phonecall", body, None)

    async def add_number(
        self,
        table: TableSpec,
        record_id: str,
        number: PhoneNumber,
        *,
        column: str | None = None,
        attempts: int = 5,
    ) -> str:
        """Put *number* into a free phone column of a record; returns the column used.

        Optimistic concurrency (§4): ``If-Match`` with the ETag just read; on 412 read again —
        the column that was free may have been filled meanwhile — and retry.
        """
        text = self._number_text(number)
        if column is not None and column not in table.phones:
            raise CrmRejected(f"{column} is not a phone column of {table.logical}.")
        preferred = [column] if column else self._preferred(table, number)
        for _ in range(attempts):
            row = await self.crm.retrieve(
                table.entity_set, record_id, list(table.phones), what="read the record"
            )
            etag = str(row.get("@odata.etag") or "")
            for col in table.phones:
                value = row.get(col)
                if isinstance(value, str) and value and self.crm.plan.parse(value).key == number.key:
                    return col  # already there
            free = [c for c in preferred if not row.get(c)]
            if not free:
                raise CrmRejected(
                    f"Every phone field of this {table.logical} is in use; choose one to replace."
                )
            try:
                await self.crm.update(
                    table.entity_set, record_id, {free[0]: text}, if_match=etag or "*", what="add the number"
                )
            except CrmConflict:
                continue  # someone changed the record since we read it: read again
            return free[0]
        raise CrmConflict(f"The {table.logical} kept changing while the number was being added; try again.")

    def _preferred(self, table: TableSpec, number: PhoneNumber) -> list[str]:
        first = ["mobilephone"] if self._is_mobile(number) else []
        order = [*first, "telephone1", "telephone2", "telephone3", "mobilephone", *table.phones]
        return [c for c in dict.fromkeys(order) if c in table.phones and c != "fax"]

    def new_form_url(self, table: str, details: CallerDetails) -> str:
        """A prefilled new-record form (partylist and regarding cannot be prefilled, §8)."""
        first, last = split_name(details.name)
        values: Mapping[str, str]
        number = details.number.e164 or details.number.digits
        if table == "account":
            values = {"name": details.company or details.name, "telephone1": number}
        elif table == "phonecall":
            values = {"subject": details.subject or f"Call {number}", "phonenumber": number}
        elif table == "incident":
            values = {"title": details.subject or f"Call {number}"}
        else:
            values = {"firstname": first, "lastname": last, "telephone1": number}
            if table == "lead":
                values = {
                    **values,
                    "companyname": details.company,
                    "subject": details.subject or f"Call {number}",
                }
        return self.crm.new_record_url(table, {k: v for k, v in values.items() if v})
