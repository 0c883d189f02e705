"""wss://: with a certificate configured, tokens and call events never cross the network in clear."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage

from callsys.callmanager import CallManager
from callsys.errors import ConfigError
from callsys.model import CallState
from providers.server import ServerProvider
from providers.sim import SimulatedProvider

from .conftest import SECRETS, ServerMaker
from .helpers import self_signed


@pytest.mark.asyncio
async def test_desktop_connects_over_wss_and_plain_ws_gets_nothing(
    make_server: ServerMaker, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    server = await make_server(tls_certificate=cert, tls_key=key)
    assert server.address is not None
    port = server.address[1]
    with pytest.raises((InvalidMessage, OSError)):  # a clear-text client cannot even shake hands
        async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5):
            pass
    manager = CallManager()
    provider = ServerProvider(
        {
            "url": f"wss://127.0.0.1:{port}/ws",
            "agent": "sara",
            "token": SECRETS["server/agent/sara"],
            "ca_file": str(cert),
        }
    )
    await provider.start(manager.listener("server"))
    try:
        assert await provider.wait_connected(10)
        pbx = server.branches["hq"].provider
        assert isinstance(pbx, SimulatedProvider)
        local = pbx.ring("+982188776655")
        for _ in range(200):
            call = manager.get(f"hq/{local}")
            if call is not None:
                break
            await asyncio.sleep(0.01)
        assert call is not None and call.state is CallState.RINGING
    finally:
        await provider.close()


@pytest.mark.asyncio
async def test_desktop_refuses_a_server_certificate_it_cannot_verify(
    make_server: ServerMaker, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    server = await make_server(tls_certificate=cert, tls_key=key)
    assert server.address is not None
    provider = ServerProvider(
        {
            "url": f"wss://127.0.0.1:{server.address[1]}/ws",
            "agent": "sara",
            "token": SECRETS["server/agent/sara"],
        }
    )
    statuses = []

    class Listener:
        def call_event(self, event: object) -> None:
            pass

        def status_changed(self, status: object) -> None:
            statuses.append(status)

    await provider.start(Listener())  # type: ignore[arg-type]
    try:
        assert not await provider.wait_connected(2)
        assert server.hub.sessions == ()  # the token was never sent to an unverified peer
        assert any("certificate" in str(getattr(s, "message", "")).lower() for s in statuses)
    finally:
        await provider.close()


def test_a_bad_certificate_is_a_config_error(tmp_path: Path) -> None:
    from .conftest import make_config

    bogus = tmp_path / "cert.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(ConfigError, match="TLS certificate"):
        make_config(tls_certificate=bogus, tls_key=bogus).ssl_context()
