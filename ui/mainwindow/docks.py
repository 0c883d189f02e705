"""The contacts view (OUT3, OUT4) and the dial pad beside the main window: docks, each built the
first time it is shown (or at start, when it was open when callsys last closed). Their View menu
entries are the hotkeys' actions ``contacts`` and ``dialpad`` (``ui.mainwindow.actions``),
ticked while their dock shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.i18n import translate
from ui.qt import QAction, QApplication, QDockWidget, QObject, Qt, named, pyqtSignal
from ui.window import WindowBase

if TYPE_CHECKING:
    from ui.contacts import ContactsView
    from ui.dialpad import DialPad

__all__ = ["SideDocks"]


class SideDocks(QObject):
    #: a number the agent picked in the contacts view, to dial through the number field
    dial_requested = pyqtSignal(str)

    def __init__(self, window: WindowBase) -> None:
        super().__init__(window)
        self._window = window  # what the contacts view and the dial pad are built for
        self._contacts_action: QAction | None = None  # set by ``tick``
        self._dialpad_action: QAction | None = None
        self.contacts_dock = named(QDockWidget(window), "contactsDock")
        self.contacts_dock.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.contacts_dock.visibilityChanged.connect(self._contacts_shown)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.contacts_dock)
        self.contacts_dock.hide()
        self.contacts: ContactsView | None = None
        self.dialpad_dock = named(QDockWidget(window), "dialPadDock")
        self.dialpad_dock.visibilityChanged.connect(self._dialpad_shown)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dialpad_dock)
        self.dialpad_dock.hide()
        self.dialpad: DialPad | None = None

    def tick(self, contacts: QAction, dialpad: QAction) -> None:
        """The menu entries to tick while the contacts view and the dial pad show (the menus are
        built after the docks)."""
        self._contacts_action, self._dialpad_action = contacts, dialpad

    # ------------------------------------------------------------------ the contacts view
    def toggle_contacts(self) -> None:
        """View → Contacts (its hotkey too): show the directory, or hide it when it has the focus."""
        if (
            self.contacts_dock.isVisible()
            and self.contacts is not None
            and self.contacts.isAncestorOf(QApplication.focusWidget())
        ):
            self.contacts_dock.hide()
        else:
            self.show_contacts()
        self._contacts_shown(self.contacts_dock.isVisible())  # a menu click toggled the tick

    def build_contacts(self) -> ContactsView:
        if self.contacts is None:
            from ui.contacts import ContactsView

            self.contacts = ContactsView(self._window)
            self.contacts.dial_requested.connect(self.dial_requested)
            self.contacts_dock.setWidget(self.contacts)
            self.contacts.browse()
        return self.contacts

    def show_contacts(self) -> ContactsView:
        contacts = self.build_contacts()
        self.contacts_dock.show()
        self.contacts_dock.raise_()
        contacts.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        contacts.search_edit.selectAll()
        return contacts

    def _contacts_shown(self, shown: bool) -> None:
        _set_ticked(self._contacts_action, shown)

    # ------------------------------------------------------------------ the dial pad
    def toggle_dialpad(self) -> None:
        """View → Dial pad (its hotkey too)."""
        if self.dialpad_dock.isVisible() and self.dialpad is not None and self.dialpad.hasFocus():
            self.dialpad_dock.hide()
        else:
            self.show_dialpad()
        self._dialpad_shown(self.dialpad_dock.isVisible())

    def build_dialpad(self) -> DialPad:
        if self.dialpad is None:
            from ui.dialpad import DialPad

            self.dialpad = DialPad(self._window)
            self.dialpad_dock.setWidget(self.dialpad)
        return self.dialpad

    def show_dialpad(self) -> DialPad:
        dialpad = self.build_dialpad()
        dialpad.refresh()
        self.dialpad_dock.show()
        dialpad.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return dialpad

    def _dialpad_shown(self, shown: bool) -> None:
        _set_ticked(self._dialpad_action, shown)

    # ------------------------------------------------------------------ both
    def restored(self) -> None:
        """After the window's saved state came back: build the docks it shows."""
        if not self.contacts_dock.isHidden():
            self.build_contacts()
        if not self.dialpad_dock.isHidden():
            self.build_dialpad()

    def retranslate(self) -> None:
        self.contacts_dock.setWindowTitle(translate("MainWindow", "Contacts"))
        self.dialpad_dock.setWindowTitle(translate("MainWindow", "Dial pad"))
        if self.contacts is not None:
            self.contacts.retranslate()
        if self.dialpad is not None:
            self.dialpad.retranslate()


def _set_ticked(action: QAction | None, ticked: bool) -> None:
    if action is None:
        return
    action.blockSignals(True)  # a tick, not a click: the dock is already where it should be
    action.setChecked(ticked)
    action.blockSignals(False)
