"""The contacts view (OUT3, OUT4): the configured CRM's directory in a dock of the main window.

* Browse (the local directory, in name order, a page at a time) and search as you type: the
  search waits until typing pauses (``SEARCH_DELAY_MS``) and runs as a CRM call through the
  window's ``TaskRunner`` — on the asyncio loop, so a Dynamics 365 search is network I/O that
  never blocks the window; an answer that comes after a newer search started is dropped.
* The local directory is edited here (add, edit, delete — ``LocalCrm``'s API) and imported from
  CSV or vCard with the report ``callsys directory import`` gives: records imported and updated,
  numbers stored, and each row that was left out with its line and reason. The import runs in a
  worker thread on its own database connection, shows its progress and can be cancelled (the
  import is one transaction: cancelled, nothing of it stays).
* Dynamics 365 is read-only here: *Open in Dynamics* opens the record in the browser.

Every number is shown with its type (work, mobile, home …; ``ui.texts.number_type_text``), here
and in every other place a number is picked (``number_choices``). ``NumberCompleter`` suggests
directory names and numbers under the number field while the agent types (a bounded search).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callsys.crm import BrowsableDirectory, EditableDirectory, RecordDetails
from callsys.errors import CallsysError
from callsys.model import Party, PartyKind
from callsys.numbers import to_ascii_digits

from ui.i18n import isolate, ltr, translate
from ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QCompleter,
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QEvent,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QItemSelectionModel,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QModelIndex,
    QObject,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    Qt,
    QTableView,
    QtGui,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
    discard,
    named,
    pyqtSignal,
)
from ui.texts import kind_text, number_type_text

if TYPE_CHECKING:
    from callsys.crm.local import LocalCrm
    from callsys.crm.local_import import ImportReport
    from callsys.store import Database

    from ui.window import WindowBase

__all__ = [
    "SEARCH_DELAY_MS",
    "ContactEditor",
    "ContactsModel",
    "ContactsView",
    "ImportDialog",
    "NumberCompleter",
    "number_choices",
    "number_label",
]

log = logging.getLogger(__name__)

#: How long typing must pause before the directory is searched (ms).
SEARCH_DELAY_MS = 250
#: Records per page when browsing, and per search.
PAGE = 200
#: Suggestions under the number field.
SUGGESTIONS = 8
#: The types a local number can be given in the editor: (field, what it is).
_EDIT_FIELDS = ("mobilephone", "telephone", "home", "fax")
_DYNAMICS = "dynamics"


def number_label(party: Party, index: int, display: Callable[[object], str]) -> str:
    """ "Mobile: 0912 345 6789" — a number of *party* with its type, kept left-to-right."""
    number = party.numbers[index]
    kind = number_type_text(party.field_of(index), party.kind)
    if not kind:
        return ltr(display(number))
    # An embedding, not an isolate: Qt's item views lay a Persian "همراه: 0912 …" out with the
    # number's groups reversed around an isolate (U+2066), and in order inside LRE … PDF.
    return f"{kind}: \u202a{display(number)}\u202c"


def number_choices(party: Party, display: Callable[[object], str]) -> list[tuple[str, str]]:
    """(label with the number's type, what to dial) for each number of *party*."""
    out = []
    for index, number in enumerate(party.numbers):
        target = number.e164 or number.digits or number.raw
        if target:
            out.append((number_label(party, index, display), target))
    return out


# ====================================================================== searching
class _WorkerConnection(threading.local):
    """The search worker thread's own database connection and directory over it (a SQLite
    connection is used in the thread that opened it); ``None`` until its first search."""

    db: Database | None = None
    crm: LocalCrm | None = None
    path: Path | None = None  # the database they are open on


class DirectorySearch:
    """Searches the CRM off the GUI thread.

    Dynamics 365 (any CRM but the local one): ``Crm.search`` on the window's asyncio loop —
    network I/O that never blocks the window. The local directory: ``LocalCrm.search_now`` on
    one worker thread with its own database connection — a search that finds nothing scans the
    names (tens of milliseconds at 100,000 records, ``benchmarks/contacts_search.py``), which the
    window must not wait for at every pause in typing. A search no longer wanted when its turn
    comes (the agent typed on) is skipped.
    """

    def __init__(self, window: WindowBase) -> None:
        self.window_ = window
        self._executor: ThreadPoolExecutor | None = None
        self._thread = _WorkerConnection()
        self.threads: set[str] = set()  # where local searches ran (for the tests)

    def _local_path(self) -> Path | None:
        from callsys.crm.local import LocalCrm
        from callsys.store import database_path

        desktop = self.window_.desktop
        if not isinstance(desktop.crm, LocalCrm):
            return None
        if str(desktop.settings.get("storage.database") or "") == ":memory:":
            return None  # one private database: only its own connection sees it
        return database_path(desktop.settings)

    async def search(
        self, text: str, limit: int, wanted: Callable[[], bool] = lambda: True
    ) -> list[Party] | None:
        """The records matching *text* (at most *limit*), or ``None`` when skipped."""
        crm = self.window_.desktop.crm
        path = self._local_path()
        if crm is None:
            return []
        if path is None:
            return list(await crm.search(text, limit))
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="directory-search")
        plan = self.window_.desktop.plan

        def work() -> list[Party] | None:
            if not wanted():
                return None
            from callsys.crm.local import LocalCrm
            from callsys.store import open_database

            local = self._thread.crm
            if local is None or self._thread.path != path:
                self._thread.db = open_database(path)
                local = self._thread.crm = LocalCrm(self._thread.db, plan)
                self._thread.path = path
            self.threads.add(threading.current_thread().name)
            return list(local.search_now(text, limit))

        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def close(self) -> None:
        """Close the worker's connection and let its thread end."""
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def close_connection() -> None:
            db = self._thread.db
            if db is not None:
                db.close()
                self._thread.db = self._thread.crm = None

        executor.submit(close_connection)
        executor.shutdown(wait=False)


def directory_search(window: WindowBase) -> DirectorySearch:
    """The window's one ``DirectorySearch`` (made on first use, closed with the window)."""
    found = window._directory_search
    if isinstance(found, DirectorySearch):
        return found
    search = DirectorySearch(window)
    window._directory_search = search
    window.closed.connect(search.close)
    return search


# ====================================================================== model
class ContactsModel(QAbstractTableModel):
    COLUMNS = ("name", "company", "kind", "numbers")

    def __init__(self, display: Callable[[object], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display
        self._parties: list[Party] = []

    def parties(self) -> list[Party]:
        return list(self._parties)

    def set_parties(self, parties: Sequence[Party]) -> None:
        self.beginResetModel()
        self._parties = list(parties)
        self.endResetModel()

    def append(self, parties: Sequence[Party]) -> None:
        if not parties:
            return
        start = len(self._parties)
        self.beginInsertRows(QModelIndex(), start, start + len(parties) - 1)
        self._parties.extend(parties)
        self.endInsertRows()

    def party(self, row: int) -> Party | None:
        return self._parties[row] if 0 <= row < len(self._parties) else None

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._parties)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation is not Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = (
            translate("Contacts", "Name"),
            translate("Contacts", "Company"),
            translate("Contacts", "Type"),
            translate("Contacts", "Numbers"),
        )
        return titles[section] if 0 <= section < len(titles) else None

    def data(self, index: QModelIndex, role: int = 0) -> Any:
        party = self.party(index.row()) if index.isValid() else None
        if party is None:
            return None
        if role == Qt.ItemDataRole.UserRole:
            return party
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        column = self.COLUMNS[index.column()]
        if column == "name":
            return party.name
        if column == "company":
            return party.company
        if column == "kind":
            return kind_text(party.kind)
        labels = [number_label(party, i, self._display) for i in range(len(party.numbers))]
        return ("\n" if role == Qt.ItemDataRole.ToolTipRole else "  ·  ").join(labels)


# ====================================================================== editor (local directory)
class ContactEditor(QDialog):
    """Add or edit one record of the local directory. OK stores it; a number that is not a
    phone number keeps the dialog open with the reason."""

    def __init__(self, crm: Any, party: Party | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contactEditor")
        self.crm = crm
        self.party = party
        self.saved: Party | None = None
        self.setWindowTitle(
            translate("Contacts", "Edit contact") if party else translate("Contacts", "New contact")
        )
        form = QFormLayout(self)
        self.name_edit = named(QLineEdit(party.name if party else ""), "contactName")
        self.company_edit = named(QLineEdit(party.company if party else ""), "contactCompany")
        self.kind_choice = named(QComboBox(), "contactKind")
        for kind in (PartyKind.CONTACT, PartyKind.ACCOUNT, PartyKind.LEAD):
            self.kind_choice.addItem(kind_text(kind), kind.value)
        if party is not None:
            self.kind_choice.setCurrentIndex(max(0, self.kind_choice.findData(party.kind.value)))
        details = crm.details(party.id) if party is not None and isinstance(crm, RecordDetails) else {}
        self.email_edit = named(QLineEdit(str(details.get("email", ""))), "contactEmail")
        form.addRow(translate("Contacts", "&Name:"), self.name_edit)
        form.addRow(translate("Contacts", "&Company:"), self.company_edit)
        form.addRow(translate("Contacts", "&Type:"), self.kind_choice)
        form.addRow(translate("Contacts", "&E-mail:"), self.email_edit)
        self.number_rows: list[tuple[QComboBox, QLineEdit]] = []
        self.numbers_box = QVBoxLayout()
        form.addRow(translate("Contacts", "Numbers:"), self.numbers_box)
        if party is not None:
            for index, number in enumerate(party.numbers):
                self.add_number(party.field_of(index) or "telephone", number.raw or str(number))
        if not self.number_rows:
            self.add_number("mobilephone", "")
        self.more_button = named(QPushButton(translate("Contacts", "&Add a number")), "addNumber")
        self.more_button.clicked.connect(lambda: self.add_number("telephone", ""))
        form.addRow("", self.more_button)
        self.error = named(QLabel(), "contactError")
        self.error.setStyleSheet("color: #c5221f;")
        self.error.setWordWrap(True)
        self.error.hide()
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(440, self.sizeHint().height())

    def add_number(self, field: str, text: str) -> None:
        row = QHBoxLayout()
        kind = QComboBox()
        kind.setObjectName("numberType")
        for name in _EDIT_FIELDS:
            kind.addItem(number_type_text(name), name)
        if kind.findData(field) < 0:
            kind.addItem(number_type_text(field) or field, field)  # a Dataverse field kept as it is
        kind.setCurrentIndex(max(0, kind.findData(field)))
        kind.setAccessibleName(translate("Contacts", "Number type"))
        edit = QLineEdit(text)
        edit.setObjectName("numberEdit")
        edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        edit.setAccessibleName(translate("Contacts", "Phone number"))
        row.addWidget(kind)
        row.addWidget(edit, 1)
        self.numbers_box.addLayout(row)
        self.number_rows.append((kind, edit))

    def numbers(self) -> list[tuple[str, str]]:
        return [
            (str(kind.currentData()), to_ascii_digits(edit.text()).strip())
            for kind, edit in self.number_rows
            if edit.text().strip()
        ]

    def save(self) -> None:
        name, company = self.name_edit.text().strip(), self.company_edit.text().strip()
        kind = str(self.kind_choice.currentData())
        try:
            if self.party is None:
                self.saved = self.crm.add(
                    name, self.numbers(), kind=kind, company=company, email=self.email_edit.text()
                )
            else:
                if not name and not company:
                    raise ValueError("a record needs a name or a company")
                self.saved = self.crm.update(
                    self.party.id,
                    name=name or company,
                    company=company,
                    kind=kind,
                    numbers=self.numbers(),
                    email=self.email_edit.text(),
                )
        except (ValueError, CallsysError) as exc:
            self.error.setText(translate("Contacts", "Not saved: {why}.").format(why=exc))
            self.error.show()
            return
        self.accept()


# ====================================================================== import
class ImportCancelled(Exception):
    """Raised in the import's progress callback: the transaction is rolled back."""


class ImportFailedHere(CallsysError):
    """The import could not start (no database)."""


class ImportDialog(QDialog):
    """Imports one CSV or vCard file into the local directory in a worker thread, with progress,
    Cancel, and the report of ``callsys directory import``."""

    progressed = pyqtSignal(int, int)  # from the worker thread; queued to the dialog
    finished_import = pyqtSignal(object)  # ImportReport, or None when it failed / was cancelled

    #: The import reports progress (and checks for Cancel) every this many rows.
    every = 200

    def __init__(self, window: WindowBase, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("importDialog")
        self.window_ = window
        self.setWindowTitle(translate("Contacts", "Import contacts"))
        self._cancel = threading.Event()
        self.report: ImportReport | None = None
        self.running = False
        layout = QVBoxLayout(self)
        self.file_label = named(QLabel(), "importFile")
        self.file_label.setWordWrap(True)
        self.progress = named(QProgressBar(), "importProgress")
        self.progress.setRange(0, 0)
        self.summary = named(QLabel(), "importSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.skipped = named(QPlainTextEdit(), "importSkipped")
        self.skipped.setReadOnly(True)
        self.skipped.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # "line 3: …" from the core
        self.skipped.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.cancel)
        for widget in (self.file_label, self.progress, self.summary, self.skipped):
            layout.addWidget(widget)
        layout.addWidget(self.buttons)
        self.progressed.connect(self._progressed)
        self.finished_import.connect(self._finished)
        self.resize(560, 200)

    def start(self, path: str | Path, fmt: str = "auto") -> asyncio.Future[Any] | None:
        """Import *path* (``fmt``: auto, csv, vcard) off the GUI thread."""
        from callsys.store import database_path

        path = Path(path)
        self.file_label.setText(translate("Contacts", "Importing {file}…").format(file=isolate(path.name)))
        self.summary.setText("")
        self.running = True
        desktop = self.window_.desktop
        in_memory = str(desktop.settings.get("storage.database") or "") == ":memory:"
        where = None if in_memory else database_path(desktop.settings)
        shared = desktop.db
        plan = desktop.plan
        cancel = self._cancel

        def work() -> ImportReport:
            from callsys.crm.local import LocalCrm
            from callsys.crm.local_import import import_csv, import_file, import_vcard
            from callsys.store import open_database

            db = open_database(where) if where is not None else shared  # its own connection
            if db is None:
                raise ImportFailedHere(translate("Contacts", "There is no database to import into."))
            try:
                crm = LocalCrm(db, plan)

                def tick(done: int, total: int) -> None:
                    if cancel.is_set() and done < total:  # done == total: already committed
                        raise ImportCancelled
                    self.progressed.emit(done, total)

                if fmt == "csv":
                    return import_csv(crm, path, tick, every=self.every)
                if fmt == "vcard":
                    return import_vcard(crm, path, tick, every=self.every)
                return import_file(crm, path, tick, every=self.every)
            finally:
                if where is not None:
                    db.close()

        async def run() -> ImportReport | None:
            try:
                return await asyncio.to_thread(work)
            except ImportCancelled:
                return None

        def stopped(why: str | None) -> None:
            self.running = False
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.file_label.setText(isolate(path.name))
            if why is None:
                self.summary.setText(translate("Contacts", "Cancelled: nothing of the file was imported."))
            else:
                self.summary.setText(
                    translate("Contacts", "The file could not be imported: {why}").format(why=why)
                )
            self._done_buttons()
            self.finished_import.emit(None)

        def done(report: ImportReport | None) -> None:
            if report is None:
                stopped(None)
            else:
                self.finished_import.emit(report)

        return self.window_.tasks.spawn(run(), done=done, failed=stopped)

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.file_label.setText(translate("Contacts", "Cancelling…"))
        else:
            self.reject()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, done, 1))
        self.progress.setValue(done)
        language = self.window_.language
        self.progress.setFormat(
            translate("Contacts", "{done} of about {total} rows").format(
                done=language.digits(f"{done:,}"), total=language.digits(f"{max(total, done):,}")
            )
        )

    def _finished(self, report: Any) -> None:
        if report is None:
            return
        self.running = False
        self.report = report
        digits = self.window_.language.digits
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("%p%")
        self.file_label.setText(
            translate("Contacts", "Imported {file}.").format(file=isolate(Path(report.path).name))
        )
        lines = [
            translate(
                "Contacts",
                "{imported} new record(s), {updated} updated, {numbers} phone number(s) stored, "
                "{skipped} row(s) skipped.",
            ).format(
                imported=digits(str(report.imported)),
                updated=digits(str(report.updated)),
                numbers=digits(str(report.numbers)),
                skipped=digits(str(len(report.skipped))),
            )
        ]
        if report.skipped:
            lines.append(translate("Contacts", "Skipped rows and why:"))
        self.summary.setText("\n".join(lines))
        # The reasons are the same sentences ``callsys directory import`` prints.
        self.skipped.setPlainText("\n".join(f"line {s.line}: {s.reason}" for s in report.skipped))
        self.skipped.setVisible(bool(report.skipped))
        self._done_buttons()

    def _done_buttons(self) -> None:
        """Cancel becomes Close (its ``rejected`` closes the dialog once nothing runs)."""
        self.buttons.clear()
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)

    def reject(self) -> None:
        if self.running:  # Escape or the window's close: cancel first, close when it stopped
            self.cancel()
            return
        super().reject()


# ====================================================================== the view
class ContactsView(QWidget):
    """The directory: search, the list, and what can be done with the chosen record."""

    dial_requested = pyqtSignal(str)

    def __init__(self, window: WindowBase, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contactsView")
        self.window_ = window
        self._generation = 0  # the newest search; older answers are dropped
        self._browsing = True
        self._exhausted = False
        self.searches = 0  # how many CRM searches ran (the debounce is visible in tests)
        self.import_dialog: ImportDialog | None = None
        #: The numbers' menu of the last click on Call, and the last right click's menu: each
        #: is closed and deleted when the next one is made.
        self.numbers_menu: QMenu | None = None
        self.context_menu: QMenu | None = None

        self.search_edit = named(QLineEdit(), "contactsSearch")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._typed)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SEARCH_DELAY_MS)
        self._delay.timeout.connect(self.search_now)

        self.model = ContactsModel(window.display_number, self)
        self.table = named(QTableView(), "contactsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list (rows, not cells, are picked)
        vertical = self.table.verticalHeader()
        if vertical is not None:
            vertical.hide()
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.call_selected())
        self.table.installEventFilter(self)  # Enter calls, Delete deletes (local directory)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        selection = self.table.selectionModel()
        if selection is not None:
            selection.selectionChanged.connect(lambda *_: self._refresh_buttons())
        scroll = self.table.verticalScrollBar()
        if scroll is not None:
            scroll.valueChanged.connect(self._scrolled)

        self.status = named(QLabel(), "contactsStatus")
        self.status.setWordWrap(True)
        self.call_button = named(QPushButton(), "contactsCall")
        self.call_button.clicked.connect(self.call_selected)
        self.add_button = named(QPushButton(), "contactsAdd")
        self.add_button.clicked.connect(self.add_contact)
        self.edit_button = named(QPushButton(), "contactsEdit")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = named(QPushButton(), "contactsDelete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.import_button = named(QPushButton(), "contactsImport")
        self.import_button.clicked.connect(self.choose_import)
        self.open_button = named(QPushButton(), "contactsOpen")
        self.open_button.clicked.connect(self.open_selected)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.import_button)
        actions = QHBoxLayout()
        for button in (
            self.call_button,
            self.open_button,
            self.add_button,
            self.edit_button,
            self.delete_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        self.retranslate()

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched is self.table and event is not None and event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.call_selected()
                return True
            if event.key() == Qt.Key.Key_Delete and self.editable:
                self.delete_selected()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ what the CRM is
    @property
    def crm(self) -> Any:
        return self.window_.desktop.crm

    @property
    def editable(self) -> bool:
        """The local directory is edited here; Dynamics 365 only in Dynamics."""
        crm = self.crm
        return crm is not None and crm.name == "local" and isinstance(crm, EditableDirectory)

    @property
    def is_dynamics(self) -> bool:
        return self.crm is not None and self.crm.name == _DYNAMICS

    # ------------------------------------------------------------------ browse and search
    def reload(self) -> None:
        """Show the directory again from the start (after an import, an edit, a new CRM)."""
        text = self.search_edit.text().strip()
        if text:
            self.search_now()
        else:
            self.browse()

    def browse(self) -> None:
        """The local directory in name order, the first page (more on scrolling down)."""
        self._generation += 1
        self._browsing = True
        self._exhausted = False
        crm = self.crm
        if isinstance(crm, BrowsableDirectory):
            self.model.set_parties(crm.list_parties(limit=PAGE))
            self._exhausted = self.model.rowCount() < PAGE
        else:
            self.model.set_parties([])
            self._exhausted = True
        self._show_status()
        self._refresh_buttons()

    def _scrolled(self, value: int) -> None:
        scroll = self.table.verticalScrollBar()
        if scroll is not None and value >= scroll.maximum() - 2:
            self.more()

    def more(self) -> None:
        """The next page of the local directory while browsing."""
        crm = self.crm
        if not self._browsing or self._exhausted or not isinstance(crm, BrowsableDirectory):
            return
        page = crm.list_parties(limit=PAGE, offset=self.model.rowCount())
        self._exhausted = len(page) < PAGE
        self.model.append(page)
        self._show_status()

    def _typed(self, _text: str) -> None:
        self._delay.start()  # restarted by each key: one search once typing pauses

    def search_now(self) -> None:
        self._delay.stop()
        text = self.search_edit.text().strip()
        if not text:
            self.browse()
            return
        crm = self.crm
        if crm is None:
            self._show_status()
            return
        self._generation += 1
        generation = self._generation
        self._browsing = False
        self.searches += 1
        self.status.setText(translate("Contacts", "Searching…"))

        def found(parties: Any) -> None:
            if parties is None or generation != self._generation:
                return  # a newer search (or browse) has started: this answer is stale
            self.model.set_parties(list(parties or []))
            self._show_status()
            self._refresh_buttons()

        def failed(why: str) -> None:
            if generation == self._generation:
                self.status.setText(
                    translate("Contacts", "The directory could not be searched: {why}").format(why=why)
                )

        def wanted() -> bool:
            return generation == self._generation

        self.window_.tasks.spawn(
            directory_search(self.window_).search(text, PAGE, wanted), done=found, failed=failed
        )

    def _show_status(self) -> None:
        digits = self.window_.language.digits
        crm = self.crm
        if crm is None:
            text = translate("Contacts", "There is no directory: the CRM is not available.")
        elif self.is_dynamics and self._browsing:
            text = translate("Contacts", "Type a name or a number to search Dynamics 365.")
        elif self._browsing:
            try:
                total = crm.count() if isinstance(crm, BrowsableDirectory) else self.model.rowCount()
            except Exception:  # the database is closed (the window is closing)
                total = self.model.rowCount()
            text = translate("Contacts", "{shown} of {total} records").format(
                shown=digits(str(self.model.rowCount())), total=digits(str(total))
            )
        elif self.model.rowCount() == 0:
            text = translate("Contacts", "No record matches “{text}”.").format(
                text=self.search_edit.text().strip()
            )
        else:
            text = translate("Contacts", "{count} record(s) found").format(
                count=digits(str(self.model.rowCount()))
            )
        self.status.setText(text)

    # ------------------------------------------------------------------ the chosen record
    def selected(self) -> Party | None:
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return self.model.party(rows[0].row()) if rows else None

    def select_row(self, row: int) -> None:
        selection = self.table.selectionModel()
        index = self.model.index(row, 0)
        if selection is None or not index.isValid():
            return
        flags = QItemSelectionModel.SelectionFlag
        selection.setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.table.scrollTo(index)

    def _refresh_buttons(self) -> None:
        party = self.selected()
        editable = self.editable
        self.add_button.setVisible(editable)
        self.edit_button.setVisible(editable)
        self.delete_button.setVisible(editable)
        self.import_button.setVisible(editable)
        self.open_button.setVisible(self.is_dynamics)
        self.edit_button.setEnabled(party is not None)
        self.delete_button.setEnabled(party is not None)
        self.open_button.setEnabled(party is not None and bool(self._record_url(party)))
        self.call_button.setEnabled(party is not None and bool(party.numbers))
        self.search_edit.setEnabled(self.crm is not None)

    def _record_url(self, party: Party | None) -> str:
        if party is None or self.crm is None:
            return ""
        return str(self.window_.record_url(party))

    def call_menu(self, party: Party) -> QMenu:
        """A menu of the record's numbers, each with its type."""
        menu = QMenu(self)
        menu.setObjectName("contactNumbers")
        for label, target in number_choices(party, self.window_.display_number):
            action = menu.addAction(label)
            if action is not None:
                action.triggered.connect(lambda _=False, t=target: self.dial_requested.emit(t))
        return menu

    def call_selected(self) -> None:
        party = self.selected()
        if party is None:
            return
        choices = number_choices(party, self.window_.display_number)
        if len(choices) == 1:
            self.dial_requested.emit(choices[0][1])
        elif choices:
            discard(self.numbers_menu)  # the one of the previous click
            self.numbers_menu = self.call_menu(party)
            self.numbers_menu.popup(self.call_button.mapToGlobal(self.call_button.rect().bottomLeft()))

    def _context_menu(self, at: Any) -> None:
        index = self.table.indexAt(at)
        if not index.isValid():
            return
        self.select_row(index.row())
        party = self.selected()
        if party is None:
            return
        discard(self.context_menu)  # the one of the previous right click
        menu = self.call_menu(party)
        if self.editable:
            menu.addSeparator()
            edit = menu.addAction(translate("Contacts", "Edit…"))
            if edit is not None:
                edit.triggered.connect(self.edit_selected)
            delete = menu.addAction(translate("Contacts", "Delete"))
            if delete is not None:
                delete.triggered.connect(self.delete_selected)
        elif self._record_url(party):
            menu.addSeparator()
            opened = menu.addAction(translate("Contacts", "Open in Dynamics"))
            if opened is not None:
                opened.triggered.connect(self.open_selected)
        self.context_menu = menu
        viewport = self.table.viewport()
        menu.popup(viewport.mapToGlobal(at) if viewport is not None else at)

    def open_selected(self) -> None:
        url = self._record_url(self.selected())
        if url:
            QDesktopServices.openUrl(QUrl(url))

    def add_contact(self, number: str = "") -> ContactEditor | None:
        if not self.editable:
            return None
        editor = ContactEditor(self.crm, None, self)
        if number:
            editor.number_rows[0][1].setText(number)
        editor.accepted.connect(lambda: self._saved(editor.saved))
        self.editor = editor
        editor.open()
        return editor

    def edit_selected(self) -> ContactEditor | None:
        party = self.selected()
        if party is None or not self.editable:
            return None
        editor = ContactEditor(self.crm, party, self)
        editor.accepted.connect(lambda: self._saved(editor.saved))
        self.editor = editor
        editor.open()
        return editor

    def _saved(self, party: Party | None) -> None:
        self.reload()
        if party is not None:
            for row, shown in enumerate(self.model.parties()):
                if shown.id == party.id:
                    self.select_row(row)
                    break
            self.window_.show_message(translate("Contacts", "Saved {name}.").format(name=party.name))

    def delete_selected(self, *, confirm: bool = True) -> bool:
        party = self.selected()
        if party is None or not self.editable:
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                translate("Contacts", "Delete contact"),
                translate("Contacts", "Delete {name} from the directory?").format(name=isolate(party.name)),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        gone = bool(self.crm.delete(party.id))
        self.reload()
        if gone:
            self.window_.show_message(translate("Contacts", "Deleted {name}.").format(name=party.name))
        return gone

    def choose_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            translate("Contacts", "Import contacts"),
            "",
            translate("Contacts", "Contacts (*.csv *.vcf *.vcard *.txt);;All files (*)"),
        )
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path, fmt: str = "auto") -> ImportDialog:
        dialog = ImportDialog(self.window_, self)
        dialog.finished_import.connect(lambda _report: self.reload())
        self.import_dialog = dialog
        dialog.show()
        dialog.start(path, fmt)
        return dialog

    # ------------------------------------------------------------------ language
    def retranslate(self) -> None:
        self.search_edit.setPlaceholderText(translate("Contacts", "Search by name, company or number"))
        self.search_edit.setAccessibleName(translate("Contacts", "Search the contacts"))
        self.table.setAccessibleName(translate("Contacts", "Contacts"))
        self.call_button.setText(translate("Contacts", "&Call"))
        self.add_button.setText(translate("Contacts", "&Add…"))
        self.edit_button.setText(translate("Contacts", "&Edit…"))
        self.delete_button.setText(translate("Contacts", "&Delete"))
        self.import_button.setText(translate("Contacts", "&Import…"))
        self.import_button.setToolTip(translate("Contacts", "Import a CSV or vCard file into the directory"))
        self.open_button.setText(translate("Contacts", "&Open in Dynamics"))
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(ContactsModel.COLUMNS) - 1)
        self.model.layoutChanged.emit()
        self._show_status()
        self._refresh_buttons()


# ====================================================================== suggestions under the number field
class NumberCompleter(QObject):
    """Directory names and numbers under the number field while the agent types: a bounded CRM
    search (``SUGGESTIONS`` records) once typing pauses; choosing one puts its number in the field."""

    def __init__(self, window: WindowBase, edit: QLineEdit) -> None:
        super().__init__(edit)
        self.window_ = window
        self.edit = edit
        self.model = QtGui.QStandardItemModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setObjectName("numberCompleter")
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCompletionRole(Qt.ItemDataRole.UserRole)
        self.completer.setWidget(edit)
        self.completer.activated[str].connect(self.choose)
        self._generation = 0
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SEARCH_DELAY_MS)
        self._delay.timeout.connect(self.suggest)
        edit.textEdited.connect(lambda _text: self._delay.start())

    def suggestions(self) -> list[tuple[str, str]]:
        """(what the list shows, the number it dials)."""
        out = []
        for row in range(self.model.rowCount()):
            item = self.model.item(row)
            if item is not None:
                out.append((item.text(), str(item.data(Qt.ItemDataRole.UserRole))))
        return out

    def suggest(self) -> None:
        self._delay.stop()
        text = to_ascii_digits(self.edit.text()).strip()
        crm = self.window_.desktop.crm
        self._generation += 1
        generation = self._generation
        if crm is None or len(text) < 2 or ":" in text or "@" in text:
            self.model.clear()
            popup = self.completer.popup()
            if popup is not None:
                popup.hide()
            return

        def found(parties: Any) -> None:
            if (
                parties is None
                or generation != self._generation
                or to_ascii_digits(self.edit.text()).strip() != text
            ):
                return
            self.model.clear()
            for party in list(parties or [])[:SUGGESTIONS]:
                for label, target in number_choices(party, self.window_.display_number):
                    item = QtGui.QStandardItem(f"{party.name} — {label}")
                    item.setData(target, Qt.ItemDataRole.UserRole)
                    self.model.appendRow(item)
            if self.model.rowCount() and self.edit.hasFocus():
                self.completer.complete()
            else:
                popup = self.completer.popup()
                if popup is not None:
                    popup.hide()

        def wanted() -> bool:
            return generation == self._generation

        self.window_.tasks.spawn(
            directory_search(self.window_).search(text, SUGGESTIONS, wanted),
            done=found,
            failed=lambda _why: None,
        )

    def choose(self, target: str) -> None:
        self._generation += 1  # a search still under way must not reopen the list
        self.edit.setText(target)
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)
