"""The softphone survives mutated SIP: a short fixed-seed run of ``sipfuzz`` (the long run is
``benchmarks/sip_fuzz.py``). Valid INVITE, ACK, BYE, CANCEL, OPTIONS and MESSAGE requests are
mutated and sent over UDP and TCP to ``callsys phone`` (a subprocess: a crash kills only it);
after every batch the phone must be alive and answer a normal call."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .peers import Phone
from .rawsip import SipClient, answered_call
from .sipfuzz import Fuzzer

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_mutated_requests_do_not_kill_the_phone(tmp_path: Path, seed: int) -> None:
    fuzzer = Fuzzer(seed, tmp_path, batch=100)
    report = await fuzzer.run(1000)
    assert not report.crashes, report.crashes
    assert report.sent >= 1000
    assert report.checks == report.batches  # a normal call answered after every batch


async def test_calls_keep_getting_media_after_the_conference_bridge_has_filled_once(tmp_path: Path) -> None:
    """Found by the long fuzzer run: with ``audio.mode = none`` pjsua closed its null sound
    device after a second with no call (nothing connects to the bridge's master port), which
    stopped the clock that applies the conference bridge's queued add/remove operations. Every
    answered call's port then stayed taken, and after 254 answered calls every call failed,
    488 "Unable to create media session" (``conference.c Add port … failed: PJ_ETOOMANY``)."""
    phone = await Phone.start(tmp_path, log_file="")
    client = await SipClient(phone.port).open()
    try:
        for n in range(270):
            if n == 1:
                await asyncio.sleep(1.5)  # idle: pjsua closed the null sound device after 1 s
            mark = len(phone.lines)
            dialog, call = await answered_call(phone, client, f"7{n:03d}")
            await client.send(dialog.bye())
            assert (await client.final(dialog, "BYE")).status == 200, f"call {n}"
            await phone.expect(since=mark, event="ended", call=call)
            await asyncio.sleep(0.03)  # under the flood guard's 28 calls within 0.6 s
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()
