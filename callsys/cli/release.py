"""``callsys release init|add`` — the administrator's signed update repository (SET5, TUF).

``init`` makes the four keys (root, targets, snapshot, timestamp; PEM files, mode 0600) and the
first signed metadata; ``add INSTALLER --version V`` puts a built installer in the repository and
signs it. Publish the repository folder with any static web server. The root key signs only the
root metadata: keep it offline (docs/deploy.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callsys.cli import Context

__all__ = ["register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "release",
        parents=[common],
        help="sign installers into an update repository (administrators)",
        description="A repository of signed updates (The Update Framework) that desktops check.",
    )
    sub = parser.add_subparsers(dest="release_command", metavar="ACTION", required=True)
    for name, text in (("init", "make the keys and an empty repository"), ("add", "add a built installer")):
        action = sub.add_parser(name, parents=[common], help=text)
        action.add_argument("--repo", required=True, type=Path, metavar="DIR", help="the repository folder")
        action.add_argument("--keys", required=True, type=Path, metavar="DIR", help="the keys folder")
        if name == "add":
            action.add_argument("installer", type=Path, metavar="INSTALLER", help="e.g. dist/callsys_….deb")
            action.add_argument("--version", required=True, help="the version it installs, e.g. 0.2.0")
            action.set_defaults(run=_add)
        else:
            action.set_defaults(run=_init)


def _init(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.updates import release_init

    root = release_init(args.repo, args.keys)
    ctx.emit(
        {"repo": str(args.repo), "keys": str(args.keys), "root": str(root)},
        f"Made an update repository in {args.repo} (keys in {args.keys}; move root.pem offline).\n"
        f"Ship {root} with the installers: desktops trust only what its keys sign.",
    )
    return 0


def _add(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.updates import release_add

    name = release_add(args.repo, args.keys, args.installer, args.version)
    ctx.emit(
        {"repo": str(args.repo), "target": name, "version": args.version},
        f"Signed {name} as version {args.version} into {args.repo}.",
    )
    return 0
