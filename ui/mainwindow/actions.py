"""The main window's actions, one row each, keyed by id (CARD6).

The rows of the agent's actions are keyed by the hotkey ids (``ui.hotkeys.ACTIONS``, the settings
``hotkeys.<id>``): their text is the hotkey's title, their default key the setting's default, and
their ``QAction`` is the one ``ui.hotkeys.Hotkeys`` makes, so the key the agent sets, the menu
entry and the global key are one action. The other rows (Settings, Quit, Do not disturb …) have
no key of their own and are made here. Where each goes in the menu bar is ``ui.mainwindow.menus``.

A row names the window's method it calls (``handler``); a checkable row without a hotkey calls
it with the new state when toggled. ``enabled_when``: the capability of the phone connection the
action needs to be offered at all (the window refreshes it as the connection changes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from callsys.provider import Capability
from callsys.settings import OPTIONS

from ui.hotkeys import action_title
from ui.i18n import latin_mnemonic, translate
from ui.qt import QAction, QObject

__all__ = ["ACTIONS", "ActionSpec", "create_actions", "hotkey_handlers", "refresh_enabled", "retranslate"]


@dataclass(frozen=True)
class ActionSpec:
    id: str
    #: the window's method the action calls
    handler: str
    #: the text, translated when called; ``None``: the hotkey's title (``ui.hotkeys.action_title``)
    text: Callable[[], str] | None = None
    #: its key is the setting ``hotkeys.<id>``, remappable (and global, where the agent says so)
    hotkey: bool = False
    checkable: bool = False
    #: offered only while the phone connection can do this
    enabled_when: Capability | None = None
    object_name: str = ""

    def title(self) -> str:
        return self.text() if self.text is not None else action_title(self.id)

    @property
    def default_key(self) -> str:
        """The key it has until the agent sets another ("" for an action without a hotkey)."""
        return str(OPTIONS[f"hotkeys.{self.id}"].default) if self.hotkey else ""


def _rows(*specs: ActionSpec) -> dict[str, ActionSpec]:
    table = {spec.id: spec for spec in specs}
    if len(table) != len(specs):
        raise ValueError("an action id is in the table twice")
    return table


#: Every action of the window's menus, by id. Order = order in ``ui.hotkeys.ACTIONS`` for the
#: agent's actions (the settings dialog lists their keys in that order).
ACTIONS: dict[str, ActionSpec] = _rows(
    # --- the agent's actions: one per hotkey id
    ActionSpec("answer", "answer_ringing", hotkey=True),
    ActionSpec("reject", "reject_ringing", hotkey=True),
    ActionSpec("voicemail", "voicemail_ringing", hotkey=True),
    ActionSpec("hangup", "hangup_current", hotkey=True),
    ActionSpec("hold", "hold_current", hotkey=True),
    ActionSpec("mute", "mute_current", hotkey=True),
    ActionSpec("consult", "consult_current", hotkey=True),
    ActionSpec("transfer_consulted", "transfer_consulted", hotkey=True),
    ActionSpec("conference", "conference_current", hotkey=True),
    ActionSpec("dial_clipboard", "dial_clipboard", hotkey=True),
    ActionSpec("call_back", "call_back_selected", hotkey=True),
    ActionSpec("focus_dial", "focus_dial", hotkey=True),
    ActionSpec("focus_search", "focus_search", hotkey=True),
    ActionSpec("notes", "open_notes", hotkey=True),
    ActionSpec("contacts", "toggle_contacts", hotkey=True, checkable=True),
    ActionSpec("dialpad", "toggle_dialpad", hotkey=True, checkable=True),
    # --- the window's other actions
    ActionSpec(
        "settings",
        "open_settings",
        lambda: latin_mnemonic(translate("MainWindow", "&Settings…"), "&Settings…"),
    ),
    ActionSpec("quit", "quit", lambda: latin_mnemonic(translate("MainWindow", "&Quit"), "&Quit")),
    ActionSpec(
        "links",
        "register_links",
        lambda: latin_mnemonic(
            translate("MainWindow", "Open &tel: and callto: links with callsys"),
            "Open &tel: and callto: links with callsys",
        ),
        object_name="schemeAction",
    ),
    ActionSpec(
        "dnd",
        "set_dnd",
        lambda: latin_mnemonic(translate("MainWindow", "&Do not disturb"), "&Do not disturb"),
        checkable=True,
        enabled_when=Capability.DND,
    ),
    ActionSpec(
        "jalali",
        "set_jalali",
        lambda: latin_mnemonic(translate("MainWindow", "&Jalali calendar"), "&Jalali calendar"),
        checkable=True,
    ),
    ActionSpec(
        "reports",
        "open_reports",
        lambda: latin_mnemonic(translate("MainWindow", "&Reports…"), "&Reports…"),
        object_name="reportsAction",
    ),
    ActionSpec(
        "ring", "simulate_ring", lambda: latin_mnemonic(translate("MainWindow", "&Ring now"), "&Ring now")
    ),
    ActionSpec(
        "log_folder",
        "open_log_folder",
        lambda: latin_mnemonic(translate("MainWindow", "Open the &log folder"), "Open the &log folder"),
        object_name="logFolderAction",
    ),
    ActionSpec(
        "about", "about", lambda: latin_mnemonic(translate("MainWindow", "&About callsys"), "&About callsys")
    ),
)


def hotkey_handlers(window: QObject) -> dict[str, Callable[[], None]]:
    """The hotkey id → the window's method, for ``ui.hotkeys.Hotkeys``."""
    return {spec.id: getattr(window, spec.handler) for spec in ACTIONS.values() if spec.hotkey}


def create_actions(window: QObject, hotkey_actions: dict[str, QAction]) -> dict[str, QAction]:
    """A ``QAction`` for every row, connected to *window*'s method: the hotkey rows' are
    *hotkey_actions* (``Hotkeys.actions``, already connected), the others are made here."""
    made: dict[str, QAction] = {}
    for spec in ACTIONS.values():
        if spec.hotkey:
            action = hotkey_actions[spec.id]
        else:
            action = QAction(window)
            handler = getattr(window, spec.handler)
            if spec.checkable:
                action.toggled.connect(handler)
            else:
                action.triggered.connect(handler)
        action.setCheckable(spec.checkable)
        if spec.object_name:
            action.setObjectName(spec.object_name)
        made[spec.id] = action
    return made


def retranslate(actions: dict[str, QAction]) -> None:
    for action_id, action in actions.items():
        action.setText(ACTIONS[action_id].title())


def refresh_enabled(actions: dict[str, QAction], caps: Iterable[Capability]) -> None:
    """Offer each action whose ``enabled_when`` the phone connection can do, and no other."""
    able = set(caps)
    for action_id, action in actions.items():
        needed = ACTIONS[action_id].enabled_when
        if needed is not None:
            action.setEnabled(needed in able)
