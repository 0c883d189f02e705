"""``callsys report`` — call statistics over a date range (IN10, OUT8): average talk time,
answered vs unanswered, calls per user, per line and per direction. From Dynamics 365 (FetchXML
aggregates) when it is the CRM and reachable, otherwise from the local call log."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from callsys.cli._shared import close_database, simulation_database
from callsys.errors import ConfigError, CrmError

if TYPE_CHECKING:
    from callsys.cli import Context
    from callsys.crm.dynamics.reports import Bucket, CallReport

__all__ = ["register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "report",
        parents=[common],
        help="call statistics over a date range",
        description="Average talk time, answered vs unanswered, and calls per user, per line and per "
        "direction. --source auto uses Dynamics 365 when it is configured and reachable, else the local "
        "call log.",
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="WHEN",
        default="7d",
        help="today, yesterday, 7d, 12h, or an ISO date/time (default 7d)",
    )
    parser.add_argument(
        "--to", dest="end", metavar="WHEN", default="now", help="same forms (exclusive; default now)"
    )
    parser.add_argument("--source", choices=("auto", "dynamics", "local"), default="auto")
    parser.add_argument(
        "--simulated",
        action="store_true",
        help="figures of the calls 'callsys simulate' played (its own log; never in the real figures)",
    )
    parser.set_defaults(run=_run)


def _when(option: str, value: str) -> datetime:
    from callsys.cli.log import parse_when

    try:
        return parse_when(value)
    except ValueError as exc:
        raise ConfigError(f"--{option}: {exc}.") from None


def _run(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.crm.dynamics.reports import local_report
    from callsys.settings import CRM_BACKEND

    start, end = _when("from", args.start), _when("to", args.end)
    if end <= start:
        raise ConfigError("--to must be later than --from.")
    if args.simulated:
        if args.source == "dynamics":
            raise ConfigError("Simulated calls are never in Dynamics 365: use --simulated without --source.")
        db = simulation_database(ctx)
        try:
            simulated = local_report(db, start, end)
        finally:
            db.close()
        simulated.notes.insert(0, "Simulated calls ('callsys simulate'), not real ones.")
        ctx.emit(simulated.to_dict(), lambda: _text(simulated))
        return 0
    try:
        report: CallReport | None = None
        fallback = ""
        use_dynamics = args.source == "dynamics" or (
            args.source == "auto" and ctx.settings[CRM_BACKEND] == "dynamics"
        )
        if use_dynamics:
            try:
                report = asyncio.run(_from_dynamics(ctx, start, end))
            except CrmError as exc:
                if args.source == "dynamics":
                    raise
                fallback = f"Dynamics 365 is not reachable ({exc}); figures from the local call log."
        if report is None:
            report = local_report(ctx.database, start, end)
            if fallback:
                report.notes.insert(0, fallback)
    finally:
        close_database(ctx)
    ctx.emit(report.to_dict(), lambda: _text(report))
    return 0


async def _from_dynamics(ctx: Context, start: datetime, end: datetime) -> CallReport:
    from callsys.cli.crm import dynamics
    from callsys.crm.dynamics.reports import dynamics_report, local_report
    from callsys.crm.dynamics.setup import unanswered_status

    crm = dynamics(ctx)
    try:
        report = await dynamics_report(crm, start, end, unanswered_status=unanswered_status(ctx.settings))
    finally:
        await crm.close()
    report.by_line = local_report(ctx.database, start, end).by_line
    return report


def _minutes(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


def _line(label: str, b: Bucket) -> str:
    return (
        f"  {label:<28} {b.calls:>6} calls  {b.answered:>6} answered  {b.unanswered:>6} unanswered  "
        f"{b.answered_percent:5.1f} %  avg talk {_minutes(b.average_talk_seconds)}"
    )


def _text(report: CallReport) -> str:
    start = report.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    end = report.end.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    out = [
        f"Calls {start} – {end} UTC (from {'Dynamics 365' if report.source == 'dynamics' else 'the local call log'})",
        _line("all", report.total),
    ]
    for title, table in (
        ("per direction", report.by_direction),
        ("per user", report.by_user),
        ("per line", report.by_line),
    ):
        if table:
            out.append(title + ":")
            out.extend(_line(key or "(none)", bucket) for key, bucket in sorted(table.items()))
    out.extend(f"Note: {n}" for n in report.notes)
    return "\n".join(out)
