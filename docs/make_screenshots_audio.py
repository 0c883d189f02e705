"""Screenshots of Settings → Audio, English and Persian.

    Xvfb :96 -screen 0 1400x1000x24 &
    DISPLAY=:96 .venv/bin/python docs/make_screenshots_audio.py

Writes docs/screenshots/audio-settings-{en,fa}.png: the Audio tab of a softphone with a USB
headset chosen as microphone and speaker, the ringtone on the computer's own speakers and the
microphone test running (its level on the meter). The devices are an example list given to the
page in place of PortAudio's (a screenshot machine has no sound card), and the meter shows a
fixed level; the rest is the real dialog. Reuses ``docs/make_screenshots.py``'s set-up.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_screenshots as base

from callsys.settings import load_settings
from providers.sip import sound

from ui.i18n import Language, ltr, translate
from ui.mainwindow import MainWindow
from ui.settingsdialog import SettingsDialog

DEVICES = [
    {"name": "Built-in Audio Analog Stereo", "max_input_channels": 2, "max_output_channels": 2,
     "default_samplerate": 48000.0},
    {"name": "Jabra EVOLVE 20 MS", "max_input_channels": 1, "max_output_channels": 2,
     "default_samplerate": 48000.0},
    {"name": "HDMI / DisplayPort 1 Output", "max_input_channels": 0, "max_output_channels": 2,
     "default_samplerate": 48000.0},
]  # fmt: skip

SHOWN_PATH = "/home/sara/.config/callsys/settings.toml"
SETTINGS = """[phone]
provider = "sip"

[phone.options]
listen_port = 0

[phone.options.audio]
input_device = "Jabra EVOLVE 20 MS"
output_device = "Jabra EVOLVE 20 MS"
ring_device = "Built-in Audio Analog Stereo"
"""


class _Stream:
    def __init__(self, **kw: Any) -> None:
        self.kw = kw

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class ExampleDevices:
    """The surface of ``sounddevice`` the page uses, with the example devices."""

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        if device is None and kind is None:
            return DEVICES
        if device is None:
            return DEVICES[0]
        return next(d for d in DEVICES if device in d["name"])

    def RawInputStream(self, **kw: Any) -> _Stream:
        return _Stream(**kw)

    def RawOutputStream(self, **kw: Any) -> _Stream:
        return _Stream(**kw)


async def shots(window: MainWindow, language: Language) -> None:
    await window.start()
    window.move(0, 0)
    example = ExampleDevices()
    sound._sounddevice = lambda: example  # type: ignore[assignment]
    path = Path(base._TMP) / "audio-settings.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    settings = load_settings(path)
    for code in ("en", "fa"):
        window.set_language(code)
        await base.settle(0.3)
        dialog = SettingsDialog(settings, window)
        dialog.move(20, 20)
        dialog.resize(860, 560)
        dialog.tabs.setCurrentIndex(dialog._pages["audio"])
        dialog.show()
        # shown as an agent's file, not the temporary folder of the run
        dialog.path_label.setText(translate("SettingsDialog", "Saved in {path}").format(path=ltr(SHOWN_PATH)))
        page = dialog.audio_page
        page.mic_button.setChecked(True)  # the microphone test, running
        page._show_level(62)
        await base.settle(0.5)
        base.grab(f"audio-settings-{code}.png", widget=dialog)
        page.mic_button.setChecked(False)
        dialog.reject()
    window.set_language("en")


def main() -> int:
    return base.run(shots)


if __name__ == "__main__":
    sys.exit(main())
