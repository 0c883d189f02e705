"""Settings → Audio and the window's warning when calls would have no microphone or speaker
(issue 11, "No audio, no word").

The devices come from PortAudio through ``sounddevice``; here a fake PortAudio stands at that
boundary (``providers.sip.sound._sounddevice``), except for the test that looks at this
machine's own (it has no sound card)."""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callsys.model import CallState
from callsys.provider import ProviderStatus, Registration
from callsys.settings import PROVIDER_OPTIONS, Settings, load_settings
from providers.sip import sound
from tests.sip.fake_portaudio import FakePortAudio, device
from tests.ui.conftest import SARA
from tests.ui.helpers import ring

from ui.audiosettings import level_percent
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import Qt
from ui.settingsdialog import SettingsDialog

HEADSET = device("USB Headset", inputs=1, outputs=2, rate=48000)
SPEAKERS = device("Built-in Speakers", outputs=2, rate=44100)
WEBCAM = device("Webcam Mic", inputs=1, rate=16000)


def sip_settings(tmp_path: Path, audio: str = "") -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[phone]\nprovider = "sip"\n\n[phone.options]\nlisten_port = 0\n'
        + (f"\n[phone.options.audio]\n{audio}\n" if audio else ""),
        encoding="utf-8",
    )
    return load_settings(path)


def open_dialog(qtbot: Any, settings: Settings) -> SettingsDialog:
    from providers import REGISTRY

    dialog = SettingsDialog(settings, registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(dialog._pages["audio"])
    return dialog


@pytest.fixture
def portaudio(monkeypatch: pytest.MonkeyPatch) -> FakePortAudio:
    fake = FakePortAudio([SPEAKERS, WEBCAM, HEADSET], default_input=1, default_output=0)
    monkeypatch.setattr(sound, "_sounddevice", lambda: fake)
    return fake


def items(dialog: SettingsDialog, key: str) -> list[str]:
    combo = dialog.audio_page.combos[key]
    return [combo.itemText(i) for i in range(combo.count())]


def real_devices() -> list[Any]:
    try:
        import sounddevice

        return list(sounddevice.query_devices())
    except Exception:
        return []


def test_the_page_says_no_audio_devices_were_found_on_this_machine(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    if real_devices():
        pytest.skip("this machine has a sound device")
    dialog = open_dialog(qtbot, sip_settings(tmp_path))
    page = dialog.audio_page
    assert page.state_label.isVisible()
    assert "No audio devices found" in page.state_label.text()
    assert items(dialog, "input_device") == ["System default"]
    assert not page.tone_button.isEnabled() and not page.mic_button.isEnabled()


def test_devices_are_listed_by_direction_and_stored_by_name(
    qtbot: Any, tmp_path: Path, language: Language, portaudio: FakePortAudio
) -> None:
    settings = sip_settings(tmp_path)
    dialog = open_dialog(qtbot, settings)
    assert items(dialog, "input_device") == ["System default", "Webcam Mic", "USB Headset"]
    assert items(dialog, "output_device") == ["System default", "Built-in Speakers", "USB Headset"]
    assert items(dialog, "ring_device") == ["System default", "Built-in Speakers", "USB Headset"]
    assert not dialog.audio_page.state_label.isVisible()
    for key in ("input_device", "output_device"):
        combo = dialog.audio_page.combos[key]
        combo.setCurrentIndex(combo.findText("USB Headset"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    written = (tmp_path / "settings.toml").read_text(encoding="utf-8")
    assert 'input_device = "USB Headset"' in written and 'output_device = "USB Headset"' in written
    assert "ring_device" not in written  # the system default: nothing stored

    # after a restart, with the headset now first in PortAudio's list (another index)
    portaudio.devices = [HEADSET, SPEAKERS, WEBCAM]
    again = open_dialog(qtbot, load_settings(tmp_path / "settings.toml"))
    assert again.audio_page.combos["input_device"].currentText() == "USB Headset"
    assert again.audio_page.combos["output_device"].currentText() == "USB Headset"
    assert again.audio_page.combos["ring_device"].currentText() == "System default"
    # the device keys live on this page, not in the TOML of the phone options
    toml = again.fields[PROVIDER_OPTIONS.key].widget.toPlainText()  # type: ignore[attr-defined]
    assert "input_device" not in toml


def test_a_device_that_is_gone_stays_chosen_and_the_page_says_the_default_is_used(
    qtbot: Any, tmp_path: Path, language: Language, portaudio: FakePortAudio
) -> None:
    settings = sip_settings(tmp_path, 'input_device = "Conference Puck"\nmode = "device"')
    dialog = open_dialog(qtbot, settings)
    page = dialog.audio_page
    assert page.combos["input_device"].currentText() == "Conference Puck (not connected)".replace(
        "Conference Puck", "\u2068Conference Puck\u2069"
    )
    assert page.notice_label.isVisible()
    assert "is not connected: the system default is used" in page.notice_label.text()
    # it is plugged in, and the page looks again
    portaudio.devices = [*portaudio.devices, device("Conference Puck", inputs=1, outputs=1)]
    qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    assert page.combos["input_device"].currentText() == "Conference Puck"
    assert not page.notice_label.isVisible()
    assert dialog.save()
    assert settings[PROVIDER_OPTIONS]["audio"] == {"input_device": "Conference Puck", "mode": "device"}


def test_saving_without_opening_the_audio_tab_keeps_the_devices_and_leaves_portaudio_alone(
    qtbot: Any, tmp_path: Path, language: Language, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(sound, "_sounddevice", lambda: asked.append("asked"))
    settings = sip_settings(tmp_path, 'input_device = "USB Headset"\nring_device = "Built-in Speakers"')
    from providers import REGISTRY

    dialog = SettingsDialog(settings, registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()  # on the first tab
    dnd = dialog.fields["phone.dnd"].widget
    dnd.setChecked(not dnd.isChecked())  # type: ignore[attr-defined]
    assert dialog.save()
    assert settings[PROVIDER_OPTIONS]["audio"] == {
        "input_device": "USB Headset",
        "ring_device": "Built-in Speakers",
    }
    assert asked == []  # opening Settings does not start PortAudio


def test_the_test_tone_plays_440_hz_on_the_chosen_speaker(
    qtbot: Any, tmp_path: Path, language: Language, portaudio: FakePortAudio
) -> None:
    dialog = open_dialog(qtbot, sip_settings(tmp_path))
    page = dialog.audio_page
    combo = page.combos["output_device"]
    combo.setCurrentIndex(combo.findText("USB Headset"))
    qtbot.mouseClick(page.tone_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.tone_result.text().startswith("Played"))
    (stream,) = portaudio.streams
    assert stream.kw["device"] == "USB Headset" and stream.kw["samplerate"] == 48000
    assert stream.closed
    samples = array("h")
    samples.frombytes(bytes(stream.written))
    assert len(samples) == 48000  # one second
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)
    assert abs(crossings - 440) <= 2
    assert page.tone_button.isEnabled()


def test_the_microphone_test_shows_the_level_and_can_echo(
    qtbot: Any, tmp_path: Path, language: Language, portaudio: FakePortAudio
) -> None:
    dialog = open_dialog(qtbot, sip_settings(tmp_path))
    page = dialog.audio_page
    page.echo_box.setChecked(True)
    qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert page.mic_button.text() == "Stop the test"
    mic = next(s for s in portaudio.streams if s.kw["kind"] == "in")
    out = next(s for s in portaudio.streams if s.kw["kind"] == "out")
    assert mic.kw["device"] is None and mic.started and out.started  # the system default
    loud = array("h", (int(16000 * math.sin(n / 3)) for n in range(800))).tobytes()
    assert level_percent(bytes(1600)) == 0 < level_percent(loud)
    mic.kw["callback"](loud, 800, None, None)  # PortAudio's thread delivers a block
    qtbot.waitUntil(lambda: page.meter.value() == level_percent(loud))
    for _ in range(11):
        mic.kw["callback"](loud, 800, None, None)
    played = bytearray(1600)
    out.kw["callback"](played, 800, None, None)
    assert bytes(played) == loud  # heard back, half a second later
    qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert mic.closed and out.closed and page.meter.value() == 0


def test_a_microphone_that_cannot_open_is_said(
    qtbot: Any, tmp_path: Path, language: Language, portaudio: FakePortAudio
) -> None:
    dialog = open_dialog(qtbot, sip_settings(tmp_path))
    page = dialog.audio_page
    portaudio.default_input = -1  # unplugged since the list was read
    portaudio.devices = [SPEAKERS]
    qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "could not be opened" in page.mic_result.text())
    assert not page.mic_button.isChecked()


def test_the_window_warns_when_calls_would_have_no_microphone_or_speaker(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    manager = window.desktop.manager
    listener = manager.listener(window.desktop.provider_name)

    def report(missing: tuple[str, ...]) -> None:
        listener.status_changed(
            ProviderStatus(window.desktop.provider_name, Registration.ONLINE, audio_missing=missing)
        )

    report(("microphone", "speaker", "ringer"))
    qtbot.waitUntil(window.banner.isVisible)
    assert "No microphone and no speaker" in window.banner_label.text()
    call_id = ring(window, qtbot, SARA)
    qtbot.mouseClick(window.popups.popup(call_id).answer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)
    panel = window.call_panel
    qtbot.waitUntil(panel.audio_notice.isVisible)
    assert "No microphone and no speaker" in panel.audio_notice.text()
    report(("speaker",))
    qtbot.waitUntil(lambda: "No speaker" in panel.audio_notice.text())
    report(())
    qtbot.waitUntil(lambda: not panel.audio_notice.isVisible())
    assert "microphone" not in window.banner_label.text()
    window.simulator.remote_hangup(call_id)
