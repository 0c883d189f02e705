"""Who can call the built-in phone's direct line (issue 11, defect 5): from this computer only,
until ``reachable`` (or a list of ``allowed_peers``) says otherwise.

Before, the default phone listened on 0.0.0.0:5060 (UDP and TCP) and answered anybody on the
network without a password. The real-phone tests read the kernel's socket tables and send a
hand-made INVITE from this machine's own non-loopback address (never anywhere else).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callsys.errors import ConfigError
from callsys.model import CallEvent
from providers.sip.options import LineConfig, SipOptions
from providers.sip.provider import SipProvider

from .conftest import Harness, phone_options
from .peers import free_port

DIRECT = LineConfig(id="direct", user="callsys")
OFFICE = LineConfig(id="office", user="1001", registrar="sip:pbx.example.com", domain="pbx.example.com")


def test_a_direct_only_phone_listens_on_loopback_unless_made_reachable() -> None:
    assert SipOptions.parse({}).listen_host == "127.0.0.1"
    assert not SipOptions.parse({}).reachable
    assert SipOptions.parse({"reachable": True}).listen_host == "0.0.0.0"
    assert SipOptions.parse({"allowed_peers": ["192.0.2.0/24"]}).listen_host == "0.0.0.0"
    # a phone that registers listens everywhere (its PBX sends to it); an explicit host is kept
    registered = {"lines": [{"user": "1001", "registrar": "sip:pbx.example.com"}]}
    assert SipOptions.parse(registered).listen_host == "0.0.0.0"
    assert SipOptions.parse({"listen_host": "192.0.2.2"}).listen_host == "192.0.2.2"


@pytest.mark.parametrize("bad", [["pbx.example.com"], "192.0.2.0/24", ["192.0.2.300"]])
def test_allowed_peers_must_be_addresses_or_networks(bad: Any) -> None:
    with pytest.raises(ConfigError, match="allowed_peers") as caught:
        SipOptions.parse({"allowed_peers": bad})
    assert caught.value.key == "phone.options.allowed_peers"


@pytest.mark.parametrize(
    ("options", "line", "source", "admitted"),
    [
        ({}, DIRECT, "127.0.0.1:5062", True),
        ({}, DIRECT, "[::1]:5062", True),
        ({}, DIRECT, "192.0.2.7:5062", False),
        ({}, DIRECT, "", False),
        ({}, OFFICE, "192.0.2.7:5062", True),  # through its PBX: not filtered here
        ({"reachable": True}, DIRECT, "192.0.2.7:5062", True),
        ({"allowed_peers": ["192.0.2.0/24"]}, DIRECT, "192.0.2.7:5062", True),
        ({"allowed_peers": ["192.0.2.0/24"]}, DIRECT, "198.51.100.1:5060", False),
        ({"allowed_peers": ["192.0.2.0/24"]}, DIRECT, "[::ffff:192.0.2.9]:5060", True),
        ({"allowed_peers": ["2001:db8::/32"]}, DIRECT, "[2001:db8::7]:5060", True),
        ({"allowed_peers": ["192.0.2.7"]}, DIRECT, "127.0.0.1:5062", True),  # this computer, always
    ],
)
def test_who_may_call_a_direct_line(
    options: dict[str, Any], line: LineConfig, source: str, admitted: bool
) -> None:
    assert SipOptions.parse(options).admits(line, source) is admitted


def _bound(port: int, table: str) -> set[str]:
    """Local addresses of the sockets on *port* in /proc/net/TABLE (IPv4, hex → dotted)."""
    found = set()
    for row in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
        local = row.split()[1]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def _own_address() -> str | None:
    """This machine's first non-loopback IPv4 address (the test never leaves the machine)."""
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if not address.startswith("127."):
                return address
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: picks the outgoing interface
        address = str(probe.getsockname()[0])
        if not address.startswith("127.") and address != "0.0.0.0":
            return address
    return None


@pytest_asyncio.fixture
async def phone(tmp_path: Path, tone440: Path) -> AsyncIterator[Any]:
    started: list[Harness] = []

    async def start(**extra: Any) -> Harness:
        options = phone_options(tmp_path, **extra)
        if "listen_host" not in extra:
            del options["listen_host"]  # the default under test
        harness = await Harness(SipProvider(options)).start()
        started.append(harness)
        return harness

    yield start
    for harness in started:
        await harness.provider.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net")
@pytest.mark.asyncio
async def test_the_default_phone_listens_on_loopback_and_reachable_on_every_interface(phone: Any) -> None:
    local = await phone()
    port = local.port
    assert _bound(port, "udp") == {"127.0.0.1"} and _bound(port, "tcp") == {"127.0.0.1"}
    assert local.provider.engine.listen_address()[0] == "127.0.0.1"
    await local.provider.close()

    reachable = await phone(reachable=True, listen_port=free_port())
    assert _bound(reachable.port, "udp") == {"0.0.0.0"}


def _invite(target: tuple[str, int], source: tuple[str, int]) -> bytes:
    host, port = target
    src, sport = source
    sdp = (
        f"v=0\r\no=- 1 1 IN IP4 {src}\r\ns=-\r\nc=IN IP4 {src}\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    return (
        f"INVITE sip:callsys@{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:1002@{src}:{sport}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:callsys@{host}:{port}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}@{src}\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: <sip:1002@{src}:{sport}>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


async def _first_answer(phone: Harness, source_ip: str) -> tuple[int, bool]:
    """Send an INVITE from *source_ip* to the phone; its first final-or-ringing status code,
    and whether the provider heard of a call."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source_ip, 0))
        sock.setblocking(False)
        target_ip = source_ip  # the phone listens on every interface: send to the same one
        since = len(phone.events)
        await loop.sock_sendto(
            sock, _invite((target_ip, phone.port), sock.getsockname()), (target_ip, phone.port)
        )
        while True:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 10)
            code = int(data.split(b" ", 2)[1])
            if code >= 180:
                rang = any(e.event is CallEvent.INCOMING for e in phone.events[since:])
                return code, rang


@pytest.mark.asyncio
async def test_a_direct_call_from_another_computer_is_refused_until_reachable(phone: Any) -> None:
    own = _own_address()
    if own is None:
        pytest.skip("this machine has no non-loopback IPv4 address to call from")
    # Listening everywhere (an explicit listen_host) does not make a direct line reachable.
    closed = await phone(listen_host="0.0.0.0")
    code, rang = await _first_answer(closed, own)
    assert (code, rang) == (403, False)
    await closed.provider.close()

    listed = await phone(allowed_peers=[own], listen_port=free_port())
    code, _ = await _first_answer(listed, own)
    assert code == 180
    await listed.until(lambda: listed.of(CallEvent.INCOMING), what="the listed peer's call")
    await listed.provider.hangup(listed.of(CallEvent.INCOMING)[0].call_id)
    await listed.provider.close()

    other = await phone(allowed_peers=["198.51.100.0/24"], listen_port=free_port())
    code, rang = await _first_answer(other, own)
    assert (code, rang) == (403, False)
