"""INVITE on the wire → INCOMING call event in the CallManager, for the embedded softphone.

    .venv/bin/python benchmarks/sip_latency.py [--calls 300] [--rate 20] [--poll-ms 20]

A thread sends real INVITEs over loopback UDP at random moments (Poisson arrivals, ``--rate``
per second — kept low because pjlib's ioqueue must recycle each call's two media sockets);
the phone (``SipProvider`` on pjsua2: polled from the asyncio loop every ``--poll-ms`` and at
once when its SIP socket becomes readable) turns each into a ``ProviderEvent`` that a real
``CallManager`` applies; its observer takes the time.
Every call is then rejected (486), so pjsua's 4-call limit never refuses one.
Goal (issue 3): p99 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sip_wire import Caller, percentile  # noqa: E402

from callsys.callmanager import CallManager  # noqa: E402
from callsys.model import Call, CallEvent  # noqa: E402
from providers.sip.provider import SipProvider  # noqa: E402


async def run(calls: int, rate: float, poll_ms: float) -> dict[str, float]:
    provider = SipProvider(
        {
            "listen_host": "127.0.0.1", "listen_port": 0, "audio": {"mode": "none"},
            "poll_interval_ms": poll_ms, "ring_timeout": 0,
        }
    )  # fmt: skip
    manager = CallManager()
    seen: dict[int, float] = {}
    rejects: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()

    def observer(event: CallEvent, call: Call) -> None:
        if event is CallEvent.INCOMING:
            seen[int(call.remote.digits)] = time.perf_counter()
            rejects.append(loop.create_task(provider.reject(call.id)))

    manager.subscribe(observer)
    await provider.start(manager.listener("sip"))
    caller = Caller(provider.engine.listen_address()[1])
    done = threading.Event()

    def send() -> None:
        rng = random.Random(1)
        for n in range(calls):
            time.sleep(rng.expovariate(rate))
            caller.invite(n)
        done.set()

    threading.Thread(target=send, daemon=True).start()
    deadline = loop.time() + calls / rate * 3 + 10
    while (not done.is_set() or len(seen) < calls) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    await asyncio.gather(*rejects, return_exceptions=True)
    latencies = [(seen[user] - sent) * 1000 for user, sent in caller.sent.items() if user in seen]

    caller.close()
    await provider.close()
    return {
        "sent": len(caller.sent),
        "events": len(latencies),
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--rate", type=float, default=20.0, help="INVITEs per second (Poisson)")
    ap.add_argument("--poll-ms", type=float, default=20.0, help="timer poll interval")
    args = ap.parse_args()
    r = asyncio.run(run(args.calls, args.rate, args.poll_ms))
    print(f"SIP INVITE -> CallManager INCOMING  (poll every {args.poll_ms:g} ms, {args.rate:g} calls/s)")
    print(f"  calls sent {r['sent']:.0f}, call events {r['events']:.0f}")
    print(
        f"  latency ms: p50 {r['p50']:.2f}  p90 {r['p90']:.2f}  p99 {r['p99']:.2f}  max {r['max']:.2f}"
        f"   (goal p99 <= 5 ms: {'met' if r['p99'] <= 5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
