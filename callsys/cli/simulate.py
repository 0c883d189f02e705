"""``callsys simulate SCENARIO`` — play a scripted call scenario on the simulated phone system,
headless: the same CallManager, call log and caller lookup as the desktop app, with each call
event printed as a line (JSON lines with ``--json``).

The calls are fake, so they go to a call log of their own (``callsys.simulated.sqlite3`` beside
the real database; ``callsys log --simulated`` and ``callsys report --simulated`` read it) and
never into the real log, its reports or the CRM. ``--log-to-real`` writes them into the real
call log instead (to try the log and the reports with sample calls). The caller lookup uses the
real directory either way.

``--log-to-crm`` (Dynamics 365 only) makes each call a phone-call activity exactly as the desktop
does — the same ``ActivityLogger``, the same durable outbox in the real database — for an admin
trying a tenant without a phone: the scenario ends, the outbox is delivered (waiting up to
``--crm-wait`` seconds), and what could not be delivered yet stays queued for ``callsys crm
flush`` or the desktop. Never by default: fake calls would be counted in the CRM's reports.

The simulator comes from the provider registry (``ctx.registry.create("sim", …)``); the core
never imports ``providers``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from callsys.cli._shared import close_database, simulation_database
from callsys.errors import ConfigError
from callsys.model import Call, CallEvent
from callsys.provider import ScenarioPlayer

if TYPE_CHECKING:
    from callsys.activity import ActivityLogger
    from callsys.cli import Context
    from callsys.crm import Match
    from callsys.outbox import Outbox
    from callsys.provider import Provider
    from callsys.session import CallSession

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
        "--simulated'), unless --log-to-real is given. Callers are looked up in the real directory. "
        "With --log-to-crm (Dynamics 365) each call also becomes a phone-call activity, as the desktop "
        "logs it.",
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
    parser.add_argument(
        "--log-to-crm",
        action="store_true",
        help="also log each call as a phone-call activity in Dynamics 365, as the desktop does (to try "
        "a tenant; the activities are real and count in the CRM's reports)",
    )
    parser.add_argument(
        "--crm-wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="with --log-to-crm: how long to wait for Dynamics 365 to take the activities (default 60); "
        "what is left stays queued for 'callsys crm flush'",
    )
    parser.set_defaults(run=_run)


def _scenarios(provider: Provider) -> Mapping[str, Any]:
    """The simulator's scenario table, as the object the registry gave us declares it
    (``ScenarioPlayer``): the core never imports providers."""
    return provider.scenarios if isinstance(provider, ScenarioPlayer) else {}


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
    from callsys.lookup import CallerLookup
    from callsys.session import CallSession
    from callsys.settings import DNIS_LINES

    # The desktop's call session: the plan, IN12's lines, the lookup, the record chosen per call.
    session = CallSession.for_plan(
        ctx.plan, ctx.settings[DNIS_LINES], registry=ctx.registry, settings=ctx.settings
    )
    provider = ctx.registry.create("sim", session.provider_options({"speed": args.speed}))
    session.provider = provider
    scenarios = _scenarios(provider)
    if args.scenario not in scenarios:
        known = ", ".join(sorted(scenarios)) or "none"
        raise ConfigError(f"There is no scenario {args.scenario!r}; expected one of: {known}.")

    session.crm = ctx.crm()
    try:
        activities = _activities(ctx, session) if args.log_to_crm else None
    except ConfigError:
        await session.close()
        raise
    log_db = ctx.database if args.log_to_real else simulation_database(ctx)
    call_log = CallLog(log_db)
    session.calllog = call_log
    session.manager.subscribe(call_log)
    session.lookup = CallerLookup(session.crm)
    events: asyncio.Queue[tuple[CallEvent, Call] | None] = asyncio.Queue()
    session.manager.subscribe(lambda event, call: events.put_nowait((event, call)))
    printed = 0

    async def printer() -> None:
        nonlocal printed
        while (item := await events.get()) is not None:
            event, call = item
            matches = list(await session.identify(call))
            if matches and call.id not in session.parties:
                session.remember_party(session.log_key(call.id), matches[0].party)
            if activities is not None:
                # after the lookup, as the desktop does it: the activity names the caller's record
                activities.logger(event, call)
            _print_event(ctx, event, call, matches, call_log.row_id(call.id))
            printed += 1

    printing = asyncio.get_running_loop().create_task(printer())
    delivered: dict[str, int] | None = None
    played = False
    try:
        await provider.start(session.manager.listener(provider.name))
        if not isinstance(provider, ScenarioPlayer):
            raise ConfigError("The 'sim' provider cannot play scenarios.")
        await provider.play(args.scenario)
        played = True
    finally:
        await session.close_provider()
        events.put_nowait(None)
        await printing
        try:
            if activities is not None and played:
                delivered = await activities.deliver(args.crm_wait)
        finally:
            await session.close()  # the lookup, the CRM
            if log_db is not ctx.database:
                log_db.close()
    if delivered is not None:
        _print_delivery(ctx, delivered)
    if not ctx.json:
        where = (
            "the call log ('callsys log')"
            if args.log_to_real
            else "the simulation log ('callsys log --simulated'), not the real call log"
        )
        ctx.out.write(f"{printed} event(s); the calls are in {where}.\n")
        ctx.out.flush()
    return 0 if delivered is None or not (delivered["pending"] or delivered["dead"]) else 1


class _Activities:
    """``--log-to-crm``: the desktop's activity logging — ``ActivityLogger`` on the outbox of the
    real database, delivered by the outbox's own handlers."""

    def __init__(self, logger: ActivityLogger, outbox: Outbox) -> None:
        self.logger = logger
        self.outbox = outbox

    async def deliver(self, max_wait: float) -> dict[str, int]:
        result = await self.outbox.drain(max_wait=max_wait)
        return {"delivered": result.done, "pending": result.pending, "dead": len(self.outbox.dead())}


def _activities(ctx: Context, session: CallSession) -> _Activities:
    """The session's CRM activity logging, as the desktop wires it (``open_activities``), on the
    real database's outbox: what is not delivered now stays for ``callsys crm flush``."""
    from callsys.crm.dynamics.client import DynamicsCrm
    from callsys.session import open_activities

    if not isinstance(session.crm, DynamicsCrm):
        raise ConfigError(
            '--log-to-crm logs calls as Dynamics 365 activities: set crm.backend = "dynamics" '
            "(and crm.url) first."
        )
    plan = session.plan
    outbox, logger = open_activities(
        session.crm,
        ctx.database,
        ctx.settings,
        resolve_party=lambda call: session.parties.get(call.id),
        display_number=lambda call: plan.display(call.remote) or "unknown",
    )
    return _Activities(logger, outbox)


def _print_delivery(ctx: Context, delivered: dict[str, int]) -> None:
    if ctx.json:
        ctx.out.write(json.dumps({"crm_activities": delivered}) + "\n")
    else:
        line = (
            f"Dynamics 365: {delivered['delivered']} activity write(s) delivered, {delivered['pending']} "
            f"pending, {delivered['dead']} refused by the CRM"
        )
        if delivered["pending"]:
            line += " (the pending ones are kept: 'callsys crm flush' or the desktop delivers them)"
        if delivered["dead"]:
            line += " (see 'callsys crm outbox list')"
        ctx.out.write(line + ".\n")
    ctx.out.flush()


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
