"""When the provider polls the engine: on its sockets' readability, fast during calls, rarely idle.

An idle softphone must not wake the process 50 times a second (a laptop on battery all day);
an INVITE must still reach the CallManager at once. The fake engine below owns a UDP socket
like pjsip's listener and a TCP connection like pjsip's to a registrar, and counts its polls.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from callsys.callmanager import CallManager
from callsys.model import CallState
from providers.sip import provider as provider_module
from providers.sip.engine import EngineListener, IncomingCall, Phase
from providers.sip.options import SipOptions
from providers.sip.provider import SipProvider
from providers.sip.wakeups import sip_port

from .fake_engine import FakeEngine


class SocketEngine(FakeEngine):
    """Reads "INVITE <user>" / "BYE <key>" datagrams from its UDP socket (and lines from a TCP
    connection it opens while polling, as pjsip does for a registrar) and plays pjsua's part."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.tcp: socket.socket | None = None
        self.connect_to: tuple[str, int] | None = None
        self.listener: EngineListener | None = None
        self.n = 0

    def start(self, options: SipOptions, listener: EngineListener) -> None:
        super().start(options, listener)
        self.listener = listener

    def listen_address(self) -> tuple[str, int]:
        return self.udp.getsockname()  # type: ignore[no-any-return]

    def wakeup_sockets(self) -> list[socket.socket]:
        return [self.udp.dup()]

    def poll(self) -> int:
        self.polls += 1
        handled = 0
        if self.connect_to is not None and self.tcp is None:  # "re-registration" opens it
            self.tcp = socket.create_connection(self.connect_to)
            self.tcp.setblocking(False)
            handled += 1
        for sock in (self.udp, self.tcp):
            while sock is not None:
                try:
                    data = sock.recv(2048)
                except BlockingIOError:
                    break
                if not data:  # the far end closed the connection
                    break
                for line in data.decode().splitlines():
                    handled += 1
                    self._message(line)
        return handled

    def _message(self, line: str) -> None:
        assert self.listener is not None
        verb, arg = line.split()
        if verb == "INVITE":
            self.n += 1
            key = f"k{self.n}"
            self.live.add(key)
            assert self.started is not None
            line = self.started.lines[0].id
            self.listener.on_incoming(key, IncomingCall(line, arg, "", "2000", f"c{key}", f"sip:{arg}@h"))
        elif verb == "BYE":
            self.live.discard(arg)
            self.listener.on_phase(arg, Phase.DISCONNECTED, 200, "")

    def destroy(self) -> None:
        super().destroy()
        self.udp.close()
        if self.tcp is not None:
            self.tcp.close()


async def started(**options: Any) -> tuple[SipProvider, SocketEngine, CallManager]:
    engine = SocketEngine()
    provider = SipProvider(
        {"audio": {"mode": "none"}, "ring_timeout": 0, **options}, engine_factory=lambda: engine
    )
    manager = CallManager()
    await provider.start(manager.listener("sip"))
    return provider, engine, manager


async def polls_in(engine: SocketEngine, seconds: float) -> int:
    before = engine.polls
    await asyncio.sleep(seconds)
    return engine.polls - before


async def until(pred: Any, what: str) -> None:
    for _ in range(500):
        if pred():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.asyncio
async def test_an_idle_phone_polls_rarely_and_a_call_polls_fast() -> None:
    provider, engine, manager = await started()
    try:
        # idle: the timer runs every IDLE_POLL_INTERVAL (0.5 s), not every 20 ms (50 a second)
        assert await polls_in(engine, 1.0) <= 4
        engine.udp.sendto(b"INVITE 1002", engine.listen_address())
        await until(manager.live_calls, "the ringing call")
        # while a call exists: every poll_interval_ms (DTMF, re-INVITE retries, media state)
        assert await polls_in(engine, 0.5) >= 5
        call = manager.live_calls()[0]
        engine.udp.sendto(f"BYE {call.id}".encode(), engine.listen_address())
        await until(lambda: not manager.live_calls(), "the call's end")
        await asyncio.sleep(0.1)  # the fast timer that was already due
        assert await polls_in(engine, 1.0) <= 4
    finally:
        await provider.close()


@pytest.mark.asyncio
async def test_a_request_wakes_the_phone_at_once_even_with_a_long_idle_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider_module, "IDLE_POLL_INTERVAL", 3600.0)
    provider, engine, manager = await started()
    try:
        await asyncio.sleep(0.05)
        engine.udp.sendto(b"INVITE 1002", engine.listen_address())
        await until(manager.live_calls, "the ringing call (woken by the UDP socket)")
        call = manager.live_calls()[0]
        assert call.state is CallState.RINGING
        await provider.answer(call.id)
        assert engine.commands[-1] == ("answer", call.id, 200)
    finally:
        await provider.close()


@pytest.mark.asyncio
async def test_a_connection_the_engine_opens_wakes_the_phone(monkeypatch: pytest.MonkeyPatch) -> None:
    """pjsip's TCP/TLS connection to a registrar carries the INVITEs of that line."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    registrar = f"sip:127.0.0.1:{server.getsockname()[1]};transport=tcp"
    monkeypatch.setattr(provider_module, "IDLE_POLL_INTERVAL", 3600.0)
    provider, engine, manager = await started(
        lines=[{"id": "office", "registrar": registrar, "user": "1001", "transport": "tcp"}]
    )
    try:
        # the engine opens its connection inside a poll (as pjsip does at re-registration)
        engine.connect_to = server.getsockname()
        engine.udp.sendto(b"NOOP x", engine.listen_address())
        loop = asyncio.get_running_loop()
        peer: socket.socket | None = None
        for _ in range(500):
            try:
                peer, _addr = server.accept()
                break
            except BlockingIOError:
                await asyncio.sleep(0.01)
        assert peer is not None
        await asyncio.sleep(0.05)
        await loop.sock_sendall(peer, b"INVITE 1002\n")
        await until(manager.live_calls, "the ringing call (woken by the TCP connection)")
        assert manager.live_calls()[0].remote.digits == "1002"
        peer.close()
    finally:
        await provider.close()
        server.close()


@pytest.mark.asyncio
async def test_a_foreign_readable_socket_does_not_spin_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection to a SIP port that the engine never reads is dropped, not polled forever."""
    server = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setattr(provider_module, "IDLE_POLL_INTERVAL", 3600.0)
    port = server.getsockname()[1]
    provider, engine, _manager = await started(
        lines=[{"id": "office", "registrar": f"sip:127.0.0.1:{port}", "user": "1001"}]
    )
    other = socket.create_connection(("127.0.0.1", port))  # not the engine's
    peer, _addr = server.accept()
    try:
        engine.udp.sendto(b"NOOP x", engine.listen_address())  # a poll, a scan after it
        await asyncio.sleep(0.05)
        peer.sendall(b"hello")  # readable for good: nobody reads it
        polls = await polls_in(engine, 0.3)
        assert polls <= 10  # a handful, then the socket is no longer watched (a spin: thousands)
    finally:
        other.close()
        peer.close()
        server.close()
        await provider.close()


def test_sip_ports_of_registrar_addresses() -> None:
    assert sip_port("sip:pbx.example.com") == 5060
    assert sip_port("sip:pbx.example.com", "tls") == 5061
    assert sip_port("sips:pbx.example.com") == 5061
    assert sip_port("sip:pbx.example.com:5080;transport=tcp") == 5080
    assert sip_port("sip:[2001:db8::1]:5090") == 5090
    assert sip_port("sip:[2001:db8::1]") == 5060
    assert sip_port("192.0.2.7:5070") == 5070
