"""The server's configuration: the ``server.*`` settings, validated into plain frozen values.

A bad branch or agent table raises ``ConfigError`` naming the key (``server.branches[1].name``)
and what was expected, never a traceback.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from callsys.errors import ConfigError
from callsys.numbers import NumberPlan, plan_from_settings
from callsys.settings import (
    DNIS_LINES,
    SERVER_AGENTS,
    SERVER_BRANCHES,
    SERVER_CRM_RETRY_MAX,
    SERVER_DATABASE,
    SERVER_DRAIN_SECONDS,
    SERVER_HEARTBEAT,
    SERVER_LISTEN_HOST,
    SERVER_LISTEN_PORT,
    SERVER_PUSHED_SETTINGS,
    SERVER_SEATS,
    SERVER_TLS_CERT,
    SERVER_TLS_KEY,
    SERVER_UPDATE_MANIFEST,
    SERVER_USERS,
    Settings,
)

__all__ = ["SHARED_SECRET", "Agent", "Branch", "ServerConfig", "agent_secret_name"]

#: The keyring entry holding the secret every desktop may use (then it names its extensions).
SHARED_SECRET = "server/shared-secret"

_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def agent_secret_name(agent: str) -> str:
    """The keyring entry holding *agent*'s own token."""
    return f"server/agent/{agent}"


@dataclass(frozen=True, slots=True)
class Branch:
    """One PBX (SET6): its provider and the number habits of the place it is in."""

    name: str
    provider: str
    options: Mapping[str, Any]
    plan: NumberPlan
    dnis_lines: Mapping[str, str]
    #: The PBX's CDR file (cdr_csv's or cdr_custom's ``Master.csv``) read after a gap; None = none.
    cdr_path: Path | None = None

    def shared_settings(self) -> dict[str, Any]:
        """What desktops of this branch are told (lines, prefix, region)."""
        return {
            "branch": self.name,
            "region": self.plan.region,
            "area_code": self.plan.area_code,
            "dial_prefix": self.plan.dial_prefix,
            "min_log_digits": self.plan.min_log_digits,
            "dnis_lines": dict(self.dnis_lines),
            "lines": sorted(set(self.dnis_lines.values())),
        }


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    extensions: tuple[str, ...]
    branch: str


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    seats: int = 25
    heartbeat_timeout: float = 30.0
    branches: tuple[Branch, ...] = ()
    agents: Mapping[str, Agent] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)  # extension → systemuserid
    update_manifest: Path | None = None
    #: The settings layer served to desktops (``callsys.serverlayer``); None = none.
    pushed_settings: Path | None = None
    drain_seconds: float = 10.0
    crm_retry_max: float = 300.0
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    #: "" = the server's own SQLite database; a ``postgresql://`` URL = shared with other nodes.
    database: str = ""

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context desktops are served with (wss://), or None for plain ws://."""
        if self.tls_certificate is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.tls_certificate, self.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"The TLS certificate {self.tls_certificate} or its key cannot be used: {exc}.",
                key="server.tls_certificate",
            ) from None
        return context

    def branch(self, name: str) -> Branch | None:
        for branch in self.branches:
            if branch.name == name:
                return branch
        return None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerConfig:
        base = plan_from_settings(settings)
        dnis: dict[str, str] = settings[DNIS_LINES]
        raw_branches: tuple[dict[str, Any], ...] = settings[SERVER_BRANCHES]
        raw_agents: tuple[dict[str, Any], ...] = settings[SERVER_AGENTS]
        raw_users: dict[str, str] = settings[SERVER_USERS]
        branches = tuple(_branch(i, raw, base, dnis) for i, raw in enumerate(raw_branches))
        names = [b.name for b in branches]
        for name in names:
            if names.count(name) > 1:
                raise ConfigError(
                    f"Two branches are called {name!r}; names must differ.", key="server.branches"
                )
        agents: dict[str, Agent] = {}
        for i, raw in enumerate(raw_agents):
            agent = _agent(i, raw, names)
            if agent.name in agents:
                raise ConfigError(f"Two agents are called {agent.name!r}.", key="server.agents")
            agents[agent.name] = agent
        users = dict(raw_users)
        for ext, user in users.items():
            if not _GUID.fullmatch(user):
                raise ConfigError(
                    f"Setting 'server.users' maps extension {ext!r} to {user!r}, but it should be a "
                    "Dynamics user id (a GUID such as 00000000-0000-0000-0000-000000000001).",
                    key="server.users",
                )
        database = str(settings[SERVER_DATABASE])
        if database and urlsplit(database).password:
            raise ConfigError(
                "Setting 'server.database' carries a password; secrets are never in the settings file. "
                "Store it with `callsys secret set server/database` (or in ~/.pgpass).",
                key="server.database",
            )
        manifest = settings[SERVER_UPDATE_MANIFEST]
        pushed = settings[SERVER_PUSHED_SETTINGS]
        cert, key = settings[SERVER_TLS_CERT], settings[SERVER_TLS_KEY]
        if key and not cert:
            raise ConfigError(
                "Setting 'server.tls_key_file' is set but 'server.tls_certificate' is not.",
                key="server.tls_certificate",
            )
        return cls(
            host=settings[SERVER_LISTEN_HOST],
            port=settings[SERVER_LISTEN_PORT],
            seats=settings[SERVER_SEATS],
            heartbeat_timeout=float(settings[SERVER_HEARTBEAT]),
            branches=branches,
            agents=agents,
            users={k: v.lower() for k, v in users.items()},
            update_manifest=Path(manifest).expanduser() if manifest else None,
            pushed_settings=Path(pushed).expanduser() if pushed else None,
            drain_seconds=float(settings[SERVER_DRAIN_SECONDS]),
            crm_retry_max=float(settings[SERVER_CRM_RETRY_MAX]),
            tls_certificate=Path(cert).expanduser() if cert else None,
            tls_key=Path(key).expanduser() if key else None,
            database=database,
        )


def _plan(region: object, area: object, prefix: object, min_digits: object, where: str) -> NumberPlan:
    try:
        return NumberPlan(
            region=str(region),
            area_code=str(area),
            dial_prefix=str(prefix),
            min_log_digits=min_digits if isinstance(min_digits, int) else -1,
        )
    except ValueError as exc:
        raise ConfigError(f"The number settings of {where} are not valid: {exc}.", key=where) from None


def _branch(i: int, raw: Mapping[str, Any], base: NumberPlan, dnis: Mapping[str, str]) -> Branch:
    where = f"server.branches[{i}]"
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"Setting '{where}.name' should be a short name of letters, digits, '.', '_' or '-' "
            f"(it is {name!r}).",
            key=f"{where}.name",
        )
    provider = raw.get("provider", "ami")
    if not isinstance(provider, str) or not provider:
        raise ConfigError(f"Setting '{where}.provider' should be a provider name such as 'ami'.", key=where)
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"Setting '{where}.options' should be a table.", key=f"{where}.options")
    lines = raw.get("dnis_lines", dnis)
    if not isinstance(lines, dict) or not all(isinstance(v, str) for v in lines.values()):
        raise ConfigError(f"Setting '{where}.dnis_lines' should be a table of text.", key=where)
    plan = _plan(
        raw.get("region", base.region),
        raw.get("area_code", base.area_code),
        raw.get("dial_prefix", base.dial_prefix),
        raw.get("min_log_digits", base.min_log_digits),
        where,
    )
    opts = dict(options)
    opts.setdefault("secret_name", f"{provider}/{name}")
    cdr = raw.get("cdr", "")
    if not isinstance(cdr, str):
        raise ConfigError(
            f"Setting '{where}.cdr' should be the path of the PBX's CDR file (Master.csv).",
            key=f"{where}.cdr",
        )
    return Branch(
        name=name,
        provider=provider,
        options=opts,
        plan=plan,
        dnis_lines=dict(lines),
        cdr_path=Path(cdr).expanduser() if cdr else None,
    )


def _agent(i: int, raw: Mapping[str, Any], branches: list[str]) -> Agent:
    where = f"server.agents[{i}]"
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"Setting '{where}.name' should be a short name (it is {name!r}).", key=where)
    exts = raw.get("extensions", [])
    if isinstance(exts, str):
        exts = [exts]
    if not isinstance(exts, list) or not all(
        isinstance(e, str) and e.isascii() and e.isdigit() for e in exts
    ):
        raise ConfigError(
            f"Setting '{where}.extensions' should be a list of extensions, e.g. [\"1001\"].", key=where
        )
    branch = raw.get("branch", branches[0] if branches else "")
    if not isinstance(branch, str) or (branches and branch not in branches):
        raise ConfigError(
            f"Setting '{where}.branch' names {branch!r}, which is not one of the branches "
            f"({', '.join(branches) or 'none'}).",
            key=where,
        )
    return Agent(name=name, extensions=tuple(exts), branch=branch)
