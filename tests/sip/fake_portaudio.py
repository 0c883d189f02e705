"""A fake ``sounddevice`` module for the audio tests: the devices PortAudio would list, with
sounddevice's rules for choosing one (``None`` = the default of that direction, a name matches
a device whose name contains it, an index picks that device; no match raises)."""

from __future__ import annotations

from typing import Any


class FakeStream:
    def __init__(self, **kw: Any) -> None:
        self.kw = kw
        self.started = self.closed = False
        self.written = bytearray()  # what a blocking write() played

    def write(self, data: bytes) -> None:
        self.written += data

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


class PortAudioError(Exception):
    pass


def device(name: str, inputs: int = 0, outputs: int = 0, rate: float = 48000.0) -> dict[str, Any]:
    return {
        "name": name,
        "max_input_channels": inputs,
        "max_output_channels": outputs,
        "default_samplerate": rate,
    }


class FakePortAudio:
    """``devices``: what PortAudio lists; ``default_input``/``default_output``: indexes or -1."""

    PortAudioError = PortAudioError

    def __init__(
        self, devices: list[dict[str, Any]], default_input: int = -1, default_output: int = -1
    ) -> None:
        self.devices = devices
        self.default_input, self.default_output = default_input, default_output
        self.streams: list[FakeStream] = []
        self.refreshed = 0

    def _terminate(self) -> None:
        pass

    def _initialize(self) -> None:
        self.refreshed += 1

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        if kind is None and device is None:
            return list(self.devices)
        channels = "max_input_channels" if kind == "input" else "max_output_channels"
        if device is None:
            index = self.default_input if kind == "input" else self.default_output
            if index < 0:
                raise PortAudioError(f"Error querying device {index}")
            return self.devices[index]
        if isinstance(device, int):
            if not 0 <= device < len(self.devices):
                raise PortAudioError(f"Error querying device {device}")
            info = self.devices[device]
        else:
            matches = [d for d in self.devices if device.lower() in d["name"].lower() and d[channels] > 0]
            if not matches:
                raise ValueError(f"No {kind} device matching {device!r}")
            info = matches[0]
        if kind and info[channels] <= 0:
            raise ValueError(f"Not an {kind} device: {device!r}")
        return info

    def _stream(self, kind: str, **kw: Any) -> FakeStream:
        self.query_devices(kw.get("device"), "output" if kind == "out" else "input")
        stream = FakeStream(kind=kind, **kw)
        self.streams.append(stream)
        return stream

    def RawOutputStream(self, **kw: Any) -> FakeStream:
        return self._stream("out", **kw)

    def RawInputStream(self, **kw: Any) -> FakeStream:
        return self._stream("in", **kw)

    def OutputStream(self, **kw: Any) -> FakeStream:
        return self._stream("out", **kw)

    def InputStream(self, **kw: Any) -> FakeStream:
        return self._stream("in", **kw)
