"""Small helpers shared by the directory, lookup, log and simulate commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from callsys.model import Party, PhoneNumber

if TYPE_CHECKING:
    from callsys.cli import Context
    from callsys.crm import Match
    from callsys.numbers import NumberPlan
    from callsys.store import Database

__all__ = [
    "close_database",
    "match_dict",
    "number_dict",
    "party_dict",
    "party_line",
    "simulation_database",
    "simulation_path",
]


def close_database(ctx: Context) -> None:
    """Close the database if the command opened it (``Context.database`` is lazy)."""
    db = ctx.__dict__.pop("database", None)
    if db is not None:
        db.close()


def simulation_path(ctx: Context) -> Path | str:
    """Where ``callsys simulate`` logs its calls: a database of its own beside the real one
    (``callsys.sqlite3`` → ``callsys.simulated.sqlite3``), so fake calls never reach the call
    log, the reports or the CRM's figures. ``:memory:`` stays in memory."""
    from callsys.settings import DATABASE
    from callsys.store import database_path

    if ctx.settings[DATABASE] == ":memory:":
        return ":memory:"
    real = database_path(ctx.settings)
    return real.with_name(f"{real.stem}.simulated{real.suffix or '.sqlite3'}")


def simulation_database(ctx: Context) -> Database:
    """The simulation's call log (opened and migrated like the real one; the caller closes it)."""
    from callsys.store import open_database

    return open_database(simulation_path(ctx))


def number_dict(number: PhoneNumber) -> dict[str, Any]:
    return {
        "e164": number.e164,
        "digits": number.digits,
        "written": number.raw,
        "extension": number.extension,
    }


def party_dict(party: Party) -> dict[str, Any]:
    return {
        "kind": party.kind.value,
        "id": party.id,
        "name": party.name,
        "company": party.company,
        "numbers": [number_dict(n) for n in party.numbers],
        "url": party.url,
        "source": party.source,
    }


def match_dict(match: Match) -> dict[str, Any]:
    return {"score": round(match.score, 3), "field": match.field, "party": party_dict(match.party)}


def party_line(party: Party, plan: NumberPlan) -> str:
    """``Sara Ahmadi — Ahmadi & Co  (contact)  021 8877 6655, 0912 345 6789``"""
    who = party.name + (f" — {party.company}" if party.company and party.company != party.name else "")
    numbers = ", ".join(plan.display(n) for n in party.numbers)
    return f"{who}  ({party.kind.value})  {numbers}".rstrip()
