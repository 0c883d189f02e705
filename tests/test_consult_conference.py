"""Attended transfer and the three-way conference in the one state machine: a consultation knows
the call it consults for, a transfer is written into the call log, a conference of one call is
no conference, and providers that cannot say so before anything is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.calllog import CallLog
from callsys.callmanager import CallManager
from callsys.errors import NotSupported
from callsys.model import CallEvent, CallState, Direction, EndReason, PhoneNumber, ProviderEvent
from callsys.provider import Capability, require
from callsys.store import open_database
from providers.sim import SimulatedProvider

pytestmark = pytest.mark.asyncio


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.db = open_database(tmp_path / "calls.sqlite3")
        self.log = CallLog(self.db)
        self.manager = CallManager()
        self.manager.subscribe(self.log)
        self.provider = SimulatedProvider({"speed": 0, "agent_script": False})  # dialled calls answer at once

    async def connected_call(self, number: str = "02188776655") -> str:
        call_id = self.provider.ring(number, "Caller")
        await self.provider.answer(call_id)
        return call_id

    def state(self, call_id: str) -> CallState | None:
        call = self.manager.get(call_id)
        return call.state if call is not None else None


@pytest_asyncio.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    s = Setup(tmp_path)
    await s.provider.start(s.manager.listener("sim"))
    yield s
    await s.provider.close()
    s.db.close()


async def _far_end_answers(s: Setup, call_id: str) -> None:
    """Until the simulator's far end has answered *call_id*."""
    async with asyncio.timeout(10):
        while s.state(call_id) is not CallState.ACTIVE:
            await asyncio.sleep(0.001)


async def test_consult_then_transfer_is_written_into_the_call_log(setup: Setup) -> None:
    s = setup
    first = await s.connected_call()
    consult = await s.provider.consult(first, "1002")
    assert s.state(first) is CallState.HELD
    assert s.manager.consultation_of(first) is s.manager.get(consult)
    call = s.manager.get(consult)
    assert call is not None and call.consult_of == first and call.direction is Direction.OUTGOING
    await _far_end_answers(s, consult)
    await s.provider.transfer_to_call(first, consult)
    ended = s.manager.get(first)
    assert ended is not None and ended.end_reason is EndReason.COMPLETED and ended.transferred_to == "1002"
    row = s.log.get(first)
    assert row is not None and row.transferred_to == "1002" and row.to_dict()["transferred_to"] == "1002"
    assert not s.manager.live_calls()


async def test_a_blind_transfer_is_written_into_the_call_log_too(setup: Setup) -> None:
    s = setup
    first = await s.connected_call()
    await s.provider.transfer(first, "1003")
    row = s.log.get(first)
    assert row is not None and row.transferred_to == "1003" and row.result is EndReason.COMPLETED


async def test_a_consultation_whose_call_ended_becomes_an_ordinary_call(setup: Setup) -> None:
    s = setup
    first = await s.connected_call()
    consult = await s.provider.consult(first, "1002")
    s.provider.remote_hangup(first)  # the held caller gives up
    await asyncio.sleep(0)
    call = s.manager.get(consult)
    assert call is not None and call.consult_of == "" and call.state.is_live
    assert s.manager.consultation_of(first) is None


async def test_a_conference_of_one_call_is_no_conference(setup: Setup) -> None:
    s = setup
    first = await s.connected_call()
    consult = await s.provider.consult(first, "1002")
    await _far_end_answers(s, consult)
    await s.provider.conference(first, consult)
    assert [c.id for c in s.manager.conference_calls()] == [first, consult]
    assert s.state(first) is CallState.ACTIVE and s.state(consult) is CallState.ACTIVE  # both hear
    await s.provider.hangup(consult)
    remaining = s.manager.get(first)
    assert remaining is not None and not remaining.conference and remaining.state is CallState.ACTIVE
    assert s.manager.conference_calls() == ()
    row = s.log.get(consult)
    assert row is not None and row.conference  # the log keeps that it was a conference
    await s.provider.hangup(first)
    row = s.log.get(first)
    assert row is not None and row.state is CallState.ENDED and row.conference  # also after it left it


async def test_a_consultation_names_only_a_live_call() -> None:
    manager = CallManager()
    manager.handle(
        ProviderEvent(
            CallEvent.OUTGOING,
            "b",
            direction=Direction.OUTGOING,
            remote=PhoneNumber("1002"),
            consult_of="gone",
        )
    )
    call = manager.get("b")
    assert call is not None and call.consult_of == ""


async def test_a_provider_that_cannot_says_so(tmp_path: Path) -> None:
    provider = SimulatedProvider({"capabilities": ["answer", "hangup", "hold", "dial", "transfer"]})
    with pytest.raises(NotSupported, match="consult"):
        require(provider, Capability.CONSULT)
    with pytest.raises(NotSupported, match="conference"):
        await provider.conference("a", "b")
    with pytest.raises(NotSupported, match="transfer a call to the party you consulted"):
        await provider.transfer_to_call("a", "b")
