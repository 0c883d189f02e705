"""A transfer asked by the far end (an incoming REFER) and an INVITE that replaces the agent's
call are declined (CARD1 review).

pjsua would accept it (202) and call the Refer-To target by itself, reusing the agent's call
object for that new call: the call the agent sees would never end (the far end's BYE went
unreported) and a call nobody dialled, past the 4-call limit's and the flood guard's count,
would take its place; closing the phone then crashed the process (segfault in pjsua2's
``hangupAllCalls``)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from callsys.model import CallEvent, CallState, EndReason

from .peers import HOST, Baresip, free_port

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def test_a_transfer_asked_by_the_far_end_is_declined(start_phone, baresip: Baresip) -> None:  # type: ignore[no-untyped-def]
    phone = await start_phone()
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind((HOST, free_port()))
    target.setblocking(False)
    try:
        call_id = await phone.provider.dial(f"1002@{baresip.address}")
        await phone.event(CallEvent.ANSWERED, call_id)
        mark = len(baresip.events)
        await baresip.cmd("transfer", f"sip:target@{HOST}:{target.getsockname()[1]}")
        failed = await baresip.wait_event("TRANSFER_FAILED", since=mark)
        assert "603" in str(failed.get("param", "")), failed
        # baresip hangs up when its transfer fails: the phone sees the call end
        assert (await phone.event(CallEvent.ENDED, call_id)).reason is EndReason.COMPLETED
        assert phone.provider.engine.call_count() == 0
        await asyncio.sleep(0.5)  # pjsua sent its INVITE to the target at once, before
        with pytest.raises(BlockingIOError):
            target.recv(65536)  # no call to the Refer-To target
        # (and closing the phone afterwards no longer crashes in hangupAllCalls)
    finally:
        target.close()


SDP = "v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"


def _request(
    sock: socket.socket, method: str, phone_port: int, call_id: str, tag: str, extra: str = ""
) -> bytes:
    port = sock.getsockname()[1]
    sdp = SDP.format(host=HOST, port=port + 2) if method == "INVITE" else ""
    head = [
        f"{method} sip:callsys@{HOST}:{phone_port} SIP/2.0",
        f"Via: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK{tag}{method}",
        f"From: <sip:caller@{HOST}:{port}>;tag={tag}",
        f"To: <sip:callsys@{HOST}:{phone_port}>" + extra,
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:caller@{HOST}:{port}>",
        "Max-Forwards: 70",
    ]
    if sdp:
        head.append("Content-Type: application/sdp")
    return ("\r\n".join([*head, f"Content-Length: {len(sdp)}", "", sdp])).encode()


async def _final(sock: socket.socket, timeout: float = 5.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            text = sock.recv(65536).decode()
        except BlockingIOError:
            await asyncio.sleep(0.02)
            continue
        if not text.startswith("SIP/2.0 1"):
            return text
    raise AssertionError("no final response")


async def test_an_invite_that_replaces_a_call_is_declined(start_phone) -> None:  # type: ignore[no-untyped-def]
    """An INVITE with ``Replaces`` (RFC 3891: attended transfer, call pick-up) for the agent's
    call is declined 603: pjsua would answer it 200 by itself, hang the agent's call up and hand
    its object to the new call — the call the agent sees would be somebody else's."""
    phone = await start_phone()
    first, second = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    try:
        for sock in (first, second):
            sock.bind((HOST, 0))
            sock.setblocking(False)
        first.sendto(_request(first, "INVITE", phone.port, "first@test", "one"), (HOST, phone.port))
        ring = await phone.event(CallEvent.INCOMING)
        await phone.provider.answer(ring.call_id)
        ok = await _final(first)
        assert ok.startswith("SIP/2.0 200 ")
        to_tag = next(line for line in ok.split("\r\n") if line.startswith("To:")).rsplit(";tag=", 1)[1]
        ack = _request(first, "ACK", phone.port, "first@test", "one", f";tag={to_tag}")
        first.sendto(ack, (HOST, phone.port))
        await phone.event(CallEvent.ANSWERED, ring.call_id)
        mark = len(phone.events)
        replaces = f"\r\nReplaces: first@test;to-tag={to_tag};from-tag=one"
        second.sendto(
            _request(second, "INVITE", phone.port, "second@test", "two", replaces), (HOST, phone.port)
        )
        final = await _final(second)
        assert final.startswith("SIP/2.0 603 "), final.split("\r\n", 1)[0]
        assert not phone.events[mark:]  # nothing happened to the agent's call
        call = phone.manager.get(ring.call_id)
        assert call is not None and call.state is CallState.ACTIVE
        await phone.provider.hangup(ring.call_id)
        assert (await phone.event(CallEvent.ENDED, ring.call_id)).reason is EndReason.COMPLETED
        assert phone.provider.engine.call_count() == 0
    finally:
        first.close()
        second.close()
