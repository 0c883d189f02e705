"""Screenshots of a first start: no settings file, the built-in phone on its defaults.

    Xvfb :97 -screen 0 1400x900x24 &
    DISPLAY=:97 .venv/bin/python docs/make_screenshots_first_start.py

Writes docs/screenshots/first-start-{en,fa}.png: the welcome panel (what the phone is, the three
next steps) and the status bar's "No line · direct calls on … (this computer only)". The phone
is the real softphone (pjsua2) listening on 127.0.0.1:5060, or a free port when 5060 is taken.
Reuses ``docs/make_screenshots.py``'s set-up (xcb platform, temporary folders).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_screenshots as base

from callsys.settings import Settings

from ui.i18n import Language
from ui.mainwindow import MainWindow


def _port() -> int:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 5060))
        return 5060
    except OSError:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            return int(udp.getsockname()[1])


def settings() -> Settings:
    """What a first start has: nothing but the built-in phone's defaults (audio off here)."""
    return Settings(
        {
            "phone.provider": "sip",
            "phone.options": {"listen_port": _port(), "audio": {"mode": "none"}},
            "storage.database": os.path.join(base._TMP, "callsys.sqlite3"),
        },
        path=Path(base._TMP) / "settings.toml",
    )


async def shots(window: MainWindow, language: Language) -> None:
    window.show_first_start()
    await window.start()
    window.move(0, 0)
    window.resize(1000, 560)
    await base.until(lambda: "127.0.0.1" in window.status_label.text())
    for code in ("en", "fa"):
        window.set_language(code)
        await base.settle(0.6)
        base.grab(f"first-start-{code}.png", widget=window)
    window.set_language("en")


def main() -> int:
    base.settings = settings  # the window's settings: a first start's, not the demo's
    return base.run(shots)


if __name__ == "__main__":
    sys.exit(main())
