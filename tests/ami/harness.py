"""Shared helpers of the AMI tests: a listener that records provider events and feeds a real
CallManager, ``replay`` — one capture through the fake server into a fresh provider —, a provider
``connected`` to a fake server, and a capture cut after a given frame (``_prefix_of``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from callsys.callmanager import CallManager
from callsys.model import Call, CallEvent, ProviderEvent
from callsys.provider import ProviderStatus
from providers.ami import AmiProvider
from tests.ami.fakeami import FakeAmi, Session, Transcript

WATCH_ALL = ("1001", "1002", "1003")


@dataclass
class Recorder:
    events: list[ProviderEvent] = field(default_factory=list)
    statuses: list[ProviderStatus] = field(default_factory=list)
    manager: CallManager = field(default_factory=CallManager)
    finals: dict[str, Call] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.manager.subscribe(self._observe)

    def _observe(self, event: CallEvent, call: Call) -> None:
        self.finals[call.id] = call

    def call_event(self, event: ProviderEvent) -> None:
        self.events.append(event)
        self.manager.handle(event, provider="ami")

    def status_changed(self, status: ProviderStatus) -> None:
        self.statuses.append(status)

    def summary(self) -> list[tuple[str, str, str, str]]:
        """(event, extension, direction, detail) per provider event — compact for asserts."""
        out = []
        for ev in self.events:
            detail = ""
            if ev.event is CallEvent.ENDED and ev.reason is not None:
                detail = ev.reason.value
            elif ev.remote is not None and not ev.remote.is_anonymous:
                detail = str(ev.remote)
            out.append(
                (ev.event.value, ev.extension or "", ev.direction.value if ev.direction else "", detail)
            )
        return out

    def calls(self, extension: str) -> list[Call]:
        return [c for c in self.finals.values() if c.extension == extension]


Row = tuple[str, str, str, str]


def settled(rows: list[Row]) -> list[Row]:
    """*rows* with each run of consecutive "ended" rows sorted: the legs of one call end together,
    and Asterisk (chan_pjsip above all) reports their Hangups in either order."""
    out: list[Row] = []
    run: list[Row] = []
    for row in [*rows, ("", "", "", "")]:
        if row[0] == "ended":
            run.append(row)
            continue
        out.extend(sorted(run))
        run = []
        out.append(row)
    return out[:-1]


def options(port: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "username": "callsys",
        "secret": "callsys",
        "extensions": list(WATCH_ALL),
        "context": "internal",
        "technology": "SIP",
        "region": "DE",
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "connect_timeout": 5,
        "action_timeout": 5,
    }
    base.update(extra)
    return base


async def replay(
    name: str,
    *,
    actions: Callable[[AmiProvider], Awaitable[None]] | None = None,
    check: dict[str, tuple[str, ...]] | None = None,
    rewrite: Callable[[list[bytes]], list[bytes]] | None = None,
    recorder: Recorder | None = None,
    **extra: Any,
) -> tuple[Recorder, AmiProvider, FakeAmi]:
    """Replay capture *name* (its frames through *rewrite*, if given) into *recorder* (a new
    one by default); run *actions* once logged in; log off; return what was derived."""
    async with FakeAmi(Session.replay(name, rewrite, check=check or {})) as server:
        provider = AmiProvider(options(server.port, **extra))
        rec = recorder or Recorder()
        await provider.start(rec)
        try:
            await provider.wait_connected(5)
            if actions is not None:
                await actions(provider)
        finally:
            await provider.close()
        await asyncio.sleep(0)
    return rec, provider, server


async def _until(predicate: object, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


@asynccontextmanager
async def connected(session: Session, **extra: Any) -> AsyncIterator[tuple[AmiProvider, Recorder, FakeAmi]]:
    async with FakeAmi(session) as server:
        provider = AmiProvider(options(server.port, **extra))
        rec = Recorder()
        await provider.start(rec)
        try:
            await provider.wait_connected(5)
            yield provider, rec, server
        finally:
            await provider.close()


def _prefix_of(name: str, predicate: object, **kwargs: Any) -> Session:
    """The capture up to and including the first frame matching *predicate*; then the PBX waits."""
    t = Transcript.load(name)
    session = Session.replay(name, keep_open=True, **kwargs)
    session.frames = t.frames[: t.frames_until(predicate) + 1]  # type: ignore[arg-type]
    return session
