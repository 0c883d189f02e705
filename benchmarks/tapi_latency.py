"""How fast a TAPI call reaches the CallManager. One command, prints figures:

    .venv/bin/python benchmarks/tapi_latency.py [--calls 500]

The TSP is the fake tapi32 of the tests (``tests/tapi/fake_tapi32.c``, built with gcc), so this
measures callsys's side only — a real TSP and Windows' Telephony service add their own time.
Measured in one run, side by side:

1. the ctypes layer alone: a message posted into the fake and read back with ``lineGetMessage``
   on the same thread (``TapiLibrary.get_message``);
2. end to end: the TSP offers a call (``LINE_APPNEWCALL`` + ``LINE_CALLSTATE OFFERING``) → the
   message thread → the asyncio loop → ``lineGetCallInfoW`` + ``lineGetCallStatus`` →
   INCOMING in the real ``CallManager``; then ``IDLE`` → ENDED and ``lineDeallocateCall``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callsys.callmanager import CallManager  # noqa: E402
from callsys.model import Call, CallEvent  # noqa: E402
from providers.tapi import TapiProvider  # noqa: E402
from providers.tapi.binding import load  # noqa: E402
from tests.tapi.fake import IDLE, FakeTapi, build  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ctypes_round_trips(fake: FakeTapi, count: int) -> list[float]:
    lib = load(str(fake.path))
    app, _devices, _api = lib.initialize("bench", 0x00020002)
    out = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            fake.post(0, 12, 1, 0, 0)
            lib.get_message(app, 1000)
            out.append((time.perf_counter() - start) * 1000)
    finally:
        lib.shutdown(app)
    return out


async def end_to_end(fake: FakeTapi, count: int) -> tuple[list[float], float]:
    fake.add_line("Bench 100")
    provider = TapiProvider({"library": str(fake.path)})
    manager = CallManager()
    seen: dict[CallEvent, asyncio.Event] = {
        CallEvent.INCOMING: asyncio.Event(),
        CallEvent.ENDED: asyncio.Event(),
    }

    def observe(event: CallEvent, _call: Call) -> None:
        if event in seen:
            seen[event].set()

    manager.subscribe(observe)
    await provider.start(manager.listener("tapi"))
    latencies = []
    began = time.perf_counter()
    try:
        for n in range(count):
            for flag in seen.values():
                flag.clear()
            start = time.perf_counter()
            handle = fake.offer(0, f"+98218877{n % 10000:04d}", "Bench", "7000")
            await seen[CallEvent.INCOMING].wait()
            latencies.append((time.perf_counter() - start) * 1000)
            fake.state(handle, IDLE)
            await seen[CallEvent.ENDED].wait()
        elapsed = time.perf_counter() - began
    finally:
        await provider.close()
    assert fake.live_calls == 0, "every call was deallocated"
    return latencies, count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    fake = FakeTapi(build())
    fake.add_line("Bench 100")
    raw = ctypes_round_trips(fake, args.calls)
    fake._lib.fake_reset()
    latencies, rate = asyncio.run(end_to_end(fake, args.calls))
    load1 = os.getloadavg()[0]
    print(f"TAPI on the fake tapi32, {args.calls} calls, load {load1:.2f}")
    print(
        f"  ctypes post + lineGetMessage, same thread: p50 {pct(raw, 0.5):.3f} ms  p99 {pct(raw, 0.99):.3f} ms"
    )
    print(
        f"  offer → INCOMING in the CallManager:       p50 {pct(latencies, 0.5):.3f} ms  "
        f"p99 {pct(latencies, 0.99):.3f} ms  mean {statistics.fmean(latencies):.3f} ms"
    )
    print(f"  whole calls (ring, missed, deallocated):   {rate:.0f} calls/s")


if __name__ == "__main__":
    main()
