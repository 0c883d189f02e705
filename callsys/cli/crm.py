"""``callsys crm …`` — the Dynamics 365 connector from the command line.

- ``sync``: fill or refresh the local phone index (delta when possible; ``--full`` forces a
  full resync), with progress on stderr.
- ``discover``: read the organisation's metadata and propose settings: custom phone columns of
  the standard tables, custom tables with phone columns (IN2), a custom "unanswered" status
  reason, and tables without change tracking.
- ``convert``: make a record from a call (Case, Lead, Contact, Account, follow-up Phone Call) or
  add the number to an existing record, and link the call's activity (IN11, OUT7).
- ``flush``: deliver what the outbox holds now; exits 1 while anything is pending or refused.
- ``outbox list|retry|drop``: the writes the CRM refused ("dead" items): list them with the
  refusal, send them again, or give them up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from callsys.cli._shared import close_database
from callsys.errors import ConfigError

if TYPE_CHECKING:
    from callsys.cli import Context
    from callsys.crm.dynamics.client import DynamicsCrm
    from callsys.outbox import Outbox

__all__ = ["register"]

T = TypeVar("T")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "crm",
        parents=[common],
        help="Dynamics 365: phone index sync, discovery, conversions",
        description='Work with the Dynamics 365 connector (crm.backend = "dynamics").',
    )
    sub = parser.add_subparsers(dest="crm_command", metavar="ACTION", required=True)

    sync = sub.add_parser(
        "sync",
        parents=[common],
        help="fill or refresh the local phone index",
        description="Bring the local phone index up to date with Dynamics 365: changes since the last "
        "sync (change tracking), or everything when there was none, the change token expired, or --full.",
    )
    sync.add_argument("--full", action="store_true", help="resync every table from scratch")
    sync.add_argument("--table", action="append", metavar="NAME", help="only this table (repeatable)")
    sync.set_defaults(run=_sync)

    discover = sub.add_parser(
        "discover",
        parents=[common],
        help="propose settings for custom phone columns and tables",
        description="Read the organisation's metadata: phone-formatted text columns of the standard "
        "tables and of custom tables, change tracking, and phone-call status reasons. Prints the "
        "settings to add.",
    )
    discover.set_defaults(run=_discover)

    convert = sub.add_parser(
        "convert",
        parents=[common],
        help="make a record from a call, or add the number to a record",
        description="Create a Case (needs --customer), Lead, Contact, Account or follow-up Phone Call "
        "prefilled from the caller, or add the number to an existing record (--record). With --call or "
        "--activity the call's activity is linked to the new record.",
    )
    convert.add_argument("kind", choices=("case", "lead", "contact", "account", "followup", "add-number"))
    convert.add_argument("number", metavar="NUMBER", help="the caller's number, written any way")
    convert.add_argument("--name", default="", help="the caller's name")
    convert.add_argument("--company", default="")
    convert.add_argument("--email", default="")
    convert.add_argument("--subject", default="", help="case title, lead topic or phone call subject")
    convert.add_argument("--description", default="")
    convert.add_argument("--customer", metavar="TABLE:ID", help="contact:ID or account:ID (case)")
    convert.add_argument(
        "--record", metavar="TABLE:ID", help="the record (add-number; regarding for followup)"
    )
    convert.add_argument("--column", help="the phone column to fill (add-number)")
    convert.add_argument("--due", metavar="WHEN", help="followup: ISO date/time, default tomorrow 09:00 UTC")
    link = convert.add_mutually_exclusive_group()
    link.add_argument("--call", metavar="CALL_ID", help="link this logged call's activity")
    link.add_argument("--activity", metavar="ACTIVITY_ID", help="link this phone-call activity")
    convert.set_defaults(run=_convert)

    url = sub.add_parser(
        "url",
        parents=[common],
        help="the address of a record, or of a prefilled new-record form",
        description="Print (and with --browser open) the Dynamics 365 address of a record (TABLE ID), "
        "or of a new-record form prefilled with a caller's number (TABLE --number N).",
    )
    url.add_argument("table", metavar="TABLE")
    url.add_argument("record_id", metavar="ID", nargs="?")
    url.add_argument("--number", help="prefill a new record with this number")
    url.add_argument("--name", default="")
    url.add_argument("--company", default="")
    url.add_argument("--browser", action="store_true", help="open it in the web browser")
    url.set_defaults(run=_url)

    flush = sub.add_parser("flush", parents=[common], help="deliver the pending CRM writes now")
    flush.add_argument(
        "--wait", type=float, default=60.0, metavar="SECONDS", help="how long to keep retrying (default 60)"
    )
    flush.set_defaults(run=_flush)

    outbox = sub.add_parser(
        "outbox",
        parents=[common],
        help="the CRM writes that were refused: list, retry or drop them",
        description="Writes the CRM refused for good (a rejected field, a deleted record …) are kept "
        "as 'dead' items. List them with the CRM's answer, send them again after fixing the cause, or "
        "drop them.",
    )
    what = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    listing = what.add_parser("list", parents=[common], help="list the refused writes")
    listing.add_argument("--pending", action="store_true", help="also list the writes still waiting")
    listing.set_defaults(run=_outbox_list)
    for name, verb in (("retry", "send again"), ("drop", "delete for good")):
        action = what.add_parser(name, parents=[common], help=f"{verb}: the items named, or --all")
        action.add_argument(
            "ids", nargs="*", metavar="ID", help="item ids as listed (a unique start is enough)"
        )
        action.add_argument("--all", action="store_true", help="every refused write")
        action.set_defaults(run=_outbox_retry if name == "retry" else _outbox_drop)


def dynamics(ctx: Context) -> DynamicsCrm:
    from callsys.crm.dynamics.client import DynamicsCrm
    from callsys.settings import CRM_BACKEND

    crm = ctx.crm()
    if not isinstance(crm, DynamicsCrm):
        raise ConfigError(
            "This command talks to Dynamics 365, but 'crm.backend' is "
            f'{ctx.settings[CRM_BACKEND]!r}. Set crm.backend = "dynamics" and crm.url.',
            key=CRM_BACKEND.key,
        )
    return crm


def run_with_crm(ctx: Context, work: Callable[[DynamicsCrm], Awaitable[T]]) -> T:
    async def go() -> T:
        crm = dynamics(ctx)
        try:
            return await work(crm)
        finally:
            await crm.close()

    try:
        return asyncio.run(go())
    finally:
        close_database(ctx)


# ---------------------------------------------------------------------------------- sync
def _sync(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.crm.dynamics.phoneindex import IndexSync, PhoneIndex, SyncProgress

    def progress(p: SyncProgress) -> None:
        if ctx.json:
            return
        end = "\n" if p.finished else "\r"
        print(
            f"  {p.table}: {p.records:,} {'changes' if p.mode == 'delta' else 'records'}"
            f"{' — done' if p.finished else ''}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    async def work(crm: DynamicsCrm) -> dict[str, Any]:
        index = crm.index
        if not isinstance(index, PhoneIndex):
            index = PhoneIndex(ctx.database, ctx.plan, tables=crm.tables, url_for=crm.entity_url)
        report = await IndexSync(index, crm, progress).sync(full=args.full, tables=args.table)
        return {
            "tables": report.mode,
            "upserted": report.upserted,
            "deleted": report.deleted,
            "seconds": round(report.seconds, 3),
            "records_per_second": round(report.records_per_second),
            "indexed_records": index.count(),
        }

    data = run_with_crm(ctx, work)

    def text() -> str:
        lines = [f"{table}: {mode}" for table, mode in data["tables"].items()]
        lines.append(
            f"{data['upserted']:,} records written, {data['deleted']:,} removed in {data['seconds']} s; "
            f"the index holds {data['indexed_records']:,} records."
        )
        return "\n".join(lines)

    ctx.emit(data, text)
    return 0


# ---------------------------------------------------------------------------------- discover
UNANSWERED_WORDS = ("unanswered", "missed", "no answer", "not answered", "بی پاسخ", "بی‌پاسخ", "از دست رفته")


async def discover(crm: DynamicsCrm) -> dict[str, Any]:
    """Metadata → proposals (contract §1.1 and §3.2a). Format filtering is done here, on the
    client, because ``FormatName/Value eq 'Phone'`` is not verified to work server-side."""

    async def phone_columns(logical: str) -> list[str]:
        data = await crm.get_json(
            f"EntityDefinitions(LogicalName='{logical}')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata",
            {"$select": "LogicalName,FormatName"},
            what=f"metadata of {logical}",
        )
        return sorted(
            str(a["LogicalName"])
            for a in data.get("value", [])
            if (a.get("FormatName") or {}).get("Value") == "Phone"
        )

    known = {t.logical: set(t.phones) for t in crm.tables}
    entities = await crm.get_json(
        "EntityDefinitions",
        {
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,IsCustomEntity,"
            "ChangeTrackingEnabled"
        },
        what="table metadata",
    )
    by_name = {str(e["LogicalName"]): e for e in entities.get("value", [])}
    extra_columns: list[str] = []
    for logical in ("contact", "account", "lead", "systemuser"):
        for col in await phone_columns(logical):
            if col not in known.get(logical, set()):
                extra_columns.append(f"{logical}.{col}")
    custom_tables: list[dict[str, Any]] = []
    for logical, entity in sorted(by_name.items()):
        if not entity.get("IsCustomEntity") or logical in known:
            continue
        phones = await phone_columns(logical)
        if phones:
            custom_tables.append(
                {
                    "logical": logical,
                    "entity_set": entity.get("EntitySetName", ""),
                    "id": entity.get("PrimaryIdAttribute", ""),
                    "name": entity.get("PrimaryNameAttribute", ""),
                    "phones": phones,
                }
            )
    untracked = sorted(
        t.logical
        for t in crm.tables
        if t.logical in by_name and not by_name[t.logical].get("ChangeTrackingEnabled")
    )
    status = await crm.get_json(
        "EntityDefinitions(LogicalName='phonecall')/Attributes(LogicalName='statuscode')"
        "/Microsoft.Dynamics.CRM.StatusAttributeMetadata",
        {"$select": "LogicalName", "$expand": "OptionSet"},
        what="phone call status reasons",
    )
    unanswered: dict[str, Any] | None = None
    for option in (status.get("OptionSet") or {}).get("Options", []):
        label = str(((option.get("Label") or {}).get("UserLocalizedLabel") or {}).get("Label") or "")
        if option.get("State") == 1 and any(w in label.lower() for w in UNANSWERED_WORDS):
            unanswered = {"statuscode": option.get("Value"), "label": label}
            break
    return {
        "extra_phone_columns": extra_columns,
        "custom_tables": custom_tables,
        "tables_without_change_tracking": untracked,
        "unanswered_status": unanswered,
    }


def _discover(args: argparse.Namespace, ctx: Context) -> int:
    data = run_with_crm(ctx, discover)

    def text() -> str:
        out = ["# Add to your settings file:", "[crm]"]
        if data["extra_phone_columns"]:
            cols = ", ".join(f'"{c}"' for c in data["extra_phone_columns"])
            out.append(f"extra_phone_columns = [{cols}]")
        if data["unanswered_status"]:
            u = data["unanswered_status"]
            out.append(f'unanswered_statuscode = {u["statuscode"]}  # "{u["label"]}" under Completed')
        for t in data["custom_tables"]:
            phones = ", ".join(f'"{p}"' for p in t["phones"])
            out += [
                "",
                "[[crm.custom_tables]]",
                f'logical = "{t["logical"]}"',
                f'entity_set = "{t["entity_set"]}"',
                f'id = "{t["id"]}"',
                f'name = "{t["name"]}"',
                f"phones = [{phones}]",
            ]
        if not (data["extra_phone_columns"] or data["custom_tables"] or data["unanswered_status"]):
            out = ["Nothing to add: no custom phone columns, custom tables or unanswered status found."]
        if data["tables_without_change_tracking"]:
            out.append("")
            out.append(
                "# Change tracking is off for: "
                + ", ".join(data["tables_without_change_tracking"])
                + " — turn it on (Power Apps → table → Properties → Track changes) for the phone index."
            )
        return "\n".join(out)

    ctx.emit(data, text)
    return 0


# ---------------------------------------------------------------------------------- flush
def _flush(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.activity import register_handlers
    from callsys.outbox import Outbox

    async def work(crm: DynamicsCrm) -> dict[str, Any]:
        outbox = Outbox(ctx.database)
        register_handlers(outbox, crm)
        result = await outbox.drain(max_wait=args.wait)
        return {"pending": result.pending, "dead": len(outbox.dead()), "delivered": result.done}

    data = run_with_crm(ctx, work)

    def text() -> str:
        line = f"{data['delivered']} delivered, {data['pending']} pending, {data['dead']} refused by the CRM"
        if data["dead"]:
            line += " (kept: see callsys crm outbox list)"
        return line + "."

    ctx.emit(data, text)
    return 0 if data["pending"] == 0 and data["dead"] == 0 else 1


# ---------------------------------------------------------------------------------- outbox
def _outbox(ctx: Context) -> Outbox:
    from callsys.outbox import Outbox

    return Outbox(ctx.database)


def _outbox_list(args: argparse.Namespace, ctx: Context) -> int:
    try:
        box = _outbox(ctx)
        items = [*box.dead(), *(box.pending() if args.pending else [])]
    finally:
        close_database(ctx)
    data = [
        {
            "id": i.id,
            "state": i.state,
            "kind": i.kind,
            "attempts": i.attempts,
            "error": i.last_error,
            "activityid": i.payload.get("activityid"),
        }
        for i in items
    ]

    def text() -> str:
        if not data:
            return "Nothing was refused." + ("" if args.pending else " (--pending lists what is waiting.)")
        lines = []
        for d in data:
            lines.append(f"{d['id']}  {d['state']}  {d['kind']}  {d['attempts']} attempt(s)")
            if d["error"]:
                lines.append(f"    {d['error']}")
        return "\n".join(lines)

    ctx.emit(data, text)
    return 0


def _chosen(args: argparse.Namespace, box: Outbox) -> list[str] | None:
    """The dead items named on the command line (unique id starts allowed); None for --all."""
    if args.all == bool(args.ids):
        raise ConfigError("Name the items to act on (ids from 'callsys crm outbox list'), or give --all.")
    if args.all:
        return None
    dead = [i.id for i in box.dead()]
    chosen = []
    for wanted in args.ids:
        found = [d for d in dead if d == wanted] or [d for d in dead if d.startswith(wanted)]
        if len(found) != 1:
            problem = "matches no refused item" if not found else "matches several items; give more of it"
            raise ConfigError(f"{wanted!r} {problem} (see 'callsys crm outbox list').")
        chosen.append(found[0])
    return chosen


def _outbox_retry(args: argparse.Namespace, ctx: Context) -> int:
    try:
        box = _outbox(ctx)
        count = box.retry_dead(_chosen(args, box))
    finally:
        close_database(ctx)
    ctx.emit({"retried": count}, f"{count} item(s) will be sent again; 'callsys crm flush' sends them now.")
    return 0


def _outbox_drop(args: argparse.Namespace, ctx: Context) -> int:
    try:
        box = _outbox(ctx)
        count = box.drop_dead(_chosen(args, box))
    finally:
        close_database(ctx)
    ctx.emit({"dropped": count}, f"{count} refused item(s) dropped.")
    return 0


# ---------------------------------------------------------------------------------- convert
def _ref(text: str | None, option: str) -> tuple[str, str]:
    from callsys.crm.dynamics.odata import is_guid

    table, _, record_id = (text or "").partition(":")
    if not table or not is_guid(record_id):
        raise ConfigError(f"{option} expects TABLE:ID, e.g. contact:8c1e…-…, not {text!r}.")
    return table, record_id.lower()


def _convert(args: argparse.Namespace, ctx: Context) -> int:
    from datetime import UTC, datetime, timedelta

    from callsys.activity import ActivityLogger, register_handlers
    from callsys.crm.dynamics.convert import CallerDetails, Converter
    from callsys.outbox import Outbox

    number = ctx.plan.parse(args.number)
    if number.is_anonymous:
        raise ConfigError(f"{args.number!r} is not a phone number.")
    details = CallerDetails(
        number,
        name=args.name,
        company=args.company,
        email=args.email,
        subject=args.subject,
        description=args.description,
    )

    async def work(crm: DynamicsCrm) -> dict[str, Any]:
        activity = args.activity
        if args.call:
            outbox = Outbox(ctx.database)
            logger = ActivityLogger(outbox)
            activity = logger.activity_id(args.call)
            if activity is None:
                raise ConfigError(f"No activity was logged for call {args.call!r}.")
            register_handlers(outbox, crm)
            await outbox.drain(max_wait=30)  # the activity must exist before it can be linked
        agent = await crm.who_am_i()
        convert = Converter(crm, agent_id=agent)
        if args.kind == "add-number":
            table, record_id = _ref(args.record, "--record")
            column = await convert.add_number(crm.table(table), record_id, number, column=args.column)
            return {
                "table": table,
                "id": record_id,
                "column": column,
                "url": crm.entity_url(table, record_id),
            }
        if args.kind == "case":
            made = await convert.case(details, _ref(args.customer, "--customer"), link_activity=activity)
        elif args.kind == "lead":
            made = await convert.lead(details, link_activity=activity)
        elif args.kind == "contact":
            made = await convert.contact(details, link_activity=activity)
        elif args.kind == "account":
            made = await convert.account(details, link_activity=activity)
        else:
            if args.due:
                due = datetime.fromisoformat(args.due)
                due = due if due.tzinfo else due.replace(tzinfo=UTC)
            else:
                due = (datetime.now(UTC) + timedelta(days=1)).replace(
                    hour=9, minute=0, second=0, microsecond=0
                )
            regarding = _ref(args.record, "--record") if args.record else None
            made = await convert.follow_up(details, due, regarding=regarding, subject=args.subject)
        return {
            "table": made.table,
            "id": made.id,
            "url": made.url,
            "linked_activity": activity if made.linked else None,
        }

    data = run_with_crm(ctx, work)

    def text() -> str:
        if "column" in data:
            return f"The number is in {data['table']}.{data['column']}: {data['url']}"
        linked = " (the call is linked to it)" if data.get("linked_activity") else ""
        return f"Created {data['table']} {data['id']}{linked}: {data['url']}"

    ctx.emit(data, text)
    return 0


def _url(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.crm.dynamics.convert import CallerDetails, Converter

    crm = dynamics(ctx)
    try:
        if args.record_id:
            from callsys.crm.dynamics.odata import is_guid

            if not is_guid(args.record_id):
                raise ConfigError(f"{args.record_id!r} is not a record id.")
            address = crm.entity_url(args.table, args.record_id.lower())
        else:
            if not args.number:
                raise ConfigError("Give a record ID, or --number for a new-record form.")
            details = CallerDetails(ctx.plan.parse(args.number), name=args.name, company=args.company)
            address = Converter(crm).new_form_url(args.table, details)
    finally:
        asyncio.run(crm.close())
        close_database(ctx)
    if args.browser:
        import webbrowser

        webbrowser.open(address)
    ctx.emit({"url": address}, address)
    return 0
