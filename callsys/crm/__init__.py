"""The one ``Crm`` protocol. ``LocalCrm`` (the embedded directory) and ``DynamicsCrm`` (Dataverse
Web API) both implement it; the UI and the core never know which one is behind.

Lookups are async because the real CRM is a network service; the local one answers at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from callsys.model import Party, PhoneNumber

__all__ = ["Crm", "Match"]


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
