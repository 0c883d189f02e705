"""The field a hotkey is pressed into (CARD6): Qt's key-sequence field, with three differences for
a dialog driven from the keyboard.

* Escape and Enter are not recorded: they cancel and confirm the dialog, as everywhere else (Qt's
  field took Escape as the new key of "Answer" and left the dialog open).
* A key that types — a letter, a digit, punctuation, Space, Backspace — is not taken without Ctrl,
  Alt or Meta (Shift alone still types a capital): as an in-app shortcut it would be taken from
  typing in the window, and as a global hotkey from every program on the desktop. ``refused``
  says so in a sentence. Function keys and the like (F1–F35, Pause, Insert …) work alone.
* Tab and Shift+Tab move on, as in Qt's field.
"""

from __future__ import annotations

from typing import Any

from ui.i18n import translate
from ui.qt import QKeySequenceEdit, Qt, pyqtSignal

__all__ = ["KeyField", "typing_key"]

_K = Qt.Key
_M = Qt.KeyboardModifier
#: Keys that only change the others: pressed on their way to a combination.
_MODIFIER_KEYS = frozenset(
    {_K.Key_Shift, _K.Key_Control, _K.Key_Alt, _K.Key_Meta, _K.Key_AltGr, _K.Key_CapsLock, _K.Key_NumLock}
)
_DIALOG_KEYS = frozenset({_K.Key_Escape, _K.Key_Return, _K.Key_Enter})
#: Keys outside Qt's printable range that still edit text.
_EDITING_KEYS = frozenset({_K.Key_Backspace, _K.Key_Tab, _K.Key_Backtab})


def typing_key(key: int, modifiers: Qt.KeyboardModifier) -> bool:
    """Would *key* with *modifiers* type (or edit) text rather than be a shortcut?"""
    if modifiers & (_M.ControlModifier | _M.AltModifier | _M.MetaModifier):
        return False
    return key < _K.Key_Escape.value or key in {k.value for k in _EDITING_KEYS | _DIALOG_KEYS}


class KeyField(QKeySequenceEdit):
    """One key combination, pressed. ``refused(sentence)`` when a pressed key is not taken."""

    refused = pyqtSignal(str)

    def keyPressEvent(self, event: Any) -> None:
        if event is None:
            return
        key = event.key()
        modifiers = event.modifiers() & ~(_M.KeypadModifier | _M.GroupSwitchModifier)
        if key in {k.value for k in _MODIFIER_KEYS} or key in (_K.Key_Tab.value, _K.Key_Backtab.value):
            super().keyPressEvent(event)
            return
        if key in {k.value for k in _DIALOG_KEYS} and not modifiers:
            event.ignore()  # the dialog's: Escape cancels, Enter is OK
            return
        if typing_key(key, modifiers):
            event.accept()
            self.refused.emit(
                translate(
                    "KeyField",
                    "A letter, digit or typing key needs Ctrl or Alt: alone it would be taken from typing. "
                    "Function keys such as F9 work alone.",
                )
            )
            return
        super().keyPressEvent(event)
