"""In-app hotkeys (CARD6): every agent action has a shortcut, remappable in the settings
(``hotkeys.*``). They are actions of the window's menus — so the menus show them; the window's
action table, ``ui/mainwindow/actions.py``, has one row per id here — with application context,
so they work while a pop-up or the notes field has the focus.

Global hotkeys (the same actions while another program has the focus) are optional and X11
only: ``ui/globalhotkeys.py`` (``hotkeys.global``, ``hotkeys.global_actions``). Wayland does not
let programs grab keys, and Windows/macOS are not implemented; there the option says so. The tray
notification and the pop-up, which never steals the focus, also reach a ringing call from another
program.
"""

from __future__ import annotations

from collections.abc import Callable

from callsys.settings import Settings

from ui.globalhotkeys import GlobalHotkeys
from ui.i18n import translate
from ui.qt import QAction, QKeySequence, QObject, Qt

__all__ = ["ACTIONS", "Hotkeys", "action_title"]

#: Settings key suffix → what it does, in the order the settings dialog lists them.
ACTIONS = (
    "answer",
    "reject",
    "voicemail",
    "hangup",
    "hold",
    "mute",
    "consult",
    "transfer_consulted",
    "conference",
    "dial_clipboard",
    "call_back",
    "focus_dial",
    "focus_search",
    "notes",
    "contacts",
    "dialpad",
)

#: Actions that put the focus in the window: as global keys they bring the window up.
WINDOW_ACTIONS = frozenset({"focus_dial", "focus_search", "notes", "contacts", "dialpad"})


def action_title(name: str) -> str:
    titles = {
        "answer": translate("Hotkeys", "&Answer"),
        "reject": translate("Hotkeys", "&Reject"),
        "voicemail": translate("Hotkeys", "Send to v&oicemail"),
        "hangup": translate("Hotkeys", "Hang &up"),
        "hold": translate("Hotkeys", "&Hold / resume"),
        "mute": translate("Hotkeys", "&Mute / unmute"),
        "consult": translate("Hotkeys", "Consu&lt…"),
        "transfer_consulted": translate("Hotkeys", "Transfer to consulted"),
        "conference": translate("Hotkeys", "Conf&erence"),
        "dial_clipboard": translate("Hotkeys", "Dial the &clipboard"),
        "call_back": translate("Hotkeys", "Call &back"),
        "focus_dial": translate("Hotkeys", "Go to the number &field"),
        "focus_search": translate("Hotkeys", "&Search the log"),
        "notes": translate("Hotkeys", "Call &notes"),
        "contacts": translate("Hotkeys", "&Contacts"),
        "dialpad": translate("Hotkeys", "&Dial pad"),
    }
    return titles[name]


class Hotkeys(QObject):
    def __init__(self, handlers: dict[str, Callable[[], None]], parent: QObject) -> None:
        super().__init__(parent)
        self.actions: dict[str, QAction] = {}
        for name in ACTIONS:
            action = QAction(self)
            action.setObjectName(f"hotkey_{name}")
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(handlers[name])
            self.actions[name] = action
        #: shows the window (set by the window): a global key for one of its fields needs it up
        self.bring_forward: Callable[[], None] | None = None
        self.global_keys = GlobalHotkeys(self)  # the same actions from other programs (X11 only)
        self.global_keys.activated.connect(self._global_key)
        self.retranslate()

    def _global_key(self, name: str) -> None:
        """A global key (pressed in another program): a key for a field of the window (the number,
        the log search, the notes) brings the window up first; the call actions act in place."""
        if name in WINDOW_ACTIONS and self.bring_forward is not None:
            self.bring_forward()
        self.actions[name].trigger()

    def apply(self, settings: Settings) -> list[str]:
        """Set the keys from *settings*; returns a sentence for each key that cannot be used."""
        problems: list[str] = []
        used: dict[str, str] = {}
        for name, action in self.actions.items():
            text = str(settings.get(f"hotkeys.{name}") or "")
            sequence = QKeySequence(text) if text else QKeySequence()
            portable = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            if text and (sequence.isEmpty() or sequence.count() != 1):
                problems.append(
                    translate("Hotkeys", "The key “{key}” for “{action}” is not a key combination.").format(
                        key=text, action=action_title(name).replace("&", "")
                    )
                )
                sequence = QKeySequence()
            elif portable and portable in used:
                problems.append(
                    translate(
                        "Hotkeys", "“{key}” is set for both “{first}” and “{second}”; only the first works."
                    ).format(
                        key=portable,
                        first=action_title(used[portable]).replace("&", ""),
                        second=action_title(name).replace("&", ""),
                    )
                )
                sequence = QKeySequence()
            elif portable:
                used[portable] = name
            action.setShortcut(sequence)
        problems.extend(self.global_keys.apply_settings(settings, self.actions))  # re-grabs
        return problems

    def retranslate(self) -> None:
        for name, action in self.actions.items():
            action.setText(action_title(name))
