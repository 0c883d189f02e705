"""The Settings, Reports and Convert dialogs: every control reachable by keyboard has a name a screen
reader can say, and Tab walks them in reading order (issue 6: accessible; B6)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from callsys.settings import Settings
from callsys.store import open_database
from tests.ui.helpers import UNKNOWN, in_order, missed_call, tab_walk, unnamed

from ui.convert import open_convert
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.reports import ReportsDialog
from ui.settingsdialog import SettingsDialog


def test_settings_dialog(qtbot: Any, tmp_path: Path, language: Language) -> None:
    for code in ("en", "fa"):
        language.apply(code)
        dialog = SettingsDialog(Settings(path=tmp_path / "settings.toml"))
        qtbot.addWidget(dialog)
        dialog.show()
        for at in range(dialog.tabs.count()):
            dialog.tabs.setCurrentIndex(at)
            assert unnamed(dialog) == [], dialog.tabs.tabText(at)
    dialog.tabs.setCurrentIndex(dialog._pages["numbers"])
    fields = [dialog.fields[k].widget for k in ("phone.dial_prefix", "numbers.region", "numbers.area_code")]
    seen = tab_walk(qtbot, dialog, fields[0], 4)
    assert in_order(seen, fields)


def test_reports_dialog(qtbot: Any, tmp_path: Path, language: Language) -> None:
    db = open_database(tmp_path / "db.sqlite3")
    dialog = ReportsDialog(SimpleNamespace(db=db, crm=None))
    qtbot.addWidget(dialog)
    dialog.show()
    assert unnamed(dialog) == []
    seen = tab_walk(qtbot, dialog, dialog.preset, 12)  # Tab also steps through a date's year, month, day
    assert in_order(seen, [dialog.preset, dialog.start_edit, dialog.end_edit, dialog.refresh_button]), [
        w.objectName() for w in seen if w is not None
    ]
    db.conn.close()


def test_convert_dialog(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()

    row = missed_call(window, UNKNOWN, "PARS CO")
    dialog = open_convert(window, row)
    assert dialog is not None
    for action in ("contact", "add_number", "lead"):
        dialog.action.setCurrentIndex(dialog.action.findData(action))
        assert unnamed(dialog) == [], action
    seen = tab_walk(qtbot, dialog, dialog.action, 8)
    assert in_order(seen, [dialog.action, dialog.name, dialog.company, dialog.email, dialog.title])
    dialog.close()
