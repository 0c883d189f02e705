"""A transfer asked by the far end (an incoming REFER) is declined (CARD1 review).

pjsua would accept it (202) and call the Refer-To target by itself, reusing the agent's call
object for that new call: the call the agent sees would never end (the far end's BYE went
unreported) and a call nobody dialled, past the 4-call limit's and the flood guard's count,
would take its place; closing the phone then crashed the process (segfault in pjsua2's
``hangupAllCalls``)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from callsys.model import CallEvent, EndReason

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
