"""The softphone's memory under floods: idle, peak during the flood, and after it, per flood kind.

    .venv/bin/python benchmarks/sip_floods_memory.py [--rate 1000] [--seconds 30] [--after 60]
                                                     [--kinds invite,register,...] [--engines wheel,built]

For each flood kind of ``tests/sip/floods.py`` (INVITE+CANCEL, REGISTER, OPTIONS, MESSAGE, TCP
connections left half-open, garbage datagrams) a fresh ``callsys phone`` (a child process, on the
engine ``auto`` picks, or each of ``--engines`` in turn) answers one normal call, is measured idle, takes
the flood (``--rate`` per second for ``--seconds``; TCP: new connections per second), is measured
``--after`` seconds after it ended, and then must still answer a normal call. The goal (issue 10):
peak ≤ 2 × idle, after ≤ 1.1 × idle. Prints one table, the kinds side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sip.floods import KINDS, flood_and_sample, rss_kib, settled_rss  # noqa: E402
from tests.sip.peers import Phone  # noqa: E402
from tests.sip.rawsip import a_raw_call_is_answered  # noqa: E402


async def measure(
    kind: str, rate: float, seconds: float, after: float, tmp: Path, engine: str = ""
) -> dict[str, object]:
    phone = await Phone.start(tmp, engine=engine, ring_timeout=120)
    try:
        await a_raw_call_is_answered(phone)
        idle = await settled_rss(phone.proc.pid)
        result, peak = await flood_and_sample(phone.proc.pid, kind, phone.port, rate, seconds)
        alive_after_flood = phone.alive()
        ended = time.monotonic()
        trail = []
        while time.monotonic() - ended < after and phone.alive():
            trail.append(rss_kib(phone.proc.pid))
            await asyncio.sleep(1.0)
        back = await settled_rss(phone.proc.pid, 1.0)
        call_ok = True
        try:
            await a_raw_call_is_answered(phone)
        except AssertionError:
            call_ok = False
        return {
            "kind": kind, "sent": result.sent, "errors": result.errors, "seconds": result.seconds,
            "idle": idle, "peak": max(peak, *trail) if trail else peak, "after": back,
            "alive": alive_after_flood and phone.alive(), "call": call_ok, "engine": phone.engine.get("engine"),
        }  # fmt: skip
    finally:
        await phone.stop()


async def main_async(args: argparse.Namespace) -> None:
    rows = []
    for kind in args.kinds:
        for engine in args.engines:
            with tempfile.TemporaryDirectory() as tmp:
                row = await measure(kind, args.rate, args.seconds, args.after, Path(tmp), engine)
            rows.append(row)
            print(f"{kind} done: {row}", flush=True)
    load = os.getloadavg()[0]
    engine = " and ".join(sorted({str(r["engine"]) for r in rows}))
    print(f"\nSoftphone memory under floods ({engine} engine; {args.rate:g}/s for {args.seconds:g} s, "
          f"after = {args.after:g} s after the flood; load {load:.1f}; MiB)")  # fmt: skip
    print(
        f"  {'flood':10}{'engine':>7}{'sent':>9}{'idle':>8}{'peak':>8}{'after':>8}{'peak/idle':>11}{'after/idle':>12}  ok"
    )
    for r in rows:
        idle, peak, after = (int(r[k]) / 1024 for k in ("idle", "peak", "after"))  # type: ignore[call-overload]
        ok = "yes" if r["alive"] and r["call"] and peak <= 2 * idle and after <= 1.1 * idle else "NO"
        print(f"  {r['kind']!s:10}{r['engine']!s:>7}{r['sent']!s:>9}{idle:8.1f}{peak:8.1f}{after:8.1f}"
              f"{peak / idle:11.2f}{after / idle:12.2f}  {ok}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--after", type=float, default=60.0)
    ap.add_argument("--kinds", type=lambda s: s.split(","), default=list(KINDS))
    ap.add_argument(
        "--engines",
        type=lambda s: s.split(","),
        default=[""],
        help="wheel,built: each in turn (default: auto)",
    )
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
