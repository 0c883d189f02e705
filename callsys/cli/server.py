"""``callsys server`` — run the headless server; ``callsys server --check`` — test its setup.

The server logs JSON lines to stderr and prints one line to stdout once it listens
(``{"listening": "127.0.0.1:8765"}`` with ``--json``), so scripts and tests can find the port when
``server.listen_port = 0``. SIGTERM / SIGINT stop it gracefully: desktops are told, the PBX links
close, queued CRM writes get ``server.drain_seconds`` to go out, and the rest stay on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from callsys.cli import Context
from callsys.errors import CallsysError, ConfigError
from callsys.settings import CRM_BACKEND

if TYPE_CHECKING:  # the server package is imported only when `callsys server` runs (start-up time)
    from callsys.server.config import ServerConfig

__all__ = ["register"]

log = logging.getLogger("callsys.server")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "server",
        parents=[common],
        help="run the callsys server (PBX → CRM logging → desktops)",
        description="Run the headless callsys server: watches each branch's PBX, logs every call to "
        "Dynamics 365 (even when the agent's PC is off) and pushes calls to connected desktops.",
    )
    parser.add_argument(
        "--check", action="store_true", help="check the configuration, PBX logins and the CRM, then exit"
    )
    parser.add_argument("--host", help="listen on this address (default: server.listen_host)")
    parser.add_argument(
        "--port", type=int, help="listen on this port (default: server.listen_port; 0 = any free)"
    )
    parser.add_argument("--seats", type=int, help="desktop sessions at once (default: server.seats)")
    parser.add_argument(
        "--check-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long --check waits for each PBX",
    )
    parser.set_defaults(run=run)


def _config(args: argparse.Namespace, ctx: Context) -> ServerConfig:
    from dataclasses import replace

    from callsys.server.config import ServerConfig

    config = ServerConfig.from_settings(ctx.settings)
    changes: dict[str, Any] = {}
    if args.host:
        changes["host"] = args.host
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise ConfigError("--port must be from 0 to 65535.")
        changes["port"] = args.port
    if args.seats is not None:
        if args.seats < 1:
            raise ConfigError("--seats must be at least 1.")
        changes["seats"] = args.seats
    config = replace(config, **changes) if changes else config
    if not config.branches:
        raise ConfigError(
            "No branch is configured: add a [[server.branches]] section with the PBX's name, provider "
            "and options (host, port, username).",
            key="server.branches",
        )
    return config


def run(args: argparse.Namespace, ctx: Context) -> int:
    from callsys.server.logs import configure_json_logging

    configure_json_logging(logging.DEBUG if args.verbose >= 2 else logging.INFO)
    config = _config(args, ctx)
    warnings = option_warnings(config, ctx)
    if args.check:
        for warning in warnings:
            print(f"callsys: warning: {warning}", file=sys.stderr)
        return asyncio.run(_check(config, ctx, args.check_timeout))
    for warning in warnings:  # stderr carries the JSON log lines here
        log.warning(warning, extra={"event": "unknown_option"})
    return asyncio.run(_serve(config, ctx))


def option_warnings(config: ServerConfig, ctx: Context) -> list[str]:
    """Keys of each branch's ``options`` its provider does not know — warnings: the branch still
    starts (``server.branches[0].options.voicemail_extn is not an option of …``)."""
    out: list[str] = []
    for index, branch in enumerate(config.branches):
        # secret_name is the server's own (CallServer.provider_options takes it out)
        options = {k: v for k, v in branch.options.items() if k != "secret_name"}
        where = f"server.branches[{index}].options"
        out.extend(ctx.registry.option_warnings(branch.provider, options, where))
    return out


# ------------------------------------------------------------------------------------ serving
async def _serve(config: ServerConfig, ctx: Context) -> int:
    from callsys.server.daemon import CallServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows' default loop
            loop.add_signal_handler(sig, stop.set)
    leadership = state = None
    if config.database:
        # Several nodes share the call state in PostgreSQL; the one holding the lock leads.
        from callsys.errors import SecretStoreError
        from callsys.secrets import get_secret
        from callsys.server.pg import Leadership, PgDatabase

        try:
            password = get_secret("server/database") or None
        except SecretStoreError:  # no keyring here: ~/.pgpass or PGPASSWORD, or no password
            password = None
        leadership = Leadership(config.database, password=password)
        state = PgDatabase(config.database, password=password)  # connected (and migrated) while waiting
    activity = None
    if ctx.settings[CRM_BACKEND] == "dynamics":
        from callsys.server.crm import activity_factory

        activity = activity_factory(ctx.settings, ctx.database, state=state)
    else:
        log.warning(
            "crm.backend is not 'dynamics': calls are pushed to desktops but not logged to a CRM",
            extra={"event": "no_crm"},
        )
    if leadership is not None:
        # a standby is ready to go (connected, its modules loaded): taking over is only the
        # PBX login and the listening socket
        if not await leadership.acquire(stop):
            if state is not None:
                state.close()
            return 0
        log.info("this node leads", extra={"event": "leading"})
        if state is not None:
            state.ensure()
    server = CallServer(config, registry=ctx.registry, activity=activity)
    watcher = None
    try:
        host, port = await server.start()
        ctx.emit({"listening": f"{host}:{port}"}, f"callsys server listening on {host}:{port}")
        if leadership is not None:
            watcher = asyncio.ensure_future(leadership.watch(stop))
            lost = asyncio.ensure_future(leadership.lost.wait())
            await asyncio.wait(
                [asyncio.ensure_future(stop.wait()), lost], return_when=asyncio.FIRST_COMPLETED
            )
        else:
            await stop.wait()
        log.info("stopping (signal received)", extra={"event": "stopping"})
    finally:
        stop.set()
        await server.stop()
        if watcher is not None:
            await asyncio.gather(watcher, return_exceptions=True)
        if leadership is not None:
            await leadership.release()
        if state is not None:
            state.close()
        _close_database(ctx)
    # 75 (EX_TEMPFAIL): the lock was lost — a supervisor restarts the node, which then stands by
    return 75 if leadership is not None and leadership.lost.is_set() else 0


def _close_database(ctx: Context) -> None:
    if "database" in vars(ctx):  # opened (it is a cached property): close it, or leave it unopened
        with contextlib.suppress(Exception):
            ctx.database.conn.close()
        del vars(ctx)["database"]


# ------------------------------------------------------------------------------------ --check
async def _check(config: ServerConfig, ctx: Context, timeout: float) -> int:
    from callsys.checks import online, probe_provider, sign_in
    from callsys.secrets import get_secret
    from callsys.server.daemon import CallServer

    results: list[dict[str, Any]] = [
        {
            "check": "config",
            "ok": True,
            "detail": f"{len(config.branches)} branch(es), {len(config.agents)} agent(s), "
            f"{config.seats} seats, listening on {config.host}:{config.port}",
        }
    ]
    if config.tls_certificate is not None:
        try:
            config.ssl_context()
            results.append({"check": "tls", "ok": True, "detail": f"wss:// with {config.tls_certificate}"})
        except CallsysError as exc:
            results.append({"check": "tls", "ok": False, "detail": str(exc)})
    probe_server = CallServer(config, registry=ctx.registry)
    for branch in config.branches:
        name = f"pbx:{branch.name}"
        try:
            provider = ctx.registry.create(branch.provider, probe_server.provider_options(branch))
        except CallsysError as exc:
            results.append({"check": name, "ok": False, "detail": str(exc)})
            continue
        try:
            ok, status = await probe_provider(provider, timeout, online)
            detail = status.message if status else ""
            if not ok:
                detail = detail or f"no login within {timeout:g} s"
            results.append({"check": name, "ok": ok, "detail": detail or "logged in"})
        except CallsysError as exc:
            results.append({"check": name, "ok": False, "detail": str(exc)})

    if ctx.settings[CRM_BACKEND] == "dynamics":
        try:
            user = await asyncio.wait_for(sign_in(ctx.settings, ctx.database), timeout + 20)
            results.append(
                {"check": "crm", "ok": True, "detail": f"Dynamics 365 reachable; signed in as user {user}"}
            )
        except (CallsysError, TimeoutError) as exc:
            results.append({"check": "crm", "ok": False, "detail": str(exc) or "no answer in time"})
        finally:
            _close_database(ctx)
    else:
        results.append(
            {
                "check": "crm",
                "ok": False,
                "detail": "crm.backend is not 'dynamics': calls would not be logged",
            }
        )

    try:
        from callsys.server.config import SHARED_SECRET, agent_secret_name

        has_shared = bool(get_secret(SHARED_SECRET))
        agents_with_tokens = [a for a in config.agents if get_secret(agent_secret_name(a))]
        ok = has_shared or bool(agents_with_tokens)
        detail = (
            "shared secret set; " if has_shared else "no shared secret; "
        ) + f"{len(agents_with_tokens)} of {len(config.agents)} agents have a token"
        if not ok:
            detail += " — no desktop could connect (callsys secret set server/shared-secret)"
        results.append({"check": "desktop-auth", "ok": ok, "detail": detail})
    except CallsysError as exc:
        results.append({"check": "desktop-auth", "ok": False, "detail": str(exc)})

    all_ok = all(r["ok"] for r in results)
    ctx.emit(
        {"ok": all_ok, "checks": results},
        lambda: "\n".join(f"{'ok ' if r['ok'] else 'FAIL'}  {r['check']:<14} {r['detail']}" for r in results),
    )
    return 0 if all_ok else 1
