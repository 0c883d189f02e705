"""``callsys update check`` — a PC's side of the signed update feed (SET5, TUF).

``update check [--url URL] [--root ROOT.json] [--download DIR]`` verifies the feed from the
shipped root, says whether a newer version is offered and, with ``--download``, stores its
installer once its length and hash matched — for a timer or a script that then installs it.
The feed and its root default to the settings ``updates.url`` and ``updates.root`` (an
administrator's layer sets and locks them), the root then to ``resources/update-root.json``
shipped in the installer.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from callsys.updates import SHIPPED_ROOT

if TYPE_CHECKING:
    from callsys.cli import Context

__all__ = ["SHIPPED_ROOT", "register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "update",
        parents=[common],
        help="check the organisation's signed update feed",
        description="Verify the update feed from the organisation's root.json and report (or fetch) "
        "a newer version.",
    )
    sub = parser.add_subparsers(dest="update_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", parents=[common], help="is a newer, signed version offered?")
    check.add_argument("--url", help="the repository's address (default: the setting updates.url)")
    check.add_argument(
        "--root", type=Path, metavar="FILE", help="its root.json (default: updates.root, or the one shipped)"
    )
    check.add_argument("--download", type=Path, metavar="DIR", help="fetch and verify the installer into DIR")
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace, ctx: Context) -> int:
    from callsys import __version__
    from callsys.errors import ConfigError
    from callsys.settings import UPDATES_ROOT, UPDATES_URL
    from callsys.updates import check_update, download, feed_cache

    url = args.url or ctx.settings[UPDATES_URL]
    if not url:
        raise ConfigError("No update feed is set: give --url, or set updates.url in the settings.")
    root_path = args.root or (
        Path(ctx.settings[UPDATES_ROOT]) if ctx.settings[UPDATES_ROOT] else SHIPPED_ROOT
    )
    try:
        root = root_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The update feed's root {root_path} cannot be read: {exc.strerror}.") from None
    offer = check_update(url, root, __version__, feed_cache(url))
    if offer is None:
        ctx.emit({"current": __version__, "update": None}, f"callsys {__version__} is up to date.")
        return 0
    data: dict[str, object] = {
        "current": __version__,
        "update": offer.version,
        "installer": offer.installer,
        "length": offer.length,
        "sha256": offer.sha256,
    }
    text = f"Version {offer.version} is available ({offer.installer}, {offer.length} bytes, signed)."
    if args.download is not None:
        path = download(offer, args.download)
        data["downloaded"] = str(path)
        text += f"\nVerified and saved as {path}."
    ctx.emit(data, text)
    return 0
