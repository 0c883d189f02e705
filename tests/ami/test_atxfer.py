"""Attended transfer over AMI (``Atxfer``): the consultation is a call of its own, answered when
the agent's channel enters the target's bridge; hanging the agent's channel up completes the
transfer and the call log hears who the party went to. A conference is refused in words."""

from __future__ import annotations

import pytest

from callsys.errors import NotSupported, ProviderError
from callsys.model import CallEvent, CallState, Direction, EndReason
from callsys.provider import Capability
from providers.ami import AmiProvider
from providers.ami.provider import CONFERENCE_MESSAGE
from tests.ami.fakeami import Session, frame
from tests.ami.harness import _prefix_of, _until, connected

pytestmark = pytest.mark.asyncio

ALICE = {"Channel": "SIP/1001-00000001", "Uniqueid": "1795627114.1", "Linkedid": "1795627114.0"}
FIRST_BRIDGE = "2e412421-5227-4016-b32e-b3da7f21e9ce"


def _answered() -> Session:
    """Alice (1001) talks to Bob (1002); the PBX then waits for what the test sends."""
    return _prefix_of(
        "02_internal_answered",
        lambda m: m.event == "BridgeEnter" and m.get("Channel").startswith("SIP/1002"),
        accept=("Atxfer", "Hangup"),
    )


async def test_consult_then_transfer_with_atxfer() -> None:
    async with connected(_answered(), extensions=["1001"]) as (provider, rec, server):
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.ACTIVE])
        (call,) = rec.manager.live_calls()
        consult_id = await provider.consult(call.id, "1003")
        (atxfer,) = server.actions("Atxfer")
        assert (atxfer.get("Channel"), atxfer.get("Exten"), atxfer.get("Context")) == (
            "SIP/1001-00000001",
            "1003",
            "internal",
        )
        consult = rec.manager.get(consult_id)
        assert (
            consult is not None and consult.consult_of == call.id and consult.direction is Direction.OUTGOING
        )
        assert rec.manager.get(call.id).state is CallState.HELD  # type: ignore[union-attr]
        with pytest.raises(ProviderError, match="already has a consultation"):
            await provider.consult(call.id, "1004")
        # Asterisk moves Alice's channel into a bridge with the target: the consultation is up.
        await server.conns[0].inject(
            frame(Event="BridgeLeave", BridgeUniqueid=FIRST_BRIDGE, **ALICE),
            frame(Event="BridgeEnter", BridgeUniqueid="b-consult", BridgeType="basic", **ALICE),
        )
        await _until(lambda: rec.manager.get(consult_id).state is CallState.ACTIVE)  # type: ignore[union-attr]
        with pytest.raises(ProviderError, match="only to the consultation"):
            await provider.transfer_to_call(call.id, "someone-else")
        await provider.transfer_to_call(call.id, consult_id)
        (hangup,) = server.actions("Hangup")
        assert hangup.get("Channel") == "SIP/1001-00000001"  # Asterisk completes the transfer
        await server.conns[0].inject(frame(Event="Hangup", Cause="16", **ALICE))
        await _until(lambda: not rec.manager.live_calls())
        ended = rec.manager.get(call.id)
        assert (
            ended is not None and ended.end_reason is EndReason.COMPLETED and ended.transferred_to == "1003"
        )
        done = rec.manager.get(consult_id)
        assert done is not None and done.end_reason is EndReason.COMPLETED


async def test_a_consultation_nobody_answered_gives_the_call_back() -> None:
    async with connected(_answered(), extensions=["1001"]) as (provider, rec, server):
        await _until(lambda: [c.state for c in rec.manager.live_calls()] == [CallState.ACTIVE])
        (call,) = rec.manager.live_calls()
        consult_id = await provider.consult(call.id, "1003")
        with pytest.raises(ProviderError, match="still dialling"):
            await provider.hangup(consult_id)
        # The target did not answer: Asterisk puts Alice back with the party.
        await server.conns[0].inject(
            frame(Event="BridgeEnter", BridgeUniqueid=FIRST_BRIDGE, BridgeType="basic", **ALICE)
        )
        await _until(lambda: rec.manager.get(call.id).state is CallState.ACTIVE)  # type: ignore[union-attr]
        gone = rec.manager.get(consult_id)
        assert gone is not None and gone.end_reason is EndReason.NO_ANSWER
        assert rec.manager.consultation_of(call.id) is None
        assert [e.event for e in rec.events if e.call_id == call.id][-2:] == [
            CallEvent.HELD,
            CallEvent.RESUMED,
        ]


async def test_a_conference_is_refused_in_words() -> None:
    provider = AmiProvider({"username": "u", "extensions": ["1001"]})
    caps = provider.capabilities
    assert {Capability.CONSULT, Capability.ATTENDED_TRANSFER} <= caps
    assert Capability.CONFERENCE not in caps
    with pytest.raises(NotSupported) as refused:
        await provider.conference("a", "b")
    assert str(refused.value) == CONFERENCE_MESSAGE and "conference" in CONFERENCE_MESSAGE
