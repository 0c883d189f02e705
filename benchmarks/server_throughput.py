"""How many calls per second the callsys server sustains, from PBX events to WebSocket push and
durable outbox, with 1,000 desktops connected. One command, prints figures:

    .venv/bin/python benchmarks/server_throughput.py [--clients 1000] [--rates 250,500,750,1000]

Three processes, so the desktops do not steal the server's CPU and the figures are the server's:

- **server**: the real ``CallServer`` — one branch whose provider floods ``ProviderEvent``s
  (ring, answer 0.3 s later, hang up 0.5 s after that; every call on its own extension's desktop),
  the branch's ``CallManager``, the ``Hub`` pushing to the desktops, and the real
  ``ActivityLogger`` writing every call (create + complete) into the SQLite ``Outbox`` in WAL —
  durably, before the push of the next event. No CRM is attached (delivery to Dynamics is
  bounded by Dataverse's own limits, not by the server), so the outbox only fills.
- **desktops**: ``--clients`` authenticated WebSocket sessions, each for its own extension,
  stamping each call event's arrival against the PBX event's own timestamp.
- this orchestrator: for each rate, runs the flood for ``--seconds`` and prints what arrived.

Push latency = desktop's clock at arrival − the time the provider emitted the event (one
machine, one clock). "achieved" is the rate at which the calls could actually be started (the
pacing loop shares the server's CPU); "kept up" means every event reached its desktop and the
achieved rate was within 3 % of the offered one.

``--ami`` adds a second figure: the same server fed by its real AMI provider from a fake
Asterisk streaming copies of the captured call 02_internal_answered (~100 AMI frames per call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-shared-secret"
FIRST_EXT = 3000


# ------------------------------------------------------------------------------------ server
class FloodProvider:
    """A PBX that makes calls at a given rate, each on the next extension in turn."""

    name = "flood"

    def __init__(self, options: Mapping[str, Any]) -> None:
        from callsys.provider import ProviderListener

        self.extensions = int(options.get("extensions", 1000))
        self.listener: ProviderListener | None = None
        self.ids = 0

    @property
    def capabilities(self) -> frozenset[Any]:
        return frozenset()

    def lines(self) -> tuple[Any, ...]:
        return ()

    async def start(self, listener: Any) -> None:
        from callsys.provider import ProviderStatus, Registration

        self.listener = listener
        listener.status_changed(ProviderStatus(self.name, Registration.ONLINE))

    async def close(self) -> None:
        pass

    async def run(self, rate: float, seconds: float, ring: float = 0.3, talk: float = 0.5) -> dict[str, Any]:
        from callsys.model import CallEvent, Direction, EndReason, PhoneNumber, ProviderEvent

        assert self.listener is not None
        emit = self.listener.call_event
        answers: deque[tuple[float, str]] = deque()
        hangups: deque[tuple[float, str]] = deque()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        c0 = time.process_time()
        started = events = 0
        last_start = t0
        lags: list[float] = []
        tick = 0.005  # a PBX link delivers events in bursts too; latency is measured per event
        next_tick = t0
        while True:
            now = loop.time()
            lags.append(max(0.0, now - next_tick))
            elapsed = now - t0
            due = min(int(elapsed * rate), int(seconds * rate))
            while started < due:
                self.ids += 1
                call_id = f"c{self.ids}"
                ext = str(FIRST_EXT + self.ids % self.extensions)
                emit(
                    ProviderEvent(
                        CallEvent.INCOMING,
                        call_id,
                        direction=Direction.INCOMING,
                        remote=PhoneNumber(raw=f"030{1000000 + self.ids % 9000000}"),
                        extension=ext,
                        dnis="7000",
                        at=datetime.now(UTC),
                    )
                )
                answers.append((now + ring, call_id))
                started += 1
                events += 1
                last_start = now
            while answers and answers[0][0] <= now:
                _, call_id = answers.popleft()
                emit(ProviderEvent(CallEvent.ANSWERED, call_id, at=datetime.now(UTC)))
                hangups.append((now + talk, call_id))
                events += 1
            while hangups and hangups[0][0] <= now:
                _, call_id = hangups.popleft()
                emit(
                    ProviderEvent(CallEvent.ENDED, call_id, reason=EndReason.COMPLETED, at=datetime.now(UTC))
                )
                events += 1
            if started >= seconds * rate and not answers and not hangups:
                break
            next_tick = now + tick
            await asyncio.sleep(tick)
        wall = loop.time() - t0
        lags.sort()
        return {
            "calls": started,
            "achieved": started / max(last_start - t0, 1e-9) if started > 1 else 0.0,
            "events": events,
            "wall": wall,
            "cpu": time.process_time() - c0,
            "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000 if lags else 0.0,
            "lag_max_ms": lags[-1] * 1000 if lags else 0.0,
        }


async def serve(args: argparse.Namespace) -> None:
    from callsys.activity import ActivityLogger
    from callsys.numbers import NumberPlan
    from callsys.outbox import Outbox
    from callsys.provider import ProviderRegistry
    from callsys.server.config import Branch, ServerConfig
    from callsys.server.crm import OutboxActivities
    from callsys.server.daemon import CallServer
    from callsys.store import open_database

    registry = ProviderRegistry()
    registry.register("flood", FloodProvider)
    if args.ami_port:
        from providers import REGISTRY

        registry.register("ami", lambda o: REGISTRY.create("ami", o))
    tmp = Path(tempfile.mkdtemp(prefix="callsys-bench-"))
    db = open_database(tmp / "server.sqlite3")
    outbox = Outbox(db)
    if args.ami_port:
        options = {
            "host": "127.0.0.1",
            "port": args.ami_port,
            "username": "callsys",
            "secret": "callsys",
            "technology": "SIP",
            "extensions": ["*"],
        }
        branch = Branch("bench", "ami", options, NumberPlan(region="DE", min_log_digits=0), {})
    else:
        branch = Branch(
            "bench", "flood", {"extensions": args.clients}, NumberPlan(region="DE"), {"7000": "Sales"}
        )

    async def activity(config: ServerConfig, owner_for: Any) -> OutboxActivities:
        writer = OutboxActivities(outbox, ActivityLogger(outbox, agent_for=owner_for))
        writer.start(deliver=False)  # as in the server, minus delivery: there is no CRM here
        return writer

    config = ServerConfig(
        host="127.0.0.1", port=0, seats=args.clients + 10, heartbeat_timeout=60.0, branches=(branch,)
    )
    server = CallServer(
        config, registry=registry, activity=None if args.no_outbox else activity, secret=lambda n: SECRET
    )
    _host, port = await server.start()
    print(json.dumps({"port": port}), flush=True)
    provider = server.branches["bench"].provider
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := (await reader.readline()).decode().split():
        if line[0] == "run" and isinstance(provider, FloodProvider):
            before = outbox.pending_count()
            stats = await provider.run(float(line[1]), float(line[2]))
            stats["outbox_items"] = outbox.pending_count() - before
            stats["sessions"] = len(server.hub.sessions)
            print(json.dumps(stats), flush=True)
        elif line[0] == "wait-ami":  # the fake Asterisk's stream: report when it has all been handled
            c0, w0 = time.process_time(), time.perf_counter()
            before = outbox.pending_count()
            want = int(line[1])
            while provider.events_seen < want:  # type: ignore[attr-defined]
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.2)
            print(
                json.dumps(
                    {
                        "cpu": time.process_time() - c0,
                        "wall": time.perf_counter() - w0,
                        "outbox_items": outbox.pending_count() - before,
                        "live": len(server.live_calls()),
                    }
                ),
                flush=True,
            )
        elif line[0] == "quit":
            break
    await server.stop()
    db.conn.close()


# ------------------------------------------------------------------------------------ desktops
async def desktops(args: argparse.Namespace) -> None:
    from websockets.asyncio.client import ClientConnection, connect

    latencies: list[float] = []
    received = [0]

    async def one(i: int, ext: str) -> ClientConnection:
        ws = await connect(f"ws://127.0.0.1:{args.port}/ws", ping_interval=30, max_queue=None)
        await ws.send(
            json.dumps({"type": "hello", "agent": f"desk{i}", "token": SECRET, "extensions": [ext]})
        )
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        return ws

    async def listen(ws: ClientConnection) -> None:
        async for frame in ws:
            now = time.time()
            message = json.loads(frame)
            if message.get("type") != "call":
                continue
            call = message["call"]
            stamp = {"incoming": "started_at", "answered": "answered_at", "ended": "ended_at"}.get(
                message["event"]
            )
            if stamp and call.get(stamp):
                latencies.append(now - datetime.fromisoformat(call[stamp]).timestamp())
            received[0] += 1

    exts = (
        [str(FIRST_EXT + i) for i in range(args.clients)]
        if not args.ami
        else ["1001", "1002"] + [str(FIRST_EXT + i) for i in range(args.clients - 2)]
    )
    conns: list[ClientConnection] = []
    for start in range(0, len(exts), 100):
        conns += await asyncio.gather(*(one(start + i, e) for i, e in enumerate(exts[start : start + 100])))
    tasks = [asyncio.get_running_loop().create_task(listen(ws)) for ws in conns]
    print(json.dumps({"ready": len(conns)}), flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := (await reader.readline()).decode().split():
        if line[0] == "reset":
            latencies.clear()
            received[0] = 0
            print("{}", flush=True)
        elif line[0] == "report":
            lat = sorted(latencies)
            print(
                json.dumps(
                    {
                        "received": received[0],
                        "p50_ms": statistics.median(lat) * 1000 if lat else None,
                        "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else None,
                        "max_ms": lat[-1] * 1000 if lat else None,
                    }
                ),
                flush=True,
            )
        elif line[0] == "quit":
            break
    for ws in conns:
        await ws.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# ------------------------------------------------------------------------------------ orchestrator
class Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def ask(self, line: str | None = None, timeout: float = 300) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if line is not None:
            self.proc.stdin.write((line + "\n").encode())
            await self.proc.stdin.drain()
        answer = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not answer:
            raise RuntimeError("a benchmark process died")
        result: dict[str, Any] = json.loads(answer)
        return result

    async def quit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        self.proc.stdin.close()
        await self.proc.wait()


async def spawn(*args: str) -> Child:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    return Child(proc)


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


async def orchestrate(args: argparse.Namespace) -> None:
    print(f"callsys server: PBX events → CallManager → WebSocket push + outbox, {args.clients:,} desktops")
    server = await spawn("--role", "server", "--clients", str(args.clients))
    port = (await server.ask())["port"]
    clients = await spawn("--role", "desktops", "--port", str(port), "--clients", str(args.clients))
    ready = await clients.ask(timeout=120)
    cpu_costs: list[float] = []
    print(f"{ready['ready']:,} desktops connected and authenticated\n")
    print(
        f"{'calls/s':>8} {'achieved':>9} {'events':>7} {'pushed':>7} {'push p50':>9} {'p99':>6} {'max ms':>7} "
        f"{'outbox':>7} {'srv CPU':>8} {'CPU ms/call':>12} {'loop lag p99/max ms':>20}  kept up"
    )
    for rate in args.rates:
        await clients.ask("reset")
        stats = await server.ask(f"run {rate} {args.seconds}")
        await asyncio.sleep(0.5)
        report = await clients.ask("report")
        kept_up = report["received"] == stats["events"] and stats["achieved"] >= 0.97 * rate
        per_call = stats["cpu"] / stats["calls"] * 1000
        cpu_costs.append(per_call)
        print(
            f"{rate:>8,} {stats['achieved']:>9,.0f} {stats['events']:>7,} {report['received']:>7,} "
            f"{fmt(report['p50_ms']):>9} {fmt(report['p99_ms']):>6} {fmt(report['max_ms']):>7} "
            f"{stats['outbox_items']:>7,} {stats['cpu'] / stats['wall'] * 100:>7.0f}% {per_call:>12.2f} "
            f"{stats['lag_p99_ms']:>9.1f}/{stats['lag_max_ms']:<10.1f} {'yes' if kept_up else 'NO'}"
        )
    await clients.quit()
    await server.quit()
    best = min(cpu_costs)
    print(
        f"\nserver CPU per call (ring + answer + hang-up: 3 pushes, 2 durable outbox writes): best "
        f"{best:.2f} ms → one core sustains ≈ {1000 / best:,.0f} calls/s. Wall-clock rows above are "
        f"on a shared 2-core machine (load average {os.getloadavg()[0]:.1f} now)."
    )
    if args.ami:
        await orchestrate_ami(args)


async def orchestrate_ami(args: argparse.Namespace) -> None:
    from tests.ami.fakeami import FakeAmi, Session, flood_frames, raw_frame

    frames, per_call = flood_frames(args.ami_calls)
    frames = [*frames, raw_frame(("Event", "UserEvent"), ("UserEvent", "done"))]  # the end marker
    print(
        f"\nthrough the AMI provider: a fake Asterisk streams {args.ami_calls:,} copies of the captured "
        f"02_internal_answered ({per_call} frames each, 2 call legs: 1002 → 1001) as fast as TCP takes them"
    )
    async with FakeAmi(Session(frames=[], keep_open=True), Session(frames=frames, keep_open=True)) as ami:
        server = await spawn("--role", "server", "--clients", str(args.clients), "--ami-port", str(ami.port))
        port = (await server.ask())["port"]
        clients = await spawn(
            "--role", "desktops", "--port", str(port), "--clients", str(args.clients), "--ami"
        )
        await clients.ask(timeout=120)
        await clients.ask("reset")
        while not ami.conns:
            await asyncio.sleep(0.01)
        ami.conns[0].writer.close()  # the idle PBX session ends; the server reconnects to the stream
        stats = await server.ask(f"wait-ami {len(frames)}")
        report = await clients.ask("report")
        legs = 2 * args.ami_calls
        print(
            f"{args.ami_calls / stats['wall']:,.0f} PBX calls/s ({legs / stats['wall']:,.0f} call legs/s, "
            f"{len(frames) / stats['wall']:,.0f} AMI frames/s) wall clock; server CPU "
            f"{stats['cpu'] / stats['wall'] * 100:.0f}% of a core = "
            f"{stats['cpu'] / args.ami_calls * 1000:.2f} ms CPU per PBX call; pushed {report['received']:,} "
            f"events to the 1001/1002 desktops (their timestamps are the capture's, so no latency here); "
            f"outbox +{stats['outbox_items']:,}; "
            f"live calls left {stats['live']}"
        )
        await clients.quit()
        await server.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("orchestrator", "server", "desktops"), default="orchestrator")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument(
        "--rates", type=lambda s: [int(x) for x in s.split(",")], default=[250, 500, 750, 1000]
    )
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ami", action="store_true", help="also measure the AMI path")
    parser.add_argument("--no-outbox", action="store_true", help="server role: push only (for comparison)")
    parser.add_argument("--ami-calls", type=int, default=2000)
    parser.add_argument("--ami-port", type=int, default=0)
    args = parser.parse_args()
    if args.role == "server" and os.environ.get("CALLSYS_BENCH_PROFILE"):
        import cProfile

        cProfile.runctx(
            "asyncio.run(serve(args))", globals(), {"args": args}, os.environ["CALLSYS_BENCH_PROFILE"]
        )
    elif args.role == "server":
        asyncio.run(serve(args))
    elif args.role == "desktops":
        asyncio.run(desktops(args))
    else:
        asyncio.run(orchestrate(args))


if __name__ == "__main__":
    main()
