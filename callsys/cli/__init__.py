"""The ``callsys`` command line: ``callsys`` alone starts the desktop; sub-commands run headless.

Every sub-command lives in its own module under ``callsys/cli/`` (or is handed in by the
composition root when it needs a provider's code, e.g. ``phone``) and exposes::

    def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None

which adds its parser with ``parents=[common]`` (so it takes ``--config PATH`` and ``--json``)
and ``set_defaults(run=function)``; ``function(args, ctx) -> int`` does the work. Output goes
through ``ctx.emit(data, text)``: JSON when ``--json`` was given, readable text otherwise.
Errors from the ``CallsysError`` tree print as one sentence (or ``{"error": …}``) — never a
traceback — with exit status 2 for configuration errors and 1 for the rest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from callsys import __version__
from callsys.errors import CallsysError, ConfigError
from callsys.provider import ProviderRegistry
from callsys.settings import Settings, load_settings

if TYPE_CHECKING:
    from callsys.crm import Crm
    from callsys.numbers import NumberPlan
    from callsys.store import Database

__all__ = ["COMMAND_MODULES", "Context", "Register", "build_parser", "first_positional", "main"]

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]", argparse.ArgumentParser], None]

#: Sub-command modules inside the core, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "callsys.cli.directory",
    "callsys.cli.lookup",
    "callsys.cli.log",
    "callsys.cli.simulate",
    "callsys.cli.secret",
    "callsys.cli.crm",
    "callsys.cli.report",
    "callsys.cli.server",
    "callsys.cli.settings",
    "callsys.cli.release",
    "callsys.cli.update",
)


@dataclass
class Context:
    """What a command needs, built lazily from ``--config``."""

    args: argparse.Namespace
    registry: ProviderRegistry
    out: TextIO = field(default_factory=lambda: sys.stdout)

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @cached_property
    def settings(self) -> Settings:
        path = getattr(self.args, "config", None)
        settings = load_settings(Path(path) if path else None, must_exist=path is not None)
        for warning in settings.warnings:  # a typo or a newer version's entry: kept, not used
            print(f"callsys: warning: {warning}", file=sys.stderr)
        return settings

    @cached_property
    def plan(self) -> NumberPlan:
        from callsys.numbers import plan_from_settings

        return plan_from_settings(self.settings)

    @cached_property
    def database(self) -> Database:
        from callsys.store import open_database

        return open_database(self.settings)

    def crm(self) -> Crm:
        from callsys.crm.factory import create_crm

        return create_crm(self.settings, self.database, self.plan)

    def emit(self, data: Any, text: str | Callable[[], str] | None = None) -> None:
        """Print *data* as JSON (``--json``) or *text* (a string or a function making one)."""
        if self.json:
            json.dump(data, self.out, ensure_ascii=False, indent=2, default=str)
            self.out.write("\n")
        else:
            rendered = text() if callable(text) else text
            if rendered is None:
                rendered = json.dumps(data, ensure_ascii=False, indent=2, default=str)
            if rendered:
                self.out.write(rendered if rendered.endswith("\n") else rendered + "\n")
        self.out.flush()


#: Options of ``callsys`` itself that take a value (the value is never the sub-command).
_VALUE_OPTIONS = ("--config",)


def _common(*, sub_command: bool = False) -> argparse.ArgumentParser:
    """The global options. A sub-command's copy has no defaults of its own (``SUPPRESS``): the
    top level sets them, so ``callsys --json log`` and ``callsys log --json`` both mean JSON —
    argparse lets a sub-parser's default overwrite what was given before the sub-command."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if sub_command else value

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=default(None),
        help="settings file to use instead of the default one",
    )
    common.add_argument(
        "--json", action="store_true", default=default(False), help="print machine-readable JSON"
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=default(0), help="more log output (repeatable)"
    )
    return common


def first_positional(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option or an option's value: the sub-command, a link
    (``tel:…``), or ``None`` — whether the global options come before it or after."""
    skip = False
    for at, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--":
            return argv[at + 1] if at + 1 < len(argv) else None
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-") or arg == "-":
            return arg
    return None


def build_parser(extra: Sequence[Register] = ()) -> argparse.ArgumentParser:
    common = _common(sub_command=True)
    parser = argparse.ArgumentParser(
        prog="callsys",
        description="Phone system ↔ Dynamics 365: caller pop-ups, call logging, click-to-dial. "
        "Without a command, starts the desktop app. The options below work before or after "
        "the command (callsys --config F log --json is callsys log --config F --json).",
        parents=[_common()],
    )
    parser.add_argument("--version", action="version", version=f"callsys {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands, common)
    for register in extra:
        register(commands, common)
    return parser


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    registry: ProviderRegistry,
    extra: Sequence[Register] = (),
    desktop: Callable[[argparse.Namespace, Context], int] | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the command line. *desktop* starts the window when no sub-command is given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(extra)
    # `callsys tel:+98…` (a clicked link) or `callsys --config X` → the desktop app
    names = _command_names(parser)
    first = first_positional(argv)
    if first is not None and first not in names:
        desktop_parser = argparse.ArgumentParser(prog="callsys", parents=[_common()])
        desktop_parser.add_argument("uris", nargs="*", help="tel:, callto: or sip: links to dial")
        args = desktop_parser.parse_args(argv)
        args.command = None
    else:
        args = parser.parse_args(argv)
        if not hasattr(args, "uris"):
            args.uris = []
    _configure_logging(args.verbose)
    ctx = Context(args=args, registry=registry, out=out or sys.stdout)
    try:
        if args.command is None:
            if desktop is None:
                parser.print_help(ctx.out)
                return 0
            return desktop(args, ctx)
        run: Callable[[argparse.Namespace, Context], int] = args.run
        return run(args, ctx)
    except CallsysError as exc:
        if ctx.json:
            ctx.emit({"error": str(exc), "type": type(exc).__name__})
        else:
            print(f"callsys: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        return 130
