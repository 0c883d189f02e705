"""Floods a softphone must survive without bloating (issue: "floods must not lock or bloat it"),
and the phone's memory while they last: shared by ``test_flood_memory_peers.py`` (short floods,
ratios asserted) and ``benchmarks/sip_floods_memory.py`` (long floods, figures printed).

Every flood is sent from a thread with plain blocking sockets to the phone's port on 127.0.0.1,
paced to a rate, so the test's event loop keeps reading the phone's output:

* ``invite``: INVITE with SDP, then its CANCEL at once; the 487 is never ACKed (pjsip keeps
  retransmitting it until its timer H, as an attacker would make it);
* ``register``, ``options``, ``message``: out-of-dialog requests, each with a new Call-ID;
* ``tcp``: TCP connections that send half a request and then nothing (half-open for SIP), up
  to ``TCP_HELD`` at once; past that the oldest is closed for each new one;
* ``garbage``: datagrams of random bytes, some starting like a SIP request.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .peers import HOST

KINDS = ("invite", "register", "options", "message", "tcp", "garbage")
#: TCP connections held open at once by the ``tcp`` flood
TCP_HELD = 1500

_SDP = (
    "v=0\r\no=flood 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {rtp} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def _request(
    method: str, port: int, me: int, n: int, body: str = "", ctype: str = "", via: str = "UDP"
) -> bytes:
    tag = f"{os.getpid()}x{n}"
    head = [
        f"{method} sip:callsys@{HOST}:{port} SIP/2.0",
        f"Via: SIP/2.0/{via} {HOST}:{me};branch=z9hG4bKfl{tag};rport",
        "Max-Forwards: 70",
        f"From: <sip:flood{n}@{HOST}:{me}>;tag=f{tag}",
        f"To: <sip:callsys@{HOST}:{port}>",
        f"Call-ID: flood-{tag}@{HOST}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:flood{n}@{HOST}:{me}>",
    ]
    if method == "REGISTER":
        head.append("Expires: 3600")
    if body:
        head.append(f"Content-Type: {ctype}")
    head.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


@dataclass
class FloodResult:
    kind: str
    sent: int = 0  # requests, datagrams or connections
    errors: int = 0  # sends that failed (e.g. connection refused)
    seconds: float = 0.0


class Flood:
    """One flood of *kind* at *rate* per second for *seconds*, sent from a thread."""

    def __init__(self, kind: str, port: int, rate: float, seconds: float, seed: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown flood {kind!r}")
        self.kind, self.port, self.rate, self.seconds = kind, port, rate, seconds
        self.rng = random.Random(seed)
        self.result = FloodResult(kind)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> FloodResult:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((HOST, 0))
        udp.setblocking(False)
        me = udp.getsockname()[1]
        held: deque[socket.socket] = deque()
        numbers = itertools.count(1)
        start = time.monotonic()
        try:
            while not self._stop.is_set():
                elapsed = time.monotonic() - start
                if elapsed >= self.seconds:
                    break
                due = int(elapsed * self.rate) + 1 - self.result.sent
                if due <= 0:
                    time.sleep(min(0.002, 1 / self.rate))
                    continue
                for _ in range(min(due, 200)):
                    self._one(udp, me, next(numbers), held)
                    self.result.sent += 1
                    if self.kind != "tcp":  # the phone's answers are not read: drain them
                        try:
                            while udp.recv(65535):
                                pass
                        except OSError:
                            pass
        finally:
            self.result.seconds = time.monotonic() - start
            udp.close()
            while held:
                held.popleft().close()
        return self.result

    def _one(self, udp: socket.socket, me: int, n: int, held: deque[socket.socket]) -> None:
        target = (HOST, self.port)
        try:
            if self.kind == "invite":
                udp.sendto(_request("INVITE", self.port, me, n, _SDP.format(rtp=40000 + n % 2000 * 2),
                                    "application/sdp"), target)  # fmt: skip
                udp.sendto(_request("CANCEL", self.port, me, n), target)
            elif self.kind in ("register", "options"):
                udp.sendto(_request(self.kind.upper(), self.port, me, n), target)
            elif self.kind == "message":
                udp.sendto(
                    _request("MESSAGE", self.port, me, n, f"hello {n} " + "x" * 200, "text/plain"), target
                )
            elif self.kind == "garbage":
                size = self.rng.randrange(1, 1400)
                junk = self.rng.randbytes(size)
                if self.rng.random() < 0.5:
                    junk = self.rng.choice([b"INVITE ", b"SIP/2.0 200 ", b"OPTIONS sip:", b"\r\n"]) + junk
                udp.sendto(junk, target)
            else:  # tcp
                if len(held) >= TCP_HELD:
                    held.popleft().close()
                conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                conn.settimeout(2.0)
                try:
                    conn.connect(target)
                    conn.sendall(_request("INVITE", self.port, me, n, via="TCP")[:120])
                except OSError:
                    conn.close()
                    raise
                held.append(conn)
        except OSError:
            self.result.errors += 1


def rss_kib(pid: int) -> int:
    """Resident memory of process *pid* in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Sampler:
    """RSS of a process every *interval* seconds while it runs (``peak`` is the highest)."""

    pid: int
    interval: float = 0.1
    samples: list[int] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)

    async def run(self, done: Callable[[], bool]) -> None:
        while not done():
            self.samples.append(rss_kib(self.pid))
            await asyncio.sleep(self.interval)
        self.samples.append(rss_kib(self.pid))


async def flood_and_sample(
    pid: int, kind: str, port: int, rate: float, seconds: float
) -> tuple[FloodResult, int]:
    """Run one flood against the phone *pid* listening on *port*; (what was sent, peak RSS KiB)."""
    flood = Flood(kind, port, rate, seconds)
    sampler = Sampler(pid)
    task = asyncio.get_running_loop().run_in_executor(None, flood.run)
    try:
        await sampler.run(task.done)
        result = await task
    finally:
        flood.stop()
    return result, sampler.peak


async def settled_rss(pid: int, seconds: float = 2.0) -> int:
    """The phone's RSS once it is quiet: the median of samples over *seconds*."""
    samples = []
    for _ in range(max(3, int(seconds / 0.2))):
        samples.append(rss_kib(pid))
        await asyncio.sleep(0.2)
    samples.sort()
    return samples[len(samples) // 2]
