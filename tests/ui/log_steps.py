"""The call-log steps of issue 11's crash, in a process of their own (run by test_calllog_view.py).

Simulator, English: select a call in the log with the right mouse button → Convert call… →
Close → View → Jalali calendar → click in the call log → View → Reports…; then the same with the
language switched. Before the fix the click died in ``QSortFilterProxyModel::parent`` (a
persistent index of the view's selection pointed into the proxy's freed mapping), which a test
inside pytest's own process could only report by taking the whole run down with it.

``python -X faulthandler -m tests.ui.log_steps FOLDER`` prints ``steps done`` and exits 0.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import qasync

from PyQt6.QtTest import QTest  # real mouse events, as pytest-qt's qtbot sends them

from callsys.crm.local import LocalCrm
from callsys.model import EndReason
from callsys.settings import Settings
from providers import REGISTRY

from ui.app import create_application
from ui.desktop import compose
from ui.i18n import Language, set_current
from ui.mainwindow import MainWindow
from ui.qt import QApplication, QPoint, Qt

NUMBERS = ("+982188776655", "09123456789", "+14155550100")


def click(window: MainWindow, row: int, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    view = window.log_view
    rect = view.visualRect(window.log_proxy.index(row, 1))
    viewport = view.viewport()
    assert viewport is not None and rect.isValid(), f"row {row} is not shown"
    QTest.mouseClick(viewport, button, Qt.KeyboardModifier.NoModifier, QPoint(rect.center()))
    QApplication.processEvents()


async def steps(window: MainWindow) -> None:
    await window.start()
    sim = window.simulator
    for number in NUMBERS:
        call_id = sim.ring(number, "")
        await asyncio.sleep(0.05)
        sim.remote_hangup(call_id, EndReason.MISSED)
        await asyncio.sleep(0.05)
    for language in ("en", "fa", "en"):
        if language != window.language.code:
            window.set_language(language)
        click(window, 1, Qt.MouseButton.RightButton)
        dialog = window.convert_action.trigger() or getattr(window, "convert_dialog", None)
        if dialog is not None:
            dialog.close()
        QApplication.processEvents()
        window.jalali_action.trigger()  # View → Jalali calendar
        click(window, 0)
        click(window, 2)
        reports = window.open_reports()  # View → Reports…
        QApplication.processEvents()
        reports.close()
        window.jalali_action.trigger()
        click(window, 1)
    window.popups.close_all()
    window.close()
    await window.desktop.close()


def main(folder: str) -> int:
    app = create_application()
    language = Language(app)
    language.apply("en")
    set_current(language)
    loop = qasync.QEventLoop(app)
    loop.set_debug(False)
    asyncio.set_event_loop(loop)
    settings = Settings(
        {
            "phone.provider": "sim",
            "phone.options": {"speed": 0, "agent_script": False},
            "storage.database": str(Path(folder) / "callsys.sqlite3"),
            "crm.backend": "local",
        },
        path=Path(folder) / "settings.toml",
    )
    desktop = compose(settings, REGISTRY)
    assert isinstance(desktop.crm, LocalCrm)
    desktop.crm.add("Sara Ahmadi", [NUMBERS[0]], company="Ahmadi Trading")
    window = MainWindow(desktop, language)
    window.show()
    with loop:
        loop.run_until_complete(steps(window))
    print("steps done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
