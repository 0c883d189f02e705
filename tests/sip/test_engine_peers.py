"""What callsys's own pjsua2 build does that the PyPI wheel cannot (``providers.sip.engines``).

Each phone runs as a child process (``python -m providers.sip.phone_cli``) with the engine set by
``CALLSYS_SIP_ENGINE``, so both builds are compared in one test run whichever engine the rest of
the suite runs on. Tests of the built engine are skipped, with the reason, when
``scripts/build-pjsua2`` has not built it (``scripts/setup`` says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import pytest

from providers.sip.engines import built_dir

from .peers import HOST, Phone, a_normal_call_is_answered, free_port, have, received, run_sipp
from .pki import TlsKamailio, make_pki, needs_tls_module

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

HERE = Path(__file__).resolve().parent
RING_THEN_CANCEL = HERE / "sipp_engine" / "ring_then_cancel.xml"

needs_built = pytest.mark.skipif(
    built_dir() is None,
    reason="the built pjsua2 engine is not there (scripts/build-pjsua2 was not run or failed: "
    "see scripts/setup's output); the wheel cannot do this",
)
both_engines = pytest.mark.parametrize(
    "engine", ["wheel", pytest.param("built", marks=needs_built)], ids=["wheel", "built"]
)


@both_engines
async def test_eight_callers_ring_at_once_up_to_the_engines_limit(tmp_path: Path, engine: str) -> None:
    """Eight callers within a second, each ringing 4 s: the built engine (32 calls) rings all
    eight; the wheel (4 calls) rings four and pjsua answers the others 486 Busy Here."""
    phone = await Phone.start(tmp_path, engine=engine, ringing_per_source=0)  # all from one address
    try:
        assert phone.engine["engine"] == engine
        limit = int(phone.engine["max_calls"])
        status, out = await run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(RING_THEN_CANCEL), "-m", "8", "-r", "8", "-l", "8",
                "-i", HOST, "-p", str(free_port()), "-nostdin", "-timeout", "60s", "-recv_timeout", "10000",
            ],
            tmp_path,
            timeout=90,
        )  # fmt: skip
        assert status == 0, out
        rang = [line for line in phone.lines if line.get("event") == "incoming"]
        assert len(rang) == min(8, limit)
        assert received(out, 486) == 8 - min(8, limit)
        if engine == "built":
            assert limit >= 8
        else:
            assert limit == 4
        # all of them rang at the same time: none had ended before the last one rang
        last_ring = max(phone.lines.index(line) for line in rang)
        assert not [line for line in phone.lines[:last_ring] if line.get("event") == "ended"]
        await a_normal_call_is_answered(phone, tmp_path, "u1")
    finally:
        await phone.stop()


def big_invite_scenario(path: Path, codecs: int = 24, candidates: int = 30, cryptos: int = 12) -> Path:
    """An INVITE of a PBX with many codecs, ICE candidates and SRTP crypto lines (> 4,000 bytes).
    The one codec the phone knows (PCMU as dynamic payload 96) is described on the SDP's very
    last line, so the phone can answer only if it read the whole offer; sipp checks that the
    200's answer took payload 96."""
    pts = [str(100 + i) for i in range(codecs)]
    sdp = [
        "v=0",
        "o=pbx 53655765 2353687637 IN IP[local_ip_type] [local_ip]",
        "s=-",
        "c=IN IP[media_ip_type] [media_ip]",
        "t=0 0",
        f"m=audio [media_port] RTP/AVP {' '.join(pts)} 96",
    ]
    for i, pt in enumerate(pts):
        sdp.append(f"a=rtpmap:{pt} X-CODEC-{i}/16000")
        sdp.append(f"a=fmtp:{pt} mode-set={i};octet-align=1;max-red=0")
    for i in range(candidates):
        sdp.append(
            f"a=candidate:{i} 1 UDP {2130706431 - i} 192.0.2.{i + 1} {40000 + i} typ host generation 0"
        )
    for i in range(cryptos):
        sdp.append(
            f"a=x-crypto:{i + 1} AES_CM_128_HMAC_SHA1_80 inline:{'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'[: 30 + i]}"
        )
    sdp.append("a=sendrecv")
    sdp.append("a=rtpmap:96 PCMU/8000")
    body = "\n".join(sdp)
    assert len(body) > 4000
    xml = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="engine_big_invite">
  <send retrans="500"><![CDATA[
INVITE sip:callsys@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Big PBX" <sip:0301234567@[local_ip]:[local_port]>;tag=[pid]B[call_number]
To: <sip:callsys@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{body}

  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200">
    <action>
      <ereg regexp="m=audio [0-9]+ RTP/AVP 96" search_in="msg" check_it="true" assign_to="m"/>
      <log message="the answer took the last line of the offer: [$m]"/>
    </action>
  </recv>
  <send><![CDATA[
ACK sip:callsys@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Big PBX" <sip:0301234567@[local_ip]:[local_port]>;tag=[pid]B[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <pause milliseconds="300"/>
  <send retrans="500"><![CDATA[
BYE sip:callsys@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Big PBX" <sip:0301234567@[local_ip]:[local_port]>;tag=[pid]B[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="200"/>
</scenario>
"""
    path.write_text(xml)
    return path


@needs_built
@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
async def test_an_invite_over_4000_bytes_rings_with_its_sdp_intact(tmp_path: Path, transport: str) -> None:
    """The wheel cuts such a UDP INVITE at 4,000 bytes (losing the SDP's end) and drops it over
    TCP, and its pjmedia keeps only 68 SDP attributes per media line; the built engine (16 KB
    messages, 256 attributes) reads it whole and answers with the codec from its last line."""
    scenario = big_invite_scenario(tmp_path / "big_invite.xml")
    phone = await Phone.start(tmp_path, engine="built", auto_answer=True)
    try:
        assert phone.engine["max_packet"] >= 16384
        status, out = await run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(scenario), "-t", transport, "-m", "1",
                "-i", HOST, "-p", str(free_port()), "-nostdin", "-timeout", "30s", "-recv_timeout", "8000",
            ],
            tmp_path,
        )  # fmt: skip
        assert status == 0, out
        ring = await phone.expect(event="incoming", remote="0301234567")
        await phone.expect(event="answered", call=ring["call"])
        ended = await phone.expect(event="ended", call=ring["call"])
        assert ended["reason"] == "completed"
    finally:
        await phone.stop()


@needs_built
async def test_a_hundred_half_open_tcp_connections_do_not_stop_tcp_calls(tmp_path: Path) -> None:
    """~64 idle TCP connections used up the wheel's select() ioqueue: new TCP callers were not
    served. The built engine (epoll, thousands of sockets) serves the next caller."""
    phone = await Phone.start(tmp_path, engine="built")
    idle: list[socket.socket] = []
    try:
        for _ in range(100):
            idle.append(socket.create_connection((HOST, phone.port), timeout=5))
        await asyncio.sleep(0.5)  # the phone accepts them
        await a_normal_call_is_answered(phone, tmp_path, "t1")
        assert phone.alive()
    finally:
        for sock in idle:
            with contextlib.suppress(OSError):
                sock.close()
        await phone.stop()


@needs_tls_module
@needs_built
@pytest.mark.skipif(not have("kamailio"), reason="kamailio is missing")
async def test_tls_1_3_only_registrar(tmp_path: Path) -> None:
    """kamailio's TLS listener restricted to TLS 1.3: the built engine (the system's OpenSSL 3)
    registers; the wheel (OpenSSL 1.0.2k) cannot (test_tls.py names that refusal)."""
    pki = make_pki(tmp_path / "pki")
    kam: Any = TlsKamailio(tmp_path, pki.server, tls13_only=True).start()
    try:
        line = {
            "id": "tls13", "registrar": kam.tls_uri, "user": "1001", "password": "secret1001",
            "transport": "tls", "tls_ca_file": str(pki.ca),
        }  # fmt: skip
        phone = await Phone.start(tmp_path, engine="built", lines=[line])
        try:
            assert phone.engine["tls13"] is True
            status = await phone.expect(event="status", registration="online", timeout=20)
            assert status["lines"][0]["registration"] == "online"
        finally:
            await phone.stop()
    finally:
        kam.stop()
