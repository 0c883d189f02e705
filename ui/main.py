"""The composition root: the ``callsys`` command.

``callsys`` alone starts the desktop window (``ui.app.run``); ``callsys COMMAND`` runs a headless
sub-command from ``callsys.cli`` — those never import Qt. This module is the one place that
joins the core (``callsys``), the telephony adapters (``providers``) and the widgets (``ui``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from callsys import cli
from providers import REGISTRY


def _extra_commands() -> list[cli.Register]:
    """Sub-commands whose code lives with a provider (they need the provider's modules)."""
    from providers.sip import phone_cli

    return [phone_cli.register]


def _desktop(args: argparse.Namespace, ctx: cli.Context) -> int:
    from ui.app import run  # imports PyQt6: only for the desktop

    return run(args, ctx)


def _starts_desktop(argv: Sequence[str]) -> bool:
    """``callsys`` alone, or with a tel:/callto:/sip: link: the window (no sub-command) —
    global options (``--config PATH``) may come first."""
    if any(a in ("-h", "--help", "--version") for a in argv):
        return False
    first = cli.first_positional(argv)
    return first is None or ":" in first


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # The window's cold start does not pay for importing the softphone's command line.
    extra = [] if _starts_desktop(args) else _extra_commands()
    return cli.main(args, registry=REGISTRY, extra=extra, desktop=_desktop)


if __name__ == "__main__":
    sys.exit(main())
