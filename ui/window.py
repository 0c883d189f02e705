"""What the widgets inside the main window ask of it — the call panel, the dial pad, the tray, the
contacts view and the first-start panel. They are given a ``WindowBase``; ``ui.mainwindow`` makes
the one real window from it. So the arrows run one way: ``mainwindow`` imports the widgets, and
the widgets import this page, never ``mainwindow``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callsys.model import Call, Party
from callsys.provider import Capability, ProviderStatus

from ui.qt import QAction, QLabel, QLineEdit, QMainWindow, pyqtSignal

if TYPE_CHECKING:
    from callsys.session import CallSession

    from ui.i18n import Language
    from ui.tasks import TaskRunner

__all__ = ["WindowBase"]


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
    dnd_action: QAction
    call_panel: Any
    _status: ProviderStatus | None
    #: The contacts' directory search, made on first use (``ui.contacts.directory_search``).
    _directory_search: Any = None

    # ------------------------------------------------------------------ the phone
    def capabilities(self) -> frozenset[Capability]:
        raise NotImplementedError

    def call_capabilities(self, call: Call) -> frozenset[Capability]:
        raise NotImplementedError

    @property
    def provider_status(self) -> ProviderStatus | None:
        raise NotImplementedError

    def answer(self, call_id: str) -> None:
        raise NotImplementedError

    def hangup(self, call_id: str) -> None:
        raise NotImplementedError

    def send_to_voicemail(self, call_id: str) -> None:
        raise NotImplementedError

    def hold(self, call_id: str) -> None:
        raise NotImplementedError

    def resume(self, call_id: str) -> None:
        raise NotImplementedError

    def set_mute(self, call_id: str, muted: bool) -> None:
        raise NotImplementedError

    def send_dtmf(self, call_id: str, digits: str) -> None:
        raise NotImplementedError

    def transfer(self, call_id: str, target: str) -> bool:
        raise NotImplementedError

    def consult(self, call_id: str, target: str) -> bool:
        raise NotImplementedError

    def transfer_to_call(self, call_id: str, other_id: str) -> None:
        raise NotImplementedError

    def conference(self, call_id: str, other_id: str) -> None:
        raise NotImplementedError

    def dial_from_field(self) -> None:
        raise NotImplementedError

    def use_provider(self, name: str) -> None:
        raise NotImplementedError

    def try_simulator(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ the window
    def display_number(self, number: object) -> str:
        raise NotImplementedError

    def record_url(self, party: Party) -> str:
        raise NotImplementedError

    def show_message(self, text: str) -> None:
        raise NotImplementedError

    def open_settings(self, page: str | None = None, *, focus: str | None = None) -> Any:
        raise NotImplementedError

    def quit(self) -> None:
        raise NotImplementedError
