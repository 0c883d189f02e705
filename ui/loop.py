"""The desktop's asyncio loop: qasync's, with readers run as soon as Qt sees them readable.

qasync hands a reader's callback (``loop.add_reader``) to ``call_soon`` when Qt's socket notifier
fires: a zero-length Qt timer, run one more turn of Qt's loop later, after what is queued
already — the previous call's layout and paint, the deferred observers, other timers. The
softphone watches its SIP sockets with ``add_reader`` (``providers.sip.wakeups``), so a ringing
INVITE waited there on its way to the pop-up. Here the callback runs inside the notifier's own
activation, in the turn of Qt's loop that saw the socket readable; everything else is qasync's.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import qasync

from ui.qt import QSocketNotifier

__all__ = ["EventLoop"]


class EventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """``qasync.QEventLoop`` whose readers are called at once (POSIX; Windows' loop is qasync's)."""

    def _add_reader(self, fd: Any, callback: Any, *args: Any) -> None:
        if sys.platform == "win32":  # the proactor loop: qasync's own way
            super()._add_reader(fd, callback, *args)
            return
        self._check_closed()
        self._remove_reader(fd)  # a reader already there for it is replaced (qasync's cleanup)
        fileno = fd if isinstance(fd, int) else fd.fileno()
        notifier = QSocketNotifier(fileno, QSocketNotifier.Type.Read)  # type: ignore[arg-type]  # qintptr
        handle = asyncio.Handle(callback, args, self)
        notifiers: dict[Any, QSocketNotifier] = self._read_notifiers

        def ready(*_: Any) -> None:
            if notifiers.get(fd) is not notifier:  # removed meanwhile
                notifier.setEnabled(False)
                return
            notifier.setEnabled(False)  # not again while the callback runs (a nested loop)
            try:
                handle._run()  # an exception goes to the loop's exception handler
            finally:
                if self._read_notifiers is notifiers and notifiers.get(fd) is notifier:
                    notifier.setEnabled(True)

        notifier.activated.connect(ready)
        notifier.setEnabled(True)
        notifiers[fd] = notifier
