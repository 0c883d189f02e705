"""The one object that turns core events into Qt signals (STYLE.md, example 1 and 4).

The ``CallManager`` calls its observers on whatever thread fed it — with qasync that is the GUI
thread, but a provider with threads of its own (the softphone's SIP stack) may reach it from
elsewhere. Widgets never subscribe to the core directly: they connect to these signals, and
because the bridge lives in the GUI thread, Qt queues an emission from any other thread to it.
Nothing here touches a widget.
"""

from __future__ import annotations

from collections.abc import Callable

from callsys.callmanager import CallManager
from callsys.model import Call, CallEvent
from callsys.provider import ProviderStatus

from ui.qt import QObject, pyqtSignal

__all__ = ["CallBridge"]


class CallBridge(QObject):
    #: (CallEvent, Call) — every change of every call, as the CallManager reports it.
    call_event = pyqtSignal(object, object)
    #: ProviderStatus — registration / DND / lines of a provider.
    status_changed = pyqtSignal(object)
    #: str — a sentence for the agent (a provider or CRM refused something).
    message = pyqtSignal(str)

    def __init__(self, manager: CallManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._unsubscribe: list[Callable[[], None]] = [
            manager.subscribe(self._on_call),
            manager.subscribe_status(self._on_status),
        ]

    def _on_call(self, event: CallEvent, call: Call) -> None:
        self.call_event.emit(event, call)

    def _on_status(self, status: ProviderStatus) -> None:
        self.status_changed.emit(status)

    def detach(self) -> None:
        """Stop listening to the manager (the window is closing)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
