"""The call log's view and model through a working day (issue 11): clicks after the calendar or
the language changed, history loaded at start-up and new calls on top, the missed badge, the
"This session" filter (IN9, B6)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsys.model import EndReason
from tests.ui.conftest import ACME, REZA, SARA, make_settings
from tests.ui.helpers import ring

from ui.calllogview import COLUMNS
from ui.mainwindow import MainWindow
from ui.qt import QPoint, Qt

ROOT = Path(__file__).resolve().parents[2]
#: What Qt says when a view or proxy meets an index into a model that changed under it.
STALE_INDEX = ("QSortFilterProxyModel", "invalid index", "QPersistentModelIndex", "Invalid index")


class Protocol:
    """Records a model's change signals and checks Qt's contract: every layoutChanged follows a
    layoutAboutToBeChanged, every modelReset a modelAboutToBeReset, every rowsInserted a
    rowsAboutToBeInserted for the same rows."""

    def __init__(self, model: Any) -> None:
        self.signals: list[tuple[Any, ...]] = []
        self.errors: list[str] = []
        self._open: list[tuple[Any, ...]] = []
        model.layoutAboutToBeChanged.connect(lambda *_: self._begin(("layout",)))
        model.layoutChanged.connect(lambda *_: self._end(("layout",)))
        model.modelAboutToBeReset.connect(lambda: self._begin(("reset",)))
        model.modelReset.connect(lambda: self._end(("reset",)))
        model.rowsAboutToBeInserted.connect(lambda _p, first, last: self._begin(("insert", first, last)))
        model.rowsInserted.connect(lambda _p, first, last: self._end(("insert", first, last)))

    def _begin(self, what: tuple[Any, ...]) -> None:
        self.signals.append(("begin", *what))
        self._open.append(what)

    def _end(self, what: tuple[Any, ...]) -> None:
        self.signals.append(("end", *what))
        if not self._open or self._open[-1] != what:
            self.errors.append(f"{what[0]} ended without having begun: {self.signals}")
        else:
            self._open.pop()


def missed(window: MainWindow, qtbot: Any, number: str, name: str = "") -> str:
    call_id = ring(window, qtbot, number, name)
    window.simulator.remote_hangup(call_id, EndReason.MISSED)
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is None)
    return call_id


def click_row(
    window: MainWindow, qtbot: Any, row: int, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    view = window.log_view
    rect = view.visualRect(window.log_proxy.index(row, 1))
    assert rect.isValid()
    qtbot.mouseClick(view.viewport(), button, pos=QPoint(rect.center()))


def test_clicks_in_the_log_after_the_calendar_or_language_changed_do_not_crash(tmp_path: Path) -> None:
    """Issue 11, defect 2, in a process of its own: a crash must fail this test, not end the run."""
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-m", "tests.ui.log_steps", str(tmp_path)],
        cwd=ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "steps done" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if any(word in line for word in STALE_INDEX)]
    assert not warnings


def test_calendar_and_language_changes_keep_the_selection_and_the_model_contract(
    make_window: Callable[..., MainWindow], qtbot: Any, qtmodeltester: Any, qtlog: Any
) -> None:
    window = make_window()
    calls = [missed(window, qtbot, number) for number in (SARA, REZA, ACME)]
    protocol = Protocol(window.log_model)
    proxy_protocol = Protocol(window.log_proxy)
    click_row(window, qtbot, 1)
    assert window.selected_log_row().id == calls[1]
    shown = window.log_proxy.index(1, COLUMNS.index("time")).data()

    window.jalali_action.trigger()  # View → Jalali calendar
    try:
        assert window.log_proxy.index(1, COLUMNS.index("time")).data() != shown
        # Checked before the next click: with a bare layoutChanged that click crashed the process.
        assert protocol.errors == [] and proxy_protocol.errors == []
        assert window.selected_log_row().id == calls[1]  # the selection still points at its row
        click_row(window, qtbot, 0)
        assert window.selected_log_row().id == calls[2]
        window.set_language("fa")
        click_row(window, qtbot, 2)
        assert window.selected_log_row().id == calls[0]
        window.open_reports().close()
    finally:
        window.set_language("en")
        window.jalali_action.trigger()
    assert window.log_proxy.index(1, COLUMNS.index("time")).data() == shown
    assert protocol.errors == [] and proxy_protocol.errors == []
    qtmodeltester.check(window.log_model)
    qtmodeltester.check(window.log_proxy)
    assert not [r for r in qtlog.records if any(word in r.message for word in STALE_INDEX)]


def restart(
    window: MainWindow, qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> MainWindow:
    """Quit *window* and start callsys again on the same settings and database."""
    window.close()
    closing = asyncio.ensure_future(window.desktop.close())
    qtbot.waitUntil(closing.done)
    return make_window(make_settings(tmp_path), directory=False)


def shown_numbers(window: MainWindow) -> list[str]:
    """The number column of the log as the view shows it, top to bottom."""
    proxy = window.log_proxy
    column = COLUMNS.index("number")
    return [str(proxy.index(at, column).data()).strip("\u2066\u2069") for at in range(proxy.rowCount())]


def test_new_calls_go_on_top_of_the_history_loaded_at_start_up(
    make_window: Callable[..., MainWindow], qtbot: Any, qtmodeltester: Any, tmp_path: Path
) -> None:
    """Issue 11, defect 3: after a restart the simulator's call ids start at sim-1 again; each
    new call replaced the stored row with its id instead of coming on top."""
    window = make_window(make_settings(tmp_path))
    first = [missed(window, qtbot, number) for number in (SARA, REZA)]
    before = shown_numbers(window)
    assert len(before) == 2

    again = restart(window, qtbot, make_window, tmp_path)
    assert shown_numbers(again) == before
    protocol = Protocol(again.log_model)
    new = missed(again, qtbot, ACME)
    assert new in first  # the same id as a stored row: what used to overwrite it
    assert shown_numbers(again) == ["+1 415-555-0100", *before]
    answered = ring(again, qtbot, "+989350001122")
    again.answer(answered)
    key = again.desktop.log_key(answered)  # the stored row "sim-2" is another call
    qtbot.waitUntil(lambda: (row := again.log_model.find(key)) is not None and row.answered_at is not None)
    assert shown_numbers(again) == ["0935 000 1122", "+1 415-555-0100", *before]
    assert protocol.errors == []
    assert [s for s in protocol.signals if s[0] == "begin"] == [("begin", "insert", 0, 0)] * 2
    qtmodeltester.check(again.log_model)
    # The database agrees: every call of both sessions is there.
    assert len(again.desktop.calllog.query()) == 4


def test_the_log_is_titled_for_what_it_shows_and_this_session_is_one_choice_away(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    """Issue 11, defect 7: "Calls of this session" listed the calls of earlier sessions too."""
    window = make_window(make_settings(tmp_path))
    earlier = missed(window, qtbot, SARA)
    again = restart(window, qtbot, make_window, tmp_path)
    now = missed(again, qtbot, REZA)
    assert shown_numbers(again) == ["0912 345 6789", "021 8877 6655"]  # history and this session
    assert "session" not in again.log_title.text().lower()
    assert again.log_title.text() == "Recent calls"

    again.log_filter.setCurrentIndex(again.log_filter.findText("This session"))
    assert shown_numbers(again) == ["0912 345 6789"]
    rows = [
        again.log_proxy.index(at, 0).data(Qt.ItemDataRole.UserRole)
        for at in range(again.log_proxy.rowCount())
    ]
    assert [r.call_id for r in rows] == [now] and now == earlier  # the same call id, another call
    assert [r.id for r in rows] == [again.desktop.log_key(now)] != [earlier]  # and another row
    again.set_language("fa")
    try:
        assert again.log_filter.currentText() == "این نشست"
        assert shown_numbers(again) == ["0912 345 6789"]
    finally:
        again.set_language("en")
    again.log_filter.setCurrentIndex(again.log_filter.findData(""))
    assert len(shown_numbers(again)) == 2


def test_calling_back_a_missed_number_takes_it_off_the_badge(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    """Issue 11, defect 7: the missed-calls badge stayed after the agent called back."""
    window = make_window(make_settings(tmp_path))
    sara = missed(window, qtbot, SARA)
    missed(window, qtbot, REZA)
    missed(window, qtbot, SARA)
    assert window.log_model.unseen_missed == 3
    assert window.missed_badge.text() == "3 missed"

    window.call_back(window.log_model.find(sara))  # both of Sara's missed calls are dealt with
    qtbot.waitUntil(lambda: window.log_model.unseen_missed == 1)
    assert window.missed_badge.text() == "1 missed" and window.windowTitle().startswith("(1)")
    assert window.log_model.find(sara).missed  # still a missed call in the log, in red

    answered = ring(window, qtbot, REZA)  # Reza calls again and the agent answers
    assert window.log_model.unseen_missed == 1  # ringing is not dealt with
    window.answer(answered)
    qtbot.waitUntil(lambda: window.log_model.unseen_missed == 0)
    assert window.missed_badge.isHidden()

    again = restart(window, qtbot, make_window, tmp_path)  # the next start counts the same
    assert again.log_model.unseen_missed == 0 and again.missed_badge.isHidden()
    later = missed(again, qtbot, SARA)  # a missed call after the call-back counts again
    assert again.log_model.unseen_missed == 1
    assert again.log_model.find(later).missed


def test_do_not_disturb_leaves_a_missed_busy_call_in_the_log(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """Issue 11, defect 7: with the simulator DND left no trace, while the SIP phone logs a
    missed "Busy" call (486)."""
    window = make_window()
    window.dnd_action.trigger()  # Phone → Do not disturb
    qtbot.waitUntil(lambda: window.dnd_action.isChecked() and window.simulator._dnd)
    call_id = window.simulator.ring(SARA, "")
    qtbot.waitUntil(
        lambda: window.log_model.find(call_id) is not None and not window.log_model.find(call_id).live
    )
    row = window.log_model.find(call_id)
    assert row.missed and row.reason == EndReason.BUSY.value
    result = window.log_model.index(0, COLUMNS.index("result")).data()
    assert result == "Busy"
    assert window.missed_badge.text() == "1 missed"
    assert window.popups.popup(call_id) is None  # it never rang here
    assert window.desktop.calllog.get(call_id).result is EndReason.BUSY


def test_the_log_paints_its_rows_as_qt_own_delegate_does_and_follows_the_language(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    """The log's cheap delegate (a ring repaints the whole log) shows what Qt's delegate shows:
    the same texts, elided the same way, missed calls in red, the selected row highlighted —
    and a language change repaints the cells in the new language (the texts are kept per row)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from ui.calllogview import LogRow
    from ui.qt import QStyledItemDelegate
    from ui.texts import direction_text

    window = make_window()
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    rows = [
        LogRow(
            id=f"row-{at}",
            direction="incoming" if at % 3 else "outgoing",
            name=f"Caller {at} whose name is far too long for its column" if at % 2 else "Sara Ahmadi",
            number=f"+1 415-555-{at:04d}",
            dial=f"+1415555{at:04d}",
            line="Support",
            started_at=start - timedelta(minutes=at),
            duration=65,
            state="ended",
            reason="completed" if at % 5 else "missed",
            missed=at % 5 == 0,
            transferred_to="+98 21 1234" if at == 2 else "",
        )
        for at in range(30)
    ]
    window.log_model.load(rows)
    view = window.log_view
    view.selectRow(3)
    ours = view.itemDelegate()

    def painted(delegate: Any) -> Any:
        view.setItemDelegate(delegate)
        qtbot.wait(1)
        return view.grab().toImage()

    qt_own = QStyledItemDelegate(view)
    assert painted(ours) == painted(qt_own)
    window.log_model.upsert(replace(rows[4], id="new", started_at=start + timedelta(minutes=1)))
    window.log_model.upsert(replace(rows[7], name="Reza Karimi"))  # the record was found
    assert painted(ours) == painted(qt_own)  # every row moved down one line, one was renamed
    english = painted(ours)
    shown = window.log_proxy.index(0, COLUMNS.index("direction")).data()
    window.set_language("fa")
    try:
        persian = direction_text(window.log_model.row(0).direction)
        assert window.log_proxy.index(0, COLUMNS.index("direction")).data() == persian != shown
        assert painted(ours) != english
        view.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # the texts, not the mirroring
        assert painted(ours) == painted(qt_own)
    finally:
        view.unsetLayoutDirection()
        view.setItemDelegate(ours)
        window.set_language("en")
    assert painted(ours) == english
