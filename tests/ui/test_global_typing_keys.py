"""CARD6: a key that types (a letter, a digit, Space …) without Ctrl, Alt or Meta is never made a
global hotkey — written into the settings file by hand (the Settings dialog no longer takes one),
it would have taken that letter from every program on the desktop. It stays an in-app shortcut and
the banner says why it is not global."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.model import CallState
from tests.ui import xsession as _x  # the private Xvfb and "another program"
from tests.ui.conftest import SARA

from ui.mainwindow import MainWindow

xserver = _x.xserver
x11 = _x.x11


def test_a_typing_key_is_not_grabbed_from_other_programs(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: Any
) -> None:
    window = _x.global_window(make_window, tmp_path, **{"hotkeys.answer": "A"})
    assert "answer" not in window.hotkeys.global_keys.grabbed
    assert {"reject", "hangup"} <= window.hotkeys.global_keys.grabbed  # the others still are
    assert window.banner.isVisible() and "“A” for “Answer”" in window.banner_label.text()
    call_id = window.simulator.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    x11.type("a")
    qtbot.waitUntil(lambda: x11.got("a"))  # typed into the other program, as it should be
    assert window.simulator.state(call_id) is CallState.RINGING
