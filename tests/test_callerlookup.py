"""CallerLookup: who is calling, once per number per session, never an exception (IN3, B2, B3)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from callsys.callmanager import CallManager
from callsys.crm import Match
from callsys.errors import CrmUnavailable
from callsys.lookup import CallerLookup
from callsys.model import (
    Call,
    CallEvent,
    CallState,
    Direction,
    EndReason,
    Party,
    PartyKind,
    PhoneNumber,
    ProviderEvent,
)
from callsys.numbers import NumberPlan

PLAN = NumberPlan("IR", "21")
SARA = Party(PartyKind.CONTACT, "c-1", "Sara Ahmadi", numbers=(PLAN.parse("09123456789"),))
ACME = Party(PartyKind.ACCOUNT, "a-1", "ACME")


class FakeCrm:
    """Follows the Crm contract: async lookup by number, best first; may fail like a network CRM."""

    name = "fake"

    def __init__(self, book: dict[str, list[Match]] | None = None) -> None:
        self.book = book or {}
        self.calls: list[str] = []
        self.fail: Exception | None = None
        self.delay = 0.0

    async def lookup(self, number: PhoneNumber) -> Sequence[Match]:
        self.calls.append(number.key)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return list(self.book.get(number.key, []))

    async def search(self, text: str, limit: int = 20) -> Sequence[Party]:
        return []

    async def get(self, kind: str, record_id: str) -> Party | None:
        return None

    def record_url(self, party: Party) -> str:
        return ""

    async def close(self) -> None:
        return None


def call(number: str, call_id: str = "c1") -> Call:
    return Call(
        id=call_id,
        direction=Direction.INCOMING,
        state=CallState.RINGING,
        started_at=datetime(2026, 11, 25, tzinfo=UTC),
        remote=PLAN.parse(number),
    )


@pytest.mark.asyncio
async def test_identify_returns_matches_best_first_and_caches_per_number() -> None:
    crm = FakeCrm({"+989123456789": [Match(ACME, score=0.5), Match(SARA, score=1.0)]})
    lookup = CallerLookup(crm)
    first = await lookup.identify(call("0912 345 6789"))
    assert [m.party.name for m in first] == ["Sara Ahmadi", "ACME"]
    again = await lookup.identify(call("+98 912 345 6789", "c2"))
    assert [m.party.name for m in again] == ["Sara Ahmadi", "ACME"]
    assert crm.calls == ["+989123456789"]  # asked the CRM once for the session
    lookup.forget(PLAN.parse("09123456789"))
    await lookup.identify(call("09123456789"))
    assert len(crm.calls) == 2


@pytest.mark.asyncio
async def test_concurrent_lookups_of_one_number_share_one_request() -> None:
    crm = FakeCrm({"+989123456789": [Match(SARA)]})
    crm.delay = 0.01
    lookup = CallerLookup(crm)
    results = await asyncio.gather(*(lookup.identify(call("09123456789", f"c{i}")) for i in range(5)))
    assert all([m.party.id for m in r] == ["c-1"] for r in results)
    assert crm.calls == ["+989123456789"]


@pytest.mark.asyncio
async def test_crm_errors_and_timeouts_give_no_matches_and_are_not_cached(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crm = FakeCrm({"+989123456789": [Match(SARA)]})
    crm.fail = CrmUnavailable("Dynamics is down")
    lookup = CallerLookup(crm, timeout=0.05)
    with caplog.at_level(logging.WARNING, logger="callsys.lookup"):
        assert await lookup.identify(call("09123456789")) == []
    assert "Dynamics is down" in caplog.text
    crm.fail = None
    crm.delay = 1.0
    assert await lookup.identify(call("09123456789")) == []  # timed out
    crm.delay = 0
    assert [m.party.id for m in await lookup.identify(call("09123456789"))] == ["c-1"]


@pytest.mark.asyncio
async def test_anonymous_caller_is_not_looked_up() -> None:
    crm = FakeCrm()
    lookup = CallerLookup(crm)
    assert await lookup.identify(call("anonymous")) == []
    assert await lookup.identify(call("")) == []
    assert crm.calls == []


@pytest.mark.asyncio
async def test_observer_hook_looks_up_each_new_call_once() -> None:
    crm = FakeCrm({"+989123456789": [Match(SARA)]})
    lookup = CallerLookup(crm)
    manager = CallManager(normalize=lambda n: PLAN.parse(n.raw))
    manager.subscribe(lookup)
    heard: list[tuple[str, list[str]]] = []
    lookup.subscribe(lambda c, matches: heard.append((c.id, [m.party.name for m in matches])))

    manager.handle(ProviderEvent(CallEvent.INCOMING, "c1", remote=PhoneNumber(raw="09123456789")))
    manager.handle(ProviderEvent(CallEvent.INCOMING, "c2", remote=PhoneNumber(raw="+49301234567")))
    manager.handle(ProviderEvent(CallEvent.ANSWERED, "c1"))
    manager.handle(ProviderEvent(CallEvent.ENDED, "c1", reason=EndReason.COMPLETED))
    await lookup.wait_idle()
    assert sorted(heard) == [("c1", ["Sara Ahmadi"]), ("c2", [])]


@pytest.mark.asyncio
async def test_a_failing_observer_does_not_stop_the_others() -> None:
    crm = FakeCrm({"+989123456789": [Match(SARA)]})
    lookup = CallerLookup(crm)
    heard: list[str] = []

    def broken(c: Call, matches: list[Match]) -> None:
        raise RuntimeError("widget gone")

    lookup.subscribe(broken)
    lookup.subscribe(lambda c, m: heard.append(c.id))
    lookup(CallEvent.INCOMING, call("09123456789"))
    await lookup.wait_idle()
    assert heard == ["c1"]


@pytest.mark.asyncio
async def test_a_local_index_answers_first_then_the_crm_corrects_it() -> None:
    class Index:
        def lookup(self, number: PhoneNumber) -> Sequence[Match]:
            return [Match(ACME)]

    crm = FakeCrm({"+989123456789": [Match(SARA)]})
    lookup = CallerLookup(crm, index=Index())
    heard: list[list[str]] = []
    lookup.subscribe(lambda c, matches: heard.append([m.party.name for m in matches]))
    lookup(CallEvent.INCOMING, call("09123456789"))
    await lookup.wait_idle()
    assert heard == [["ACME"], ["Sara Ahmadi"]]


def test_observer_hook_without_a_loop_does_not_raise() -> None:
    lookup = CallerLookup(FakeCrm())
    lookup(CallEvent.INCOMING, call("09123456789"))  # logged, not raised
