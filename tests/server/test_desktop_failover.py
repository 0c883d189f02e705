"""A desktop with a list of server URLs (the nodes of a server pair) moves over by itself: past a
server that does not answer, and to the next one when the one it used goes away — and the calls
it shows come from the server it is on."""

from __future__ import annotations

import socket

import pytest

from callsys.callmanager import CallManager
from callsys.model import CallState, EndReason
from callsys.provider import Registration
from providers.server import ServerProvider

from .conftest import SECRETS, ServerMaker, url
from .helpers import sim, state_of, until


def dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"ws://127.0.0.1:{port}/ws"


def test_the_url_list_is_normalised_and_keeps_the_single_url() -> None:
    provider = ServerProvider(
        {"urls": "http://a:8765, wss://b:8765/ws", "url": "ws://c:8765", "token": "t", "agent": "sara"}
    )
    assert provider.urls == ["ws://a:8765/ws", "wss://b:8765/ws", "ws://c:8765/ws"]
    assert provider.url == "ws://a:8765/ws"


@pytest.mark.asyncio
async def test_a_desktop_moves_to_the_next_server_by_itself(make_server: ServerMaker) -> None:
    first = await make_server()
    second = await make_server()
    # (the two simulated PBXes count call ids alike: one call on the second first, so the ids differ)
    sim(second).remote_hangup(sim(second).ring("+982188776611"), EndReason.CANCELLED)
    desktop = CallManager()
    provider = ServerProvider(
        {
            "urls": [dead_url(), url(first), url(second)],
            "agent": "sara",
            "token": SECRETS["server/agent/sara"],
            "retry": 0.05,
        }
    )
    await provider.start(desktop.listener("server"))
    try:
        # the first server of the list does not answer: the desktop is on the second at once
        assert await provider.wait_connected()
        assert provider.url == url(first)
        ringing = f"hq/{sim(first).ring('+982188776655', 'Sara Ahmadi')}"
        await until(lambda: state_of(desktop, ringing) is CallState.RINGING)

        # that server goes away (its node died or stepped down): the desktop moves on, and the
        # call the old server had is not left ringing on the desktop
        await first.stop()
        await until(lambda: provider.url == url(second) and provider.session != "", timeout=10)
        await until(lambda: desktop.statuses["server"].registration is Registration.ONLINE, timeout=10)
        await until(lambda: state_of(desktop, ringing) is CallState.ENDED, timeout=10)
        local = sim(second).ring("+982188776600", "Reza")
        await until(lambda: state_of(desktop, f"hq/{local}") is CallState.RINGING)
    finally:
        await provider.close()
