"""``callsys simulate SCENARIO`` — play a scripted call scenario on the simulated phone system,
headless: the same CallManager, call log and caller lookup as the desktop app, with each call
event printed as a line (JSON lines with ``--json``).

The calls are fake, so they go to a call log of their own (``callsys.simulated.sqlite3`` beside
the real database; ``callsys log --simulated`` and ``callsys report --simulated`` read it) and
never into the real log, its reports or the CRM. ``--log-to-real`` writes them into the real
call log instead (to try the log and the reports with sample calls). The caller lookup uses the
real directory either way.

The simulator comes from the provider registry (``ctx.registry.create("sim", …)``); the core
never imports ``providers``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from callsys.cli._shared import close_database, simulation_database
from callsys.errors import ConfigError
from callsys.model import Call, CallEvent

if TYPE_CHECKING:
    from callsys.cli import Context
    from callsys.crm import Match
    from callsys.provider import Provider

__all__ = ["register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "simulate",
        parents=[common],
        help="play a call scenario on the simulated phone system",
        description="Play a scripted scenario (incoming, missed, waiting, outgoing …) headless, printing "
        "every call event. The fake calls are kept apart from the real call log: they go to a "
        "simulation log beside it (read it with 'callsys log --simulated' and 'callsys report "
        "--simulated'), unless --log-to-real is given. Callers are looked up in the real directory.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", help="see --list")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    parser.add_argument(
        "--speed", type=float, default=1.0, metavar="X", help="time factor: 2 = twice as fast, 0 = no waiting"
    )
    parser.add_argument(
        "--log-to-real",
        action="store_true",
        help="write the calls into the real call log (and so its reports) instead of the simulation log",
    )
    parser.set_defaults(run=_run)


def _scenarios(provider: Provider) -> Mapping[str, Any]:
    """The simulator's scenario table. The simulator publishes it as ``SCENARIOS`` next to its
    class; we reach it through the object the registry gave us, never by importing providers."""
    table = getattr(provider, "scenarios", None) or vars(sys.modules[type(provider).__module__]).get(
        "SCENARIOS"
    )
    return table if isinstance(table, Mapping) else {}


def _run(args: argparse.Namespace, ctx: Context) -> int:
    if args.speed < 0:
        raise ConfigError("--speed must be 0 (no waiting) or more.")
    if args.list:
        provider = ctx.registry.create("sim", {"speed": 0})
        names = sorted(_scenarios(provider))
        ctx.emit({"scenarios": names}, "\n".join(names))
        return 0
    if not args.scenario:
        raise ConfigError("Name a scenario to play (see 'callsys simulate --list').")
    try:
        return asyncio.run(_simulate(args, ctx))
    finally:
        close_database(ctx)


async def _simulate(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.calllog import CallLog
    from callsys.callmanager import CallManager
    from callsys.lookup import CallerLookup
    from callsys.settings import DNIS_LINES

    plan = ctx.plan
    dnis_lines = ctx.settings[DNIS_LINES]
    provider = ctx.registry.create("sim", {"speed": args.speed})
    scenarios = _scenarios(provider)
    if args.scenario not in scenarios:
        known = ", ".join(sorted(scenarios)) or "none"
        raise ConfigError(f"There is no scenario {args.scenario!r}; expected one of: {known}.")

    manager = CallManager.for_plan(plan, dnis_lines)
    log_db = ctx.database if args.log_to_real else simulation_database(ctx)
    call_log = CallLog(log_db)
    manager.subscribe(call_log)
    crm = ctx.crm()
    lookup = CallerLookup(crm)
    events: asyncio.Queue[tuple[CallEvent, Call] | None] = asyncio.Queue()
    manager.subscribe(lambda event, call: events.put_nowait((event, call)))
    printed = 0

    async def printer() -> None:
        nonlocal printed
        identified: set[str] = set()
        while (item := await events.get()) is not None:
            event, call = item
            matches = await lookup.identify(call)
            if matches and call.id not in identified:
                identified.add(call.id)
                party = matches[0].party
                call_log.set_party(call_log.row_id(call.id), party.kind, party.id, party.name, party.company)
            _print_event(ctx, event, call, matches, call_log.row_id(call.id))
            printed += 1

    printing = asyncio.get_running_loop().create_task(printer())
    try:
        await provider.start(manager.listener(provider.name))
        play = getattr(provider, "play", None)
        if play is None:
            raise ConfigError("The 'sim' provider cannot play scenarios.")
        await play(args.scenario)
    finally:
        await provider.close()
        events.put_nowait(None)
        await printing
        await lookup.close()
        await crm.close()
        if log_db is not ctx.database:
            log_db.close()
    if not ctx.json:
        where = (
            "the call log ('callsys log')"
            if args.log_to_real
            else "the simulation log ('callsys log --simulated'), not the real call log"
        )
        ctx.out.write(f"{printed} event(s); the calls are in {where}.\n")
        ctx.out.flush()
    return 0


def _print_event(ctx: Context, event: CallEvent, call: Call, matches: list[Match], log_id: str) -> None:
    party = matches[0].party if matches else None
    plan = ctx.plan
    if ctx.json:
        record = {
            "event": event.value,
            "call": call.id,
            "log_id": log_id,
            "direction": call.direction.value,
            "state": call.state.value,
            "number": call.remote.e164 or call.remote.digits or None,
            "caller_id_name": call.remote_name,
            "party": party.name if party else None,
            "party_company": party.company if party else None,
            "party_id": party.id if party else None,
            "matches": len(matches),
            "line": call.line,
            "dnis": call.dnis,
            "waiting": call.waiting,
            "reason": call.end_reason.value if call.end_reason else None,
            "missed": call.is_missed,
            "duration": call.duration_seconds,
            "variables": dict(call.variables),
        }
        ctx.out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        who = party.name if party else (call.remote_name or "unknown caller")
        if party and party.company and party.company != party.name:
            who += f" ({party.company})"
        if len(matches) > 1:
            who += f" +{len(matches) - 1} more"
        parts = [
            datetime.now().strftime("%H:%M:%S"),
            f"{event.value:<9}",
            call.id,
            plan.display(call.remote) or "anonymous",
            who,
        ]
        if call.line:
            parts.append(f"line {call.line}")
        if call.waiting:
            parts.append("waiting")
        if call.end_reason:
            parts.append(
                call.end_reason.value + (f" after {call.duration_seconds} s" if call.answered_at else "")
            )
        ctx.out.write("  ".join(parts) + "\n")
    ctx.out.flush()
