"""RTP send spacing of the embedded softphone, measured on the wire.

    .venv/bin/python benchmarks/sip_rtp_spacing.py [--seconds 60]     # CI: --seconds 10

The phone (``SipProvider`` on pjsua2, playing a tone from a WAV) calls a tiny UDP sink over
loopback; the sink stamps every RTP packet when it arrives. Printed: packet spacing (mean,
p1/p50/p99, share within 20 ± 2 ms) and drift — how far the sender's clock runs from real time
over the run (arrival span vs. packets × 20 ms, in ms and ppm).
Goal (issue 3): p99 within 20 ± 2 ms, no drift over 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sip_wire import Sink, percentile  # noqa: E402

from callsys.callmanager import CallManager  # noqa: E402
from callsys.model import CallState  # noqa: E402
from providers.sip.provider import SipProvider  # noqa: E402


async def run(seconds: float, tmp: Path) -> dict[str, float]:
    tone = tmp / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(tone),
         "synth", "5", "sine", "440", "vol", "0.5"],
        check=True,
    )  # fmt: skip
    sink = Sink()
    provider = SipProvider(
        {"listen_host": "127.0.0.1", "listen_port": 0, "audio": {"mode": "files", "play_file": str(tone)}}
    )
    manager = CallManager()
    await provider.start(manager.listener("sip"))
    call_id = await provider.dial(f"sip:sink@127.0.0.1:{sink.port}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        call = manager.get(call_id)
        if call is not None and call.state is CallState.ACTIVE:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(1.0)  # let the stream settle
    sink.recording = True
    await asyncio.sleep(seconds)
    sink.recording = False
    await provider.hangup(call_id)
    await provider.close()
    sink.close()

    arrivals = sink.arrivals
    gaps = [(b[0] - a[0]) / 1e6 for a, b in itertools.pairwise(arrivals)]
    n = len(arrivals)
    span_ms = (arrivals[-1][0] - arrivals[0][0]) / 1e6 if n > 1 else 0.0
    expected_ms = (n - 1) * 20.0
    lost = (arrivals[-1][1] - arrivals[0][1]) % 65536 + 1 - n if n > 1 else 0
    return {
        "packets": n,
        "lost": lost,
        "mean": sum(gaps) / len(gaps) if gaps else float("nan"),
        "p1": percentile(gaps, 1),
        "p50": percentile(gaps, 50),
        "p99": percentile(gaps, 99),
        "within": 100.0 * sum(1 for g in gaps if 18.0 <= g <= 22.0) / len(gaps) if gaps else 0.0,
        "drift_ms": span_ms - expected_ms,
        "drift_ppm": (span_ms - expected_ms) / expected_ms * 1e6 if expected_ms else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(run(args.seconds, Path(tmp)))
    print(f"RTP send spacing over {args.seconds:g} s (PCMU, 20 ms packets, loopback)")
    print(f"  packets {r['packets']:.0f}, lost {r['lost']:.0f}")
    print(
        f"  spacing ms: mean {r['mean']:.3f}  p1 {r['p1']:.2f}  p50 {r['p50']:.2f}  p99 {r['p99']:.2f}"
        f"  within 20±2 ms: {r['within']:.1f} %"
    )
    print(f"  drift: {r['drift_ms']:+.1f} ms over the run ({r['drift_ppm']:+.0f} ppm)")
    ok = r["p1"] >= 18 and r["p99"] <= 22 and abs(r["drift_ppm"]) < 1000
    print(f"  goal p99 within 20±2 ms and no drift: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
