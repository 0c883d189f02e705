"""Global hotkeys on X11 (CARD6): the in-app shortcuts, also while another program has the focus.

Off by default (``hotkeys.global``); which actions take part is ``hotkeys.global_actions``. The
keys are the in-app ones (``hotkeys.answer`` …) after the in-app check, so a clash or an
unreadable key is reported once and grabbed nowhere.

How: a second X connection of our own (python-xlib), ``XGrabKey`` on the root window for each
key — four times, with and without Caps Lock and Num Lock, which X counts as modifiers — and a
``QSocketNotifier`` on the connection's socket, so a key press arrives through Qt's event loop
(no thread, no polling). A press triggers the same ``QAction`` as the in-app shortcut. A
combination another program has already grabbed (``BadAccess``) is named to the user and stays
in-app only; the grabs are released when the setting changes and when the window closes.

Where it does not work, the reason is said instead (``unavailable_reason``):

* a Wayland session: Wayland gives no program the keys of another one; an X grab through
  XWayland would only see keys typed into other X programs, so it is not offered at all;
* Windows and macOS: not implemented (``RegisterHotKey`` / ``CGEventTap`` were not available
  to test);
* Qt not on its X11 platform (``xcb``) or no ``DISPLAY``; python-xlib not installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from callsys.settings import HOTKEYS_GLOBAL, HOTKEYS_GLOBAL_ACTIONS, Settings

from ui.i18n import translate
from ui.keyfield import typing_key
from ui.qt import QAction, QGuiApplication, QKeySequence, QObject, QSocketNotifier, Qt, QTimer, pyqtSignal

__all__ = ["GlobalHotkeys", "keysym_name", "qt_platform", "unavailable_reason"]

log = logging.getLogger(__name__)

_Key = Qt.Key

#: Qt keys outside Latin-1 → X keysym names (Latin-1 keys have the same code in both).
_SPECIAL: dict[Qt.Key, str] = {
    _Key.Key_Space: "space",
    _Key.Key_Return: "Return",
    _Key.Key_Enter: "KP_Enter",
    _Key.Key_Escape: "Escape",
    _Key.Key_Tab: "Tab",
    _Key.Key_Backspace: "BackSpace",
    _Key.Key_Pause: "Pause",
    _Key.Key_Home: "Home",
    _Key.Key_End: "End",
    _Key.Key_Insert: "Insert",
    _Key.Key_Delete: "Delete",
    _Key.Key_PageUp: "Prior",
    _Key.Key_PageDown: "Next",
    _Key.Key_Up: "Up",
    _Key.Key_Down: "Down",
    _Key.Key_Left: "Left",
    _Key.Key_Right: "Right",
}
_PUNCTUATION = {
    "-": "minus",
    "=": "equal",
    ",": "comma",
    ".": "period",
    "/": "slash",
    ";": "semicolon",
    "'": "apostrophe",
    "`": "grave",
    "[": "bracketleft",
    "]": "bracketright",
    "\\": "backslash",
}


def keysym_name(key: Qt.Key) -> str | None:
    """The X keysym name of a Qt key ("a", "F9", "Prior"), or None for keys we do not map."""
    if key in _SPECIAL:
        return _SPECIAL[key]
    value = key.value
    if _Key.Key_F1.value <= value <= _Key.Key_F35.value:
        return f"F{value - _Key.Key_F1.value + 1}"
    if 0x30 <= value <= 0x39 or 0x41 <= value <= 0x5A:
        return chr(value).lower()
    return _PUNCTUATION.get(chr(value)) if 0x20 < value < 0x7F else None


def qt_platform() -> str:
    """Qt's platform plugin ("xcb", "wayland", "offscreen", "windows", "cocoa" …)."""
    return QGuiApplication.platformName()


def unavailable_reason(
    env: Mapping[str, str] | None = None, platform: str | None = None, system: str | None = None
) -> str | None:
    """Why global hotkeys cannot work here, in a sentence for the user; None if they can."""
    env = os.environ if env is None else env
    platform = qt_platform() if platform is None else platform
    system = sys.platform if system is None else system
    if system == "win32":
        return translate(
            "GlobalHotkeys",
            "Global hotkeys are not available on Windows yet; the shortcuts work while callsys has the focus.",
        )
    if system == "darwin":
        return translate(
            "GlobalHotkeys",
            "Global hotkeys are not available on macOS yet; the shortcuts work while callsys has the focus.",
        )
    if (
        platform.startswith("wayland")
        or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"
        or env.get("WAYLAND_DISPLAY")
    ):
        return translate(
            "GlobalHotkeys",
            "Global hotkeys are not available in a Wayland session: Wayland does not let a program "
            "see keys typed into other programs. The shortcuts work while callsys has the focus.",
        )
    if not env.get("DISPLAY"):
        return translate(
            "GlobalHotkeys", "Global hotkeys need an X11 desktop; there is none here (DISPLAY is not set)."
        )
    if platform != "xcb":
        return translate(
            "GlobalHotkeys", "Global hotkeys need Qt's X11 platform; callsys runs on “{platform}”."
        ).format(platform=platform)
    try:
        import Xlib.display  # noqa: F401
    except ImportError:
        return translate(
            "GlobalHotkeys", "Global hotkeys need the python-xlib package, which is not installed."
        )
    return None


class GlobalHotkeys(QObject):
    """Key grabs on the X root window; ``activated(name)`` when one of them is pressed."""

    activated = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display: Any = None  # Xlib.display.Display while grabbing
        self._notifier: QSocketNotifier | None = None
        self._grabs: dict[tuple[int, int], str] = {}  # (keycode, modifiers) → action name
        self._ignored = 0  # lock modifiers (Caps Lock, Num Lock): grabbed with and without them
        self._modifier_of: dict[str, int] = {}  # "Num_Lock", "Alt_L", "Super_L" → their X mask
        self._last_release: tuple[int, int] = (0, 0)  # (keycode, time) of the last key release
        self._keys: dict[str, tuple[str, QKeySequence]] = {}  # what was asked: grabbed again on a new keymap

    @property
    def grabbed(self) -> set[str]:
        """The actions whose key is grabbed now."""
        return set(self._grabs.values())

    def apply_settings(self, settings: Settings, actions: Mapping[str, QAction]) -> list[str]:
        """Grab the keys of the actions named in ``hotkeys.global_actions`` (their in-app keys,
        as already checked) when ``hotkeys.global`` is on; release them when it is off."""
        if not settings[HOTKEYS_GLOBAL]:
            self.release()
            return []
        problems: list[str] = []
        keys: dict[str, tuple[str, QKeySequence]] = {}
        for name in settings[HOTKEYS_GLOBAL_ACTIONS]:
            action = actions.get(name)
            if action is None:
                problems.append(
                    translate(
                        "GlobalHotkeys",
                        "“{name}” in the global hotkey actions is not an action; known: {known}.",
                    ).format(name=name, known=", ".join(actions))
                )
            elif action.shortcut().isEmpty():
                continue
            elif typing_key(action.shortcut()[0].key().value, action.shortcut()[0].keyboardModifiers()):
                # "A" alone would take the letter a from every program on the desktop
                problems.append(
                    translate(
                        "GlobalHotkeys",
                        "“{key}” for “{action}” is not made global: without Ctrl or Alt it would be "
                        "taken from typing in every program. It works while callsys has the focus.",
                    ).format(
                        key=action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                        action=action.text().replace("&", ""),
                    )
                )
            else:
                keys[name] = (action.text().replace("&", ""), action.shortcut())
        return problems + self.apply(True, keys)

    def apply(self, enabled: bool, keys: Mapping[str, tuple[str, QKeySequence]]) -> list[str]:
        """Grab *keys* (action name → (title, key)) if *enabled*; release everything otherwise.
        Returns a sentence for each thing the user should know (a key another program holds)."""
        self.release()
        if not enabled or not keys:
            return []
        why = unavailable_reason()
        if why is not None:
            return [why]
        display_name = os.environ.get("DISPLAY", "")
        try:
            self._open(display_name)
        except Exception as exc:  # Xlib raises its own errors and OSError; both mean "not here"
            log.warning("global hotkeys: cannot open display %r: %s", display_name, exc)
            self.release()
            return [
                translate(
                    "GlobalHotkeys",
                    "Global hotkeys are off: the X display {display} cannot be opened ({why}).",
                ).format(display=display_name, why=exc)
            ]
        self._keys = dict(keys)
        problems = [self._grab(name, title, key) for name, (title, key) in keys.items() if not key.isEmpty()]
        self._drain()  # events read while waiting for the grabs' replies never wake the notifier
        return [p for p in problems if p]

    def release(self) -> None:
        """Ungrab every key and close the connection (setting changed, window closed)."""
        display, self._display = self._display, None
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if display is None:
            self._grabs.clear()
            return
        try:
            root = display.screen().root
            for keycode, modifiers in self._grabs:
                root.ungrab_key(keycode, modifiers)
            display.sync()
        except Exception as exc:  # the X server went away: its grabs went with it
            log.info("global hotkeys: ungrab failed: %s", exc)
        finally:
            self._grabs.clear()
            with contextlib.suppress(Exception):
                display.close()

    # ------------------------------------------------------------------------ X11 details
    def _open(self, display_name: str) -> None:
        import Xlib.display
        from Xlib import XK, X

        display = Xlib.display.Display(display_name)
        self._display = display
        masks = (
            X.ShiftMask,
            X.LockMask,
            X.ControlMask,
            X.Mod1Mask,
            X.Mod2Mask,
            X.Mod3Mask,
            X.Mod4Mask,
            X.Mod5Mask,
        )
        wanted = {XK.string_to_keysym(name): name for name in ("Num_Lock", "Alt_L", "Super_L", "Meta_L")}
        self._modifier_of = {}
        for index, keycodes in enumerate(display.get_modifier_mapping()):
            for keycode in keycodes:
                name = wanted.get(display.keycode_to_keysym(keycode, 0)) if keycode else None
                if name is not None:
                    self._modifier_of.setdefault(name, masks[index])
        self._ignored = X.LockMask | self._modifier_of.get("Num_Lock", 0)
        # The socket is a qintptr: PyQt6 takes the int, its type stub says sip.voidptr.
        self._notifier = QSocketNotifier(display.fileno(), QSocketNotifier.Type.Read, self)  # type: ignore[call-overload]
        self._notifier.activated.connect(self._drain)

    def _x_modifiers(self, modifiers: Qt.KeyboardModifier) -> int:
        from Xlib import X

        KM = Qt.KeyboardModifier
        mask = 0
        if modifiers & KM.ShiftModifier:
            mask |= X.ShiftMask
        if modifiers & KM.ControlModifier:
            mask |= X.ControlMask
        if modifiers & KM.AltModifier:
            mask |= self._modifier_of.get("Alt_L", X.Mod1Mask)
        if modifiers & KM.MetaModifier:
            mask |= self._modifier_of.get("Super_L", self._modifier_of.get("Meta_L", X.Mod4Mask))
        return mask

    def _grab(self, name: str, title: str, key: QKeySequence) -> str:
        import Xlib.error
        from Xlib import XK, X

        display = self._display
        combination = key[0]
        text = key.toString(QKeySequence.SequenceFormat.NativeText)
        symbol = keysym_name(combination.key())
        keycode = display.keysym_to_keycode(XK.string_to_keysym(symbol)) if symbol else 0
        if not keycode:
            return translate(
                "GlobalHotkeys", "“{key}” for “{action}” cannot be a global hotkey on this keyboard."
            ).format(key=text, action=title)
        modifiers = self._x_modifiers(combination.keyboardModifiers())
        lock_variants = {0, X.LockMask, self._ignored, self._ignored & ~X.LockMask}
        root = display.screen().root
        catch = Xlib.error.CatchError()
        variants = [(keycode, modifiers | extra) for extra in sorted(lock_variants)]
        for code, mods in variants:
            root.grab_key(code, mods, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
        display.sync()
        error = catch.get_error()
        if error is None:
            for variant in variants:
                self._grabs[variant] = name
            return ""
        for code, mods in variants:  # the variants that did succeed would make it half global
            root.ungrab_key(code, mods)
        display.sync()
        log.info("global hotkeys: %s for %s refused: %s", text, name, error)
        if isinstance(error, Xlib.error.BadAccess):
            return translate(
                "GlobalHotkeys",
                "Another program already uses “{key}” as a global key, so “{action}” works only while "
                "callsys has the focus. Choose another key in the settings.",
            ).format(key=text, action=title)
        return translate("GlobalHotkeys", "“{key}” for “{action}” could not be made global ({why}).").format(
            key=text, action=title, why=type(error).__name__
        )

    def _drain(self, *_args: object) -> None:
        """Read what the X server sent; a grabbed key press triggers its action."""
        from Xlib import X

        display = self._display
        if display is None:
            return
        fired: list[str] = []
        remapped = False
        try:
            while display.pending_events():
                event = display.next_event()
                if event.type == X.MappingNotify and event.request in (X.MappingKeyboard, X.MappingModifier):
                    display.refresh_keyboard_mapping(event)
                    remapped = True  # another layout loaded: keys may sit on other keycodes now
                    continue
                if event.type == X.KeyRelease:
                    self._last_release = (event.detail, event.time)
                    continue
                if event.type != X.KeyPress:
                    continue
                if self._last_release == (event.detail, event.time):
                    continue  # auto-repeat of a held key: hold and mute must not flip to and fro
                name = self._grabs.get((event.detail, event.state & 0xFF))
                if name is not None:
                    fired.append(name)
        except Exception as exc:  # connection closed (the X server ended): nothing more will come
            log.warning("global hotkeys: the X connection ended: %s", exc)
            self.release()
        if remapped and self._display is not None:
            QTimer.singleShot(0, self._grab_again)
        for name in fired:
            self.activated.emit(name)

    def _grab_again(self) -> None:
        if self._display is None:
            return
        keys = self._keys
        for problem in self.apply(True, keys):
            log.warning("global hotkeys after a keyboard change: %s", problem)
