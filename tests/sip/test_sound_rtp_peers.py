"""RTP keeps flowing for the whole call when there is nothing to send (issue 10, "Headless and
no-device audio"): a PBX with an RTP timeout hangs up on a phone that goes quiet on the wire.

sipp calls the phone with its media address at a plain UDP socket of the test, which counts the
phone's RTP packets while the call is up, with no audio mode (``none``), with the sound card
(``device``) on a machine that has none, and with ``files`` but nothing to play."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from callsys.model import CallEvent, EndReason

from .peers import HOST, free_port, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

SCENARIO = Path(__file__).resolve().parent / "sipp_rtp" / "call_and_wait.xml"


class RtpCounter:
    """The far end's media port: arrival times of every datagram, read on a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.arrivals: list[float] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) >= 12 and data[0] >> 6 == 2:  # RTP version 2
                self.arrivals.append(time.monotonic())

    def span(self) -> float:
        arrivals = list(self.arrivals)
        return arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.mark.parametrize(
    "audio",
    [
        {"mode": "none"},
        {"mode": "device"},  # no sound card here: the device cannot open
        {"mode": "files"},  # nothing to play
    ],
    ids=["none", "device-without-devices", "files-without-play-file"],
)
async def test_rtp_flows_for_the_whole_call_without_a_source(
    start_phone: Any, tmp_path: Path, audio: dict[str, Any]
) -> None:
    phone = await start_phone(audio=audio)
    phone.provider.engine.set_audio_tap(None)  # as in use: nothing listens to the call but the sound card
    counter = RtpCounter()
    try:
        sipp = asyncio.create_task(
            run_sipp(
                [
                    f"{HOST}:{phone.port}", "-sf", str(SCENARIO), "-key", "rtp_ip", HOST,
                    "-key", "rtp_port", str(counter.port), "-m", "1", "-i", HOST,
                    "-p", str(free_port()), "-nostdin", "-timeout", "40s",
                ],
                tmp_path,
            )
        )  # fmt: skip
        ring = await phone.event(CallEvent.INCOMING)
        await phone.provider.answer(ring.call_id)
        await phone.event(CallEvent.ANSWERED, ring.call_id)
        # 6 s of call: before the fix, the phone fell silent on the wire after about a second
        await phone.until(lambda: counter.span() >= 6.0, 20, "6 s of RTP from the phone")
        packets = len(counter.arrivals)
        await phone.provider.hangup(ring.call_id)
        ended = await phone.event(CallEvent.ENDED, ring.call_id)
        assert ended.reason is EndReason.COMPLETED
        status, out = await sipp
        assert status == 0, out
    finally:
        counter.close()
    # one packet per 20 ms: at least 250 in 6 s (a few may be lost at the start on a busy machine)
    assert packets >= 250, packets
