"""The call log (IN9): the recent calls — this session's and, loaded from the stored log, earlier
ones — incoming, outgoing, missed, with name, number, direction, line, time, duration and result,
updated live, filterable (a "This session" choice among them), with a missed-calls badge.

The model holds ``LogRow`` values built from ``Call`` snapshots as they arrive (through the
bridge) and, at start-up, from the persisted ``CallLog`` — so the log survives a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from callsys.model import Call, CallState, Direction, EndReason, Party, PhoneNumber

from ui.i18n import format_duration, format_time, ltr, translate
from ui.qt import (
    QAbstractTableModel,
    QAction,
    QColor,
    QFont,
    QGuiApplication,
    QItemSelectionModel,
    QKeySequence,
    QMenu,
    QModelIndex,
    QObject,
    QPalette,
    QSortFilterProxyModel,
    QStaticText,
    QStyle,
    QStyledItemDelegate,
    Qt,
    QTextOption,
    pyqtSignal,
)
from ui.texts import direction_text, result_text, state_text

if TYPE_CHECKING:
    from callsys.calllog import CallRecord

__all__ = [
    "COLUMNS",
    "CallLogDelegate",
    "CallLogFilter",
    "CallLogMenu",
    "CallLogModel",
    "LogRow",
    "row_from_call",
    "row_from_record",
]


@dataclass(frozen=True, slots=True)
class LogRow:
    id: str
    direction: str
    name: str
    number: str  # for people (display form)
    dial: str  # what "call back" dials (E.164 or digits)
    line: str
    started_at: datetime
    duration: int
    state: str
    reason: str | None
    missed: bool
    company: str = ""
    notes: str = ""
    answered_at: datetime | None = None
    #: A call of this session, not one loaded from the stored log. ``id`` is always the log's
    #: row key (``Desktop.log_key``): call ids are unique within a session only — the simulator
    #: starts at sim-1 again after a restart, a PBX reuses its ids.
    this_session: bool = False
    transferred_to: str = ""  # the party was handed over to this number or address
    conference: bool = False  # the call was part of a three-way conference
    #: This session's call: the phone connection's id of it ("" for a row of an earlier session).
    call_id: str = ""

    @property
    def live(self) -> bool:
        return self.state != CallState.ENDED.value


def _dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _callback(number: PhoneNumber) -> str:
    """What calling back dials: a SIP address as it was written (a direct line's caller, or a
    ``sip:`` call), else the number."""
    raw = number.raw
    if raw.lower().startswith(("sip:", "sips:")) and "@" in raw:
        return raw
    return number.e164 or number.digits


def row_from_call(
    call: Call, display: Callable[[PhoneNumber], str], party: Party | None = None, key: str | None = None
) -> LogRow:
    """This session's *call* as the row *key* (its log row, ``Desktop.log_key``; default: its id)."""
    return LogRow(
        id=key or call.id,
        call_id=call.id,
        direction=call.direction.value,
        name=(party.name if party is not None else "") or call.remote_name,
        company=party.company if party is not None else "",
        number="" if call.remote.is_anonymous and not _callback(call.remote) else display(call.remote),
        dial=_callback(call.remote),
        line=call.line,
        started_at=call.started_at,
        duration=call.duration_seconds,
        answered_at=call.answered_at,
        state=call.state.value,
        reason=call.end_reason.value if call.end_reason is not None else None,
        missed=call.is_missed,
        this_session=True,
        transferred_to=call.transferred_to,
        conference=call.conference,
    )


def row_from_record(record: CallRecord, display: Callable[[PhoneNumber], str]) -> LogRow | None:
    """A persisted ``CallRecord`` (``callsys.calllog``) as a row; ``None`` if it is unusable."""
    started = _dt(record.started_at)
    call_id = str(record.id)
    if started is None or not call_id:
        return None
    number = record.number
    reason = record.result.value if record.result is not None else None
    direction = record.direction.value or Direction.INCOMING.value
    missed = bool(record.missed)
    if not missed and reason and direction == Direction.INCOMING.value:
        missed = reason in (EndReason.MISSED.value, EndReason.CANCELLED.value, EndReason.BUSY.value)
    return LogRow(
        id=call_id,
        direction=direction,
        # the matched record's name, else the caller ID name
        name=record.party_name or record.name,
        company=record.party_company,
        number=display(number),
        dial=_callback(number),
        line=record.line,
        started_at=started,
        duration=int(record.duration or 0),
        state=record.state.value,
        reason=reason,
        missed=missed,
        notes=record.notes,
        answered_at=_dt(record.answered_at),
        transferred_to=record.transferred_to or "",
        conference=bool(record.conference),
    )


log = logging.getLogger(__name__)

COLUMNS = ("time", "name", "number", "direction", "line", "duration", "result")
#: The item roles ``CallLogModel.data`` answers. The view asks each visible cell for about ten
#: roles on every repaint (a ring repaints the log), so the others are refused first, cheaply.
_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.UserRole,
        Qt.ItemDataRole.TextAlignmentRole,
    }
)


_DURATION = COLUMNS.index("duration")
_MISSED = QColor("#b3261e")


def _key(row: LogRow) -> str:
    return row.id


def _settles_missed(row: LogRow) -> bool:
    """Does *row* deal with the earlier missed calls from its number — the agent called it back,
    or took a later call from it? Those leave the missed-calls badge (they stay in the log)."""
    if not row.dial:
        return False
    if row.direction == Direction.OUTGOING.value:
        return True
    return row.answered_at is not None or row.reason == EndReason.COMPLETED.value


class CallLogModel(QAbstractTableModel):
    """Newest call first. Rows are replaced, never edited in place (they are frozen)."""

    missed_changed = pyqtSignal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[LogRow] = []
        # Where each row is, by its key (the log's row id: a call of this session whose call id
        # is that of a stored row of an earlier session has a key of its own, see LogRow).
        self._index: dict[str, int] = {}
        self._unseen_missed: set[str] = set()
        #: row key → (the row, its cells' texts): a repaint of the log reads them, it does not
        #: format them again (a ring repaints every row below the new one)
        self._texts: dict[str, tuple[LogRow, tuple[str, ...]]] = {}

    # ------------------------------------------------------------------ content
    def load(self, rows: Iterable[LogRow], missed_seen_at: datetime | None = None) -> None:
        """Rows from the stored log; missed calls after *missed_seen_at* (the last time the agent
        looked at them, before a restart) count for the badge again."""
        self.beginResetModel()
        self._rows = sorted(rows, key=lambda r: r.started_at, reverse=True)
        self._texts.clear()
        self._reindex()
        self.endResetModel()
        if missed_seen_at is not None:
            settled: dict[str, datetime] = {}  # number → when it was last called back / answered
            for r in self._rows:
                if _settles_missed(r) and (r.dial not in settled or r.started_at > settled[r.dial]):
                    settled[r.dial] = r.started_at
            self._unseen_missed = {
                _key(r)
                for r in self._rows
                if r.missed
                and r.started_at > missed_seen_at
                and not (r.dial in settled and settled[r.dial] > r.started_at)
            }
            self.missed_changed.emit(len(self._unseen_missed))

    def upsert(self, row: LogRow) -> None:
        at = self._index.get(_key(row))
        if at is not None:
            old = self._rows[at]
            if not row.name and old.name:
                row = replace(row, name=old.name, company=old.company)
            if old.conference and not row.conference:  # it was one, as the log keeps it
                row = replace(row, conference=True)
            self._rows[at] = row
            self.dataChanged.emit(self.index(at, 0), self.index(at, len(COLUMNS) - 1))
        else:
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._rows.insert(0, row)
            self._reindex()
            self.endInsertRows()
        if row.missed and _key(row) not in self._unseen_missed:
            self._unseen_missed.add(_key(row))
            self.missed_changed.emit(len(self._unseen_missed))
        elif _settles_missed(row):
            settled = {
                key
                for key in self._unseen_missed
                if (missed := self._rows[self._index[key]]).dial == row.dial
                and missed.started_at <= row.started_at
            }
            if settled:
                self._unseen_missed -= settled
                self.missed_changed.emit(len(self._unseen_missed))

    def set_party(self, key: str, party: Party) -> None:
        at = self._at(key)
        if at is not None:
            self._rows[at] = replace(self._rows[at], name=party.name, company=party.company)
            self.dataChanged.emit(self.index(at, 0), self.index(at, len(COLUMNS) - 1))

    def tick(self) -> None:
        """Repaint the running durations of connected calls (once a second, the window's timer).
        Only those cells: a ring must not cost more with every call in the log."""
        for at, row in enumerate(self._rows):
            if row.live and row.answered_at is not None:
                self.dataChanged.emit(self.index(at, 5), self.index(at, 5))

    def texts_changed(self) -> None:
        """Every cell and header now reads differently (language, calendar, digits): the rows
        themselves stay where they are. ``dataChanged`` says exactly that — a bare
        ``layoutChanged`` (without ``layoutAboutToBeChanged``) made the filter proxy drop its
        mapping under the view's selection, and the next click in the log crashed."""
        self._texts.clear()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)

    def mark_missed_seen(self) -> None:
        if self._unseen_missed:
            self._unseen_missed.clear()
            self.missed_changed.emit(0)

    @property
    def unseen_missed(self) -> int:
        return len(self._unseen_missed)

    def row(self, at: int) -> LogRow:
        return self._rows[at]

    def rows(self) -> list[LogRow]:
        return list(self._rows)

    def find(self, key: str) -> LogRow | None:
        at = self._at(key)
        return self._rows[at] if at is not None else None

    def _at(self, key: str) -> int | None:
        return self._index.get(key)

    def _reindex(self) -> None:
        self._index = {_key(row): at for at, row in enumerate(self._rows)}

    # ------------------------------------------------------------------ Qt model
    def index(self, row: int, column: int, parent: QModelIndex | None = None) -> QModelIndex:
        """Qt's own ``index`` asks ``rowCount`` and ``columnCount`` (two calls into Python) for
        every index, and the filter proxy makes one for each cell and role it reads: a repaint
        of the log cost about 1,900 of them. One call here instead (a third less per repaint)."""
        if (
            0 <= row < len(self._rows)
            and 0 <= column < len(COLUMNS)
            and (parent is None or not parent.isValid())
        ):
            return self.createIndex(row, column)
        return QModelIndex()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            translate("CallLog", "Time"),
            translate("CallLog", "Name"),
            translate("CallLog", "Number"),
            translate("CallLog", "Direction"),
            translate("CallLog", "Line"),
            translate("CallLog", "Duration"),
            translate("CallLog", "Result"),
        )[section]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and column == "name" and row.company:
            return row.company
        if role == Qt.ItemDataRole.ForegroundRole and row.missed:
            return _MISSED
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("number", "duration"):
            # Numbers read left to right in every language; keep them aligned to the leading edge.
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeading)
        return None

    def text(self, row: LogRow, column: int) -> str:
        """The text of *row*'s cell in *column* (an index of ``COLUMNS``), as the log shows it."""
        if column == _DURATION and row.live and row.answered_at is not None:
            return self._text(row, "duration")  # talking now: the running time
        cached = self._texts.get(row.id)
        if cached is None or cached[0] is not row:  # a row is replaced when it changes
            cached = (row, tuple(self._text(row, name) for name in COLUMNS))
            self._texts[row.id] = cached
        return cached[1][column]

    @staticmethod
    def _text(row: LogRow, column: str) -> str:
        if column == "time":
            return format_time(row.started_at)
        if column == "name":
            return row.name or translate("CallLog", "Unknown caller")
        if column == "number":
            return ltr(row.number) if row.number else translate("CallLog", "No caller ID")
        if column == "direction":
            return direction_text(row.direction)
        if column == "line":
            return row.line
        if column == "duration":
            if row.live and row.answered_at is not None:  # talking now: the running time
                return format_duration((datetime.now(UTC) - row.answered_at).total_seconds())
            return format_duration(row.duration) if row.duration or not row.live else ""
        if column == "result":
            text = result_text(row.reason, row.direction) if not row.live else state_text(row.state)
            if row.conference:
                text += " · " + translate("CallLog", "Conference")
            if row.transferred_to:
                text += " · " + translate("CallLog", "Transferred to {number}").format(
                    number=ltr(row.transferred_to)
                )
            return text
        return ""


_ROW = Qt.ItemDataRole.UserRole
_SELECTED_OR_FOCUSED = (QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus).value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_DISABLED, _NORMAL, _INACTIVE = (
    QPalette.ColorGroup.Disabled,
    QPalette.ColorGroup.Normal,
    QPalette.ColorGroup.Inactive,
)
_TEXT = QPalette.ColorRole.Text
_RTL = Qt.LayoutDirection.RightToLeft


class CallLogDelegate(QStyledItemDelegate):
    """Paints the log's cells: the text of the cell, elided, in the row's colour.

    Qt's own delegate asks the model for seven roles per cell (each a call into Python, through
    the filter) and lays each text out anew: a repaint of the log — every new call's row moves
    the rows below it — cost about 10 ms of CPU, and a ringing call's INVITE that came meanwhile
    waited for it. Here the row of each line is fetched once (kept until the view's model
    changes); its texts are the model's (made once per row), elided texts are kept. The selected
    row and the focused cell are still painted by Qt's delegate (highlight, focus frame)."""

    def __init__(self, model: CallLogModel, shown: Any, parent: QObject | None = None) -> None:
        """*model*: the log's rows; *shown*: the model of the view (the filter over *model*)."""
        super().__init__(parent)
        self._model = model
        self._shown = shown
        #: the row at each line of the view, while *shown* does not change
        self._rows: dict[int, LogRow] = {}
        for signal in (
            shown.modelReset, shown.layoutChanged, shown.rowsInserted, shown.rowsRemoved,
            shown.rowsMoved, shown.dataChanged,
        ):  # fmt: skip
            signal.connect(self._forget)
        #: (text, width, right to left) → the text elided to that width, laid out; its size
        self._laid_out: dict[tuple[str, int, bool], tuple[QStaticText, int, int]] = {}
        self._font = QFont()
        self._text_margin: int | None = None  # the style's text margin, asked once

    def _forget(self, *_args: Any) -> None:
        self._rows.clear()

    def paint(self, painter: Any, option: Any, index: QModelIndex) -> None:
        state = option.state.value  # ints: Python's enum operators cost more than the paint
        if state & _SELECTED_OR_FOCUSED:
            super().paint(painter, option, index)
            return
        row = self._rows.get(index.row())
        if row is None:
            row = index.data(_ROW)
            if not isinstance(row, LogRow):
                super().paint(painter, option, index)
                return
            if index.model() is self._shown:
                self._rows[index.row()] = row
        text = self._model.text(row, index.column())
        if not text:
            return
        rect = option.rect
        margin = self._margin(option)
        width = rect.width() - 2 * margin
        if width <= 0:
            return
        font = option.font
        if font != self._font:  # the system's font changed: lay the texts out again
            self._font = QFont(font)
            self._laid_out.clear()
        rtl = option.direction == _RTL
        key = (text, width, rtl)
        laid_out = self._laid_out.get(key)
        if laid_out is None:
            if len(self._laid_out) > 4096:
                self._laid_out.clear()
            laid_out = self._lay_out(text, width, option)
            self._laid_out[key] = laid_out
        if row.missed:
            painter.setPen(_MISSED)
        else:
            group = _DISABLED if not state & _ENABLED else _NORMAL if state & _ACTIVE else _INACTIVE
            painter.setPen(option.palette.color(group, _TEXT))
        painter.setFont(font)
        static, text_width, text_height = laid_out
        x = rect.right() + 1 - margin - text_width if rtl else rect.x() + margin
        painter.drawStaticText(x, rect.y() + (rect.height() - text_height) // 2, static)

    def _lay_out(self, text: str, width: int, option: Any) -> tuple[QStaticText, int, int]:
        """*text* elided to *width* in the view's font, laid out once (``QStaticText``)."""
        shown = option.fontMetrics.elidedText(text, option.textElideMode, width)
        static = QStaticText(shown)
        static.setTextFormat(Qt.TextFormat.PlainText)
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.NoWrap)
        text_option.setTextDirection(option.direction)
        static.setTextOption(text_option)
        static.prepare(font=option.font)
        size = static.size()
        return static, round(size.width()), round(size.height())

    def _margin(self, option: Any) -> int:
        """The style's text margin in a cell (as Qt's delegate leaves it), asked once."""
        margin = self._text_margin
        if margin is None:
            widget = option.widget
            style = widget.style() if widget is not None else None
            metric = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) if style else 2
            margin = self._text_margin = metric + 1
        return margin


class CallLogFilter(QSortFilterProxyModel):
    """Search text (name, number, line) and "this session"/"missed only"/direction filters (IN9)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._only = ""  # "", "session", "missed", "incoming", "outgoing"

    def set_text(self, text: str) -> None:
        from callsys.numbers import to_ascii_digits

        self._text = to_ascii_digits(text).strip().casefold()
        self.invalidate()

    def set_only(self, only: str) -> None:
        self._only = only
        self.invalidate()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, CallLogModel):
            return True
        row = model.row(source_row)
        if self._only == "session" and not row.this_session:
            return False
        if self._only == "missed" and not row.missed:
            return False
        if self._only in ("incoming", "outgoing") and row.direction != self._only:
            return False
        if self._text:
            digits = "".join(ch for ch in self._text if ch.isdigit())
            haystack = f"{row.name} {row.company} {row.line} {row.number}".casefold()
            if self._text not in haystack and not (
                digits and (digits in row.dial or digits in "".join(c for c in row.number if c.isdigit()))
            ):
                return False
        return True


class CallLogMenu(QObject):
    """The call log's context menu (IN9, IN11, OUT7): *Call back*, *Copy number*, *Open record*
    (Dynamics 365: its page in the browser; the built-in directory: the contact), *Add to
    contacts…* (the built-in directory, for a caller it does not know yet) and *Convert call…* —
    on a right click, the menu key or Shift+F10 on the selected call."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.row: LogRow | None = None
        view = window.log_view
        # A signal and a shortcut rather than an event filter: a Python event filter on the
        # log can be called while the garbage collector deletes a closed window, and crash.
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._requested)
        self.key_action = QAction(view)
        self.key_action.setObjectName("logMenuKey")
        self.key_action.setShortcuts([QKeySequence(Qt.Key.Key_Menu), QKeySequence("Shift+F10")])
        self.key_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.key_action.triggered.connect(lambda _=False: self.open_at(view.currentIndex()))
        view.addAction(self.key_action)
        self.menu = QMenu(window)
        self.menu.setObjectName("logMenu")
        self.call_back_action = self._action("logCallBack", window.call_back)
        self.copy_action = self._action("logCopyNumber", self.copy_number)
        self.open_action = self._action("logOpenRecord", self.open_record)
        self.add_action = self._action("logAddContact", self.add_contact)
        self.retranslate()

    def _action(self, name: str, run: Callable[[LogRow], Any]) -> Any:
        action = self.menu.addAction("")
        assert action is not None
        action.setObjectName(name)
        action.triggered.connect(lambda _=False: self.row is not None and run(self.row))
        return action

    def retranslate(self) -> None:
        self.call_back_action.setText(translate("CallLog", "&Call back"))
        self.copy_action.setText(translate("CallLog", "Cop&y number"))
        self.open_action.setText(translate("CallLog", "&Open record"))
        self.add_action.setText(translate("CallLog", "&Add to contacts…"))

    # ------------------------------------------------------------------ opening
    def _requested(self, pos: Any) -> None:
        """A right click (or the platform's context-menu gesture) at *pos* of the viewport."""
        view = self.window.log_view
        viewport = view.viewport()
        if viewport is not None:
            self.open_at(view.indexAt(pos), viewport.mapToGlobal(pos))

    def open_at(self, index: QModelIndex, where: Any = None) -> bool:
        """Select the call at *index* (of the view's model) and show the menu for it: at *where*
        (global), or under the call's row. False when there is no call there."""
        view = self.window.log_view
        row = index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None
        if not isinstance(row, LogRow):
            return False
        # Not view.selectRow(): in a right-to-left window it looks for the column at the
        # viewport's right edge, finds none, and selects nothing — then Convert call… found no
        # selected call ("Choose a call in the log first") in the Persian UI.
        selection = view.selectionModel()
        if selection is not None:
            flags = QItemSelectionModel.SelectionFlag
            selection.setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.row = row
        self.retranslate()  # in the language of the moment
        self.update_actions(row)
        if where is None:
            rect = view.visualRect(index)
            where = view.viewport().mapToGlobal(rect.bottomLeft() if rect.isValid() else view.rect().center())
        self.menu.popup(where)
        return True

    def update_actions(self, row: LogRow) -> None:
        window = self.window
        party = self.party(row)
        self.call_back_action.setEnabled(bool(row.dial))
        self.copy_action.setEnabled(bool(row.dial))
        self.open_action.setEnabled(party is not None)
        from callsys.crm.conversion import LocalBackend, backend_for

        local = isinstance(backend_for(window.desktop.crm), LocalBackend)  # the built-in directory
        self.add_action.setVisible(local)
        self.add_action.setEnabled(local and bool(row.dial) and party is None)
        convert = window.convert_action  # Convert call… (ui.convert.install)
        if convert is not None and convert not in self.menu.actions():
            self.menu.addSeparator()
            self.menu.addAction(convert)

    # ------------------------------------------------------------------ the actions
    def party(self, row: LogRow) -> Party | None:
        """The record the call was matched to — or, for a call that was not, the one its number
        finds in the directory now."""
        from callsys.crm.conversion import subject_for_row

        desktop = self.window.desktop
        live = desktop.manager.get(row.call_id) if row.this_session else None
        try:
            subject = subject_for_row(desktop, row.id, live)
        except Exception:  # a menu entry must not fail because the log or directory did
            log.exception("could not look up the record of call %s", row.id)
            return None
        if subject is None:
            return None
        return subject.party or (subject.candidates[0] if subject.candidates else None)

    def copy_number(self, row: LogRow) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and row.dial:
            clipboard.setText(row.dial)

    def open_record(self, row: LogRow) -> None:
        party = self.party(row)
        if party is not None:
            self.window.open_record(party)

    def add_contact(self, row: LogRow) -> None:
        from ui.convert import open_convert

        open_convert(self.window, row.id, action="contact")
