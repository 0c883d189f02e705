"""Converting a call (IN11, OUT7) into a CRM record, without a window: what the call is
(``Subject``), what the agent filled in (``Fields``), and the backend of the CRM in use
(``backend_for``), which creates a Case, a Lead, a Contact, an Account or a follow-up Phone Call,
or adds the caller's number to an existing record:

* ``DynamicsBackend`` — ``callsys.crm.dynamics.convert.Converter`` (client-chosen ids, the call's
  phone-call activity relinked to the new record, optimistic concurrency when adding a number);
* ``LocalBackend`` — the built-in directory (``LocalCrm``): contacts, leads and companies, and a
  number added to a record. It has no cases or scheduled calls, so those are not offered.

A conversion the backend will not do raises ``ConvertRefused`` with a ``reason`` (and the fields
it names), never a sentence: the window words it in the agent's language.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from callsys.crm import EditableDirectory, InstantLookup, InstantRecord
from callsys.errors import AuthError, CrmError, CrmRejected, CrmUnavailable
from callsys.model import Party, PartyKind, PhoneNumber

if TYPE_CHECKING:
    from callsys.crm.dynamics.convert import CallerDetails
    from callsys.session import CallSession

__all__ = [
    "ACTIONS",
    "ACTION_TABLES",
    "AsksRequired",
    "ConvertBackend",
    "ConvertRefused",
    "Converted",
    "DynamicsBackend",
    "Fields",
    "LocalBackend",
    "PrefilledForms",
    "Subject",
    "backend_for",
    "covered",
    "record_action",
    "subject_for_row",
]

log = logging.getLogger(__name__)


class ConvertRefused(CrmRejected):
    """A conversion that was not done, and why: ``reason`` is ``no_target`` (no record chosen to
    add the number to), ``no_customer`` (a case without a contact or account), ``missing`` (the
    CRM requires ``fields``, by their titles), ``gone`` (the record no longer exists),
    ``unsupported`` (the CRM cannot do that), ``invalid`` (``detail`` says what) or ``unknown``
    (no such conversion: ``detail``)."""

    def __init__(self, reason: str, *, fields: tuple[str, ...] = (), detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.fields = fields
        self.detail = detail


#: Everything a call can become, in the order offered.
ACTIONS = ("case", "lead", "contact", "account", "follow_up", "add_number")
_PEOPLE = (PartyKind.CONTACT, PartyKind.LEAD)


@dataclass(frozen=True, slots=True)
class Subject:
    """The call being converted: who, which number, what the agent already knows."""

    number: PhoneNumber
    name: str = ""  # caller-ID name, or the matched record's
    company: str = ""
    party: Party | None = None  # the record the call was matched to, if any
    candidates: tuple[Party, ...] = ()  # every matching record (B2)
    activity_id: str | None = None  # the call's phone-call activity in the CRM
    call_id: str | None = None  # the call's row in the local log
    started_at: datetime | None = None
    notes: str = ""
    direction: str = "incoming"


@dataclass(frozen=True, slots=True)
class Converted:
    action: str
    record_id: str
    url: str = ""
    party: Party | None = None  # the new (or changed) record, for the log and the pop-ups
    linked: bool = False  # the call's activity now points at it
    detail: str = ""  # e.g. the phone column the number went into


@dataclass
class Fields:
    """What the form holds."""

    name: str = ""
    company: str = ""
    email: str = ""
    title: str = ""
    description: str = ""
    due: datetime | None = None
    target: Party | None = None  # the case's customer / the record to add the number to
    #: values of the other columns the CRM requires (``RequiredColumn.logical`` → value)
    extra: dict[str, Any] = field(default_factory=dict)


class ConvertBackend(Protocol):
    crm: Any

    def actions(self) -> tuple[str, ...]: ...

    async def convert(self, action: str, subject: Subject, fields: Fields) -> Converted: ...

    async def search(self, text: str) -> Sequence[Party]: ...


@runtime_checkable
class AsksRequired(Protocol):
    """A back-end whose CRM may require more columns than the dialog's own fields (Dynamics 365):
    ``required`` says which, for an action's table."""

    async def required(self, action: str) -> tuple[Any, ...]: ...


@runtime_checkable
class PrefilledForms(Protocol):
    """A back-end whose CRM has its own new-record form, which opens prefilled."""

    def form_url(self, action: str, subject: Subject, fields: Fields) -> str: ...


# ------------------------------------------------------------------------------ backends
def _number_text(number: PhoneNumber) -> str:
    return number.e164 or number.digits or number.raw


class LocalBackend:
    """The built-in directory: new contacts, leads and companies, and numbers added to records."""

    def __init__(self, crm: Any) -> None:
        self.crm = crm

    def actions(self) -> tuple[str, ...]:
        return ("contact", "lead", "account", "add_number")

    async def search(self, text: str) -> Sequence[Party]:
        return list(await self.crm.search(text, 20))

    async def convert(self, action: str, subject: Subject, fields: Fields) -> Converted:
        number = _number_text(subject.number)
        try:
            if action in ("contact", "lead", "account"):
                kind = {"contact": PartyKind.CONTACT, "lead": PartyKind.LEAD, "account": PartyKind.ACCOUNT}[
                    action
                ]
                name = fields.company if action == "account" and not fields.name else fields.name
                party = self.crm.add(
                    name,
                    [number] if number else [],  # the directory's default field
                    kind=kind,
                    company="" if action == "account" else fields.company,
                    email=fields.email,
                    notes=fields.description,
                )
                return Converted(action, party.id, "", party)
            if action == "add_number":
                target = fields.target
                if target is None:
                    raise ConvertRefused("no_target")
                return self._add_number(target, subject.number)
        except ValueError as exc:
            raise ConvertRefused("invalid", detail=str(exc)) from None
        raise ConvertRefused("unsupported")

    def _add_number(self, target: Party, number: PhoneNumber) -> Converted:
        current = self.crm.get_now(target.id)
        if current is None:
            raise ConvertRefused("gone")
        if any(m.party.id == current.id for m in self.crm.lookup_now(number)):
            return Converted("add_number", current.id, "", current, detail="already")
        pairs: list[tuple[str, str]] = []
        for existing in current.numbers:
            column = next((m.field for m in self.crm.lookup_now(existing) if m.party.id == current.id), "")
            pairs.append((column or "telephone", existing.raw or _number_text(existing)))
        pairs.append(("telephone", _number_text(number)))
        party = self.crm.update(current.id, numbers=pairs)
        return Converted("add_number", party.id, "", party, detail="telephone")


class DynamicsBackend:
    """Dynamics 365 through ``callsys.crm.dynamics.convert.Converter``."""

    def __init__(self, crm: Any, *, agent_id: str | None = None) -> None:
        from callsys.crm.dynamics.convert import Converter

        self.crm = crm
        self.converter = Converter(crm, agent_id=agent_id)

    def actions(self) -> tuple[str, ...]:
        return ACTIONS

    async def search(self, text: str) -> Sequence[Party]:
        return list(await self.crm.search(text, 20))

    def form_url(self, action: str, subject: Subject, fields: Fields) -> str:
        """The prefilled Dynamics 365 form for *action* (when the organisation requires more);
        none for a follow-up, whose caller and regarding record a form cannot prefill (§8)."""
        table = ACTION_TABLES.get(action) if action != "follow_up" else None
        if table is None or subject.number.is_anonymous:
            return ""
        return str(self.converter.new_form_url(table, _caller_details(subject, fields)))

    async def required(self, action: str) -> tuple[Any, ...]:
        """The columns the organisation requires for *action*'s table that callsys does not fill
        (``callsys.crm.dynamics.required.RequiredColumn``), read once per session."""
        from callsys.crm.dynamics.required import required_columns

        table = ACTION_TABLES.get(action)
        if table is None:
            return ()
        try:
            return await required_columns(self.crm).required(table)
        except (CrmRejected, AuthError) as exc:  # no right to read metadata: the CRM will say on create
            log.warning("cannot read what a %s requires: %s", table, exc)
            return ()

    async def convert(self, action: str, subject: Subject, fields: Fields) -> Converted:
        try:
            needed = await self.required(action)
        except CrmUnavailable as exc:
            # The metadata cannot be read now (offline, throttled): create with the known fields —
            # the CRM refuses in words if its own checks need more; the call is not lost (IN11).
            log.warning("creating a %s without knowing what it requires: %s", action, exc)
            needed = ()
        wanted = [c for c in needed if c.logical not in fields.extra and not covered(action, c)]
        if wanted:
            raise ConvertRefused("missing", fields=tuple(c.title for c in wanted))
        details = _caller_details(subject, fields)
        c = self.converter
        if action == "case":
            target = fields.target
            if target is None or target.kind not in (PartyKind.CONTACT, PartyKind.ACCOUNT):
                raise ConvertRefused("no_customer")
            created = await c.case(details, (target.table, target.id), title=fields.title)
        elif action == "lead":
            created = await c.lead(details)
        elif action == "contact":
            created = await c.contact(details)
        elif action == "account":
            created = await c.account(details)
        elif action == "follow_up":
            regarding = (
                (subject.party.table, subject.party.id)
                if subject.party is not None and subject.party.source == "dynamics"
                else None
            )
            created = await c.follow_up(
                details,
                fields.due or datetime.now().astimezone() + timedelta(days=1),
                regarding=regarding,
                subject=fields.title,
            )
        elif action == "add_number":
            target = fields.target
            if target is None:
                raise ConvertRefused("no_target")
            column = await c.add_number(self.crm.table(target.table), target.id, subject.number)
            return Converted(action, target.id, self.crm.record_url(target), target, detail=column)
        else:
            raise ConvertRefused("unknown", detail=action)
        party = None
        if created.table in ("contact", "account", "lead"):
            name = fields.company if created.table == "account" else fields.name
            party = Party(
                kind=PartyKind(created.table),
                id=created.id,
                name=name or _number_text(subject.number),
                company="" if created.table == "account" else fields.company,
                numbers=(subject.number,),
                url=created.url,
                source="dynamics",
            )
        linked = False
        detail = ""
        if subject.activity_id and created.table in ("contact", "account", "lead", "incident"):
            try:
                await c.link(subject.activity_id, created.table, created.id)
                linked = True
            except CrmError as exc:  # the record exists: say so rather than invite a duplicate
                log.warning("created %s %s but could not link the call: %s", created.table, created.id, exc)
                detail = "not_linked"
        return Converted(action, created.id, created.url, party, linked, detail)


#: The CRM table each conversion creates a row in.
ACTION_TABLES = {
    "case": "incident",
    "lead": "lead",
    "contact": "contact",
    "account": "account",
    "follow_up": "phonecall",
}


def covered(action: str, column: Any) -> bool:
    """Is *column* one the dialog's own fields fill (the name, company, e-mail, description)?"""
    from callsys.crm.dynamics.required import COVERED

    return column.logical in COVERED.get(ACTION_TABLES.get(action, ""), {})


def _caller_details(subject: Subject, fields: Fields) -> CallerDetails:
    """What the dialog knows about the caller, as the Dynamics converter takes it."""
    from callsys.crm.dynamics.convert import CallerDetails

    return CallerDetails(
        subject.number,
        name=fields.name,
        company=fields.company,
        email=fields.email,
        subject=fields.title,
        description=fields.description,
        extra=dict(fields.extra),
    )


def backend_for(crm: Any) -> ConvertBackend | None:
    """The conversions the CRM behind *crm* can do (``None``: no CRM, nothing to convert to)."""
    if crm is None:
        return None
    if crm.name == "dynamics":
        return DynamicsBackend(crm)
    if isinstance(crm, EditableDirectory):
        return LocalBackend(crm)
    return None


def record_action(actions: Sequence[str], party: Party) -> str | None:
    """What a call already matched to *party* opens on: a case for that customer, or its number
    added to that record — the record, not a new one (a new contact would be a duplicate)."""
    if "case" in actions and party.kind in (PartyKind.CONTACT, PartyKind.ACCOUNT):
        return "case"
    return "add_number" if "add_number" in actions else None


def subject_for_row(desktop: CallSession, row_id: str, live_call: Any = None) -> Subject | None:
    """The ``Subject`` of a call-log row (or of a live call), with what the desktop knows of it."""
    record = desktop.calllog.get(row_id) if desktop.calllog is not None else None
    if record is None and live_call is None:
        return None
    party: Party | None = None
    crm = desktop.crm
    if record is not None and record.party_id and isinstance(crm, InstantRecord):
        party = crm.get_now(record.party_id)
    if party is None and record is not None and record.party_id and record.party_kind is not None:
        party = Party(
            kind=record.party_kind,
            id=record.party_id,
            name=record.party_name,
            company=record.party_company,
            source=crm.name if crm is not None else "",
        )
    candidates: tuple[Party, ...] = ()
    number = record.number if record is not None else live_call.remote
    if isinstance(crm, InstantLookup) and not number.is_anonymous:
        candidates = tuple(m.party for m in crm.lookup_now(number))
    elif not number.is_anonymous and desktop.lookup is not None:
        candidates = tuple(
            m.party for m in desktop.lookup.cached(number) or ()
        )  # Dynamics 365: what the ring found
    if party is not None and all(c.id != party.id for c in candidates):
        candidates = (party, *candidates)
    activity_id = record.activity_id if record is not None else None
    call_id = record.call_id if record is not None else live_call.id
    started_at = record.started_at if record is not None else live_call.started_at
    activity = desktop.activity
    if not activity_id and activity is not None:
        try:  # this call's activity, not the latest of a call with its id (ids repeat)
            activity_id = activity.activity_id(call_id, started_at=started_at)
        except Exception:
            log.debug("no activity for %s", call_id, exc_info=True)
    return Subject(
        number=number,
        name=record.name if record is not None else live_call.remote_name,
        company=record.party_company if record is not None else "",
        party=party,
        candidates=candidates,
        activity_id=activity_id,
        call_id=record.id if record is not None else live_call.id,
        started_at=record.started_at if record is not None else live_call.started_at,
        notes=record.notes if record is not None else "",
        direction=(record.direction if record is not None else live_call.direction).value,
    )
