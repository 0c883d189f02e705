"""The agent's main window (``MainWindow``), in parts: ``window`` is the window itself."""

from __future__ import annotations

from ui.mainwindow.window import MainWindow

__all__ = ["MainWindow"]
