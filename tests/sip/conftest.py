from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callsys.callmanager import CallManager
from callsys.model import Call, CallEvent, ProviderEvent
from callsys.provider import ProviderStatus, Registration
from providers.sip.provider import SipProvider

from .peers import HOST, Baresip, Kamailio, ToneTap, free_port, have

PEERS_OK = have("kamailio", "baresip", "sipp", "sox")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PEERS_OK:
        return
    skip = pytest.mark.skip(reason="kamailio, baresip, sipp and sox are needed (apt-get install them)")
    here = Path(__file__).parent
    for item in items:
        if "peers" in item.keywords and here in Path(item.path).parents:
            item.add_marker(skip)


class Harness:
    """A started SipProvider feeding a real CallManager; waits on events, never sleeps blindly."""

    def __init__(self, provider: SipProvider) -> None:
        self.provider = provider
        self.manager = CallManager()
        self.events: list[ProviderEvent] = []
        self.calls: list[tuple[CallEvent, Call]] = []
        self.statuses: list[ProviderStatus] = []
        self.tap = ToneTap()
        self._changed = asyncio.Event()
        inner = self.manager.listener("sip")
        harness = self

        class _Listener:
            def call_event(self, event: ProviderEvent) -> None:
                harness.events.append(event)
                inner.call_event(event)
                harness._changed.set()

            def status_changed(self, status: ProviderStatus) -> None:
                harness.statuses.append(status)
                inner.status_changed(status)
                harness._changed.set()

        self.listener = _Listener()
        self.manager.subscribe(lambda ev, call: self.calls.append((ev, call)))

    async def start(self) -> Harness:
        await self.provider.start(self.listener)
        self.provider.engine.set_audio_tap(self.tap)
        return self

    @property
    def port(self) -> int:
        return self.provider.engine.listen_address()[1]

    @property
    def uri(self) -> str:
        return f"sip:callsys@{HOST}:{self.port}"

    async def until(self, pred: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = pred()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}; events: "
                    f"{[(e.event.value, e.call_id, e.reason) for e in self.events[-10:]]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    async def event(
        self, kind: CallEvent, call_id: str | None = None, timeout: float = 10.0, since: int = 0
    ) -> ProviderEvent:
        def find() -> ProviderEvent | None:
            for ev in self.events[since:]:
                if ev.event is kind and (call_id is None or ev.call_id == call_id):
                    return ev
            return None

        found = await self.until(find, timeout, f"{kind.value} {call_id or ''}")
        assert isinstance(found, ProviderEvent)
        return found

    def of(self, kind: CallEvent, call_id: str | None = None) -> list[ProviderEvent]:
        return [e for e in self.events if e.event is kind and (call_id is None or e.call_id == call_id)]

    async def hears(self, call_id: str, hz: float, timeout: float = 8.0) -> None:
        await self.until(lambda: self.tap.hearing(call_id, hz), timeout, f"{hz} Hz on {call_id}")

    async def silent(self, call_id: str, timeout: float = 8.0) -> None:
        await self.until(lambda: self.tap.silent(call_id), timeout, f"silence on {call_id}")

    async def online(self, timeout: float = 10.0) -> None:
        await self.until(
            lambda: (
                self.statuses
                and self.statuses[-1].registration is Registration.ONLINE
                and all(line.registration is Registration.ONLINE for line in self.statuses[-1].lines)
            ),
            timeout,
            "registration",
        )


def phone_options(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "listen_host": HOST,
        "listen_port": free_port(),
        "audio": {"mode": "files", "play_file": str(tmp_path / "tone440.wav"), "record_dir": str(tmp_path)},
        "log_file": str(tmp_path / "pjsip.log"),
        "log_level": 5,
    }
    options.update(extra)
    return options


@pytest.fixture
def tone440(tmp_path: Path) -> Path:
    from .peers import make_tone

    return make_tone(tmp_path / "tone440.wav", 440)


@pytest_asyncio.fixture
async def start_phone(tmp_path: Path, tone440: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[Harness] = []

    async def start(**extra: Any) -> Harness:
        harness = await Harness(SipProvider(phone_options(tmp_path, **extra))).start()
        started.append(harness)
        return harness

    yield start
    for harness in started:
        await harness.provider.close()


@pytest_asyncio.fixture
async def baresip(tmp_path: Path) -> AsyncIterator[Baresip]:
    """baresip in direct mode: 1002 auto-answers, 1004 answers only when told."""
    peer = Baresip(
        tmp_path,
        [
            "<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA",
            "<sip:1004@127.0.0.1>;regint=0;answermode=manual;audio_codecs=PCMU,PCMA",
        ],
    )
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
def kamailio(tmp_path: Path) -> Any:
    server = Kamailio(tmp_path).start()
    yield server
    server.stop()
