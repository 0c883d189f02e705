"""Fixtures for the server tests: an in-process CallServer on a free loopback port whose branch
is the SimulatedProvider, and small WebSocket client helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from callsys.numbers import NumberPlan
from callsys.server.config import Agent, Branch, ServerConfig
from callsys.server.daemon import CallServer
from callsys.server.protocol import decode, encode
from providers import REGISTRY

from .doubles import RecordingActivities, recording_factory

SARA_USER = "aaaaaaaa-0000-0000-0000-000000001001"
BOB_USER = "bbbbbbbb-0000-0000-0000-000000001002"
SECRETS = {
    "server/agent/sara": "sara-token-7f3a",
    "server/agent/bob": "bob-token-19c2",
    "server/shared-secret": "shared-0b5e",
}


def make_config(**changes: Any) -> ServerConfig:
    base: dict[str, Any] = dict(
        host="127.0.0.1",
        port=0,
        seats=10,
        heartbeat_timeout=30.0,
        branches=(
            Branch(
                name="hq",
                provider="sim",
                options={"speed": 0, "extension": "1001", "agent_script": False},
                plan=NumberPlan(region="IR", area_code="21", dial_prefix="9"),
                dnis_lines={"7000": "Sales", "7001": "Support"},
            ),
        ),
        agents={
            "sara": Agent("sara", ("1001",), "hq"),
            "bob": Agent("bob", ("1002",), "hq"),
            "boss": Agent("boss", ("*",), "hq"),
        },
        users={"1001": SARA_USER, "1002": BOB_USER},
    )
    base.update(changes)
    return ServerConfig(**base)


ServerMaker = Callable[..., Any]


@pytest_asyncio.fixture
async def make_server() -> AsyncIterator[ServerMaker]:
    started: list[CallServer] = []

    async def make(secrets: dict[str, str] | None = None, **changes: Any) -> CallServer:
        table = dict(SECRETS if secrets is None else secrets)
        server = CallServer(
            make_config(**changes), registry=REGISTRY, activity=recording_factory, secret=table.get
        )
        await server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        await server.stop()


def url(server: CallServer) -> str:
    assert server.address is not None
    return f"ws://127.0.0.1:{server.address[1]}/ws"


def http(server: CallServer, path: str) -> str:
    assert server.address is not None
    return f"http://127.0.0.1:{server.address[1]}{path}"


def activities(server: CallServer) -> RecordingActivities:
    assert isinstance(server.activity, RecordingActivities)
    return server.activity


async def hello(ws: ClientConnection, **fields: Any) -> dict[str, Any] | tuple[int, str]:
    """Send a hello; return the welcome, or (close code, reason) if the server refused."""
    await ws.send(encode({"type": "hello", **fields}))
    try:
        return decode(await ws.recv())
    except ConnectionClosed as exc:
        assert exc.rcvd is not None
        return exc.rcvd.code, exc.rcvd.reason


async def open_client(
    server: CallServer, **fields: Any
) -> tuple[ClientConnection, dict[str, Any] | tuple[int, str]]:
    ws = await connect(url(server))
    return ws, await hello(ws, **fields)
