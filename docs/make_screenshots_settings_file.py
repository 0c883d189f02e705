"""Screenshots of the Settings dialog on a settings file that could not be read, English and Persian.

    Xvfb :97 -screen 0 1400x1000x24 &
    DISPLAY=:97 .venv/bin/python docs/make_screenshots_settings_file.py

Writes docs/screenshots/settings_unreadable_{en,fa}.png: the file with one slip ("[hotkeys"
without its "]"), the notice that says why nothing is written over it, and "Start from the
defaults" ticked (what OK will then do). Reuses ``docs/make_screenshots.py``'s set-up.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_screenshots as base

from callsys.errors import ConfigError
from callsys.settings import load_settings, unreadable_settings

from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.settingsdialog import SettingsDialog

SHOWN_PATH = "/home/sara/.config/callsys/settings.toml"
BROKEN = '[phone]\nprovider = "sim"\ndial_prefix = "9"\n\n[hotkeys\nanswer = "F5"\n'


async def shots(window: MainWindow, language: Language) -> None:
    await window.start()
    window.move(0, 0)
    path = Path(base._TMP) / "config" / "callsys" / "settings.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN, encoding="utf-8")
    try:
        load_settings(path)
        raise AssertionError("the example file was read")
    except ConfigError as exc:
        why = str(exc)
    # Shown as an agent's file (not the temporary folder of the run); nothing is written.
    shown = Path(SHOWN_PATH)
    settings = unreadable_settings(shown, why.replace(str(path), SHOWN_PATH))
    for code in ("en", "fa"):
        window.set_language(code)
        await base.settle(0.3)
        dialog = SettingsDialog(settings, window)
        dialog.move(20, 20)
        dialog.resize(820, 760)
        dialog.show()
        dialog.open_file_button.setEnabled(True)  # the shown path does not exist on this computer
        dialog.start_over.setChecked(True)
        await base.settle(0.5)
        base.grab(f"settings_unreadable_{code}.png", widget=dialog)
        dialog.reject()
    window.set_language("en")


def main() -> int:
    return base.run(shots)


if __name__ == "__main__":
    sys.exit(main())
