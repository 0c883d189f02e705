"""The softphone says when calls would have no microphone, speaker or ringer (issue 11, "No
audio, no word"): in its status (``callsys phone`` prints it as JSON) — with this machine's real
PortAudio (no sound card here) and with a fake PortAudio at the sounddevice boundary."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import pytest

from callsys.provider import ProviderStatus
from providers.sip import engines, sound
from providers.sip.options import AudioOptions
from providers.sip.phone_cli import run_phone
from providers.sip.provider import SipProvider
from providers.sip.sound import SoundDevice, check_devices

from .fake_portaudio import FakePortAudio, device
from .peers import HOST


def real_devices() -> list[Any]:
    try:
        import sounddevice

        return list(sounddevice.query_devices())
    except Exception:
        return []


class QuitWhenSaid(io.StringIO):
    """stdin for ``callsys phone`` that says ``quit`` once *stdout* holds *text* (the device
    check runs on a thread of its own: its status event comes when it is done)."""

    def __init__(self, stdout: io.StringIO, text: str) -> None:
        super().__init__()
        self._stdout, self._text = stdout, text
        self._said = False

    def readline(self, size: int | None = -1) -> str:
        if self._said:
            return ""  # end of input
        self._said = True
        for _ in range(200):  # up to 10 s; read on callsys phone's reader thread
            if self._text in self._stdout.getvalue():
                break
            time.sleep(0.05)
        return "quit\n"


HEADSET = device("USB Headset", inputs=1, outputs=2)
SPEAKERS = device("Built-in Speakers", outputs=2)


class Statuses:
    def __init__(self) -> None:
        self.seen: list[ProviderStatus] = []

    def call_event(self, event: Any) -> None:
        pass

    def status_changed(self, status: ProviderStatus) -> None:
        self.seen.append(status)


@pytest.mark.asyncio
async def test_callsys_phone_reports_no_audio_device_on_this_machine() -> None:
    if real_devices():
        pytest.skip("this machine has a sound device")
    options = {"listen_host": HOST, "listen_port": 0, "audio": {"mode": "device"}}
    stdout = io.StringIO()
    assert await run_phone(options, QuitWhenSaid(stdout, '"missing": ["microphone"'), stdout) == 0
    events = [json.loads(line) for line in stdout.getvalue().splitlines()]
    status = [o for o in events if o["event"] == "status" and o["registration"] == "online"][-1]
    assert status["audio"]["missing"] == ["microphone", "speaker", "ringer"]
    assert "no microphone and no speaker" in status["audio"]["message"]


@pytest.mark.asyncio
async def test_audio_mode_none_says_calls_have_no_audio() -> None:
    provider = SipProvider({"listen_host": HOST, "listen_port": 0, "audio": {"mode": "none"}})
    listener = Statuses()
    await provider.start(listener)
    try:
        assert listener.seen[-1].audio_missing == ("microphone", "speaker", "ringer")
        assert "audio mode none" in listener.seen[-1].audio
    finally:
        await provider.close()
    assert provider.status().audio_missing == ()  # stopped: no calls, nothing to warn about


@pytest.mark.asyncio
@pytest.mark.skipif(
    engines.resolve("auto") == "built",
    reason="the built engine lists the sound devices through pjmedia, not PortAudio",
)
async def test_a_headset_plugged_in_after_the_warning_is_found_before_the_next_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakePortAudio([])
    monkeypatch.setattr(sound, "_sounddevice", lambda: fake)
    provider = SipProvider({"listen_host": HOST, "listen_port": 0, "audio": {"mode": "device"}})
    listener = Statuses()
    await provider.start(listener)
    try:
        for _ in range(200):  # the first check runs on a thread of its own
            if listener.seen[-1].audio_missing:
                break
            await asyncio.sleep(0.05)
        assert listener.seen[-1].audio_missing == ("microphone", "speaker", "ringer")
        fake.devices, fake.default_input, fake.default_output = [HEADSET], 0, 0
        await provider.dial("1002@127.0.0.1:9")  # nobody there: the call fails, which is fine
        assert fake.refreshed  # PortAudio was asked for its list again
        assert listener.seen[-1].audio_missing == () and listener.seen[-1].audio == ""
    finally:
        await provider.close()


def test_check_names_each_missing_part() -> None:
    mic_only = FakePortAudio([device("Mic", inputs=1)], default_input=0)
    check = check_devices(AudioOptions(), mic_only)
    assert check.missing == ("speaker", "ringer")
    assert check.message == "No speaker: calls connect, but nothing can be heard."
    speakers_only = FakePortAudio([SPEAKERS], default_output=0)
    check = check_devices(AudioOptions(), speakers_only)
    assert check.missing == ("microphone",)
    assert "hears nothing" in check.message
    assert check_devices(AudioOptions(), FakePortAudio([HEADSET], 0, 0)).missing == ()


def test_a_chosen_device_that_went_away_falls_back_to_the_default_with_a_notice() -> None:
    backend = FakePortAudio([SPEAKERS, device("Webcam Mic", inputs=1)], default_input=1, default_output=0)
    options = AudioOptions(input_device="USB Headset", output_device="USB Headset")
    check = check_devices(options, backend)
    assert check.missing == ()
    assert check.notices == ("The audio device 'USB Headset' is not connected; the system default is used.",)
    dev = SoundDevice(options, backend)
    dev.start()
    assert dev.running and dev.failed == ""
    assert sorted((s.kw["kind"], s.kw["device"]) for s in backend.streams) == [("in", None), ("out", None)]
    dev.stop()


def test_a_chosen_device_is_opened_by_its_name() -> None:
    backend = FakePortAudio([SPEAKERS, HEADSET], default_input=1, default_output=0)
    dev = SoundDevice(AudioOptions(input_device="USB Headset", output_device="USB Headset"), backend)
    dev.start()
    assert sorted((s.kw["kind"], s.kw["device"]) for s in backend.streams) == [
        ("in", "USB Headset"),
        ("out", "USB Headset"),
    ]
    dev.stop()
