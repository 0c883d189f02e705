"""SRTP per line (a line's ``srtp``): encrypted audio with baresip's ``srtp`` module as the far
end, and a line that must have it refusing a call that offers plain RTP."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.model import CallEvent, EndReason

from .peers import Baresip, assert_baresip_heard, baresip_heard

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def srtp_baresip(tmp_path: Path) -> AsyncIterator[Baresip]:
    """1002 offers only SRTP (RTP/SAVP with SDES keys), 1003 plain RTP; both answer by themselves."""
    peer = Baresip(
        tmp_path,
        [
            "<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU;mediaenc=srtp-mand",
            "<sip:1003@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU",
        ],
        modules=("srtp",),
    )
    await peer.start()
    yield peer
    await peer.stop()


def line(srtp: str) -> list[dict[str, str]]:
    return [{"id": "direct", "user": "callsys", "srtp": srtp}]


def sdp_lines(log: str, first_line: str) -> str:
    """The SDP of the messages in pjsip's log whose first line starts with *first_line*."""
    found = []
    for chunk in re.split(r"\n(?=\S.*(?:TX|RX) \d+ bytes)", log):
        start = chunk.find(first_line)
        if start >= 0:
            found.append(chunk[start:])
    return "\n".join(found)


@pytest.mark.parametrize("srtp", ["optional", "mandatory"])
async def test_an_srtp_call_carries_audio_both_ways(
    start_phone, srtp_baresip: Baresip, tmp_path: Path, srtp: str
) -> None:
    phone = await start_phone(lines=line(srtp))
    await srtp_baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await srtp_baresip.cmd("dial", phone.uri)
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    await srtp_baresip.wait_event("CALL_ESTABLISHED")
    await phone.hears(ring.call_id, 1000)  # baresip's tone, decrypted
    await baresip_heard(phone, srtp_baresip)
    await phone.provider.hangup(ring.call_id)
    await phone.event(CallEvent.ENDED, ring.call_id)
    await srtp_baresip.wait_event("CALL_CLOSED")
    assert_baresip_heard(srtp_baresip, 440)  # ours, decrypted by baresip
    answer = sdp_lines((tmp_path / "pjsip.log").read_text(errors="replace"), "SIP/2.0 200 OK")
    assert "RTP/SAVP" in answer and "a=crypto:" in answer, answer[-1500:]


async def test_a_mandatory_srtp_line_refuses_a_plain_offer(
    start_phone, srtp_baresip: Baresip, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "providers.sip.pjengine")
    phone = await start_phone(lines=line("mandatory"))
    await srtp_baresip.cmd("uafind", "sip:1003@127.0.0.1")
    await srtp_baresip.cmd("dial", phone.uri)
    closed = await srtp_baresip.wait_event("CALL_CLOSED")
    # the caller is told why (the reason phrase), and so is whoever reads the phone's log
    assert "488 Not Acceptable Here (encrypted audio, SRTP, required)" in closed.get("param", ""), closed
    assert any(
        "refused a call offering no encrypted audio on line direct, which requires SRTP (488)"
        in r.getMessage()
        for r in caplog.records
    ), caplog.text
    assert not phone.events  # it never rang


async def test_an_optional_srtp_line_takes_a_plain_offer(start_phone, srtp_baresip: Baresip) -> None:
    phone = await start_phone(lines=line("optional"))
    await srtp_baresip.cmd("uafind", "sip:1003@127.0.0.1")
    await srtp_baresip.cmd("dial", phone.uri)
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.answer(ring.call_id)
    await srtp_baresip.wait_event("CALL_ESTABLISHED")
    await phone.hears(ring.call_id, 1000)
    await phone.provider.hangup(ring.call_id)
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.COMPLETED
