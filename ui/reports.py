"""The Reports view (IN10, OUT8): for a date range, how many calls, how many answered and unanswered,
the average talk time, and the calls per direction, per line and per user (extension) — as
figures, bar charts and a table, exportable to CSV.

The figures come from ``callsys.crm.dynamics.reports`` — the same functions ``callsys report``
prints — through a small ``ReportSource`` interface: this computer's call log (exact seconds,
with lines) always, and Dynamics 365 (every logged call of every agent, talk time in whole
minutes) when it is the CRM. A Dynamics report takes its per-line figures from the local log,
as the CLI does: Dynamics has no line column. The charts are painted with ``QPainter`` (no chart
library) and mirror in right-to-left languages.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callsys.errors import CallsysError
from callsys.reports import InstantReport, ReportSource, report_sources

from ui.i18n import current, format_duration, ltr, translate
from ui.qt import (
    QAbstractItemView,
    QCalendar,
    QColor,
    QComboBox,
    QDate,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLocale,
    QPainter,
    QPushButton,
    QRect,
    QSize,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    named,
)
from ui.tasks import TaskRunner
from ui.texts import direction_text

if TYPE_CHECKING:
    from callsys.crm.dynamics.reports import Bucket, CallReport

__all__ = [
    "BarChart",
    "ReportRow",
    "ReportsDialog",
    "report_rows",
    "source_title",
    "write_csv",
]

log = logging.getLogger(__name__)

ANSWERED_COLOUR = "#188038"
UNANSWERED_COLOUR = "#c5221f"


# ------------------------------------------------------------------------------ sources
def source_title(key: str) -> str:
    """Where a report's figures come from (``callsys.reports``' source keys), as the list says it."""
    titles = {
        "local": translate("ReportsView", "This computer's call log"),
        "dynamics": translate("ReportsView", "Dynamics 365 (all agents)"),
    }
    return titles.get(key, key)


# ------------------------------------------------------------------------------ figures
@dataclass(frozen=True, slots=True)
class ReportRow:
    group: str  # total | direction | line | user
    key: str  # the technical key ("incoming", "Sales", "1001"; "" for unknown)
    name: str  # as shown
    bucket: Bucket


def _digits(text: str) -> str:
    language = current()
    return language.digits(text) if language is not None else text


def percent_text(value: float) -> str:
    text = f"{value:.0f}"
    language = current()
    if language is not None and language.code == "fa":
        return _digits(text) + "٪"
    return text + "%"


def group_title(group: str) -> str:
    return {
        "total": translate("ReportsView", "All calls"),
        "direction": translate("ReportsView", "By direction"),
        "line": translate("ReportsView", "By line"),
        "user": translate("ReportsView", "By user (extension)"),
    }.get(group, group)


def _name(group: str, key: str) -> str:
    if group == "total":
        return translate("ReportsView", "All calls")
    if group == "direction":
        return direction_text(key)
    if not key:
        return (
            translate("ReportsView", "(no line)")
            if group == "line"
            else translate("ReportsView", "(unknown)")
        )
    return key


def report_rows(report: CallReport) -> list[ReportRow]:
    """The table: the total, then each direction, line and user, most calls first."""
    rows = [ReportRow("total", "", _name("total", ""), report.total)]
    for group, table in (
        ("direction", report.by_direction),
        ("line", report.by_line),
        ("user", report.by_user),
    ):
        for key, bucket in sorted(table.items(), key=lambda item: (-item[1].calls, item[0])):
            rows.append(ReportRow(group, key, _name(group, key), bucket))
    return rows


#: Columns of the per-group tables (the group's total is in the summary line above them).
COLUMNS = ("name", "calls", "answered", "unanswered", "answered_percent", "average_talk")
#: Columns of the CSV file: machine-readable keys and plain ASCII numbers (talk time in seconds).
CSV_COLUMNS = (
    "group",
    "name",
    "calls",
    "answered",
    "unanswered",
    "answered_percent",
    "average_talk_seconds",
    "talk_seconds",
    "from",
    "to",
)


def column_title(column: str) -> str:
    return {
        "name": translate("ReportsView", "Name"),
        "calls": translate("ReportsView", "Calls"),
        "answered": translate("ReportsView", "Answered"),
        "unanswered": translate("ReportsView", "Unanswered"),
        "answered_percent": translate("ReportsView", "Answered %"),
        "average_talk": translate("ReportsView", "Average talk time"),
    }[column]


def cell_text(row: ReportRow, column: str) -> str:
    b = row.bucket
    if column == "name":
        return ltr(row.name) if row.group == "user" and row.key.isdigit() else row.name
    if column == "answered_percent":
        return percent_text(b.answered_percent)
    if column == "average_talk":
        return format_duration(b.average_talk_seconds)
    counts = {"calls": b.calls, "answered": b.answered, "unanswered": b.unanswered}
    return _digits(str(counts[column]))


def summary_text(total: Bucket) -> str:
    """E.g. "3 calls · 2 answered (67%) · 1 unanswered (33%) · average talk time 1:30"."""
    unanswered = 100.0 - total.answered_percent if total.answered + total.unanswered else 0.0
    return translate(
        "ReportsView",
        "{calls} calls · {answered} answered ({answered_percent}) · {unanswered} unanswered ({unanswered_percent}) · average talk time {talk}",
    ).format(
        calls=_digits(str(total.calls)),
        answered=_digits(str(total.answered)),
        answered_percent=percent_text(total.answered_percent),
        unanswered=_digits(str(total.unanswered)),
        unanswered_percent=percent_text(unanswered),
        talk=format_duration(total.average_talk_seconds),
    )


def write_csv(path: Path | str, rows: Sequence[ReportRow], first: date, last: date) -> Path:
    """The figures as CSV: one row for the total, then each direction, line and user.
    UTF-8 with a BOM (spreadsheet programs then read Persian names right)."""
    target = Path(path)
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            b = row.bucket
            writer.writerow(
                [
                    row.group,
                    row.key,
                    b.calls,
                    b.answered,
                    b.unanswered,
                    f"{b.answered_percent:.1f}",
                    f"{b.average_talk_seconds:.1f}",
                    f"{b.talk_seconds:.0f}",
                    first.isoformat(),
                    last.isoformat(),
                ]
            )
    return target


# ------------------------------------------------------------------------------ chart
class BarChart(QWidget):
    """Horizontal stacked bars — answered (green) and unanswered (red) calls — one per item.
    Mirrors in right-to-left layouts; the figures are in the accessible description too."""

    ROW = 24

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The title is a label, not painted: switching the painter to a bold font crashed Qt's
        # text engine (6.11, offscreen) after Persian fallback fonts had been loaded.
        self.title_label = QLabel(self)
        self.title_label.setObjectName("chartTitle")
        self.title_label.setStyleSheet("font-weight: bold;")
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 0)
        box.addWidget(self.title_label)
        box.addStretch(1)
        self.items: list[tuple[str, int, int]] = []  # (label, answered, unanswered) — drawn
        self.bars: list[tuple[str, int, int]] = []  # every item (the chart draws the first 12)
        self.setMinimumHeight(self._height())

    def set_data(self, title: str, items: Sequence[tuple[str, int, int]]) -> None:
        self.title = title
        self.items = list(items)[:12]
        self.bars = list(items)
        self.setAccessibleName(title)
        self.setAccessibleDescription(
            "; ".join(
                translate("ReportsView", "{name}: {answered} answered, {unanswered} unanswered").format(
                    name=label, answered=_digits(str(a)), unanswered=_digits(str(u))
                )
                for label, a, u in self.items
            )
        )
        self.setMinimumHeight(self._height())
        self.updateGeometry()
        self.update()

    @property
    def title(self) -> str:
        return self.title_label.text()

    @title.setter
    def title(self, text: str) -> None:
        self.title_label.setText(text)

    def _height(self) -> int:
        return 34 + self.ROW * max(1, len(self.items)) + 26

    def sizeHint(self) -> QSize:
        return QSize(300, self._height())

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        width = self.width()
        metrics = painter.fontMetrics()
        text_colour = QColor(self.palette().windowText().color())  # copies: never a reference into Qt

        def box(x: int, y: int, w: int, h: int) -> QRect:
            return QRect(width - x - w, y, w, h) if rtl else QRect(x, y, w, h)

        start = Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft
        end = Qt.AlignmentFlag.AlignLeft if rtl else Qt.AlignmentFlag.AlignRight
        if not self.items:
            painter.drawText(
                box(4, 30, width - 8, self.ROW),
                start | Qt.AlignmentFlag.AlignVCenter,
                translate("ReportsView", "No calls"),
            )
            painter.end()
            return
        label_w = min(max(metrics.horizontalAdvance(label) for label, _a, _u in self.items) + 8, width // 3)
        count_w = metrics.horizontalAdvance("00000") + 8
        bar_x = 4 + label_w
        bar_w = max(10, width - bar_x - count_w - 4)
        most = max(a + u for _l, a, u in self.items) or 1
        y = 30
        for label, answered, unanswered in self.items:
            painter.setPen(text_colour)
            elided = metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, label_w - 6)
            painter.drawText(box(4, y, label_w - 6, self.ROW), end | Qt.AlignmentFlag.AlignVCenter, elided)
            a_w = round(bar_w * answered / most)
            u_w = round(bar_w * unanswered / most)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(ANSWERED_COLOUR))
            if a_w:
                painter.drawRect(box(bar_x, y + 4, a_w, self.ROW - 8))
            painter.setBrush(QColor(UNANSWERED_COLOUR))
            if u_w:
                painter.drawRect(box(bar_x + a_w, y + 4, u_w, self.ROW - 8))
            painter.setPen(text_colour)
            painter.drawText(
                box(bar_x + a_w + u_w + 4, y, count_w, self.ROW),
                start | Qt.AlignmentFlag.AlignVCenter,
                _digits(str(answered + unanswered)),
            )
            y += self.ROW
        # legend
        x = 4
        for colour, text in (
            (ANSWERED_COLOUR, translate("ReportsView", "Answered")),
            (UNANSWERED_COLOUR, translate("ReportsView", "Unanswered")),
        ):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRect(box(x, y + 8, 10, 10))
            painter.setPen(text_colour)
            text_w = metrics.horizontalAdvance(text) + 4
            painter.drawText(box(x + 14, y + 2, text_w, 22), start | Qt.AlignmentFlag.AlignVCenter, text)
            x += 14 + text_w + 12
        painter.end()


# ------------------------------------------------------------------------------ the view
GROUPS = ("line", "direction", "user")


class ReportsDialog(QDialog):
    """Reports over a date range. The figures follow the period at once (the local call log is
    counted synchronously; Dynamics 365 asynchronously). ``sources`` defaults to
    ``report_sources(desktop)``."""

    def __init__(
        self,
        desktop: Any = None,
        parent: QWidget | None = None,
        *,
        sources: Sequence[ReportSource] | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reportsDialog")
        self.sources = list(sources if sources is not None else report_sources(desktop))
        self.tasks = TaskRunner(self._failed)
        self.report: CallReport | None = None
        self.rows: list[ReportRow] = []
        self._today = today or date.today()
        self._quiet = False
        self._build()
        self.retranslate()
        self.preset.setCurrentIndex(self.preset.findData("7d"))
        self._preset_changed()
        self.resize(900, 680)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.preset_label = named(QLabel(), "reportPresetLabel")
        self.preset = named(QComboBox(), "reportPreset")
        self.preset_label.setBuddy(self.preset)
        for key in ("today", "7d", "30d", "month", "custom"):
            self.preset.addItem("", key)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.start_label = named(QLabel(), "reportStartLabel")
        self.start_edit = named(QDateEdit(), "reportStart")
        self.start_label.setBuddy(self.start_edit)
        self.end_label = named(QLabel(), "reportEndLabel")
        self.end_edit = named(QDateEdit(), "reportEnd")
        self.end_label.setBuddy(self.end_edit)
        language = current()
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            # Year/month/day, left to right, in any language (Persian digits came out reversed).
            edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
            edit.setLocale(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
            edit.setDisplayFormat("yyyy/MM/dd")  # after the locale, which would reset it
            if language is not None and language.calendar == "jalali":
                edit.setCalendar(QCalendar(QCalendar.System.Jalali))
            edit.dateChanged.connect(self._dates_edited)
        self.source_label = named(QLabel(), "reportSourceLabel")
        self.source = named(QComboBox(), "reportSource")
        self.source_label.setBuddy(self.source)
        for source in self.sources:
            self.source.addItem(source_title(source.key), source.key)
        self.source.currentIndexChanged.connect(lambda _at: self.refresh())
        self.refresh_button = named(QPushButton(), "reportRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = named(QPushButton(), "reportExport")
        self.export_button.clicked.connect(lambda: self.export())  # noqa: PLW0108 (not the bool)
        self.export_button.setEnabled(False)
        for widget in (
            self.preset_label,
            self.preset,
            self.start_label,
            self.start_edit,
            self.end_label,
            self.end_edit,
            self.source_label,
            self.source,
        ):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)
        outer.addLayout(bar)
        self.source_label.setVisible(len(self.sources) > 1)
        self.source.setVisible(len(self.sources) > 1)

        self.summary = named(QLabel("—"), "reportSummary")
        self.summary.setStyleSheet("font-size: 13pt; font-weight: bold; padding: 6px 2px;")
        self.summary.setWordWrap(True)
        outer.addWidget(self.summary)

        self.pages = named(QTabWidget(), "reportPages")
        self.charts: dict[str, BarChart] = {}
        self.tables: dict[str, QTableWidget] = {}
        for group in GROUPS:
            page = QWidget()
            box = QVBoxLayout(page)
            chart = named(BarChart(), f"chart_{group}")
            table = named(QTableWidget(0, len(COLUMNS)), f"table_{group}")
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setAlternatingRowColors(True)
            vertical = table.verticalHeader()
            if vertical is not None:
                vertical.hide()
            header = table.horizontalHeader()
            assert header is not None
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            box.addWidget(chart)
            box.addWidget(table, 1)
            self.pages.addTab(page, "")
            self.charts[group] = chart
            self.tables[group] = table
        self.chart = self.charts["line"]  # calls per line: the first thing a supervisor asks
        outer.addWidget(self.pages, 1)

        self.status = named(QLabel(), "reportStatus")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)

        self.setTabOrder(self.preset, self.start_edit)
        self.setTabOrder(self.start_edit, self.end_edit)
        self.setTabOrder(self.end_edit, self.source)
        self.setTabOrder(self.source, self.refresh_button)
        self.setTabOrder(self.refresh_button, self.export_button)
        self.setTabOrder(self.export_button, self.pages)

    def retranslate(self) -> None:
        self.setWindowTitle(translate("ReportsView", "Call reports"))
        self.preset_label.setText(translate("ReportsView", "&Period:"))
        self.preset.setAccessibleName(translate("ReportsView", "Period"))
        titles = {
            "today": translate("ReportsView", "Today"),
            "7d": translate("ReportsView", "Last 7 days"),
            "30d": translate("ReportsView", "Last 30 days"),
            "month": translate("ReportsView", "This month"),
            "custom": translate("ReportsView", "Custom"),
        }
        for at in range(self.preset.count()):
            self.preset.setItemText(at, titles[str(self.preset.itemData(at))])
        self.start_label.setText(translate("ReportsView", "&From:"))
        self.start_edit.setAccessibleName(translate("ReportsView", "First day"))
        self.end_label.setText(translate("ReportsView", "&To:"))
        self.end_edit.setAccessibleName(translate("ReportsView", "Last day"))
        self.source_label.setText(translate("ReportsView", "&Source:"))
        self.source.setAccessibleName(translate("ReportsView", "Where the figures come from"))
        self.refresh_button.setText(translate("ReportsView", "&Refresh"))
        self.refresh_button.setAccessibleName(translate("ReportsView", "Count the calls again"))
        self.export_button.setText(translate("ReportsView", "&Export CSV…"))
        self.export_button.setAccessibleName(translate("ReportsView", "Export the figures as CSV"))
        self.summary.setAccessibleName(translate("ReportsView", "Summary"))
        self.pages.setAccessibleName(translate("ReportsView", "Figures by group"))
        bar = self.pages.tabBar()
        if bar is not None:
            bar.setAccessibleName(translate("ReportsView", "Figures by group"))
        for at, group in enumerate(GROUPS):
            self.pages.setTabText(at, group_title(group))
            table = self.tables[group]
            table.setHorizontalHeaderLabels([column_title(c) for c in COLUMNS])
            table.setAccessibleName(group_title(group))
        if self.report is not None:
            self._show(self.report)

    def changeEvent(self, event: Any) -> None:
        from ui.qt import QEvent

        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ============================================================== range
    def _preset_changed(self, _at: int = 0) -> None:
        key = str(self.preset.currentData())
        today = self._today
        first = {
            "today": today,
            "7d": today - timedelta(days=6),
            "30d": today - timedelta(days=29),
            "month": today.replace(day=1),
        }.get(key)
        if first is None:
            return
        self._quiet = True
        try:
            self.set_range(first, today)
        finally:
            self._quiet = False
        self.refresh()

    def _dates_edited(self) -> None:
        if self._quiet:
            return
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData("custom"))
        self.preset.blockSignals(False)
        self.refresh()

    def set_range(self, first: date, last: date) -> None:
        self.start_edit.setDate(QDate(first.year, first.month, first.day))
        self.end_edit.setDate(QDate(last.year, last.month, last.day))

    def range(self) -> tuple[date, date]:
        first = self.start_edit.date().toPyDate()
        last = self.end_edit.date().toPyDate()
        return (first, last) if first <= last else (last, first)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in local time: from the first day's midnight to the day after the last."""
        first, last = self.range()
        start = datetime.combine(first, time()).astimezone()
        end = datetime.combine(last + timedelta(days=1), time()).astimezone()
        return start, end

    # ============================================================== loading
    def current_source(self) -> ReportSource | None:
        key = self.source.currentData()
        for source in self.sources:
            if source.key == key:
                return source
        return self.sources[0] if self.sources else None

    def refresh(self) -> None:
        """Count the calls of the chosen range in the chosen source."""
        source = self.current_source()
        if source is None:
            self._failed(translate("ReportsView", "There is no call log to report on."))
            return
        start, end = self.bounds()
        if isinstance(source, InstantReport):
            try:
                self._show(source.report_now(start, end))
            except CallsysError as exc:
                self._failed(str(exc))
            except Exception as exc:  # a broken database must not close the view
                log.exception("the report failed")
                self._failed(f"{type(exc).__name__}: {exc}")
            return
        self.tasks.cancel_all()
        self.refresh_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(translate("ReportsView", "Counting the calls…"))
        self.tasks.spawn(source.report(start, end), done=self._show, failed=self._failed)

    def _failed(self, why: str) -> None:
        self.refresh_button.setEnabled(True)
        self.status.setStyleSheet(f"color: {UNANSWERED_COLOUR};")
        self.status.setText(translate("ReportsView", "The report could not be made: {why}").format(why=why))

    def _show(self, report: CallReport) -> None:
        self.report = report
        self.refresh_button.setEnabled(True)
        self.summary.setText(summary_text(report.total))
        self.rows = report_rows(report)
        for group in GROUPS:
            rows = [r for r in self.rows if r.group == group]
            self.charts[group].set_data(
                group_title(group), [(r.name, r.bucket.answered, r.bucket.unanswered) for r in rows]
            )
            table = self.tables[group]
            table.setRowCount(len(rows))
            for at, row in enumerate(rows):
                for column_at, column in enumerate(COLUMNS):
                    item = QTableWidgetItem(cell_text(row, column))
                    if column != "name":
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(at, column_at, item)
        self.export_button.setEnabled(True)
        self.status.setStyleSheet("")
        self.status.setText(" ".join(_note(n) for n in report.notes))

    # ============================================================== export
    def export(self, path: Path | str | None = None) -> Path | None:
        """Write the figures to *path* (asks where when not given). Returns the file written."""
        first, last = self.range()
        if path is None:
            suggested = f"callsys-calls-{first.isoformat()}-{last.isoformat()}.csv"
            path, _filter = QFileDialog.getSaveFileName(
                self,
                translate("ReportsView", "Export the report"),
                suggested,
                translate("ReportsView", "CSV files (*.csv)"),
            )
            if not path:
                return None
        try:
            written = write_csv(path, self.rows, first, last)
        except OSError as exc:
            self._failed(exc.strerror or str(exc))
            return None
        self.status.setStyleSheet("")
        self.status.setText(translate("ReportsView", "Saved {path}").format(path=str(written)))
        return written

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


def _note(text: str) -> str:
    """The core's notes about the figures, in the reader's language when we know them."""
    known = {
        "From this computer's call log only; users are extensions.": translate(
            "ReportsView", "From this computer's call log only; users are extensions."
        ),
        "The local call log is empty.": translate("ReportsView", "The local call log is empty."),
        "Talk time from Dynamics 365 is in whole minutes (actualdurationminutes, rounded up).": translate(
            "ReportsView", "Talk time from Dynamics 365 is in whole minutes."
        ),
        "Dynamics 365 has no line column: calls per line come from the local call log.": translate(
            "ReportsView", "Dynamics 365 has no line column: calls per line come from the local call log."
        ),
    }
    return known.get(text, text)
