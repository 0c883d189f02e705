"""The dial pad (OUT3): 1–9, *, 0, # and a backspace key, by mouse or keyboard.

During a call (the current call connected, and the phone connection can send tones) a key
sends its DTMF tone to the call — ``Provider.send_dtmf``, through the window's one command path;
otherwise it types into the number field, and Enter dials. With the pad focused, the keyboard's
digits (also Persian/Arabic ones), ``*``, ``#``, Backspace and Enter press its keys. A phone
keypad never mirrors: the pad stays left-to-right in Persian.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callsys.model import CallState
from callsys.numbers import to_ascii_digits
from callsys.provider import Capability

from ui.i18n import translate
from ui.qt import QGridLayout, QLabel, QPushButton, Qt, QVBoxLayout, QWidget, named, pyqtSignal

if TYPE_CHECKING:
    from ui.window import WindowBase

__all__ = ["KEYS", "DialPad"]

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
_LETTERS = {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ"}
BACKSPACE = "\b"


class DialPad(QWidget):
    #: Every key pressed (a digit, * or #, or ``BACKSPACE``) and where it went: "dtmf" or "field".
    pressed = pyqtSignal(str, str)

    def __init__(self, window: WindowBase, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dialPad")
        self.window_ = window
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.mode = named(QLabel(), "dialPadMode")
        self.mode.setWordWrap(True)
        grid = QGridLayout()
        grid.setSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        for at, key in enumerate(KEYS):
            letters = _LETTERS.get(key, "")
            button = named(QPushButton(f"{key}\n{letters}" if letters else key), f"dialPad_{key}")
            button.setMinimumSize(54, 44)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays with the pad
            button.clicked.connect(lambda _=False, k=key: self.press(k))
            self.buttons[key] = button
            grid.addWidget(button, at // 3, at % 3)
        self.backspace = named(QPushButton("⌫"), "dialPadBackspace")
        self.backspace.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.backspace.clicked.connect(lambda: self.press(BACKSPACE))
        self.call_button = named(QPushButton(), "dialPadCall")
        self.call_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.call_button.setStyleSheet(
            "QPushButton#dialPadCall { background: #188038; color: white; font-weight: bold; }"
        )
        self.call_button.clicked.connect(window.dial_from_field)
        grid.addWidget(self.call_button, 4, 0, 1, 2)
        grid.addWidget(self.backspace, 4, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.mode)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.retranslate()

    # ------------------------------------------------------------------ where a key goes
    def dtmf_call_id(self) -> str | None:
        """The call a key's tone goes to: the current call, when connected and the phone
        connection sends tones; else ``None`` (keys type into the number field)."""
        panel = self.window_.call_panel
        call = panel.current if panel is not None else None
        if call is None or call.state is not CallState.ACTIVE:
            return None
        if Capability.DTMF not in self.window_.capabilities():
            return None
        return str(call.id)

    def press(self, key: str) -> str:
        """Press one key; returns where it went ("dtmf" or "field")."""
        call_id = self.dtmf_call_id()
        if call_id is not None and key != BACKSPACE:
            self.window_.send_dtmf(call_id, key)
            where = "dtmf"
        else:
            edit = self.window_.dial_edit
            if key == BACKSPACE:
                edit.backspace()
            else:
                edit.insert(key)
            self.window_.dial_error.hide()
            where = "field"
        self.pressed.emit(key, where)
        return where

    def refresh(self) -> None:
        """Say where the keys go now (after a call started or ended)."""
        if self.dtmf_call_id() is not None:
            self.mode.setText(translate("DialPad", "Keys send tones to the call."))
        else:
            self.mode.setText(translate("DialPad", "Keys type into the number field."))
        self.backspace.setEnabled(self.dtmf_call_id() is None)

    # ------------------------------------------------------------------ keyboard
    def keyPressEvent(self, event: Any) -> None:
        key = event.key() if event is not None else None
        text = to_ascii_digits(event.text() if event is not None else "")
        if text in KEYS:
            self.buttons[text].setDown(True)
            self.press(text)
            self.buttons[text].setDown(False)
            return
        if key == Qt.Key.Key_Backspace:
            self.press(BACKSPACE)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.window_.dial_from_field()
            return
        super().keyPressEvent(event)

    def retranslate(self) -> None:
        self.call_button.setText(translate("DialPad", "Call"))
        self.call_button.setAccessibleName(translate("DialPad", "Call the number"))
        self.backspace.setAccessibleName(translate("DialPad", "Delete the last digit"))
        self.setAccessibleName(translate("DialPad", "Dial pad"))
        self.refresh()
