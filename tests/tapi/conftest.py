"""Fixtures of the TAPI tests: the fake tapi32 (built once per source hash), and a provider on it
wired to a real CallManager."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callsys.callmanager import CallManager
from callsys.model import Call, CallEvent
from callsys.provider import ProviderStatus
from providers.tapi import TapiProvider
from tests.tapi.fake import FakeTapi, build


@pytest.fixture(scope="session")
def fake_library() -> Path:
    return build()


@pytest.fixture
def fake(fake_library: Path) -> Iterator[FakeTapi]:
    tapi = FakeTapi(fake_library)
    yield tapi
    tapi._lib.fake_reset()


class Rig:
    """A provider on the fake, its CallManager, and what they said."""

    def __init__(self, fake: FakeTapi, **options: Any) -> None:
        self.fake = fake
        self.provider = TapiProvider({"library": str(fake.path), **options})
        self.manager = CallManager()
        self.events: list[tuple[CallEvent, Call]] = []
        self.statuses: list[ProviderStatus] = []
        self.manager.subscribe(lambda event, call: self.events.append((event, call)))
        self.manager.subscribe_status(self.statuses.append)

    async def start(self) -> Rig:
        await self.provider.start(self.manager.listener(self.provider.name))
        return self

    def only_call(self) -> Call:
        ids = {call.id for _event, call in self.events}
        assert len(ids) == 1, ids
        return self.call(ids.pop())

    def call(self, call_id: str) -> Call:
        call = self.manager.get(call_id)
        if call is None:  # ended: the last snapshot the observers got
            call = next(c for _e, c in reversed(self.events) if c.id == call_id)
        return call

    def kinds(self, call_id: str) -> list[CallEvent]:
        return [event for event, call in self.events if call.id == call_id]


@pytest_asyncio.fixture
async def rig(fake: FakeTapi) -> AsyncIterator[Rig]:
    """One line, "Sales 201", owned and monitored."""
    fake.add_line("Sales 201")
    r = await Rig(fake).start()
    yield r
    await r.provider.close()
