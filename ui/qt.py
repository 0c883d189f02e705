"""The one module that imports PyQt6 (qutebrowser's ``qt`` wrapper, made small).

Every other module in ``ui/`` imports Qt names from here, so a future port (PySide6, a newer
PyQt) or a version workaround touches one file. Only the modules the desktop actually uses are
loaded — each Qt module costs start-up time (see ``benchmarks/ui_startup.py``).
"""

from __future__ import annotations

from typing import TypeVar

from PyQt6 import QtCore, QtGui, QtNetwork, QtWidgets
from PyQt6.QtCore import (
    PYQT_VERSION_STR,
    QT_VERSION_STR,
    QAbstractTableModel,
    QCalendar,
    QCoreApplication,
    QDate,
    QDateTime,
    QEvent,
    QItemSelectionModel,
    QLibraryInfo,
    QLocale,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QSize,
    QSocketNotifier,
    QSortFilterProxyModel,
    QStringListModel,
    Qt,
    QTimer,
    QTranslator,
    QUrl,
    pyqtSignal,
    pyqtSlot,
)
from PyQt6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QShortcut,
    QStaticText,
    QTextOption,
)
from PyQt6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStatusBar,
    QStyle,
    QStyledItemDelegate,
    QSystemTrayIcon,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

__all__ = [
    "PYQT_VERSION_STR",
    "QT_VERSION_STR",
    "QAbstractItemView",
    "QAbstractSocket",
    "QAbstractTableModel",
    "QAction",
    "QApplication",
    "QBrush",
    "QCalendar",
    "QCheckBox",
    "QColor",
    "QComboBox",
    "QCompleter",
    "QCoreApplication",
    "QDate",
    "QDateEdit",
    "QDateTime",
    "QDateTimeEdit",
    "QDesktopServices",
    "QDialog",
    "QDialogButtonBox",
    "QDockWidget",
    "QEvent",
    "QFileDialog",
    "QFont",
    "QFormLayout",
    "QFrame",
    "QGridLayout",
    "QGroupBox",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QIcon",
    "QItemSelectionModel",
    "QKeyEvent",
    "QKeySequence",
    "QKeySequenceEdit",
    "QLabel",
    "QLibraryInfo",
    "QLineEdit",
    "QListWidget",
    "QListWidgetItem",
    "QLocalServer",
    "QLocalSocket",
    "QLocale",
    "QMainWindow",
    "QMenu",
    "QMessageBox",
    "QModelIndex",
    "QObject",
    "QPainter",
    "QPalette",
    "QPen",
    "QPixmap",
    "QPlainTextEdit",
    "QPoint",
    "QProgressBar",
    "QPushButton",
    "QRect",
    "QScrollArea",
    "QShortcut",
    "QSize",
    "QSizePolicy",
    "QSocketNotifier",
    "QSortFilterProxyModel",
    "QStackedWidget",
    "QStaticText",
    "QStatusBar",
    "QStringListModel",
    "QStyle",
    "QStyledItemDelegate",
    "QSystemTrayIcon",
    "QTabWidget",
    "QTableView",
    "QTableWidget",
    "QTableWidgetItem",
    "QTextOption",
    "QTimer",
    "QToolBar",
    "QToolButton",
    "QTranslator",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "QtCore",
    "QtGui",
    "QtNetwork",
    "QtWidgets",
    "checkable",
    "discard",
    "named",
    "pyqtSignal",
    "pyqtSlot",
]


_W = TypeVar("_W", bound=QObject)


def named(widget: _W, name: str) -> _W:
    """*widget* with its object name set (for style sheets, tests and accessibility tools)."""
    widget.setObjectName(name)
    return widget


_C = TypeVar("_C", QAction, QtWidgets.QAbstractButton)


def checkable(item: _C) -> _C:
    item.setCheckable(True)
    return item


def discard(obj: QObject | None) -> None:
    """Close and delete *obj* (a menu or dialog made for one use) unless Qt has deleted it
    already: a new one made each time without this stays a child of its parent for the rest
    of the day (the monkey's long run found the directory's and the contacts' menus)."""
    from PyQt6 import sip

    if obj is None or sip.isdeleted(obj):
        return
    if isinstance(obj, QtWidgets.QWidget):
        obj.close()
    obj.deleteLater()
