"""``callsys lookup NUMBER`` — who has this number? The matching records of the configured CRM,
best first (IN4, B2)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from callsys.cli._shared import close_database, match_dict, number_dict, party_line

if TYPE_CHECKING:
    from callsys.cli import Context
    from callsys.crm import Match
    from callsys.model import PhoneNumber

__all__ = ["register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "lookup",
        parents=[common],
        help="find the records that have a phone number",
        description="Find every record having NUMBER in any of its phone fields, best match first. "
        "NUMBER may be written in any form: +98 21 8877 6655, 021-88776655, ۰۹۱۲…, tel:…",
    )
    parser.add_argument("number", metavar="NUMBER")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace, ctx: Context) -> int:
    number = ctx.plan.parse(args.number)
    try:
        matches = asyncio.run(_lookup(ctx, number))
    finally:
        close_database(ctx)
    plan = ctx.plan

    def text() -> str:
        shown = plan.display(number) or args.number
        if number.is_anonymous:
            typed = args.number if len(args.number) <= 40 else args.number[:39] + "…"  # a pasted page
            return f"{typed!r} is not a phone number."
        if not matches:
            return f"No record has the number {shown}."
        lines = [f"{shown}: {len(matches)} record(s)"]
        for index, match in enumerate(matches, start=1):
            where = f" [{match.field}]" if match.field else ""
            lines.append(f"{index}. {party_line(match.party, plan)}{where}  id {match.party.id}")
        return "\n".join(lines)

    ctx.emit({"number": number_dict(number), "matches": [match_dict(m) for m in matches]}, text)
    return 0


async def _lookup(ctx: Context, number: PhoneNumber) -> list[Match]:
    if number.is_anonymous:
        return []
    crm = ctx.crm()
    try:
        found = await crm.lookup(number)
        return sorted(found, key=lambda m: m.score, reverse=True)
    finally:
        await crm.close()
