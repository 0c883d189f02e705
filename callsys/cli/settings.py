"""``callsys settings show [--origin]`` — every effective setting, and where it comes from;
``callsys settings pull`` — fetch the callsys server's settings layer now.

The layers, lowest first: built-in, organisation (``briefcase.toml`` in the installer), system
(``/etc/callsys/settings.toml``), server, user (``callsys.settings``). With ``--origin`` each value
says its layer and that layer's file, and a locked setting says who locked it — what an admin
checks after rolling out an installer or a system file. The server layer is the copy of what the
callsys server (``server.url``) last sent (``callsys.serverlayer``): the desktop fetches it at
each start, ``pull`` at once.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from callsys.settings import OPTIONS, provisioning_path, system_settings_path

if TYPE_CHECKING:
    from callsys.cli import Context

__all__ = ["register"]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "settings",
        parents=[common],
        help="show the effective settings and where each comes from",
        description="Settings come in layers, lowest first: built-in, organisation (the installer's "
        "briefcase.toml), system (/etc/callsys/settings.toml), server, user (settings.toml). "
        "An administrator's layer may lock a setting.",
    )
    sub = parser.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", parents=[common], help="print every setting's effective value")
    show.add_argument("--origin", action="store_true", help="say which layer (and file) each value is from")
    show.add_argument("key", nargs="*", metavar="KEY", help="only these settings (e.g. crm.url)")
    show.set_defaults(run=_show)
    pull = sub.add_parser(
        "pull", parents=[common], help="fetch the callsys server's settings for desktops now (server.url)"
    )
    pull.set_defaults(run=_pull)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _show(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings
    unknown = [key for key in args.key if key not in OPTIONS]
    if unknown:
        from callsys.errors import ConfigError

        raise ConfigError(
            f"No setting is called {unknown[0]!r} (see 'callsys settings show').", key=unknown[0]
        )
    rows: list[dict[str, Any]] = []
    for key, option in OPTIONS.items():
        if args.key and key not in args.key:
            continue
        layer, _path = settings.origin(option)
        source = settings.source(option)
        lock = settings.locked_by(option)
        rows.append(
            {
                "key": key,
                "value": _plain(settings[option]),
                "origin": layer,
                "source": source,
                "locked_by": lock.name if lock is not None else None,
                "locked_in": (lock.describe_source() or None) if lock is not None else None,
            }
        )
    organisation = provisioning_path()
    server = settings.layer("server")
    layers: list[dict[str, Any]] = [
        {
            "name": "organisation",
            "path": str(organisation) if organisation else None,
            "present": bool(organisation and organisation.is_file()),
        },
        {"name": "system", "path": str(system_settings_path()), "present": system_settings_path().is_file()},
        {
            "name": "server",
            "path": server.describe_source() if server is not None else None,
            "present": server is not None,
        },
        {
            "name": "user",
            "path": str(settings.path) if settings.path else None,
            "present": bool(settings.path and settings.path.is_file()),
        },
    ]

    def text() -> str:
        lines = []
        for row in rows:
            value = json.dumps(row["value"], ensure_ascii=False)
            line = f"{row['key']} = {value}"
            if args.origin:
                where = row["origin"] + (f": {row['source']}" if row["source"] else "")
                line += f"    [{where}]"
                if row["locked_by"]:
                    line += f" (locked by {row['locked_by']}: {row['locked_in']})"
            lines.append(line)
        if args.origin:
            lines.append("")
            for layer in layers:
                if layer["path"] is None:
                    lines.append(f"# {layer['name']}: none")
                    continue
                state = "" if layer["present"] else " (none)"
                lines.append(f"# {layer['name']}: {layer['path']}{state}")
        return "\n".join(lines)

    ctx.emit({"settings": rows, "layers": layers}, text)
    return 0


def _pull(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.serverlayer import pull

    settings = ctx.settings
    doc, path = pull(settings)
    notes = settings.set_server_values(doc["values"], source=doc["server"], locked=doc["locked"], path=path)
    lines = [
        f"Fetched {len(doc['values'])} setting(s), {len(doc['locked'])} locked, from {doc['server']}; "
        f"kept in {path}."
    ]
    lines += notes
    ctx.emit({**doc, "path": str(path), "notes": lines[1:]}, "\n".join(lines))
    return 0
