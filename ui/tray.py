"""Tray icon (issue 6): the phone's status at a glance (ready / connecting / offline / do not
disturb), a menu, and a system notification for a ringing call while the window is hidden or
minimised. The tray is never the only way back: launching callsys again (or clicking a tel:
link) raises the window, and without a tray the window simply quits when closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from callsys.model import Call, Party
from callsys.provider import ProviderStatus, Registration

from ui.i18n import translate
from ui.qt import (
    QAction,
    QColor,
    QIcon,
    QMenu,
    QObject,
    QPainter,
    QPixmap,
    QSystemTrayIcon,
    QWidget,
    pyqtSignal,
)

__all__ = ["Tray", "status_colour"]


def status_colour(status: ProviderStatus | None) -> str:
    if status is None or status.registration is Registration.DISABLED:
        return "#9aa0a6"
    if status.dnd:
        return "#a142f4"
    return {
        Registration.ONLINE: "#188038",
        Registration.CONNECTING: "#f9ab00",
        Registration.OFFLINE: "#c5221f",
    }[status.registration]


def _badge(base: QIcon, colour: str) -> QIcon:
    """The application icon with a status dot in its corner."""
    pixmap = base.pixmap(64, 64) if not base.isNull() else QPixmap(64, 64)
    if base.isNull():
        pixmap.fill(QColor("#1a73e8"))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("white"))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(38, 38, 24, 24)
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    """The tray icon of *window* (the widget it stands in for while hidden). Asked to show the
    window or to quit, it says so by a signal; the window connects them."""

    #: the agent asked for the window: the icon, the menu's Show, the notification clicked
    show_requested = pyqtSignal()
    #: the menu's Quit
    quit_requested = pyqtSignal()

    def __init__(
        self,
        window: QWidget,
        base_icon: QIcon,
        display_number: Callable[[object], str],
        actions: Iterable[QAction] = (),
    ) -> None:
        """*actions*: the window's own actions the tray's menu offers too (Do not disturb)."""
        super().__init__(window)
        self._window = window
        self._base = base_icon
        self._display_number = display_number
        self._status: ProviderStatus | None = None
        self._status_text = ""
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.icon = QSystemTrayIcon(self)
        self.icon.setObjectName("trayIcon")
        self.menu = QMenu(window)
        self.show_action = QAction(self)
        self.show_action.triggered.connect(self.show_window)
        self.quit_action = QAction(self)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.show_action)
        for action in actions:
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self.show_window)
        self.tooltip = ""
        self.last_notification: tuple[str, str] | None = None
        self.set_status(None)
        self.retranslate()
        if self.available:
            self.icon.show()

    def set_status(self, status: ProviderStatus | None, text: str = "") -> None:
        """*status* as a coloured dot; *text*: the window's words for it, for the tooltip."""
        self._status, self._status_text = status, text
        self.icon.setIcon(_badge(self._base, status_colour(status)))
        self.tooltip = "callsys — " + text
        if status is not None and status.message:
            self.tooltip += f"\n{status.message}"
        self.icon.setToolTip(self.tooltip)

    def ringing(self, call: Call, party: Party | None) -> bool:
        """Notify about a ringing call if the agent cannot see the window. Returns whether it did."""
        window = self._window
        if window.isVisible() and not window.isMinimized():
            return False
        name = party.name if party is not None else call.remote_name
        number = self._display_number(call.remote) if not call.remote.is_anonymous else ""
        title = translate("Tray", "Waiting call") if call.waiting else translate("Tray", "Incoming call")
        body = " — ".join(x for x in (name, number, call.line) if x) or translate("Tray", "Unknown caller")
        self.last_notification = (title, body)
        if self.available:
            self.icon.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 15000)
        return True

    def show_window(self) -> None:
        self.show_requested.emit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window()

    def retranslate(self) -> None:
        self.show_action.setText(translate("Tray", "&Show callsys"))
        self.quit_action.setText(translate("Tray", "&Quit"))
        self.set_status(self._status, self._status_text)

    def hide(self) -> None:
        self.icon.hide()
