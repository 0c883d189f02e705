"""The agent's main window, ``MainWindow``, in parts: ``window`` (the window itself), ``actions``
(every action of its menus, keyed by the hotkey ids), ``menus`` (where each goes), ``docks`` (the
contacts view and the dial pad), ``statusbar`` (the phone's state, the phone index's sync)."""

from __future__ import annotations

from ui.mainwindow.window import MainWindow

__all__ = ["MainWindow"]
