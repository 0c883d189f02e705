"""Microphone, speaker and ringtone through sounddevice (PortAudio).

The pjsua2 wheel has no sound-device backend, so the conference bridge runs on its null
device and the engine bridges a ``pj.AudioMediaPort`` to ``SoundDevice`` (in
``providers.sip.pjengine``). This module knows nothing of pjsua2: it moves 20 ms frames of
8 kHz mono 16-bit PCM between PortAudio's callback thread and the media clock thread through
two small bounded queues, resampling to whatever rate the device runs at. The two clocks
drift apart slowly; a full queue drops its oldest frame and an empty one plays silence.

``backend`` is the ``sounddevice`` module; tests pass a fake with the same ``RawInputStream``,
``RawOutputStream`` and ``query_devices`` surface.

numpy (the resampler) is imported when a call's audio starts, not with this module: the desktop
creates its ringers at start-up, and numpy costs ~14 MB and ~0.1 s there (issue 6). The ringtone
is computed without it, so the first ring does not pay for the import either; while it rings,
numpy is imported on a thread of its own, so answering does not wait for it before the audio
opens (the caller's first words would be lost).
"""

from __future__ import annotations

import importlib
import logging
import math
import sys
import threading
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from providers.sip.options import AudioOptions

__all__ = [
    "FRAME_BYTES",
    "RATE",
    "AudioCheck",
    "NoDevice",
    "Ringer",
    "SoundDevice",
    "check_devices",
    "list_devices",
    "pick_device",
    "preload_numpy",
    "resample",
]

log = logging.getLogger(__name__)

RATE = 8000
FRAME_SAMPLES = 160  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2
_QUEUE_FRAMES = 10  # 200 ms of slack between the two clocks


def _sounddevice() -> Any:
    import sounddevice

    return sounddevice


_numpy_preload: threading.Thread | None = None


def preload_numpy() -> None:
    """Import numpy off the GUI thread (once), ahead of a call's audio: called when a call rings."""
    global _numpy_preload
    if _numpy_preload is not None or "numpy" in sys.modules:
        return
    _numpy_preload = threading.Thread(
        target=importlib.import_module, args=("numpy",), name="callsys-numpy-preload", daemon=True
    )
    _numpy_preload.start()


class NoDevice(Exception):
    """Neither the chosen device nor the system default can be used for this direction."""


def pick_device(sd: Any, name: str | int | None, kind: str) -> tuple[str | int | None, str]:
    """The device to open for *kind* (``"input"``/``"output"``): *name* when PortAudio has it,
    else the system default (``None``) with a notice saying so; ``NoDevice`` when there is no
    default either. Devices are chosen by name in the settings: an index changes when a headset
    is plugged in, a name does not."""
    notice = ""
    if name is not None:
        try:
            sd.query_devices(name, kind)
            return name, ""
        except Exception:
            notice = f"The audio device {name!r} is not connected; the system default is used."
    try:
        sd.query_devices(None, kind)
    except Exception as exc:
        raise NoDevice(f"no {kind} device") from exc
    return None, notice


@dataclass(frozen=True, slots=True)
class AudioCheck:
    """What a call would have: ``missing`` names the parts without a device, among
    ``"microphone"``, ``"speaker"`` and ``"ringer"``; ``message`` says it in a sentence
    (English, for logs and ``callsys phone``); ``notices`` are chosen devices replaced by the
    default."""

    missing: tuple[str, ...] = ()
    message: str = ""
    notices: tuple[str, ...] = ()


def _refresh(sd: Any) -> None:
    """Have PortAudio list the devices again (it keeps the list it found when it started): only
    while no stream of ours is open."""
    terminate, initialize = getattr(sd, "_terminate", None), getattr(sd, "_initialize", None)
    if terminate is None or initialize is None:
        return
    try:
        terminate()
        initialize()
    except Exception:
        log.debug("PortAudio could not list the devices again", exc_info=True)


def check_devices(options: AudioOptions, backend: Any = None, *, refresh: bool = False) -> AudioCheck:
    """Whether calls have a microphone, a speaker and a ringer with *options* (``device`` mode)."""
    try:
        sd = backend or _sounddevice()
    except Exception as exc:  # PortAudio itself missing (OSError from the import)
        return AudioCheck(
            ("microphone", "speaker", "ringer"),
            f"No audio: PortAudio cannot be used ({type(exc).__name__}: {exc}).",
        )
    if refresh:
        _refresh(sd)
    missing: list[str] = []
    notices: list[str] = []
    ring = options.ring_device if options.ring_device is not None else options.output_device
    for role, name, kind in (
        ("microphone", options.input_device, "input"),
        ("speaker", options.output_device, "output"),
        ("ringer", ring, "output"),
    ):
        try:
            _device, notice = pick_device(sd, name, kind)
        except NoDevice:
            missing.append(role)
            continue
        if notice and notice not in notices:
            notices.append(notice)
    return AudioCheck(tuple(missing), audio_message(missing), tuple(notices))


def audio_message(missing: Sequence[str]) -> str:
    """The sentence for what calls lack (``microphone``, ``speaker``, ``ringer``); "" for nothing."""
    if not missing:
        return ""
    if "microphone" in missing and "speaker" in missing:
        return "No audio device: calls have no microphone and no speaker."
    if "microphone" in missing:
        return "No microphone: the other side of a call hears nothing."
    if "speaker" in missing:
        return "No speaker: calls connect, but nothing can be heard."
    return "No ringer device: incoming calls ring silently."


def list_devices(backend: Any = None) -> list[dict[str, Any]]:
    """Every audio device: ``{"index", "name", "inputs", "outputs", "rate"}`` (for the settings UI)."""
    sd = backend or _sounddevice()
    out = []
    for index, dev in enumerate(sd.query_devices()):
        out.append(
            {
                "index": index,
                "name": str(dev["name"]),
                "inputs": int(dev["max_input_channels"]),
                "outputs": int(dev["max_output_channels"]),
                "rate": float(dev["default_samplerate"]),
            }
        )
    return out


def resample(
    samples: np.ndarray[Any, Any], src: int, dst: int, count: int | None = None
) -> np.ndarray[Any, Any]:
    """Linear-interpolation resampling of int16 *samples* from *src* Hz to *dst* Hz."""
    import numpy as np

    if src == dst and (count is None or count == len(samples)):
        return samples.astype(np.int16, copy=False)
    n = count if count is not None else max(1, round(len(samples) * dst / src))
    if len(samples) == 0:
        return np.zeros(n, dtype=np.int16)
    x_new = np.linspace(0, len(samples) - 1, n)
    out: np.ndarray[Any, Any] = np.interp(x_new, np.arange(len(samples)), samples.astype(np.float32))
    return out.astype(np.int16)


class SoundDevice:
    """Capture and playback streams, opened while at least one call has audio."""

    def __init__(self, options: AudioOptions, backend: Any = None) -> None:
        self._options = options
        self._backend = backend
        self._mic: deque[bytes] = deque(maxlen=_QUEUE_FRAMES)
        self._speaker: deque[bytes] = deque(maxlen=_QUEUE_FRAMES)
        self._lock = threading.Lock()
        self._streams: list[Any] = []
        self._in_rate = self._out_rate = RATE
        self._pending = b""
        self.failed = ""

    @property
    def running(self) -> bool:
        return bool(self._streams)

    def start(self) -> None:
        with self._lock:
            if self._streams:
                return
            try:
                import numpy  # noqa: F401  # for the callbacks: here, not in PortAudio's thread

                sd = self._backend or _sounddevice()
                out_device, out_notice = pick_device(sd, self._options.output_device, "output")
                in_device, in_notice = pick_device(sd, self._options.input_device, "input")
                for notice in (out_notice, in_notice):
                    if notice:
                        log.warning("%s", notice)
                out_rate = self._rate(sd, out_device, "output")
                in_rate = self._rate(sd, in_device, "input")
                out = sd.RawOutputStream(
                    samplerate=out_rate,
                    channels=1,
                    dtype="int16",
                    device=out_device,
                    blocksize=out_rate // 50,
                    callback=self._play,
                )
                inp = sd.RawInputStream(
                    samplerate=in_rate,
                    channels=1,
                    dtype="int16",
                    device=in_device,
                    blocksize=in_rate // 50,
                    callback=self._record,
                )
                self._in_rate, self._out_rate = in_rate, out_rate
                out.start()
                inp.start()
                self._streams = [out, inp]
                self.failed = ""
            except Exception as exc:  # no device, device busy, PortAudio missing: no audio, no crash
                self.failed = f"{type(exc).__name__}: {exc}"
                log.warning("audio device unavailable: %s", self.failed)

    @staticmethod
    def _rate(sd: Any, device: str | int | None, kind: str) -> int:
        info = sd.query_devices(device, kind)
        return int(info["default_samplerate"]) or RATE

    def stop(self) -> None:
        with self._lock:
            streams, self._streams = self._streams, []
        for stream in streams:
            try:
                stream.stop()
                stream.close()
            except Exception:
                log.debug("closing an audio stream failed", exc_info=True)
        self._mic.clear()
        self._speaker.clear()

    close = stop

    # -- media clock thread side
    def write_speaker(self, pcm: bytes) -> None:
        if self._streams:
            self._speaker.append(pcm)

    def read_mic(self) -> bytes:
        try:
            return self._mic.popleft()
        except IndexError:
            return bytes(FRAME_BYTES)

    # -- PortAudio thread side
    def _play(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        try:
            pcm = self._speaker.popleft()
        except IndexError:
            outdata[:] = bytes(len(outdata))
            return
        import numpy as np

        samples = np.frombuffer(pcm, dtype=np.int16)
        block = resample(samples, RATE, self._out_rate, frames).tobytes()
        outdata[: len(block)] = block

    def _record(self, indata: Any, _frames: int, _time: Any, _status: Any) -> None:
        import numpy as np

        samples = np.frombuffer(bytes(indata), dtype=np.int16)
        data = self._pending + resample(samples, self._in_rate, RATE).tobytes()
        while len(data) >= FRAME_BYTES:
            self._mic.append(data[:FRAME_BYTES])
            data = data[FRAME_BYTES:]
        self._pending = data


class Ringer:
    """A ringtone (425 Hz, 1 s on / 4 s off) on the ring device while a call rings; with
    ``ringback=True`` the ringback tone (425 Hz, 1 s on / 4 s off) on the *output* device while
    the far end of an outgoing call rings without sending early media."""

    def __init__(self, options: AudioOptions, backend: Any = None, *, ringback: bool = False) -> None:
        self._options = options
        self._backend = backend
        self._ringback = ringback
        self._stream: Any = None
        self._pos = 0
        self._rate = RATE
        self._hz, self._period, self._on = (425.0, 5.0, 1.0)

    @property
    def ringing(self) -> bool:
        return self._stream is not None

    def start(self) -> None:
        if self._stream is not None:
            return
        preload_numpy()  # the call will likely be answered: have the resampler ready by then
        try:
            sd = self._backend or _sounddevice()
            chosen = (
                self._options.ring_device
                if self._options.ring_device is not None
                else self._options.output_device
            )
            device, _notice = pick_device(sd, chosen, "output")
            self._rate = int(sd.query_devices(device, "output")["default_samplerate"]) or RATE
            self._pos = 0
            stream = sd.RawOutputStream(
                samplerate=self._rate, channels=1, dtype="int16", device=device, callback=self._fill
            )
            stream.start()
            self._stream = stream
        except Exception as exc:  # log text only: a kept exception would keep pjsua2 frames alive
            log.warning("ringtone device unavailable: %s", f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                log.debug("closing the ringtone stream failed", exc_info=True)

    def _fill(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        start, rate = self._pos, self._rate
        self._pos += frames
        period, on = self._period * rate, self._on * rate  # in samples
        if (start % period) >= on and (start % period) + frames <= period:
            outdata[:] = bytes(2 * frames)  # the silent 4 s: nothing to compute
            return
        amplitude = (0.1 if self._ringback else 0.3) * 32767
        step = 2 * math.pi * self._hz / rate
        wave = array(
            "h",
            (
                int(amplitude * math.sin(step * n)) if n % period < on else 0
                for n in range(start, start + frames)
            ),
        )
        outdata[:] = wave.tobytes()
