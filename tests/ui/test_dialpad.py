"""The dial pad (OUT3): by mouse and keyboard it types into the number field; during a call its keys
send DTMF tones to the call (``Provider.send_dtmf``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.ui.conftest import SARA
from tests.ui.helpers import answered

from ui.dialpad import DialPad
from ui.mainwindow import MainWindow
from ui.qt import QApplication, QEvent, Qt, QtGui

LEFT = Qt.MouseButton.LeftButton
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def open_pad(window: MainWindow, qtbot: Any) -> DialPad:
    qtbot.keyClick(window, Qt.Key.Key_D, CTRL_SHIFT)
    qtbot.waitUntil(lambda: window.dialpad is not None and window.dialpad_dock.isVisible())
    pad = window.dialpad
    assert isinstance(pad, DialPad)
    return pad


def test_the_pad_types_into_the_number_field_by_mouse_and_keyboard_and_dials(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    pad = open_pad(window, qtbot)
    assert window.hotkeys.actions["dialpad"] in window.view_menu.actions()
    assert pad.mode.text() == "Keys type into the number field."
    for key in "0912":
        qtbot.mouseClick(pad.buttons[key], LEFT)
    assert pad.hasFocus()  # clicking keeps the keyboard with the pad
    qtbot.keyClicks(pad, "3456*#")
    qtbot.keyClick(pad, Qt.Key.Key_Backspace)
    qtbot.keyClick(pad, Qt.Key.Key_Backspace)
    for digit in "۷۸۹":  # Persian digits, from a Persian keyboard layout
        event = QtGui.QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, digit)
        QApplication.sendEvent(pad, event)
    assert window.dial_edit.text() == "09123456789"
    qtbot.mouseClick(pad.backspace, LEFT)
    qtbot.mouseClick(pad.buttons["9"], LEFT)
    qtbot.keyClick(pad, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ("dial", "09123456789") in window.simulator.commands)
    assert window.simulator.commands.count(("dial", "09123456789")) == 1


def test_during_a_call_the_keys_send_tones_and_leave_the_field_alone(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    pad = open_pad(window, qtbot)
    call_id = answered(window, qtbot, SARA)
    qtbot.waitUntil(lambda: pad.mode.text() == "Keys send tones to the call.")
    window.dial_edit.setText("123")
    qtbot.mouseClick(pad.buttons["5"], LEFT)
    pad.setFocus()
    qtbot.keyClicks(pad, "#1")
    sim = window.simulator
    qtbot.waitUntil(lambda: ("dtmf:1", call_id) in sim.commands)
    assert [c for c in sim.commands if c[0].startswith("dtmf:")] == [
        ("dtmf:5", call_id),
        ("dtmf:#", call_id),
        ("dtmf:1", call_id),
    ]
    assert window.dial_edit.text() == "123"
    assert not pad.backspace.isEnabled()
    window.hangup(call_id)
    qtbot.waitUntil(lambda: pad.mode.text() == "Keys type into the number field.")
    qtbot.mouseClick(pad.buttons["4"], LEFT)
    assert window.dial_edit.text() == "1234"
