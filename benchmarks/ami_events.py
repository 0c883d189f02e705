"""How fast AMI events become call events. One command, prints figures:

    .venv/bin/python benchmarks/ami_events.py [--calls 1100]

The stream is the real Asterisk 20 capture of an answered internal call (02_internal_answered,
~95 frames, two thirds of them VarSet) repeated with fresh channel names and unique ids, so every
copy is a new call that rings, is answered and ends. Measured:

1. framing only (``FrameParser.feed`` over 64 KiB reads);
2. framing + ``AmiProvider`` (every event mapped; call events counted);
3. framing + provider + the real ``CallManager`` (what the desktop and the server run);
4. end to end over a loopback TCP socket: fake Asterisk → ``AmiClient`` → provider → CallManager.

Rates are per second of this process's CPU time (best of ``--runs``): the 2-core machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callsys.callmanager import CallManager  # noqa: E402
from callsys.model import ProviderEvent  # noqa: E402
from callsys.provider import ProviderStatus  # noqa: E402
from providers.ami import AmiProvider, FrameParser  # noqa: E402
from tests.ami.fakeami import FakeAmi, Session, flood_frames, raw_frame  # noqa: E402
from tests.ami.harness import options  # noqa: E402


class Count:
    def __init__(self, manager: CallManager | None = None) -> None:
        self.events = 0
        self.manager = manager

    def call_event(self, event: ProviderEvent) -> None:
        self.events += 1
        if self.manager is not None:
            self.manager.handle(event, provider="ami")

    def status_changed(self, status: ProviderStatus) -> None:
        pass


def _chunks(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _provider(listener: Count) -> AmiProvider:
    provider = AmiProvider(options(5038, extensions=["1001", "1002"]))
    provider._listener = listener  # offline use: feed it parsed messages directly
    return provider


def _best(runs: int, job: object) -> float:
    """Best CPU time of *runs*: this machine is shared, so wall time measures the neighbours too;
    CPU time of this process is what the work costs."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        job()  # type: ignore[operator]
        times.append(time.process_time() - t0)
    return min(times)


def bench_offline(data: bytes, frames: int, calls: int, runs: int) -> None:
    chunks = _chunks(data)

    def framing() -> None:
        parser = FrameParser()
        assert sum(len(parser.feed(c)) for c in chunks) == frames

    t = _best(runs, framing)
    print(f"framing only            {frames / t:>12,.0f} frames/s   ({len(data) / t / 1e6:,.0f} MB/s)")

    for label, with_manager in (("framing + provider", False), ("+ CallManager", True)):
        counts: list[int] = []

        def mapped(with_manager: bool = with_manager, counts: list[int] = counts) -> None:
            count = Count(CallManager() if with_manager else None)
            provider = _provider(count)
            parser = FrameParser()
            for c in chunks:
                for msg in parser.feed(c):
                    provider.handle_message(msg)
            assert provider.live_call_ids() == ()
            counts.append(count.events)

        t = _best(runs, mapped)
        print(
            f"{label:<23} {frames / t:>12,.0f} events/s   {calls / t:>9,.0f} calls/s"
            f"   ({counts[-1]:,} call events for 2 watched extensions)"
        )


async def bench_tcp(frames_list: list[bytes], calls: int) -> None:
    total = len(frames_list)
    frames_list = [*frames_list, raw_frame(("Event", "UserEvent"), ("UserEvent", "done"))]
    async with FakeAmi(Session(frames=frames_list, keep_open=True)) as server:
        count = Count(CallManager())
        provider = AmiProvider(options(server.port, extensions=["1001", "1002"]))
        await provider.start(count)
        await provider.wait_connected(5)
        w0, c0 = time.perf_counter(), time.process_time()
        while provider.events_seen < total + 1:
            await asyncio.sleep(0.001)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        await provider.close()
    print(
        f"end to end over TCP     {total / cpu:>12,.0f} events/s   {calls / cpu:>9,.0f} calls/s"
        f"   (CPU time of fake Asterisk + client together; wall clock {total / wall:,.0f} events/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1100)
    parser.add_argument("--runs", type=int, default=3, help="best of N for the offline figures")
    args = parser.parse_args()
    frames_list, per_call = flood_frames(args.calls)
    data = b"".join(frames_list)
    print(
        f"{args.calls:,} calls × {per_call} frames = {len(frames_list):,} AMI events, {len(data) / 1e6:.1f} MB"
    )
    bench_offline(data, len(frames_list), args.calls, args.runs)
    asyncio.run(bench_tcp(frames_list, args.calls))


if __name__ == "__main__":
    main()
