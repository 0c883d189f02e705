"""The ``callsys`` command: the launcher and composition root (``python -m callsys``).

``callsys`` alone (or with a ``tel:``/``callto:``/``sip:`` link) starts the desktop window
(``ui.app.run``); ``callsys COMMAND`` runs a headless sub-command from ``callsys.cli`` — those
never import Qt, numpy, sounddevice or pjsua2, so a server installed without the ``desktop``
extra (``pip install callsys``) runs them all.

This is the one module of ``callsys/`` that joins the core, the telephony adapters (``providers``,
whose registry imports nothing heavy) and the widgets (``ui``) — the widgets only inside
``_desktop``, when the window is asked for. ``tests/test_layering.py`` names it as the single
exception to the layering rule. The pyproject script ``callsys`` calls :func:`main`; Briefcase's
installers run this module (it always runs the module named after the app).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from callsys import cli
from callsys.errors import MissingExtra
from providers import REGISTRY

__all__ = ["DESKTOP_MODULES", "main"]

#: What the window cannot start without — the ``desktop`` extra's own packages, by import name.
#: (Its softphone's pjsua2, sounddevice and numpy are checked where the phone starts: a window on
#: an Asterisk or a callsys server does not need them.)
DESKTOP_MODULES = ("PyQt6", "qasync")


def _extra_commands() -> list[cli.Register]:
    """Sub-commands whose code lives with a provider (they need the provider's modules)."""
    from providers.sip import phone_cli  # no pjsua2 until the phone starts

    return [phone_cli.register]


def _desktop(args: argparse.Namespace, ctx: cli.Context) -> int:
    MissingExtra.check(
        "The desktop window",
        "desktop",
        DESKTOP_MODULES,
        hint="The commands without a window work as they are: callsys --help lists them.",
    )
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
    """Run ``callsys ARGV`` (``sys.argv[1:]`` by default); the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    # The window's cold start does not pay for importing the softphone's command line.
    extra = [] if _starts_desktop(args) else _extra_commands()
    return cli.main(args, registry=REGISTRY, extra=extra, desktop=_desktop)


if __name__ == "__main__":
    sys.exit(main())
