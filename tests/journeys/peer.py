"""baresip as a real SIP caller for the journeys, driven from synchronous test code.

``tests/sip/peers.Baresip`` speaks asyncio; the journeys wait on an X server and a process, so
the peer gets its own event loop in a thread and each call waits for its answer there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tests.sip.peers import Baresip

T = TypeVar("T")


class Caller:
    """A started baresip with the given accounts (``<sip:1002@127.0.0.1>;regint=0;…``)."""

    def __init__(self, rundir: Path, accounts: list[str]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="baresip-loop", daemon=True)
        self.thread.start()
        self.peer = Baresip(rundir, accounts)
        self.run(self.peer.start())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def address(self) -> str:
        return self.peer.address

    def cmd(self, command: str, params: str = "") -> dict[str, Any]:
        return self.run(self.peer.cmd(command, params))

    def event(self, kind: str, since: int = 0, timeout: float = 15.0) -> dict[str, Any]:
        return self.run(self.peer.wait_event(kind, timeout=timeout, since=since), timeout + 5)

    @property
    def seen(self) -> int:
        """How many events so far: ``event(kind, since=caller.seen)`` waits for a new one."""
        return len(self.peer.events)

    def stop(self) -> None:
        try:
            self.run(self.peer.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
