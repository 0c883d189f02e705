"""How soon the AMI link is back after the PBX was away. One command, prints figures:

    .venv/bin/python benchmarks/ami_reconnect.py [--outages 10 60] [--trials 5]

A fake Asterisk on a loopback port (the AMI test fake: banner, login, answers to the resync's
actions) is stopped — its open connection closed (the EOF a stopping Asterisk gives) and its port
closed, so every attempt is refused — for each outage length, then started again on the same port.
Measured: from the moment the port listens again to the moment ``AmiProvider`` reports ONLINE
(logged in). The defaults run side by side with the former back-off (``backoff_initial`` 0.5 s,
``backoff_max`` 30 s, set as options) in the same run, all outages at once, so the whole run lasts about the
longest outage times ``--trials``. Also printed: how many connection attempts each made.

Then the same against a real Asterisk 22 (the build of ``scripts/build-asterisk``, on loopback with
its own configuration; left out with ``--no-asterisk`` or when there is no build): it is stopped
(SIGTERM: it hangs up its channels and closes the AMI connection), kept down for each outage and
started again. Measured from the moment its AMI port accepts connections again (polled every 10 ms) to
logged in, and from the moment the ``asterisk`` process was started.
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


async def asterisk_series(outage: float, trials: int) -> tuple[list[float], list[float]] | None:
    """*trials* outages of a real Asterisk; (from its AMI listening, from its process start)."""
    import shutil
    import socket
    import tempfile

    from tests.server.asterisk import Asterisk, build

    prefix = await asyncio.to_thread(build)
    if prefix is None:
        return None
    rundir = Path(tempfile.mkdtemp(prefix="callsys-ast-"))
    pbx = Asterisk(prefix, rundir)
    listener = Listener()
    provider = AmiProvider(pbx.ami_options(extensions=["1001"]))
    after_listen: list[float] = []
    after_start: list[float] = []

    def accepting() -> bool:
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", pbx.ami_port)) == 0

    try:
        await asyncio.to_thread(pbx.start)
        await provider.start(listener)
        await asyncio.wait_for(listener.online.wait(), 30)
        for _ in range(trials):
            await asyncio.to_thread(pbx.stop)
            await asyncio.sleep(outage)
            listener.online.clear()
            started = time.monotonic()
            boot = asyncio.ensure_future(asyncio.to_thread(pbx.start))
            while not await asyncio.to_thread(accepting):
                await asyncio.sleep(0.01)
            listening = time.monotonic()
            await asyncio.wait_for(listener.online.wait(), 120)
            await boot
            after_listen.append(listener.online_at - listening)
            after_start.append(listener.online_at - started)
    finally:
        await provider.close()
        await asyncio.to_thread(pbx.close)
        shutil.rmtree(rundir, ignore_errors=True)
    return after_listen, after_start


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outages", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--trials", type=int, default=1, help="outages of each length, one after another")
    parser.add_argument("--no-asterisk", action="store_true", help="only the fake PBX")
    args = parser.parse_args()
    configs = {"now (defaults)": {}, "former back-off (0.5 s doubling to 30 s)": OLD}
    jobs = {
        (name, outage): asyncio.ensure_future(trial_series(outage, args.trials, extra))
        for name, extra in configs.items()
        for outage in args.outages
    }
    real = {
        outage: asyncio.ensure_future(asterisk_series(outage, args.trials))
        for outage in ([] if args.no_asterisk else args.outages)
    }
    await asyncio.gather(*jobs.values(), *real.values())
    print("AMI link back after the PBX was away: from its port listening again to logged in")
    for outage in args.outages:
        print(f"  outage {outage:g} s")
        for name in configs:
            times, attempts = jobs[(name, outage)].result()
            print(f"    {name:42} {_fmt(times)}; attempts after it was back: {max(attempts)}")
    if any(job.result() is None for job in real.values()):
        print("real Asterisk: no build (scripts/build-asterisk), not measured")
    elif real:
        print("Real Asterisk 22.10.1 stopped (SIGTERM) and started again, default options: logged in")
        for outage, job in real.items():
            result = job.result()
            assert result is not None
            listen, start = result
            print(
                f"  outage {outage:g} s: after its AMI port listened {_fmt(listen)};"
                f" after its process started {_fmt(start)}"
            )


if __name__ == "__main__":
    asyncio.run(main())
