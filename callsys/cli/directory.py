"""``callsys directory`` — the local directory behind LocalCrm: import, list, add, delete."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from callsys.cli._shared import close_database, party_dict, party_line
from callsys.model import PartyKind

if TYPE_CHECKING:
    from callsys.cli import Context
    from callsys.crm.local import LocalCrm

__all__ = ["register"]

#: Files bigger than this get a progress line on stderr while they import.
_PROGRESS_BYTES = 512 * 1024


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "directory",
        parents=[common],
        help="the local directory of contacts and companies",
        description="The local directory (used as the CRM when crm.backend is 'local').",
    )
    sub = parser.add_subparsers(dest="directory_command", metavar="ACTION", required=True)

    imp = sub.add_parser(
        "import",
        parents=[common],
        help="import a CSV or vCard file",
        description="Import contacts from a CSV file (any delimiter, English or Persian column names) "
        "or a vCard file (2.1, 3.0, 4.0). Rows that are left out are listed with the reason.",
    )
    imp.add_argument("file", metavar="FILE", type=Path)
    imp.add_argument("--format", choices=("auto", "csv", "vcard"), default="auto", help="default: by content")
    imp.set_defaults(run=_import)

    lst = sub.add_parser("list", parents=[common], help="list records in name order")
    lst.add_argument("--limit", type=int, default=100, metavar="N")
    lst.add_argument("--offset", type=int, default=0, metavar="N")
    lst.set_defaults(run=_list)

    add = sub.add_parser("add", parents=[common], help="add one record")
    add.add_argument("name", metavar="NAME")
    add.add_argument("numbers", metavar="NUMBER", nargs="+")
    add.add_argument("--company", default="")
    add.add_argument(
        "--kind", choices=[k.value for k in PartyKind if k is not PartyKind.CUSTOM], default="contact"
    )
    add.set_defaults(run=_add)

    delete = sub.add_parser("delete", parents=[common], help="delete one record by its id")
    delete.add_argument("record_id", metavar="ID")
    delete.set_defaults(run=_delete)


def _directory(ctx: Context) -> LocalCrm:
    from callsys.crm.local import LocalCrm

    return LocalCrm(ctx.database, ctx.plan)


def _import(args: argparse.Namespace, ctx: Context) -> int:
    path: Path = args.file
    progress = None
    try:
        big = path.stat().st_size > _PROGRESS_BYTES
    except OSError:
        big = False  # the import itself reports the missing file
    if big:

        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\rimporting {path.name}: {done:,} of ~{total:,} rows")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    from callsys.crm.local_import import import_csv, import_file, import_vcard

    try:
        directory = _directory(ctx)
        if args.format == "csv":
            report = import_csv(directory, path, progress)
        elif args.format == "vcard":
            report = import_vcard(directory, path, progress)
        else:
            report = import_file(directory, path, progress)
    finally:
        close_database(ctx)

    def text() -> str:
        lines = [
            f"Imported {report.imported} new record(s) and updated {report.updated} from {path} "
            f"({report.format}, {report.numbers} phone number(s) stored, {report.seconds:.1f} s)."
        ]
        if report.skipped:
            lines.append(f"Skipped {len(report.skipped)} row(s):")
            lines += [f"  line {s.line}: {s.reason}" for s in report.skipped]
        return "\n".join(lines)

    ctx.emit(report.to_dict(), text)
    return 0


def _list(args: argparse.Namespace, ctx: Context) -> int:
    try:
        directory = _directory(ctx)
        parties = directory.list_parties(limit=args.limit, offset=args.offset)
        total = directory.count()
    finally:
        close_database(ctx)
    plan = ctx.plan
    ctx.emit(
        {"total": total, "records": [party_dict(p) for p in parties]},
        lambda: "\n".join([*(party_line(p, plan) for p in parties), f"({len(parties)} of {total} records)"]),
    )
    return 0


def _add(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.errors import ConfigError

    try:
        party = _directory(ctx).add(args.name, args.numbers, kind=args.kind, company=args.company)
    except ValueError as exc:
        raise ConfigError(f"Cannot add {args.name!r}: {exc}.") from None
    finally:
        close_database(ctx)
    ctx.emit(party_dict(party), f"Added {party_line(party, ctx.plan)}  id {party.id}")
    return 0


def _delete(args: argparse.Namespace, ctx: Context) -> int:
    try:
        gone = _directory(ctx).delete(args.record_id)
    finally:
        close_database(ctx)
    ctx.emit(
        {"deleted": gone, "id": args.record_id},
        "Deleted." if gone else f"There is no record {args.record_id}.",
    )
    return 0 if gone else 1
