"""An X11 session for the global-hotkey tests (CARD6): a private Xvfb, another X program holding
the input focus with a keyboard of its own (XTEST), and a window with global hotkeys on."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import make_settings

from ui import globalhotkeys
from ui.mainwindow import MainWindow

Xlib = pytest.importorskip("Xlib", reason="python-xlib is not installed")

from Xlib import XK, X  # noqa: E402
from Xlib.display import Display  # noqa: E402
from Xlib.error import CatchError  # noqa: E402
from Xlib.ext import xtest  # noqa: E402


@pytest.fixture(scope="module")
def xserver() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (-displayfd): no clash with others."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian package xvfb)")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "640x480x24"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        os.close(read_end)
        proc.terminate()
        proc.wait(10)


class OtherProgram:
    """Another X client with a window that holds the keyboard focus, and a keyboard (XTEST)."""

    def __init__(self, display_name: str) -> None:
        self.display = Display(display_name)
        screen = self.display.screen()
        self.window = screen.root.create_window(
            0, 0, 200, 100, 0, screen.root_depth, event_mask=X.KeyPressMask | X.KeyReleaseMask
        )
        self.window.map()
        self.display.sync()
        self.window.set_input_focus(X.RevertToParent, X.CurrentTime)
        self.display.sync()
        self.received: list[int] = []  # keycodes of the presses this window got

    def has_focus(self) -> bool:
        return bool(self.display.get_input_focus().focus == self.window)

    def keycode(self, name: str) -> int:
        return int(self.display.keysym_to_keycode(XK.string_to_keysym(name)))

    def type(self, *names: str) -> None:
        """Press the keys in order, release them in reverse (Ctrl, Shift, A)."""
        self.type_codes(*(self.keycode(n) for n in names))

    def type_codes(self, *codes: int) -> None:
        for code in codes:
            xtest.fake_input(self.display, X.KeyPress, code)
        for code in reversed(codes):
            xtest.fake_input(self.display, X.KeyRelease, code)
        self.display.sync()

    def got(self, name: str) -> bool:
        while self.display.pending_events():
            event = self.display.next_event()
            if event.type == X.KeyPress:
                self.received.append(event.detail)
        return self.keycode(name) in self.received

    def grab(self, *names: str) -> None:
        """Hold a global key ourselves, as another hotkey program would."""
        *mods, key = names
        mask = (X.ControlMask if "Control_L" in mods else 0) | (X.ShiftMask if "Shift_L" in mods else 0)
        catch = CatchError()
        self.display.screen().root.grab_key(
            self.keycode(key), mask, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch
        )
        self.display.sync()
        assert catch.get_error() is None

    def can_grab_code(self, keycode: int, mask: int = X.ControlMask | X.ShiftMask) -> bool:
        """Is this key combination free (no other client holds it)?"""
        catch = CatchError()
        root = self.display.screen().root
        root.grab_key(keycode, mask, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
        self.display.sync()
        if catch.get_error() is None:
            root.ungrab_key(keycode, mask)
            self.display.sync()
            return True
        return False

    def can_grab(self, *names: str) -> bool:
        *mods, key = names
        mask = (X.ControlMask if "Control_L" in mods else 0) | (X.ShiftMask if "Shift_L" in mods else 0)
        return self.can_grab_code(self.keycode(key), mask)


@pytest.fixture
def x11(xserver: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[OtherProgram]:
    """An X11 session on the private server, another program focused."""
    monkeypatch.setenv("DISPLAY", xserver)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(globalhotkeys, "qt_platform", lambda: "xcb")
    other = OtherProgram(xserver)
    assert other.has_focus()
    yield other
    other.display.close()


def global_window(make_window: Callable[..., MainWindow], tmp_path: Path, **values: Any) -> MainWindow:
    return make_window(make_settings(tmp_path, **{"hotkeys.global": True, **values}))
