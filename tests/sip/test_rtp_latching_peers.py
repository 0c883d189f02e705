"""Spoofed RTP must not divert the agent's voice (issue 10: three spoofed RTP packets sent it to a
third party before the far end sent RTP, and a burst diverted it for ~200 ms after).

sipp calls the phone with its media address at a UDP socket of the test (the far end's media
port), which records where the phone's RTP comes from; a second socket on another port — the
spoofer — sends RTP to the phone's RTP port. The phone must keep sending to the far end's
signalled address only: the spoofer never receives a packet from it.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from callsys.model import CallEvent

from .peers import HOST, free_port, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

SCENARIO = Path(__file__).resolve().parent / "sipp_rtp" / "call_and_wait.xml"


class RtpPort:
    """A UDP socket that keeps every RTP packet it receives (with its source), read on a thread;
    it can send RTP too, as the far end or as a spoofer."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.received: list[tuple[float, tuple[str, int]]] = []
        self._seq = 0
        self._ssrc = int.from_bytes(self.port.to_bytes(2, "big") * 2, "big")
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data, source = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) >= 12 and data[0] >> 6 == 2:
                self.received.append((time.monotonic(), source))

    def send_rtp(self, to: tuple[str, int], count: int = 1) -> None:
        """*count* PCMU packets (160 bytes of silence) of this socket's own stream to *to*."""
        for _ in range(count):
            self._seq += 1
            header = struct.pack("!BBHII", 0x80, 0, self._seq & 0xFFFF, self._seq * 160, self._ssrc)
            self.sock.sendto(header + b"\xff" * 160, to)

    def since(self, moment: float) -> int:
        return sum(1 for at, _ in list(self.received) if at >= moment)

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


async def call_from_sipp(phone: Any, tmp_path: Path, far: RtpPort) -> tuple[asyncio.Task[Any], str]:
    sipp = asyncio.create_task(
        run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(SCENARIO), "-key", "rtp_ip", HOST,
                "-key", "rtp_port", str(far.port), "-m", "1", "-i", HOST,
                "-p", str(free_port()), "-nostdin", "-timeout", "60s",
            ],
            tmp_path,
        )
    )  # fmt: skip
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    await phone.until(lambda: len(far.received) >= 5, 10, "the phone's RTP at the far end")
    return sipp, ring.call_id


@pytest.mark.parametrize("far_end_sends", [False, True], ids=["before-the-far-end-sends", "while-it-sends"])
async def test_spoofed_rtp_does_not_divert_the_agent_s_voice(
    start_phone: Any, tmp_path: Path, far_end_sends: bool
) -> None:
    phone = await start_phone()
    far, spoofer = RtpPort(), RtpPort()
    try:
        sipp, call_id = await call_from_sipp(phone, tmp_path, far)
        ours = far.received[-1][1]  # where the phone's RTP comes from: its RTP port
        assert all(source == ours for _, source in far.received)
        if far_end_sends:
            far.send_rtp(ours, 10)
        spoofed_at = time.monotonic()
        for burst in (3, 12, 12, 12, 12):  # 3 packets were enough before the far end's; then 10
            spoofer.send_rtp(ours, burst)
            if far_end_sends:
                far.send_rtp(ours)
            await asyncio.sleep(0.02)
        # a second of call after the spoofing: every packet still reaches the far end
        await phone.until(lambda: far.since(spoofed_at + 0.3) >= 35, 10, "a second of RTP at the far end")
        assert spoofer.received == [], f"the phone sent {len(spoofer.received)} RTP packets to the spoofer"
        await phone.provider.hangup(call_id)
        await phone.event(CallEvent.ENDED, call_id)
        status, out = await sipp
        assert status == 0, out
    finally:
        far.close()
        spoofer.close()
