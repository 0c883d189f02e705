"""``callsys secret set|get|delete NAME`` — passwords and client secrets in the OS keyring.

Secrets never go into the settings file (SET, CARD5); this is how an admin or a script puts them
where callsys looks for them. ``set`` reads the value from a hidden prompt, or from standard
input when that is not a terminal (``printf %s "$PW" | callsys secret set sip/1001@pbx``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from callsys import secrets
from callsys.errors import ConfigError

if TYPE_CHECKING:
    from callsys.cli import Context

__all__ = ["register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "secret",
        parents=[common],
        help="store, show or delete a secret in the system keyring",
        description="Secrets (SIP passwords, AMI secrets, the Dynamics client secret) live only in the "
        "system keyring, never in the settings file.",
    )
    sub = parser.add_subparsers(dest="secret_command", metavar="ACTION", required=True)
    put = sub.add_parser("set", parents=[common], help="store a secret (asks for it, or reads stdin)")
    put.add_argument("name", metavar="NAME", help="e.g. sip/1001@pbx.example.com or dynamics/client-secret")
    put.add_argument("--stdin", action="store_true", help="read the value from standard input")
    put.set_defaults(run=_set)
    get = sub.add_parser("get", parents=[common], help="tell whether a secret is stored")
    get.add_argument("name", metavar="NAME")
    get.add_argument("--show", action="store_true", help="print the secret itself")
    get.set_defaults(run=_get)
    delete = sub.add_parser("delete", parents=[common], help="remove a secret")
    delete.add_argument("name", metavar="NAME")
    delete.set_defaults(run=_delete)


def _read_value(args: argparse.Namespace) -> str:
    if args.stdin or not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = getpass.getpass(f"Secret for {args.name}: ")
    if not value:
        raise ConfigError("No secret was given; nothing was stored.")
    return value


def _set(args: argparse.Namespace, ctx: Context) -> int:
    secrets.set_secret(args.name, _read_value(args))
    ctx.emit({"name": args.name, "stored": True}, f"Stored the secret {args.name} in the system keyring.")
    return 0


def _get(args: argparse.Namespace, ctx: Context) -> int:
    value = secrets.get_secret(args.name)
    data: dict[str, object] = {"name": args.name, "set": value is not None}
    if args.show:
        data["value"] = value
    if value is None:
        text = f"No secret {args.name} is stored."
    else:
        text = value if args.show else f"The secret {args.name} is stored (use --show to print it)."
    ctx.emit(data, text)
    return 0 if value is not None else 1


def _delete(args: argparse.Namespace, ctx: Context) -> int:
    secrets.delete_secret(args.name)
    ctx.emit({"name": args.name, "deleted": True}, f"Deleted the secret {args.name} (if it was stored).")
    return 0
