"""The two softphone engines side by side: the pjsua2-python wheel and our own build.

    .venv/bin/python benchmarks/sip_engines.py [--rounds 2] [--seconds 10] [--calls 200]

One process can import one pjsua2 only, so every measurement runs in a child process with
``CALLSYS_SIP_ENGINE`` set, the two engines alternating round by round (so a busy moment of the
machine hits both). Each child measures, on loopback:

* CPU and RSS idle, with one call and with four calls (baresip far end, auto-answer, 1 kHz; our
  phone plays a WAV in ``files`` mode: there is no sound card here) — ``sip_cpu.py``'s steps;
* INVITE on the wire → INCOMING in the CallManager (``--calls`` INVITEs, 20/s, each rejected)
  — ``sip_latency.py``'s steps;
* TLS 1.3: a line registers to a local TLS server that accepts TLS 1.3 only; yes when the
  handshake completed.

Prints one table with the range over the rounds for each engine. Without a built engine
(``scripts/build-pjsua2``) only the wheel is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from providers.sip.engines import ENGINE_ENV, built_dir  # noqa: E402


def tls13_handshake(tmp: Path, seconds: float = 10.0) -> str:
    """Register a TLS line to a TLS-1.3-only server on loopback: the protocol it got, or ``no``."""
    from callsys.callmanager import CallManager
    from providers.sip.provider import SipProvider
    from tests.sip.pki import make_pki

    pki = make_pki(tmp / "pki")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(str(pki.server[0]), str(pki.server[1]))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(seconds)
    port = listener.getsockname()[1]
    result: list[str] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            result.append("no (no connection)")
            return
        with conn:
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    result.append(str(tls.version()))
            except (ssl.SSLError, OSError) as exc:
                result.append(f"no ({type(exc).__name__}: {getattr(exc, 'reason', exc)})")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def register() -> None:
        line = {
            "id": "tls", "registrar": f"sip:127.0.0.1:{port};transport=tls", "user": "1001",
            "password": "x", "transport": "tls", "tls_ca_file": str(pki.ca),
        }  # fmt: skip
        provider = SipProvider({"listen_host": "127.0.0.1", "lines": [line], "audio": {"mode": "none"}})
        await provider.start(CallManager().listener("sip"))
        deadline = time.monotonic() + seconds
        while not result and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await provider.close()

    asyncio.run(register())
    listener.close()
    thread.join(1)
    return result[0] if result else "no (no handshake)"


def child(seconds: float, calls: int) -> None:
    import sip_cpu
    import sip_latency

    from providers.sip.engines import current

    with tempfile.TemporaryDirectory() as tmp:
        cpu = asyncio.run(sip_cpu.run(seconds, False, Path(tmp)))
        latency = asyncio.run(sip_latency.run(calls, 20.0, 20.0))
        tls = tls13_handshake(Path(tmp))
    build = current()
    print(json.dumps({"engine": build.kind, "summary": build.describe(), **cpu, **latency, "tls": tls}))


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0, help="per CPU step")
    ap.add_argument("--calls", type=int, default=200, help="INVITEs for the latency step")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.seconds, args.calls)
        return
    kinds = ["wheel", "built"] if built_dir() is not None else ["wheel"]
    if len(kinds) == 1:
        print("no built engine (scripts/build-pjsua2): measuring the wheel only")
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for n in range(args.rounds):
        for kind in kinds if n % 2 == 0 else kinds[::-1]:
            env = {**os.environ, ENGINE_ENV: kind}
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--seconds",
                str(args.seconds),
                "--calls",
                str(args.calls),
            ]
            done = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=600)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode or not lines:
                print(f"{kind}: the run failed ({done.returncode}):\n{done.stderr[-2000:]}")
                continue
            runs[kind].append(json.loads(lines[-1]))
            print(f"round {n + 1}: {kind} done", flush=True)
    load = os.getloadavg()[0]
    print(f"\nSoftphone engines side by side ({args.rounds} rounds, {args.seconds:g} s per CPU step, "
          f"{args.calls} INVITEs at 20/s; load {load:.1f}; % of one core; files audio mode)")  # fmt: skip
    rows: list[tuple[str, Any]] = [
        ("CPU idle %", lambda r: r["cpu_idle"]),
        ("CPU per call, 1 call %", lambda r: r["cpu_1"] - r["cpu_idle"]),
        ("CPU per call, 4 calls %", lambda r: (r["cpu_4"] - r["cpu_idle"]) / 4),
        ("RSS idle MB", lambda r: r["rss_idle"]),
        ("RSS 4 calls MB", lambda r: r["rss_4"]),
        ("INVITE->event p50 ms", lambda r: r["p50"]),
        ("INVITE->event p99 ms", lambda r: r["p99"]),
    ]
    header = f"  {'':26}" + "".join(f"{k:>22}" for k in kinds)
    print(header)
    for label, get in rows:
        cells = "".join(f"{spread([get(r) for r in runs[k]]) if runs[k] else '-':>22}" for k in kinds)
        print(f"  {label:26}{cells}")
    tls = "".join(f"{' / '.join(sorted({r['tls'] for r in runs[k]})) if runs[k] else '-':>22}" for k in kinds)
    print(f"  {'TLS 1.3-only server':26}{tls}")
    for k in kinds:
        if runs[k]:
            print(f"  {k}: {runs[k][0]['summary']}")


if __name__ == "__main__":
    main()
