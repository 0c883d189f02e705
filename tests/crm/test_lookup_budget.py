"""Caller lookups stay inside Dataverse's service protection (B3, issues 13 and 14): a burst of
rings uses a few request slots, not one each; a 429's Retry-After holds every lookup back until
it has passed; the phone index's answer is confirmed online at most once per number in a while."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from callsys.crm import Match
from callsys.crm.dynamics.client import CONFIRM_AGAIN_AFTER, LOOKUP_CONCURRENCY, DynamicsCrm
from callsys.errors import CrmThrottled
from callsys.model import PhoneNumber
from callsys.numbers import NumberPlan
from tests.dataverse_fake import DataverseFake


@pytest.mark.asyncio
async def test_a_burst_of_rings_uses_a_few_request_slots(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    """Before: 40 rings at once opened 40 requests; with the service's concurrency limit at 52
    and the outbox writing beside them, a call-centre burst got 429 "concurrent requests"."""
    fake.latency = 0.05
    anna = fake.add("contact", {"fullname": "Anna Weber", "telephone1": "+49 30 1234507"})
    numbers = [plan.parse(f"+49 30 12345{n:02d}") for n in range(40)]
    found = await asyncio.gather(*(crm.lookup(n) for n in numbers))
    assert fake.peak_in_flight <= LOOKUP_CONCURRENCY
    assert [m.party.id for m in found[7]] == [anna]
    assert sum(1 for f in found if f) == 1


@pytest.mark.asyncio
async def test_retry_after_holds_every_lookup_back_until_it_has_passed(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    """Before: each ring during a 429 storm asked again at once (87 throttled requests in 25 s)."""
    fake.inject(429, retry_after=30)
    with pytest.raises(CrmThrottled):
        await crm.lookup(plan.parse("+49 30 1111111"))
    sent = fake.requests
    for n in range(10):
        with pytest.raises(CrmThrottled) as info:
            await crm.lookup(plan.parse(f"+49 30 22222{n:02d}"))
        assert 0 < info.value.retry_after <= 30
        assert "wait" in str(info.value)
    assert fake.requests == sent  # nothing sent while the service asked us to wait


class _Index:
    def __init__(self, matches: Sequence[Match]) -> None:
        self.matches = list(matches)

    def lookup(self, number: PhoneNumber) -> list[Match]:
        return list(self.matches)


@pytest.mark.asyncio
async def test_the_index_answer_is_confirmed_once_per_number_in_a_while(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    """Before: every ring of a known number spent a request of the 5-minute budget."""
    record = fake.add("contact", {"fullname": "Anna Weber", "telephone1": "+49 30 1234567"})
    number = plan.parse("+49 30 1234567")
    online = await crm.lookup_online(number)
    assert online and online[0].party.id == record
    crm.index = _Index(online)  # type: ignore[assignment]
    sent = fake.requests
    for _ in range(20):  # the same customer rings again and again
        assert await crm.lookup(number) == online
        await asyncio.sleep(0)
    await asyncio.gather(*list(crm._background))
    assert fake.requests - sent == 1
    assert CONFIRM_AGAIN_AFTER >= 60
