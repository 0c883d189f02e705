"""Global hotkeys on X11 (CARD6): a real X server (Xvfb), another X program holding the input
focus, keys typed through the XTEST extension — the way a keyboard reaches the server.

The desktop's Qt runs offscreen here (as in every UI test), so its windows are not even on that
X server: the only way a key can reach callsys is the grab on the root window. Qt's platform is
reported as "xcb" to the availability check (the one thing faked); the grabs, the key delivery
and the socket notifier are the real ones.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callsys.model import CallState
from tests.ui import xsession
from tests.ui.conftest import REZA, SARA, make_settings
from tests.ui.xsession import OtherProgram, global_window

from ui import globalhotkeys
from ui.globalhotkeys import keysym_name, unavailable_reason
from ui.mainwindow import MainWindow
from ui.qt import Qt

Xlib = pytest.importorskip("Xlib", reason="python-xlib is not installed")

from Xlib import X  # noqa: E402

CTRL_SHIFT = ("Control_L", "Shift_L")

xserver = xsession.xserver  # the private Xvfb
x11 = xsession.x11  # another program focused on it


def test_global_hotkeys_answer_and_hang_up_while_another_program_has_the_focus(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    window = global_window(make_window, tmp_path)
    sim = window.simulator
    assert window.hotkeys.global_keys.grabbed == {"answer", "reject", "hangup", "hold", "mute"}
    assert not window.banner.isVisible()
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    x11.type(*CTRL_SHIFT, "a")
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)
    x11.type(*CTRL_SHIFT, "h")
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.HELD)
    x11.type(*CTRL_SHIFT, "e")
    qtbot.waitUntil(lambda: sim.state(call_id) is None)
    assert x11.has_focus()  # the other program kept the focus all along
    assert not x11.got("a") and not x11.got("e")  # and the grabbed keys were not typed into it
    x11.type("Control_L", "l")  # Ctrl+L (go to the number field) is not global by default
    qtbot.waitUntil(lambda: x11.got("l"))


def test_global_hotkeys_work_with_caps_lock_and_num_lock_on(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    """X counts Caps Lock and Num Lock as modifiers: a grab without them misses such presses."""
    window = global_window(make_window, tmp_path)
    sim = window.simulator
    x11.type("Caps_Lock")
    x11.type("Num_Lock")
    try:
        assert (
            x11.display.screen().root.query_pointer().mask & (X.LockMask | X.Mod2Mask)
            == X.LockMask | X.Mod2Mask
        )
        call_id = sim.ring(SARA, "")
        qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
        x11.type(*CTRL_SHIFT, "a")
        qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)
    finally:
        x11.type("Caps_Lock")
        x11.type("Num_Lock")


def test_turning_global_hotkeys_off_gives_the_key_back_to_the_focused_program(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    window = global_window(make_window, tmp_path)
    sim = window.simulator
    settings = window.desktop.settings
    settings.set("hotkeys.global", False)
    window.settings_saved(["hotkeys.global"])
    assert window.hotkeys.global_keys.grabbed == set()
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    x11.type(*CTRL_SHIFT, "a")
    qtbot.waitUntil(lambda: x11.got("a"))  # typed into the focused program instead
    qtbot.wait(100)
    assert sim.state(call_id) is CallState.RINGING
    assert window.hotkeys.actions["answer"].shortcut().toString() == "Ctrl+Shift+A"  # in-app stays

    settings.set("hotkeys.global", True)  # on again at run time: grabbed again
    window.settings_saved(["hotkeys.global"])
    x11.type(*CTRL_SHIFT, "r")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    assert ("reject", call_id) in sim.commands


def test_a_changed_key_is_grabbed_again_and_the_old_one_released(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    window = global_window(make_window, tmp_path)
    sim = window.simulator
    settings = window.desktop.settings
    settings.set("hotkeys.answer", "F9")
    window.settings_saved(["hotkeys.answer"])
    assert x11.can_grab(*CTRL_SHIFT, "a")  # the old combination is free for others again
    call_id = sim.ring(REZA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    x11.type("F9")
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)


def test_a_key_another_program_holds_is_named_and_the_rest_still_work(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    x11.grab(*CTRL_SHIFT, "a")  # e.g. a screenshot tool owns Ctrl+Shift+A
    window = global_window(make_window, tmp_path)
    sim = window.simulator
    assert window.banner.isVisible()
    text = window.banner_label.text()
    assert "Ctrl+Shift+A" in text and "Another program" in text and "Answer" in text
    assert window.hotkeys.global_keys.grabbed == {"reject", "hangup", "hold", "mute"}
    assert window.hotkeys.actions["answer"].shortcut().toString() == "Ctrl+Shift+A"  # in-app stays
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    x11.type(*CTRL_SHIFT, "a")
    qtbot.wait(200)
    assert sim.state(call_id) is CallState.RINGING  # the other program's key, not ours
    x11.type(*CTRL_SHIFT, "r")
    qtbot.waitUntil(lambda: ("reject", call_id) in sim.commands)


def test_a_new_keyboard_map_is_followed(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    """Another layout loaded while running (setxkbmap): the keys are grabbed where they are now."""
    window = global_window(make_window, tmp_path)
    sim = window.simulator
    display = x11.display
    old = x11.keycode("a")
    first, last = display.display.info.min_keycode, display.display.info.max_keycode
    keymap = display.get_keyboard_mapping(first, last - first + 1)
    new = next(first + i for i, syms in enumerate(keymap) if not any(syms) and first + i > old)
    control, shift = x11.keycode("Control_L"), x11.keycode("Shift_L")
    try:
        display.change_keyboard_mapping(new, [keymap[old - first]])  # "a" moves to another key
        display.change_keyboard_mapping(old, [(0,) * len(keymap[0])])
        display.sync()
        qtbot.waitUntil(lambda: not x11.can_grab_code(new))  # callsys holds the new key
        assert x11.can_grab_code(old)  # and gave the old one back
        call_id = sim.ring(SARA, "")
        qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
        x11.type_codes(control, shift, new)
        qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)
    finally:
        display.change_keyboard_mapping(old, [keymap[old - first]])
        display.change_keyboard_mapping(new, [keymap[new - first]])
        display.sync()


def test_closing_the_window_releases_the_keys(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path, x11: OtherProgram
) -> None:
    window = global_window(make_window, tmp_path, **{"hotkeys.global_actions": ["hangup", "nonsense"]})
    assert window.hotkeys.global_keys.grabbed == {"hangup"}
    assert "nonsense" in window.banner_label.text()  # a mistyped action name is said, not ignored
    assert not x11.can_grab(*CTRL_SHIFT, "e")
    assert x11.can_grab(*CTRL_SHIFT, "a")  # not in the list: not taken from other programs
    window.close()
    assert x11.can_grab(*CTRL_SHIFT, "e")


def test_where_global_hotkeys_cannot_work_the_window_says_why(
    make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    # This test run itself: Qt offscreen, so no grabs — and the banner says so instead of failing.
    window = global_window(make_window, tmp_path)
    assert window.hotkeys.global_keys.grabbed == set()
    assert "Global hotkeys" in window.banner_label.text() and window.banner.isVisible()
    assert window.hotkeys.actions["answer"].shortcut().toString() == "Ctrl+Shift+A"


@pytest.mark.parametrize(
    ("env", "platform", "system", "expected"),
    [
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "xcb", "linux", None),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "xcb", "linux", "Wayland"),  # XWayland
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "wayland", "linux", "Wayland"),
        ({}, "xcb", "linux", "DISPLAY"),
        ({"DISPLAY": ":0"}, "offscreen", "linux", "offscreen"),
        ({}, "windows", "win32", "Windows"),
        ({}, "cocoa", "darwin", "macOS"),
    ],
)
def test_unavailable_reason(
    language: Any, env: dict[str, str], platform: str, system: str, expected: str | None
) -> None:
    why = unavailable_reason(env, platform, system)
    if expected is None:
        assert why is None
    else:
        assert why is not None and expected in why


def test_qt_keys_map_to_x_keysyms() -> None:
    K = Qt.Key
    assert [keysym_name(k) for k in (K.Key_A, K.Key_7, K.Key_F9, K.Key_PageUp, K.Key_Slash)] == [
        "a",
        "7",
        "F9",
        "Prior",
        "slash",
    ]
    assert keysym_name(K.Key_Launch0) is None


# python-xlib 0.33 does not close the socket of a failed connection; it is collected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
def test_a_display_that_cannot_be_opened_is_reported(
    make_window: Callable[..., MainWindow], tmp_path: Path, x11: OtherProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DISPLAY", "unix:4242"
    )  # no such server (unix: — python-xlib leaks a TCP fallback socket)
    window = global_window(make_window, tmp_path)
    assert window.hotkeys.global_keys.grabbed == set()
    assert "unix:4242" in window.banner_label.text() and window.banner.isVisible()
    gc.collect()


def test_the_settings_dialog_says_where_global_hotkeys_are_unavailable(
    qtbot: Any, tmp_path: Path, language: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.settingsdialog import SettingsDialog

    def note(**env: str) -> tuple[bool, str]:
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        dialog = SettingsDialog(make_settings(tmp_path))
        qtbot.addWidget(dialog)
        dialog.show()
        label = dialog.global_hotkeys_note
        return not label.isHidden(), label.text()  # its tab need not be the open one

    monkeypatch.setattr(globalhotkeys, "qt_platform", lambda: "xcb")
    shown, text = note(DISPLAY=":0", XDG_SESSION_TYPE="wayland", WAYLAND_DISPLAY="wayland-0")
    assert shown and "Wayland" in text
    shown, text = note(DISPLAY=":0", XDG_SESSION_TYPE="x11")
    assert not shown and text == ""


# ------------------------------------------------------------------ with Qt itself on X11
# The tests above run Qt offscreen. These two run Qt on its real X11 platform (xcb) on the
# private Xvfb, in a child pytest (Qt's platform is chosen once per process): the X11 check is
# not faked there, and a key typed while callsys itself has the focus must act once — not once
# through the grab and again through the in-app shortcut (mute would flip back).
ON_XCB = pytest.mark.skipif(
    os.environ.get("QT_QPA_PLATFORM") != "xcb", reason="runs in test_with_qt_on_a_real_x11_display"
)


@pytest.mark.skipif(os.environ.get("QT_QPA_PLATFORM") == "xcb", reason="the parent of the xcb tests")
def test_with_qt_on_a_real_x11_display(xserver: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "PYTEST_ADDOPTS")}
    env.update(DISPLAY=xserver, CALLSYS_TEST_QPA="xcb", XDG_SESSION_TYPE="x11")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "xcb_", __file__],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout, run.stdout[-2000:]


@ON_XCB
def test_xcb_a_global_key_works_while_another_program_has_the_focus(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = global_window(make_window, tmp_path)
    other = OtherProgram(os.environ["DISPLAY"])  # created after the window: it has the focus
    try:
        assert window.hotkeys.global_keys.grabbed == {"answer", "reject", "hangup", "hold", "mute"}
        assert other.has_focus() and not window.isActiveWindow()
        call_id = window.simulator.ring(SARA, "")
        qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
        other.type(*CTRL_SHIFT, "a")
        qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)
        other.type(*CTRL_SHIFT, "h")
        qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.HELD)
        qtbot.wait(300)
        assert window.simulator.state(call_id) is CallState.HELD
    finally:
        other.display.close()


@ON_XCB
def test_xcb_a_global_key_acts_once_while_callsys_has_the_focus(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    from ui.qt import QApplication

    window = global_window(make_window, tmp_path)
    keyboard = OtherProgram(os.environ["DISPLAY"])
    try:
        keyboard.display.set_input_focus(int(window.winId()), X.RevertToParent, X.CurrentTime)
        keyboard.display.sync()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        call_id = window.simulator.ring(SARA, "")
        qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
        keyboard.type(*CTRL_SHIFT, "a")
        qtbot.waitUntil(lambda: window.simulator.state(call_id) is CallState.ACTIVE)
        keyboard.type(*CTRL_SHIFT, "m")  # mute flips at once: twice would be mute + unmute
        qtbot.waitUntil(lambda: ("mute", call_id) in window.simulator.commands)
        qtbot.wait(300)
        toggles = [c for c in window.simulator.commands if c[0] in ("mute", "unmute")]
        assert toggles == [("mute", call_id)]
    finally:
        keyboard.display.close()
