"""Click-to-dial that never gets past the agent's own phone (OUT3): the agent is told why, in a
sentence — not just "failed"."""

from __future__ import annotations

import asyncio

import pytest

from callsys.errors import ProviderError
from callsys.model import EndReason
from callsys.provider import Registration
from providers.ami import AmiProvider
from providers.ami.provider import WHY
from tests.ami.fakeami import FakeAmi, Session, frame
from tests.ami.harness import Recorder, options, replay

pytestmark = pytest.mark.asyncio


async def _until(predicate: object, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


async def test_an_unregistered_phone_is_refused_with_the_reason() -> None:
    session = Session(frames=[], keep_open=True, accept=("Originate",), devices={"SIP/1001": "UNAVAILABLE"})
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, extensions=["1001"]))
        rec = Recorder()
        await provider.start(rec)
        try:
            await provider.wait_connected(5)
            await _until(lambda: provider.lines()[0].registration is Registration.OFFLINE)
            with pytest.raises(ProviderError, match=r"Your phone \(extension 1001\) is not registered"):
                await provider.dial("1002")
        finally:
            await provider.close()
    assert server.actions("Originate") == [] and rec.events == []


@pytest.mark.parametrize(
    ("devices", "reason_code", "end", "why"),
    [
        ({}, "0", EndReason.FAILED, "it is not registered, does not exist, or cannot be reached"),
        ({"SIP/1001": "UNAVAILABLE"}, "0", EndReason.FAILED, "it is not registered with the phone system"),
        ({}, "5", EndReason.BUSY, "it was busy or declined the call"),
        ({}, "3", EndReason.CANCELLED, "nobody picked up within 30 s"),
    ],
    ids=["unknown", "unregistered-meanwhile", "busy", "rang-out"],
)
async def test_originate_failure_says_why(
    devices: dict[str, str], reason_code: str, end: EndReason, why: str
) -> None:
    """Asterisk could not create or ring the agent's channel: ``OriginateResponse`` Failure with no
    channel at all. The ended call carries the sentence (shown with the call, and in its activity)."""
    session = Session(frames=[], keep_open=True, accept=("Originate",))
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, extensions=["1001"]))
        rec = Recorder()
        await provider.start(rec)
        try:
            await provider.wait_connected(5)
            call_id = await provider.dial("1002")
            (originate,) = server.actions("Originate")
            frames = [frame(Event="DeviceStateChange", Device=dev, State=st) for dev, st in devices.items()]
            frames.append(frame(Event="OriginateResponse", ActionID=originate.action_id, Response="Failure",
                                Channel="SIP/1001", Reason=reason_code, Uniqueid="<unknown>"))  # fmt: skip
            await server.conns[0].inject(*frames)
            await _until(lambda: rec.manager.live_calls() == ())
        finally:
            await provider.close()
    final = rec.finals[call_id]
    assert final.end_reason is end
    assert final.variables[WHY].startswith("Click-to-dial ") and why in final.variables[WHY]
    assert "(extension 1001)" in final.variables[WHY]


async def test_agent_phone_declines_on_chan_pjsip() -> None:
    """Asterisk 22: Alice's phone answers the click-to-dial with 486; the OriginateResponse
    (Failure, Reason 0) comes before her channel's Hangup (cause 17), which tells the story."""

    async def dial(provider: AmiProvider) -> None:
        await provider.dial("1002")

    rec, _, server = await replay(
        "pjsip/21_click_to_dial_agent_busy", actions=dial, technology="PJSIP", extensions=["1001"]
    )
    assert server.errors == []
    (call,) = rec.finals.values()
    assert call.end_reason is EndReason.BUSY
    assert (
        call.variables[WHY]
        == "Click-to-dial rang your phone (extension 1001): it was busy or declined the call."
    )
