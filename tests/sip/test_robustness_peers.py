"""The softphone survives malformed SIP and floods, and never loses a call to a stale pj.Call."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
from pathlib import Path

import pytest

from callsys.model import CallEvent, EndReason

from .peers import HOST, MALFORMED_DIR, Baresip, free_port, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

SCENARIOS = sorted(MALFORMED_DIR.glob("m*.xml"))

#: What the phone answers to each malformed or unusual message (final status, or None = nothing).
EXPECTED: dict[str, set[int | None]] = {
    "m01_no_callid": {None, 400},  # no Call-ID: nothing to answer to (RFC 3261 drops it)
    "m02_no_from_to": {None, 400},
    "m03_huge_header": {200},  # valid, just big
    "m04_bad_content_length": {400},  # RFC 3261 18.3 (the flood guard's check: pjsip would take it)
    "m05_nonnumeric_content_length": {None, 400},
    "m06_no_sdp_late_offer": {200},  # late offer: we offer in the 200
    "m07_only_g722": {200},  # we speak G.722 too
    "m08_compact_headers": {200},
    "m09_lowercase_names": {200},
    "m10_bad_sdp": {400, 488},
    "m11_options": {200},
}


def final_statuses(trace: str) -> list[int]:
    """Final response codes sipp received, from its -trace_msg log."""
    return [int(code) for code in re.findall(r"^SIP/2\.0 ([2-6]\d\d) ", trace, re.M)]


async def hang_up_everything(phone) -> None:  # type: ignore[no-untyped-def]
    for call in phone.manager.live_calls():
        with contextlib.suppress(Exception):
            await phone.provider.hangup(call.id)
    await phone.until(lambda: not phone.manager.live_calls(), 10, "all calls ended")


async def normal_call_works(phone, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    phone.provider.set_auto_answer(False)
    mark = len(phone.events)
    sipp = asyncio.create_task(
        run_sipp(
            [
                f"{HOST}:{phone.port}",
                "-sn",
                "uac",
                "-d",
                "200",
                "-m",
                "1",
                "-i",
                HOST,
                "-p",
                str(free_port()),
                "-nostdin",
                "-timeout",
                "20s",
                "-recv_timeout",
                "5000",
            ],
            tmp_path,
        )
    )
    ring = await phone.event(CallEvent.INCOMING, since=mark)
    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id, since=mark)
    status, out = await sipp
    assert status == 0, out
    ended = await phone.event(CallEvent.ENDED, ring.call_id, since=mark)
    assert ended.reason is EndReason.COMPLETED


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_malformed_message_is_answered_or_dropped_and_the_phone_lives_on(
    start_phone, tmp_path: Path, scenario: Path
) -> None:
    phone = await start_phone(auto_answer=True)
    _status, out = await run_sipp(
        [
            f"{HOST}:{phone.port}",
            "-sf",
            str(scenario),
            "-i",
            HOST,
            "-p",
            str(free_port()),
            "-m",
            "1",
            "-nostdin",
            "-trace_msg",
            "-timeout",
            "4s",
        ],
        tmp_path,
        timeout=6,
        kill_after=True,
    )
    traces = list(tmp_path.glob(f"{scenario.stem}_*_messages.log"))
    assert traces, out
    codes = final_statuses(traces[0].read_text(errors="replace"))
    got = codes[0] if codes else None
    assert got in EXPECTED[scenario.stem], f"{scenario.stem}: answered {codes}"
    await hang_up_everything(phone)
    await normal_call_works(phone, tmp_path)


async def test_flood_of_500_invites_then_a_normal_call(start_phone, tmp_path: Path) -> None:
    phone = await start_phone(auto_answer=True)
    _status, out = await run_sipp(
        [
            f"{HOST}:{phone.port}",
            "-sn",
            "uac",
            "-d",
            "0",
            "-m",
            "500",
            "-r",
            "250",
            "-l",
            "100",
            "-i",
            HOST,
            "-p",
            str(free_port()),
            "-nostdin",
            "-timeout",
            "60s",
            "-recv_timeout",
            "4000",
        ],
        tmp_path,
        timeout=90,
    )
    assert "Call limit 500 hit" in out, out
    assert len(phone.of(CallEvent.ANSWERED)) <= 5  # auto-answer stops during a burst (flood guard)
    assert len(phone.of(CallEvent.INCOMING)) < 100  # the rest got 486 from the 4-call cap
    await hang_up_everything(phone)
    await normal_call_works(phone, tmp_path)


async def test_twenty_calls_in_a_row_with_garbage_collection(start_phone, baresip: Baresip) -> None:
    """The stale pj.Call trap: a Call object collected after its slot was reused hangs up the
    new call. Every call must stay up until *we* hang it up."""
    phone = await start_phone()
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    for n in range(20):
        mark, bmark = len(phone.events), len(baresip.events)
        await baresip.cmd("dial", phone.uri)
        ring = await phone.event(CallEvent.INCOMING, since=mark)
        await phone.provider.answer(ring.call_id)
        await phone.event(CallEvent.ANSWERED, ring.call_id, since=mark)
        gc.collect()  # would destroy a stale pj.Call for this slot now
        await phone.provider.send_dtmf(ring.call_id, "1")  # round trip: the call is still up
        await baresip.wait_event("CALL_DTMF_START", since=bmark)
        assert not phone.of(CallEvent.ENDED, ring.call_id), f"call {n} ended by itself"
        if n % 2:
            await phone.provider.hangup(ring.call_id)
        else:
            await baresip.cmd("hangup")
        ended = await phone.event(CallEvent.ENDED, ring.call_id, since=mark)
        assert ended.reason is EndReason.COMPLETED, f"call {n}: {ended.reason}"
        await baresip.wait_event("CALL_CLOSED", since=bmark)
        gc.collect()
    assert len(phone.of(CallEvent.ANSWERED)) == 20
