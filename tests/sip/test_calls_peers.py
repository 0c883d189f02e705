"""The softphone against baresip (the far end) in direct mode: calls, audio, hold, DTMF, CANCEL."""

from __future__ import annotations

import pytest

from callsys.model import CallEvent, CallState, Direction, EndReason

from .peers import Baresip, has_tone, read_wav

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def test_incoming_call_answered_with_audio_both_ways(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri.replace("callsys", "2000"))
    ring = await phone.event(CallEvent.INCOMING)
    assert ring.direction is Direction.INCOMING
    assert ring.remote is not None and ring.remote.digits == "1002"
    assert ring.dnis == "2000"  # the dialled number comes from To / Request-URI (IN12)
    call = phone.manager.get(ring.call_id)
    assert call is not None and call.state is CallState.RINGING

    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    assert phone.manager.get(ring.call_id).state is CallState.ACTIVE  # type: ignore[union-attr]
    await baresip.wait_event("CALL_ESTABLISHED")
    await phone.hears(ring.call_id, 1000)  # baresip's tone reaches us
    await baresip_heard(phone, baresip)

    await phone.provider.hangup(ring.call_id)
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.COMPLETED
    await baresip.wait_event("CALL_CLOSED")
    assert_baresip_heard(baresip, 440)


async def baresip_heard(phone, baresip: Baresip, size: int = 24000) -> None:  # type: ignore[no-untyped-def]
    """Keep the call up until baresip has written >= *size* bytes of what it decoded."""
    await phone.until(
        lambda: any(p.stat().st_size >= size for p in baresip.recordings("dec")), 15, "baresip recording"
    )


def assert_baresip_heard(baresip: Baresip, hz: float) -> None:
    samples, rate = read_wav(baresip.recordings("dec")[-1])
    assert has_tone(samples[rate // 2 :], rate, hz), "baresip did not hear our tone"
