"""How soon the AMI link is back after the PBX was away. One command, prints figures:

    .venv/bin/python benchmarks/ami_reconnect.py [--outages 10 60] [--trials 5]

A fake Asterisk on a loopback port (the AMI test fake: banner, login, answers to the resync's
actions) is stopped — its open connection closed (the EOF a stopping Asterisk gives) and its port
closed, so every attempt is refused — for each outage length, then started again on the same port.
Measured: from the moment the port listens again to the moment ``AmiProvider`` reports ONLINE
(logged in). The defaults run side by side with the former back-off (``backoff_initial`` 0.5 s,
``backoff_max`` 30 s, set as options) in the same run, all outages at once, so the whole run lasts about the
longest outage times ``--trials``. Also printed: how many connection attempts each made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callsys.model import ProviderEvent  # noqa: E402
from callsys.provider import ProviderStatus, Registration  # noqa: E402
from providers.ami import AmiProvider  # noqa: E402
from tests.ami.fakeami import Session, _Conn  # noqa: E402

OLD = {"backoff_initial": 0.5, "backoff_max": 30.0}


class Pbx:
    """A fake Asterisk that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._conns: list[_Conn] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        conn = _Conn(Session(frames=[], keep_open=True), reader, writer)
        self._conns.append(conn)
        with contextlib.suppress(Exception):
            await conn.run()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in self._conns:
                conn.closed = True
                conn.writer.close()
            self._conns.clear()
            await self._server.wait_closed()
            self._server = None


@dataclass
class Listener:
    online: asyncio.Event = field(default_factory=asyncio.Event)
    online_at: float = 0.0

    def call_event(self, event: ProviderEvent) -> None:
        pass

    def status_changed(self, status: ProviderStatus) -> None:
        if status.registration is Registration.ONLINE and not self.online.is_set():
            self.online_at = time.monotonic()
            self.online.set()
        elif status.registration is not Registration.ONLINE:
            self.online.clear()


async def trial_series(outage: float, trials: int, extra: dict[str, Any]) -> tuple[list[float], list[int]]:
    """*trials* outages of *outage* seconds; the reconnect time after each and the attempts."""
    pbx = Pbx()
    await pbx.start()
    listener = Listener()
    options = {"host": "127.0.0.1", "port": pbx.port, "username": "callsys", "secret": "callsys",
               "extensions": ["1001"], **extra}  # fmt: skip
    provider = AmiProvider(options)
    await provider.start(listener)
    times: list[float] = []
    attempts: list[int] = []
    try:
        await asyncio.wait_for(listener.online.wait(), 10)
        for _ in range(trials):
            await pbx.stop()
            await asyncio.sleep(outage)
            before = pbx.accepted
            await pbx.start()
            back = time.monotonic()
            listener.online.clear()
            await asyncio.wait_for(listener.online.wait(), 120)
            times.append(listener.online_at - back)
            attempts.append(pbx.accepted - before)
    finally:
        await provider.close()
        await pbx.stop()
    return times, attempts


def _fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s, max {max(times):.3f} s ({len(times)} outages)"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outages", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--trials", type=int, default=1, help="outages of each length, one after another")
    args = parser.parse_args()
    configs = {"now (defaults)": {}, "former back-off (0.5 s doubling to 30 s)": OLD}
    jobs = {
        (name, outage): asyncio.ensure_future(trial_series(outage, args.trials, extra))
        for name, extra in configs.items()
        for outage in args.outages
    }
    await asyncio.gather(*jobs.values())
    print("AMI link back after the PBX was away: from its port listening again to logged in")
    for outage in args.outages:
        print(f"  outage {outage:g} s")
        for name in configs:
            times, attempts = jobs[(name, outage)].result()
            print(f"    {name:42} {_fmt(times)}; attempts after it was back: {max(attempts)}")


if __name__ == "__main__":
    asyncio.run(main())
