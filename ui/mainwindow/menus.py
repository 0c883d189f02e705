"""The main window's menu bar, built from the action table (``ui.mainwindow.actions``): where
each action goes is ``MENUS``; the Language submenu and the simulator's scenarios are choices
made here."""

from __future__ import annotations

from collections.abc import Callable

from ui.i18n import latin_mnemonic, translate
from ui.qt import QAction, QMainWindow, QMenu, checkable

__all__ = ["LANGUAGES", "MENUS", "SCENARIOS", "SEPARATOR", "Menus", "scenario_title"]

SEPARATOR = "-"
#: the View menu's Language submenu (English, فارسی)
LANGUAGES = "languages"
#: the Simulate menu's demo scenarios, after its actions (titles in ``scenario_title``)
SCENARIOS = (
    "incoming",
    "missed",
    "rejected",
    "answered-elsewhere",
    "ivr",
    "waiting",
    "two-waiting",
    "outgoing",
)

#: Menu (by its object name) → what is in it, in order: action ids of ``ACTIONS``, ``SEPARATOR``,
#: ``LANGUAGES``. The Phone menu gets Convert call… from ``ui.convert`` after these.
MENUS: dict[str, tuple[str, ...]] = {
    "fileMenu": ("settings", SEPARATOR, "quit"),
    "phoneMenu": (
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
        SEPARATOR,
        "links",
        "dnd",
    ),
    "viewMenu": (LANGUAGES, "jalali", SEPARATOR, "reports", SEPARATOR, "contacts", "dialpad"),
    "simulateMenu": ("ring", SEPARATOR),
    "helpMenu": ("log_folder", "about"),
}


def _menu_title(name: str) -> str:
    titles = {
        "fileMenu": latin_mnemonic(translate("MainWindow", "&File"), "&File"),
        "phoneMenu": latin_mnemonic(translate("MainWindow", "&Phone"), "&Phone"),
        "viewMenu": latin_mnemonic(translate("MainWindow", "&View"), "&View"),
        "languageMenu": latin_mnemonic(translate("MainWindow", "&Language"), "&Language"),
        "simulateMenu": latin_mnemonic(translate("MainWindow", "&Simulate"), "&Simulate"),
        "helpMenu": latin_mnemonic(translate("MainWindow", "&Help"), "&Help"),
    }
    return titles[name]


def scenario_title(name: str) -> str:
    titles = {
        "incoming": translate("MainWindow", "Incoming call, answered"),
        "missed": translate("MainWindow", "Missed call"),
        "rejected": translate("MainWindow", "Rejected call"),
        "answered-elsewhere": translate("MainWindow", "Call answered elsewhere"),
        "ivr": translate("MainWindow", "Call with IVR values"),
        "waiting": translate("MainWindow", "Waiting call"),
        "two-waiting": translate("MainWindow", "Two waiting calls"),
        "outgoing": translate("MainWindow", "Outgoing call"),
    }
    return titles.get(name, name)


class Menus:
    """The menus of *window*'s menu bar, filled with *actions* (``actions.create_actions``) as
    ``MENUS`` says; *set_language* and *simulate* are what the language and scenario choices call."""

    def __init__(
        self,
        window: QMainWindow,
        actions: dict[str, QAction],
        set_language: Callable[[str], None],
        simulate: Callable[[str], None],
    ) -> None:
        bar = window.menuBar()
        assert bar is not None
        self.menus: dict[str, QMenu] = {}
        self.menu_actions: dict[str, QAction] = {}  # the menu bar's entry of each menu
        self.language_menu = QMenu(window)
        self.language_menu.setObjectName("languageMenu")
        self.lang_en = checkable(QAction("English", window))
        self.lang_fa = checkable(QAction("فارسی", window))
        self.lang_en.triggered.connect(lambda: set_language("en"))
        self.lang_fa.triggered.connect(lambda: set_language("fa"))
        self.language_menu.addAction(self.lang_en)
        self.language_menu.addAction(self.lang_fa)
        self.simulate_actions: dict[str, QAction] = {}
        for name, entries in MENUS.items():
            menu = QMenu(window)
            menu.setObjectName(name)
            for entry in entries:
                if entry == SEPARATOR:
                    menu.addSeparator()
                elif entry == LANGUAGES:
                    menu.addMenu(self.language_menu)
                else:
                    menu.addAction(actions[entry])
            if name == "simulateMenu":
                for scenario in SCENARIOS:
                    action = QAction(window)
                    action.triggered.connect(lambda _=False, n=scenario: simulate(n))
                    self.simulate_actions[scenario] = action
                    menu.addAction(action)
            entry_action = bar.addMenu(menu)
            assert entry_action is not None
            self.menus[name] = menu
            self.menu_actions[name] = entry_action

    def retranslate(self, language_code: str) -> None:
        for name, menu in self.menus.items():
            menu.setTitle(_menu_title(name))
        self.language_menu.setTitle(_menu_title("languageMenu"))
        for name, action in self.simulate_actions.items():
            action.setText(scenario_title(name))
        self.lang_en.setChecked(language_code == "en")
        self.lang_fa.setChecked(language_code == "fa")
