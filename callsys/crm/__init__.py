"""The one ``Crm`` protocol. ``LocalCrm`` (the embedded directory) and ``DynamicsCrm`` (Dataverse
Web API) both implement it; the UI and the core never know which one is behind.

Lookups are async because the real CRM is a network service; the local one answers at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from callsys.model import Party, PartyKind, PhoneNumber

if TYPE_CHECKING:
    from callsys.numbers import NumberPlan

__all__ = [
    "BrowsableDirectory",
    "Crm",
    "EditableDirectory",
    "IndexedCrm",
    "InstantLookup",
    "InstantRecord",
    "Match",
    "NumberedCrm",
    "RecordDetails",
    "RekeyableDirectory",
    "SignedInCrm",
]


@dataclass(frozen=True, slots=True)
class Match:
    """One record that answers to a number (B2: there may be several).

    ``field`` is the column the number was found in (``mobilephone``, ``telephone1`` …);
    ``score`` ranks matches, higher first: exact E.164 beats a national-digits match, a person
    (contact, lead) beats a company, a recently changed record beats an old one.
    """

    party: Party
    field: str = ""
    score: float = 1.0


@runtime_checkable
class Crm(Protocol):
    name: str

    async def lookup(self, number: PhoneNumber) -> Sequence[Match]:
        """Every record having *number* in any of its phone columns, best first (IN1, IN4, B2)."""
        ...

    async def search(self, text: str, limit: int = 20) -> Sequence[Party]:
        """Records whose name, company or number contains *text* (for the search box, OUT3)."""
        ...

    async def get(self, kind: str, record_id: str) -> Party | None:
        """One record by table and id, or ``None`` if it does not exist (any more)."""
        ...

    def record_url(self, party: Party) -> str:
        """Where the record opens (CRM web page), or ``""`` when it opens in the local details view."""
        ...

    async def close(self) -> None: ...


# ------------------------------------------------------------------ optional behaviour, declared
# What only one CRM does, each a small protocol (``isinstance`` answers it), so that a front end
# asks the type rather than probing names.


@runtime_checkable
class InstantLookup(Protocol):
    """Answers a number without waiting (the local directory: one indexed SQLite query)."""

    def lookup_now(self, number: PhoneNumber) -> Sequence[Match]: ...


@runtime_checkable
class InstantRecord(Protocol):
    """Gives one record by id without waiting."""

    def get_now(self, record_id: str) -> Party | None: ...


@runtime_checkable
class RecordDetails(Protocol):
    """Keeps more of a record than ``Party`` says (e-mail, notes): the details view shows it."""

    def details(self, record_id: str) -> dict[str, str]: ...


@runtime_checkable
class BrowsableDirectory(Protocol):
    """A directory listed page by page, in name order (the contacts view with no search)."""

    def count(self) -> int: ...

    def list_parties(self, limit: int = 100, offset: int = 0) -> list[Party]: ...


@runtime_checkable
class EditableDirectory(InstantLookup, Protocol):
    """A directory the agent edits in place (records added, numbers added to a record)."""

    def add(
        self,
        name: str,
        numbers: Iterable[str | tuple[str, str]] = (),
        *,
        kind: PartyKind | str = PartyKind.CONTACT,
        company: str = "",
        email: str = "",
        notes: str = "",
        record_id: str | None = None,
    ) -> Party: ...

    def update(
        self,
        record_id: str,
        *,
        name: str | None = None,
        company: str | None = None,
        kind: PartyKind | str | None = None,
        numbers: Iterable[str | tuple[str, str]] | None = None,
        email: str | None = None,
        notes: str | None = None,
    ) -> Party: ...


@runtime_checkable
class NumberedCrm(Protocol):
    """Reads its phone columns with a number plan, which Settings may change without a restart."""

    plan: NumberPlan


@runtime_checkable
class RekeyableDirectory(NumberedCrm, Protocol):
    """Keys local numbers with the plan's area code: they are keyed again when it changes."""

    def reindex(self) -> int: ...


@runtime_checkable
class IndexedCrm(Protocol):
    """Keeps a local phone index of the CRM's numbers (B3): a ring is answered from it at once,
    and a delta sync keeps it current."""

    @property
    def index(self) -> object | None:
        """The phone index (``callsys.crm.dynamics.phoneindex.PhoneIndex``), or ``None``."""


@runtime_checkable
class SignedInCrm(Protocol):
    """A CRM the agent signs in to: it tells who is signed in (the settings' connection test)."""

    async def who_am_i(self) -> str: ...
