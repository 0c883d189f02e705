"""Giving freed memory back to the system at the window's quiet moments (Linux with glibc).

A day of dialogs opened and closed and calls rung and ended leaves glibc's heap full of free
fragments that it keeps: after the fixes of what stayed alive, 4,000 steps of the monkey still
grew RSS by 13 % while the memory in use grew by 2.6 MB and the free fragments by 12 MB.
``callsys.heap.trim`` hands the free pages back. The window asks for it a second after the last
call ended or a dialog closed (``HeapTrimmer.soon``): it costs a few milliseconds, never during a
call's ring.
"""

from __future__ import annotations

from callsys.heap import trim

from ui.qt import QObject, QTimer

__all__ = ["HeapTrimmer"]

QUIET_MS = 1000


class HeapTrimmer(QObject):
    """``soon()``: trim once things have been quiet for ``QUIET_MS`` (each call restarts the wait)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(QUIET_MS)
        self._timer.timeout.connect(trim)

    def soon(self, *_args: object) -> None:
        self._timer.start()
