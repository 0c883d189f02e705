"""What the widgets inside the main window ask of it — the dial pad, the contacts view, the
first-start panel and the Convert dialog's menu entries (the call panel, the tray and the pop-ups
ask by Qt signals instead, and are given what they show). They are given a ``WindowBase``; ``ui.mainwindow`` makes the one real window from it. So the arrows run one way:
``mainwindow`` imports the widgets, and the widgets import this page, never ``mainwindow``.
Whatever a widget uses of the window is declared here: a widget asks no ``hasattr``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from callsys.model import Party
from callsys.provider import Capability, ProviderStatus

from ui.qt import QAction, QDialog, QLabel, QLineEdit, QMainWindow, QMenu, QTableView, pyqtSignal

if TYPE_CHECKING:
    from callsys.session import CallSession

    from ui.heap import HeapTrimmer
    from ui.i18n import Language
    from ui.popup import PopupStack
    from ui.tasks import TaskRunner

__all__ = ["CallLogRows", "LogRowKey", "WindowBase"]


# The call log's types as the widgets see them: ``ui.calllogview`` itself opens the Convert
# dialog, which is given the window — so this page does not import that module.
class LogRowKey(Protocol):
    """A call log row (``ui.calllogview.LogRow``) as its key."""

    @property
    def id(self) -> str: ...


class CallLogRows(Protocol):
    """The call log's rows (``ui.calllogview.CallLogModel``)."""

    def set_party(self, key: str, party: Party) -> None:
        """Show *party* as the record of the call of row *key*."""
        ...


class WindowBase(QMainWindow):
    """The main window as its widgets see it. Every method here is the window's own (the real
    one is ``ui.mainwindow.MainWindow``); calling one on the base is a bug."""

    #: Emitted when the window has been closed (the app shuts down).
    closed = pyqtSignal()

    desktop: CallSession
    language: Language
    tasks: TaskRunner
    dial_edit: QLineEdit
    dial_error: QLabel
    status_label: QLabel
    call_panel: Any
    #: The ringing calls' pop-ups.
    popups: PopupStack
    #: The call log: its rows, and the table that shows them.
    log_model: CallLogRows
    log_view: QTableView
    phone_menu: QMenu
    #: Gives freed memory back to the system at a quiet moment (``ui.heap``).
    trimmer: HeapTrimmer
    #: Phone → "Convert call…" (``ui.convert.install``), and its dialog while one is open.
    convert_action: QAction | None = None
    convert_dialog: QDialog | None = None
    #: The contacts' directory search, made on first use (``ui.contacts.directory_search``).
    _directory_search: Any = None

    # ------------------------------------------------------------------ the phone
    def capabilities(self) -> frozenset[Capability]:
        raise NotImplementedError

    @property
    def provider_status(self) -> ProviderStatus | None:
        raise NotImplementedError

    def send_dtmf(self, call_id: str, digits: str) -> None:
        raise NotImplementedError

    def dial_from_field(self) -> None:
        raise NotImplementedError

    def try_simulator(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ the window
    def settle(self) -> None:
        """Do now what waits for a ringing call's pop-up to be painted (its log row, the
        deferred writes): before acting on a call the agent picked from its pop-up."""
        raise NotImplementedError

    def selected_log_row(self) -> LogRowKey | None:
        raise NotImplementedError

    def display_number(self, number: object) -> str:
        raise NotImplementedError

    def record_url(self, party: Party) -> str:
        raise NotImplementedError

    def show_message(self, text: str) -> None:
        raise NotImplementedError

    def open_settings(self, page: str | None = None, *, focus: str | None = None) -> Any:
        raise NotImplementedError
