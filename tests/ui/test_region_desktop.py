"""The desktop reads a caller's number with the configured number plan (``numbers.region``) —
whichever provider rings: the embedded softphone (a real SIP INVITE to the desktop's own phone)
or Asterisk (the captured trunk call of ``06_trunk_did_7000`` with the caller ID rewritten).

Before, the desktop built its providers without the plan: they read numbers as Iranian, and the
CallManager kept their wrong E.164 — a German "0171 2345678" became +981712345678, was logged
so, and matched no record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callsys.crm.local import LocalCrm
from callsys.model import Call, CallEvent
from callsys.session import CallSession
from callsys.settings import Settings
from providers import REGISTRY
from providers.sip.provider import SipProvider
from tests.ami.fakeami import FakeAmi, Session, Transcript
from tests.sip.invite import RawCaller

from ui.desktop import compose

# (numbers.region, the caller's number as it comes in, as E.164, as written in the directory)
CALLERS = [
    ("DE", "01712345678", "+491712345678", "0171 2345678"),
    ("US", "2125550142", "+12125550142", "(212) 555-0142"),
    ("IR", "09123456789", "+989123456789", "0912 345 6789"),
]


def _settings(tmp_path: Path, region: str, provider: str, options: dict[str, Any]) -> Settings:
    return Settings(
        {
            "numbers.region": region,
            "phone.provider": provider,
            "phone.options": options,
            "crm.backend": "local",
            "storage.database": str(tmp_path / "desk.sqlite3"),
        }
    )


async def _until(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"{what} did not happen")
        await asyncio.sleep(0.02)


async def _rings(
    desktop: CallSession, written: str, e164: str, ring: Callable[[], object] = lambda: None
) -> Call:
    """The directory knows the caller by the number as a user there writes it; start the phone,
    *ring* it, wait for the ring, and check what the agent sees and what the log keeps."""
    assert isinstance(desktop.crm, LocalCrm)
    erika = desktop.crm.add("Erika Mustermann", [written])
    rung: list[Call] = []
    desktop.manager.subscribe(lambda event, call: rung.append(call) if event is CallEvent.INCOMING else None)
    assert await desktop.start_provider(), desktop.problems
    ring()
    await _until(lambda: bool(rung), "the ring")
    call = rung[0]
    assert call.remote.e164 == e164
    record = desktop.calllog.get(call.id)
    assert record is not None and record.number.e164 == e164  # the call log keeps the right number
    assert [m.party.id for m in await desktop.identify(call)] == [erika.id]  # and finds the caller
    return call


@pytest.mark.asyncio
@pytest.mark.parametrize(("region", "user", "e164", "written"), CALLERS)
async def test_the_softphone_reads_the_caller_with_the_configured_region(
    tmp_path: Path, region: str, user: str, e164: str, written: str
) -> None:
    options = {"listen_host": "127.0.0.1", "listen_port": 0, "audio": {"mode": "none"}}
    desktop = compose(_settings(tmp_path, region, "sip", options), REGISTRY)
    try:
        with RawCaller() as caller:

            def ring() -> None:
                assert isinstance(desktop.provider, SipProvider)
                caller.invite(desktop.provider.engine.listen_address()[1], user, name="Erika")

            await _rings(desktop, written, e164, ring)
    finally:
        await desktop.close()


def _trunk_call(caller: str) -> Session:
    """``06_trunk_did_7000`` (a trunk call to DID 7000, answered by 1001) from *caller*."""
    t = Transcript.load("06_trunk_did_7000")
    frames = [f.replace(b"0301234567", caller.encode()) for f in t.frames]
    return Session(frames=frames, banner=t.banner, sent=t.sent, login_response=False, keep_open=True)


@pytest.mark.asyncio
@pytest.mark.parametrize(("region", "user", "e164", "written"), CALLERS)
async def test_asterisk_calls_are_read_with_the_configured_region(
    tmp_path: Path, region: str, user: str, e164: str, written: str
) -> None:
    async with FakeAmi(_trunk_call(written)) as ami:
        options = {
            "host": "127.0.0.1", "port": ami.port, "username": "callsys", "secret": "callsys",
            "extensions": ["1001"], "technology": "SIP", "context": "internal",
        }  # fmt: skip
        desktop = compose(_settings(tmp_path, region, "ami", options), REGISTRY)
        try:
            await _rings(desktop, written, e164)
        finally:
            await desktop.close()
