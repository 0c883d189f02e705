"""The sound-card bridge (sounddevice side) with a fake PortAudio: frames, rates, failures."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from providers.sip.options import AudioOptions
from providers.sip.sound import FRAME_BYTES, Ringer, SoundDevice, list_devices, resample

from .peers import peak_hz


class FakeStream:
    def __init__(self, **kw: Any) -> None:
        self.kw = kw
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


class FakeSoundDevice:
    """The surface of the ``sounddevice`` module that providers.sip.sound uses."""

    def __init__(self, rate: int = 48000, broken: bool = False) -> None:
        self.rate, self.broken = rate, broken
        self.streams: list[FakeStream] = []

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        info = {
            "name": "Fake",
            "max_input_channels": 1,
            "max_output_channels": 2,
            "default_samplerate": self.rate,
        }
        return info if kind else [info, {**info, "name": "Headset"}]

    def _stream(self, **kw: Any) -> FakeStream:
        if self.broken:
            raise OSError("device unavailable")
        stream = FakeStream(**kw)
        self.streams.append(stream)
        return stream

    def RawOutputStream(self, **kw: Any) -> FakeStream:
        return self._stream(kind="out", **kw)

    def RawInputStream(self, **kw: Any) -> FakeStream:
        return self._stream(kind="in", **kw)


def tone(hz: float, rate: int, samples: int) -> np.ndarray[Any, Any]:
    t = np.arange(samples) / rate
    return (8000 * np.sin(2 * math.pi * hz * t)).astype(np.int16)


def test_microphone_frames_are_resampled_to_8_khz_20_ms() -> None:
    backend = FakeSoundDevice(rate=48000)
    dev = SoundDevice(AudioOptions(input_device="Headset", output_device=1), backend)
    dev.start()
    inp = next(s for s in backend.streams if s.kw["kind"] == "in")
    assert inp.started and inp.kw["device"] == "Headset" and inp.kw["samplerate"] == 48000
    block = tone(700, 48000, 960 * 10)
    for i in range(10):  # PortAudio delivers 20 ms blocks at 48 kHz
        inp.kw["callback"](block[i * 960 : (i + 1) * 960].tobytes(), 960, None, None)
    frames = [dev.read_mic() for _ in range(10)]
    assert all(len(f) == FRAME_BYTES for f in frames)
    pcm = np.frombuffer(b"".join(frames), dtype=np.int16)
    assert abs(peak_hz(pcm, 8000) - 700) < 20
    assert dev.read_mic() == bytes(FRAME_BYTES)  # nothing captured: silence, never a stall


def test_speaker_frames_play_at_the_device_rate_and_underruns_are_silent() -> None:
    backend = FakeSoundDevice(rate=16000)
    dev = SoundDevice(AudioOptions(), backend)
    dev.start()
    out = next(s for s in backend.streams if s.kw["kind"] == "out")
    dev.write_speaker(tone(1000, 8000, 160).tobytes())
    buf = bytearray(320 * 2)
    out.kw["callback"](buf, 320, None, None)
    played = np.frombuffer(bytes(buf), dtype=np.int16)
    assert abs(peak_hz(played, 16000) - 1000) < 60
    out.kw["callback"](buf, 320, None, None)
    assert not any(buf)
    dev.stop()
    assert all(s.closed for s in backend.streams) and not dev.running


def test_a_missing_device_means_no_audio_not_a_crash() -> None:
    dev = SoundDevice(AudioOptions(), FakeSoundDevice(broken=True))
    dev.start()
    assert not dev.running and "device unavailable" in dev.failed
    dev.write_speaker(bytes(FRAME_BYTES))
    assert dev.read_mic() == bytes(FRAME_BYTES)


def test_ringer_rings_one_second_in_five_on_the_ring_device() -> None:
    backend = FakeSoundDevice(rate=8000)
    ringer = Ringer(AudioOptions(output_device=1, ring_device=2), backend)
    ringer.start()
    stream = backend.streams[0]
    assert ringer.ringing and stream.kw["device"] == 2
    buf = bytearray(8000 * 2 * 5)
    stream.kw["callback"](buf, 8000 * 5, None, None)
    pcm = np.frombuffer(bytes(buf), dtype=np.int16)
    assert abs(peak_hz(pcm[:8000], 8000) - 425) < 10 and not np.any(pcm[8000:])
    ringer.stop()
    assert not ringer.ringing and stream.closed


def test_device_list_and_resampling() -> None:
    devices = list_devices(FakeSoundDevice())
    assert [d["name"] for d in devices] == ["Fake", "Headset"] and devices[0]["outputs"] == 2
    assert len(resample(np.zeros(160, dtype=np.int16), 8000, 44100)) == 882
