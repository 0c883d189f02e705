"""The desktop fetches its callsys server's settings layer at start — from a real server process
over TLS on 127.0.0.1 — off the window's thread, applies it (greyed where the server locked a key)
and keeps the copy that applies from the next start."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callsys.settings import AREA_CODE, MIN_LOG_DIGITS, load_settings
from tests.server.helpers import TOKEN, server  # noqa: F401 (the fixture)
from tests.ui.conftest import make_settings

from ui.mainwindow import MainWindow
from ui.settingsdialog import locked_text


def test_the_desktop_applies_the_servers_layer_at_start(
    qtbot: Any,
    server: tuple[str, Path, Path],  # noqa: F811
    make_window: Callable[..., MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, cert, _pushed = server
    monkeypatch.setenv("CALLSYS_SECRET_SERVER_TOKEN", TOKEN)
    messages: list[str] = []
    show = MainWindow.show_message

    def recording(self: MainWindow, text: str) -> None:
        messages.append(text)
        show(self, text)

    monkeypatch.setattr(MainWindow, "show_message", recording)
    settings = make_settings(
        tmp_path,
        **{
            "server.url": url,
            "phone.options": {"speed": 0, "agent_script": False, "agent": "sara", "ca_file": str(cert)},
            "numbers.area_code": "21",
        },
    )
    assert settings[MIN_LOG_DIGITS] == 5  # the built-in value before the server has spoken
    settings.save()
    make_window(settings)
    qtbot.waitUntil(lambda: settings.layer("server") is not None, timeout=30_000)
    assert settings[MIN_LOG_DIGITS] == 7 and settings.origin(MIN_LOG_DIGITS)[0] == "server"
    # region, prefix and digits changed; the area code is the agent's own (not locked by the server)
    assert settings[AREA_CODE] == "21"
    lock = settings.locked_by(MIN_LOG_DIGITS)
    assert lock is not None and locked_text(lock).startswith("Set by the callsys server;")
    assert any("The callsys server changed 3 setting(s)" in text for text in messages), messages
    # the copy applies from the next start, whether or not the server answers then
    again = load_settings(settings.path, system=Path(os.devnull))
    assert again[MIN_LOG_DIGITS] == 7 and again.source(MIN_LOG_DIGITS) == url
