"""``callsys log`` — the session call log (IN9): every call, newest first, with filters."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from callsys.cli._shared import close_database, simulation_database
from callsys.errors import ConfigError
from callsys.model import Direction, EndReason
from callsys.settings import CALENDAR

if TYPE_CHECKING:
    from callsys.calllog import CallRecord
    from callsys.cli import Context

__all__ = ["format_time", "parse_when", "register"]

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """``today``, ``yesterday``, ``7d`` / ``12h`` / ``30m`` / ``2w`` ago, or an ISO date or time
    (local time unless it says otherwise). Raises ``ValueError`` with what is expected."""
    current = (now or datetime.now(UTC)).astimezone()
    word = text.strip().lower()
    midnight = datetime.combine(current.date(), time(), tzinfo=current.tzinfo)
    if word in ("today", "now"):
        return current if word == "now" else midnight
    if word == "yesterday":
        return midnight - timedelta(days=1)
    relative = _RELATIVE.match(word)
    if relative:
        return current - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        if len(word) == 10:
            day = date.fromisoformat(word)
            return datetime.combine(day, time()).astimezone()
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use today, yesterday, 7d, 12h, 30m, 2026-11-25 or 2026-11-25T09:30"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def format_time(moment: datetime, *, jalali: bool = False) -> str:
    """Local time for people: ``2026-11-25 21:30:00``, or ``1405-09-04 21:30:00`` in the Jalali
    (Persian) calendar."""
    local = moment.astimezone()
    if jalali:
        import jdatetime

        return str(jdatetime.datetime.fromgregorian(datetime=local).strftime("%Y-%m-%d %H:%M:%S"))
    return local.strftime("%Y-%m-%d %H:%M:%S")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "log",
        parents=[common],
        help="show the call log",
        description="The call log: incoming, outgoing and missed calls, newest first.",
    )
    parser.add_argument("--since", metavar="WHEN", help="today, yesterday, 7d, 12h, or an ISO date/time")
    parser.add_argument("--until", metavar="WHEN", help="same forms as --since (exclusive)")
    parser.add_argument("--direction", choices=[d.value for d in Direction])
    parser.add_argument("--result", choices=[r.value for r in EndReason], help="how the call ended")
    parser.add_argument("--missed", action="store_true", help="only missed calls")
    parser.add_argument("--search", metavar="TEXT", help="name, company, number or notes containing TEXT")
    parser.add_argument("--limit", type=int, default=50, metavar="N", help="at most N calls (default 50)")
    parser.add_argument(
        "--calendar",
        choices=("gregorian", "jalali"),
        help="dates in the text output (default: the ui.calendar setting)",
    )
    parser.add_argument(
        "--simulated",
        action="store_true",
        help="the calls 'callsys simulate' played (kept apart from the real call log)",
    )
    parser.set_defaults(run=_run)


def _when(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise ConfigError(f"--{option}: {exc}.") from None


def _run(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.calllog import CallLog

    since, until = _when("since", args.since), _when("until", args.until)
    db = simulation_database(ctx) if args.simulated else ctx.database
    try:
        records = CallLog(db).query(
            since=since,
            until=until,
            direction=args.direction,
            result=args.result,
            text=args.search,
            missed=True if args.missed else None,
            limit=args.limit,
        )
    finally:
        if db is not ctx.__dict__.get("database"):
            db.close()
        close_database(ctx)
    plan = ctx.plan
    jalali = (args.calendar or ctx.settings[CALENDAR]) == "jalali"

    def line(record: CallRecord) -> str:
        arrow = "→" if record.direction is Direction.OUTGOING else "←"
        when = format_time(record.started_at, jalali=jalali)
        number = plan.display(record.number) or "anonymous"
        who = record.display_name if record.display_name != str(record.number) else ""
        minutes, seconds = divmod(record.duration, 60)
        result = record.result.value if record.result else record.state.value
        if record.missed:
            result += " (missed)"
        parts = [when, arrow, f"{number:<18}", f"{who:<24}", f"{minutes}:{seconds:02d}", result]
        if record.line:
            parts.append(f"line {record.line}")
        return "  ".join(parts)

    ctx.emit(
        [r.to_dict() for r in records],
        lambda: "\n".join(line(r) for r in records) if records else "No calls.",
    )
    return 0
