"""The Reports view (IN10, OUT8): figures from seeded call-log rows for a date range — average talk
time, answered vs unanswered, calls per line, per direction and per user — the charts, the CSV,
the Dynamics 365 source (async, and what it says when the CRM is down), Persian and RTL."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from callsys.calllog import CallLog
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.crm.dynamics.reports import Bucket, CallReport
from callsys.errors import CrmUnavailable
from callsys.model import Call, CallState, Direction, EndReason, PhoneNumber
from callsys.reports import DynamicsSource, LocalSource, report_sources
from callsys.settings import Settings
from callsys.store import open_database
from tests.dataverse_fake import DataverseFake

from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QColor
from ui.reports import ANSWERED_COLOUR, ReportsDialog

DAY = date(2026, 11, 20)


def _call(
    n: int,
    direction: Direction,
    line: str,
    extension: str,
    talk: int | None,
    reason: EndReason,
    *,
    days_before: int = 0,
    loggable: bool = True,
) -> Call:
    start = datetime(DAY.year, DAY.month, DAY.day, 10, n).astimezone() - timedelta(days=days_before)
    answered = start + timedelta(seconds=5) if talk is not None else None
    ended = (
        answered + timedelta(seconds=talk)
        if answered is not None and talk is not None
        else start + timedelta(seconds=25)
    )
    return Call(
        id=f"r{n}",
        direction=direction,
        state=CallState.ENDED,
        started_at=start,
        remote=PhoneNumber(raw="+982188776655", e164="+982188776655", digits="02188776655"),
        line=line,
        extension=extension,
        answered_at=answered,
        ended_at=ended,
        end_reason=reason,
        loggable=loggable,
    )


IN, OUT = Direction.INCOMING, Direction.OUTGOING
SEED = (
    _call(1, IN, "Sales", "1001", 60, EndReason.COMPLETED),
    _call(2, IN, "Sales", "1001", 120, EndReason.COMPLETED),
    _call(3, IN, "Sales", "1002", 30, EndReason.COMPLETED),
    _call(4, IN, "Sales", "1001", None, EndReason.MISSED),
    _call(5, OUT, "Support", "1002", 300, EndReason.COMPLETED),
    _call(6, OUT, "Support", "1002", None, EndReason.NO_ANSWER),
    _call(7, IN, "Support", "1001", None, EndReason.ANSWERED_ELSEWHERE),  # B1: another agent's call
    _call(8, IN, "Sales", "1001", 600, EndReason.COMPLETED, days_before=10),  # outside the last 7 days
    _call(9, IN, "", "1001", 45, EndReason.COMPLETED, loggable=False),  # IN13: an internal number
)


def seeded(tmp_path: Path) -> Any:
    db = open_database(tmp_path / "reports.sqlite3")
    log = CallLog(db)
    for call in SEED:
        log.record(call)
    return db


def table_text(dialog: ReportsDialog, group: str) -> list[list[str]]:
    table = dialog.tables[group]
    return [
        [table.item(r, c).text().strip("\u2066\u2069") for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_the_figures_of_the_last_seven_days_from_the_call_log(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    db = seeded(tmp_path)
    dialog = ReportsDialog(SimpleNamespace(db=db, crm=None), today=DAY)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.preset.currentText() == "Last 7 days"
    assert dialog.range() == (DAY - timedelta(days=6), DAY)
    assert dialog.report is not None and dialog.report.source == "local"
    # 6 of our calls: answered elsewhere, the internal call and the old one are not counted.
    assert dialog.summary.text() == (
        "6 calls · 4 answered (67%) · 2 unanswered (33%) · average talk time 2:07"
    )
    # name, calls, answered, unanswered, answered %, average talk time
    assert table_text(dialog, "line") == [
        ["Sales", "4", "3", "1", "75%", "1:10"],
        ["Support", "2", "1", "1", "50%", "5:00"],
    ]
    assert table_text(dialog, "direction") == [
        ["Incoming", "4", "3", "1", "75%", "1:10"],
        ["Outgoing", "2", "1", "1", "50%", "5:00"],
    ]
    assert table_text(dialog, "user") == [
        ["1001", "3", "2", "1", "67%", "1:30"],
        ["1002", "3", "2", "1", "67%", "2:45"],
    ]
    assert dialog.chart.bars == [("Sales", 3, 1), ("Support", 1, 1)]
    assert dialog.charts["direction"].bars == [("Incoming", 3, 1), ("Outgoing", 1, 1)]
    assert "Sales: 3 answered, 1 unanswered" in dialog.chart.accessibleDescription()

    target = dialog.export(tmp_path / "calls.csv")
    assert target is not None and dialog.status.text().startswith("Saved ")
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = rows[0]
    assert (total["group"], total["calls"], total["answered"], total["unanswered"]) == (
        "total",
        "6",
        "4",
        "2",
    )
    assert (total["answered_percent"], total["average_talk_seconds"], total["talk_seconds"]) == (
        "66.7",
        "127.5",
        "510",
    )
    assert (total["from"], total["to"]) == ("2026-11-14", "2026-11-20")
    sales = next(r for r in rows if (r["group"], r["name"]) == ("line", "Sales"))
    assert (sales["calls"], sales["average_talk_seconds"]) == ("4", "70.0")
    assert {(r["group"], r["name"]) for r in rows} >= {("direction", "outgoing"), ("user", "1002")}

    dialog.preset.setCurrentIndex(dialog.preset.findData("30d"))  # now the 10-day-old call counts
    assert dialog.report.total.calls == 7
    assert dialog.summary.text().endswith("average talk time 3:42")  # (510 + 600) / 5 s
    dialog.preset.setCurrentIndex(dialog.preset.findData("today"))
    dialog.start_edit.setDate(dialog.start_edit.date().addDays(-1))  # a custom range
    assert dialog.preset.currentText() == "Custom"
    assert dialog.report.total.calls == 6
    dialog.set_range(DAY + timedelta(days=1), DAY + timedelta(days=2))
    assert dialog.summary.text() == "0 calls · 0 answered (0%) · 0 unanswered (0%) · average talk time 0:00"
    assert dialog.chart.bars == [] and dialog.tables["line"].rowCount() == 0
    db.conn.close()


def test_view_reports_in_the_main_window_opens_on_the_desktop_call_log(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.desktop.calllog.record(
        _call(1, IN, "Sales", "1001", 42, EndReason.COMPLETED).evolve(
            started_at=datetime.now().astimezone() - timedelta(minutes=5),
            answered_at=None,
            ended_at=None,
        )
    )
    window.reports_action.trigger()
    dialog = window.reports_dialog
    assert isinstance(dialog, ReportsDialog) and dialog.isVisible()
    assert [s.key for s in dialog.sources] == ["local"]
    assert dialog.report is not None and dialog.report.total.calls == 1
    assert dialog.report.total.unanswered == 1  # never answered: unanswered
    dialog.close()


class SlowCrmSource:
    key = "dynamics"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[tuple[datetime, datetime]] = []

    async def report(self, start: datetime, end: datetime) -> CallReport:
        self.asked.append((start, end))
        await asyncio.sleep(0.01)
        if self.fail:
            raise CrmUnavailable("Dynamics 365 did not answer (503 Service Unavailable).")
        report = CallReport("dynamics", start, end)
        report.add(
            Bucket(calls=5, answered=4, unanswered=1, talk_seconds=4 * 180),
            user="Sara Agent",
            direction="incoming",
        )
        report.add(Bucket(calls=2, unanswered=2), user="Reza Agent", direction="outgoing")
        report.notes.append(
            "Talk time from Dynamics 365 is in whole minutes (actualdurationminutes, rounded up)."
        )
        return report


def test_a_crm_source_reports_every_agent_and_says_why_when_it_cannot(
    qtbot: Any, tmp_path: Path, language: Language, aio: asyncio.AbstractEventLoop
) -> None:
    db = seeded(tmp_path)
    crm = SlowCrmSource()
    dialog = ReportsDialog(sources=[LocalSource(db), crm], today=DAY)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.source.isVisible() and dialog.source.count() == 2
    dialog.source.setCurrentIndex(1)
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.report.source == "dynamics", timeout=3000)
    start, end = crm.asked[-1]
    assert (start.date(), end.date()) == (DAY - timedelta(days=6), DAY + timedelta(days=1))
    assert dialog.summary.text() == "7 calls · 4 answered (57%) · 3 unanswered (43%) · average talk time 3:00"
    assert table_text(dialog, "user")[0][:2] == ["Sara Agent", "5"]
    assert dialog.status.text() == "Talk time from Dynamics 365 is in whole minutes."

    crm.fail = True
    dialog.refresh_button.click()
    qtbot.waitUntil(lambda: "could not be made" in dialog.status.text(), timeout=3000)
    assert dialog.status.text() == (
        "The report could not be made: Dynamics 365 did not answer (503 Service Unavailable)."
    )
    assert dialog.refresh_button.isEnabled()
    db.conn.close()


def test_dynamics_365_figures_through_the_dataverse_fake(
    qtbot: Any, tmp_path: Path, language: Language, fake: DataverseFake, dynamics: DynamicsCrm
) -> None:
    bea = fake.add("systemuser", {"firstname": "Bea", "lastname": "Agent"})
    for i, (outgoing, status, minutes, owner) in enumerate(
        [
            (False, 4, 2, fake.default_user),
            (False, 4, 3, bea),
            (True, 2, 1, bea),
            (False, 3, 0, fake.default_user),
        ]
    ):
        fake.add(
            "phonecall",
            {
                "subject": f"call {i}",
                "directioncode": outgoing,
                "actualstart": f"2026-11-20T09:0{i}:00Z",
                "actualdurationminutes": minutes,
                "statecode": 1 if status in (2, 4) else 2,
                "statuscode": status,
                "_ownerid_value": owner,
            },
        )
    fake.add(
        "phonecall",
        {"subject": "old", "actualstart": "2026-10-01T09:00:00Z", "statecode": 1, "statuscode": 4},
    )
    db = seeded(tmp_path)
    dialog = ReportsDialog(sources=[LocalSource(db), DynamicsSource(dynamics, db)], today=DAY)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.source.setCurrentIndex(dialog.source.findData("dynamics"))
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.report.source == "dynamics", timeout=5000)
    # Every agent's logged calls; talk time in whole minutes: (2 + 3 + 1) min / 3 answered.
    assert dialog.summary.text() == "4 calls · 3 answered (75%) · 1 unanswered (25%) · average talk time 2:00"
    assert table_text(dialog, "direction") == [
        ["Incoming", "3", "2", "1", "67%", "2:30"],
        ["Outgoing", "1", "1", "0", "100%", "1:00"],
    ]
    assert dialog.tables["user"].rowCount() == 2
    assert [row[0] for row in table_text(dialog, "line")] == ["Sales", "Support"]  # lines: the local log
    assert dialog.status.text().startswith("Talk time from Dynamics 365 is in whole minutes.")
    db.conn.close()


def test_dynamics_is_offered_only_when_it_is_the_crm(tmp_path: Path) -> None:
    db = open_database(tmp_path / "db.sqlite3")
    local_only = report_sources(
        SimpleNamespace(db=db, crm=SimpleNamespace(name="local"), settings=Settings())
    )
    assert [s.key for s in local_only] == ["local"]
    dynamics = SimpleNamespace(name="dynamics", get_json=lambda *a, **k: None)
    both = report_sources(
        SimpleNamespace(db=db, crm=dynamics, settings=Settings({"crm.unanswered_statuscode": 100000001}))
    )
    assert [s.key for s in both] == ["local", "dynamics"]
    assert isinstance(both[1], DynamicsSource) and both[1].unanswered_status == (1, 100000001)
    db.conn.close()


def test_persian_digits_and_the_charts_mirror_right_to_left(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    db = seeded(tmp_path)

    def green_columns(dialog: ReportsDialog) -> list[int]:
        image = dialog.chart.grab().toImage()
        green = QColor(ANSWERED_COLOUR).rgb()
        y = 30 + dialog.chart.ROW // 2  # the first bar
        return [x for x in range(image.width()) if image.pixel(x, y) == green]

    ltr = ReportsDialog(SimpleNamespace(db=db, crm=None), today=DAY)
    qtbot.addWidget(ltr)
    ltr.resize(900, 680)
    ltr.show()
    left = green_columns(ltr)
    language.apply("fa")
    rtl = ReportsDialog(SimpleNamespace(db=db, crm=None), today=DAY)
    qtbot.addWidget(rtl)
    rtl.resize(900, 680)
    rtl.show()
    right = green_columns(rtl)
    assert left and right
    width = rtl.chart.width()
    # Bars start at the left edge in English and at the right edge in Persian.
    assert min(left) < width * 0.2 and max(right) > width * 0.8
    assert rtl.layoutDirection().name == "RightToLeft"
    assert "۶" in rtl.summary.text() and "٪" in rtl.summary.text()
    assert rtl.preset.currentText() != "Last 7 days"
    assert table_text(rtl, "line")[0][1:4] == ["۴", "۳", "۱"]
    db.conn.close()


def test_the_dates_are_chosen_in_the_jalali_calendar_when_it_is_set(
    qtbot: Any, tmp_path: Path, language: Language
) -> None:
    db = seeded(tmp_path)
    language.calendar = "jalali"
    try:
        dialog = ReportsDialog(SimpleNamespace(db=db, crm=None), today=DAY)
    finally:
        language.calendar = "gregorian"
    qtbot.addWidget(dialog)
    assert dialog.end_edit.text() == "1405/08/29"  # 2026-11-20
    assert dialog.start_edit.text() == "1405/08/23"
    assert dialog.report is not None and dialog.report.total.calls == 6  # same days, other calendar
    db.conn.close()
