"""The agent's main window: dial field, the calls in progress, the session call log, the status of
the phone connection, and the pop-ups of ringing calls (IN3, IN5, IN9, OUT3, SET3, SET4, B1).

The window keeps no idea of its own about a call: everything it shows comes from the
CallManager's snapshots through the one ``CallBridge``; everything it does goes to the provider
as an async command through ``TaskRunner``. It offers only what the provider's capabilities
allow. The widgets it holds never call it back: they ask by signals, which it connects here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from callsys.errors import CallsysError, ConfigError
from callsys.model import Call, CallEvent, CallState, Direction, Party, PhoneNumber
from callsys.numbers import choose_line, number_from_uri, to_ascii_digits
from callsys.provider import (
    Capability,
    Line,
    PerCallVoicemail,
    ProviderStatus,
    ScenarioPlayer,
    SipAddressDialing,
)
from callsys.session import CallSession
from callsys.settings import (
    AREA_CODE,
    AUTO_ANSWER,
    CALENDAR,
    DEFAULT_LINE,
    DIAL_PREFIX,
    DND,
    LANGUAGE,
    MIN_LOG_DIGITS,
    OPTIONS,
    PHONE_PROVIDER,
    PROVIDER_OPTIONS,
)

from ui.bridge import CallBridge
from ui.calllogview import (
    CallLogDelegate,
    CallLogFilter,
    CallLogMenu,
    CallLogModel,
    LogRow,
    row_from_call,
    row_from_record,
)
from ui.callpanel import CallPanel
from ui.contacts import NumberCompleter
from ui.convert import install as install_convert
from ui.details import PartyDetailsDialog
from ui.firststart import FirstStartPanel, phone_state
from ui.heap import HeapTrimmer
from ui.hotkeys import Hotkeys
from ui.i18n import Language, format_time, ltr, translate
from ui.mainwindow.actions import create_actions, hotkey_handlers, refresh_enabled
from ui.mainwindow.actions import retranslate as retranslate_actions
from ui.mainwindow.docks import SideDocks
from ui.mainwindow.menus import Menus
from ui.mainwindow.statusbar import StatusParts
from ui.notes import NotesForm
from ui.popup import PopupStack
from ui.qt import (
    QAbstractItemView,
    QAction,
    QApplication,
    QComboBox,
    QDesktopServices,
    QDockWidget,
    QEvent,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    Qt,
    QTableView,
    QtCore,
    QTimer,
    QToolButton,
    QUrl,
    QVBoxLayout,
    QWidget,
    discard,
    named,
    pyqtSignal,
)
from ui.schemes import sip_address
from ui.tasks import TaskRunner
from ui.texts import audio_warning, direction_text, number_type_text
from ui.tray import Tray
from ui.updater import UpdateAgent, UpdateBar
from ui.window import WindowBase

if TYPE_CHECKING:
    from callsys.crm.dynamics.phoneindex import SyncProgress

    from ui.contacts import ContactsView
    from ui.dialpad import DialPad

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)

#: A new ringing call's log row, call panel and menus wait at most this long for its pop-up's paint.
AFTER_PAINT_MS = 50


def elided(text: str, limit: int = 60) -> str:
    """*text* cut to *limit* characters with "…": what a message quotes of the agent's input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MainWindow(WindowBase):
    #: Emitted once the provider has started (or failed) and the log is loaded.
    ready = pyqtSignal()
    log_model: CallLogModel  # the widgets know it as WindowBase.log_model: CallLogRows

    def __init__(self, desktop: CallSession, language: Language, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desktop = desktop
        self.language = language
        self.setObjectName("mainWindow")
        self.bridge = CallBridge(desktop.manager, self)
        self.tasks = TaskRunner(self.show_message)
        self._lines: tuple[Line, ...] = ()
        self._status: ProviderStatus | None = None
        self._closing = False
        self.details_dialogs: list[PartyDetailsDialog] = []

        self.popups = PopupStack(self.call_capabilities, self.display_number, self)
        self.popups.answer_requested.connect(self.answer)
        self.popups.reject_requested.connect(self.reject)
        self.popups.voicemail_requested.connect(self.send_to_voicemail)
        self.popups.record_requested.connect(self.open_record)
        self.popups.party_chosen.connect(self._party_chosen)
        self.popups.painted.connect(self._popup_painted)
        #: call events whose window work waits for a new pop-up's first paint (see _ring_first)
        self._after_paint: list[tuple[CallEvent, Call]] = []
        #: ringing calls whose pop-up waits for an earlier pop-up's paint (several INVITEs at once)
        self._rings_waiting: list[str] = []
        self._after_paint_timer = QTimer(self)
        self._after_paint_timer.setSingleShot(True)
        self._after_paint_timer.timeout.connect(self._run_after_paint)

        self._quitting = False
        self._closed = False
        self._ending = False  # SIGTERM: quit without asking (end_session)
        self._started = False
        self._pending_links: list[str] = []
        self.hotkey_problems: list[str] = []  # what the hotkeys could not take (a banner)
        self.directory_menu: QMenu | None = None  # a directory search's choices, one at a time
        self._build()
        self.tray = Tray(self, QApplication.windowIcon(), self.display_number, (self.dnd_action,))
        self.tray.show_requested.connect(self.bring_forward)
        self.tray.quit_requested.connect(self.quit)
        install_convert(self)  # Phone → Convert call… and the call log's context menu (IN11, OUT7)
        self.log_menu = CallLogMenu(self)  # the log's context menu: call back, copy, open, add, convert
        self.bridge.call_event.connect(self._on_call_event)
        self.bridge.status_changed.connect(self._on_status)
        self.bridge.message.connect(self.show_message)
        for status in desktop.manager.statuses.values():
            self._on_status(status)
        self.hotkey_problems = self.hotkeys.apply(desktop.settings)
        self.retranslate()
        self._refresh_actions()

    # ================================================================== building
    def _build(self) -> None:
        central = QWidget(self)
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 4)

        # --- banner: a part that could not start (provider, CRM, database)
        self.banner = named(QFrame(), "banner")
        self.banner.setStyleSheet(
            "#banner { background: #fef7e0; border: 1px solid #f9ab00; border-radius: 6px; }"
        )
        banner_box = QHBoxLayout(self.banner)
        self.banner_label = named(QLabel(), "bannerText")
        self.banner_label.setWordWrap(True)
        self.banner_sim_button = named(QPushButton(), "bannerSimButton")
        self.banner_sim_button.clicked.connect(lambda: self.use_provider("sim"))
        self.banner_close = named(QToolButton(), "bannerClose")
        self.banner_close.setText("✕")
        self.banner_close.clicked.connect(self.banner.hide)
        banner_box.addWidget(self.banner_label, 1)
        banner_box.addWidget(self.banner_sim_button)
        banner_box.addWidget(self.banner_close)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.first_start = FirstStartPanel(self)  # shown by ``show_first_start`` (no settings file)
        layout.addWidget(self.first_start)

        # --- dial bar (OUT3, SET3, SET4)
        dial_bar = QHBoxLayout()
        self.dial_label = named(QLabel(), "dialLabel")
        self.dial_edit = named(QLineEdit(), "dialEdit")
        self.dial_edit.setClearButtonEnabled(True)
        self.dial_edit.returnPressed.connect(self.dial_from_field)
        self.dial_label.setBuddy(self.dial_edit)
        self.number_completer = NumberCompleter(self, self.dial_edit)  # directory names and numbers
        self.line_choice = named(QComboBox(), "lineChoice")
        self.line_label = named(QLabel(), "lineLabel")
        self.line_label.setBuddy(self.line_choice)
        self.dial_button = named(QPushButton(), "dialButton")
        self.dial_button.setStyleSheet(
            "QPushButton#dialButton { background: #188038; color: white; font-weight: bold;"
            " padding: 5px 18px; border-radius: 4px; }"
            "QPushButton#dialButton:disabled { background: #9aa0a6; }"
        )
        self.dial_button.clicked.connect(self.dial_from_field)
        dial_bar.addWidget(self.dial_label)
        dial_bar.addWidget(self.dial_edit, 1)
        dial_bar.addWidget(self.line_label)
        dial_bar.addWidget(self.line_choice)
        dial_bar.addWidget(self.dial_button)
        layout.addLayout(dial_bar)
        # Why the number in the field was not dialled: beside the field, until it is edited (OUT3).
        self.dial_error = named(QLabel(), "dialError")
        self.dial_error.setWordWrap(True)
        self.dial_error.setTextFormat(Qt.TextFormat.PlainText)  # it quotes what was typed or linked
        self.dial_error.setStyleSheet("color: #c5221f;")
        self.dial_error.hide()
        self.dial_edit.textEdited.connect(lambda _text: self.dial_error.hide())
        layout.addWidget(self.dial_error)

        # --- calls in progress (filled by ui.callpanel when present)
        self.calls_area = QVBoxLayout()
        layout.addLayout(self.calls_area)
        self.call_panel = CallPanel(self.display_number, self.call_capabilities, self.language, self)
        self._connect_call_panel(self.call_panel)
        self.calls_area.addWidget(self.call_panel)

        # --- call log (IN9)
        log_bar = QHBoxLayout()
        self.log_title = named(QLabel(), "logTitle")
        self.log_title.setStyleSheet("font-weight: bold; font-size: 12pt;")
        self.missed_badge = named(QToolButton(), "missedBadge")
        self.missed_badge.setStyleSheet(
            "QToolButton#missedBadge { background: #c5221f; color: white; border-radius: 9px;"
            " padding: 1px 8px; font-weight: bold; }"
        )
        self.missed_badge.clicked.connect(self.show_missed)
        self.missed_badge.hide()
        self.log_search = named(QLineEdit(), "logSearch")
        self.log_search.setClearButtonEnabled(True)
        self.log_search.setMinimumWidth(220)
        self.log_filter = named(QComboBox(), "logFilter")
        self.log_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        log_bar.addWidget(self.log_title)
        log_bar.addWidget(self.missed_badge)
        log_bar.addStretch(1)
        log_bar.addWidget(self.log_filter)
        log_bar.addWidget(self.log_search)
        layout.addLayout(log_bar)

        self.log_model = CallLogModel(self)
        self.log_model.missed_changed.connect(self._on_missed)
        self.log_proxy = CallLogFilter(self)
        self.log_proxy.setSourceModel(self.log_model)
        self.log_search.textChanged.connect(self.log_proxy.set_text)
        self.log_filter.currentIndexChanged.connect(self._filter_changed)
        self.log_view = named(QTableView(), "logView")
        self.log_view.setModel(self.log_proxy)
        self.log_view.setItemDelegate(CallLogDelegate(self.log_model, self.log_proxy, self.log_view))
        self.log_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.log_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.log_view.setTabKeyNavigation(False)  # Tab leaves the log: it was a keyboard trap
        self.log_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.log_view.setAlternatingRowColors(True)
        vertical = self.log_view.verticalHeader()
        if vertical is not None:
            vertical.hide()
        self.log_view.setWordWrap(False)
        header = self.log_view.horizontalHeader()
        assert header is not None
        # Not ResizeToContents: that measures every row on every change, and a ring must not
        # cost more with each call in the log (benchmarks/ui_popup_latency.py). Columns are
        # sized from a sample row and the header texts, per language.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self.log_view.doubleClicked.connect(self._log_activated)
        self.log_view.installEventFilter(self)  # Enter on a log entry calls back (IN9: one key)
        self.notes = NotesForm(self.display_number, self)
        self.notes.save_requested.connect(self.save_notes)
        lower = QHBoxLayout()
        lower.addWidget(self.log_view, 1)
        lower.addWidget(self.notes)
        self.notes.setMaximumWidth(380)
        layout.addLayout(lower, 1)
        self.setCentralWidget(central)

        # --- the contacts view and the dial pad: docks, built when first shown
        self.docks = SideDocks(self)
        self.docks.dial_requested.connect(self.dial_into_field)

        # --- status bar: the phone's state, the phone index's sync (B3), updates (SET5)
        status_bar = self.statusBar()
        assert status_bar is not None
        # SET5: a signed update, downloaded in the background, then "restart to update"
        self.updates = UpdateAgent(self.desktop.settings, self)
        self.update_bar = UpdateBar(self.updates, self)
        self.update_bar.restart_requested.connect(self.restart_to_update)
        self.updates.system.connect(lambda _source: self.show_message(self.update_bar.system_text()))
        #: The verified installer to install once the window has closed (``ui.app.run``).
        self.pending_update: Any = None
        self.status_parts = StatusParts(status_bar, self.language, self.update_bar)
        self.status_label, self.status_dot = self.status_parts.status_label, self.status_parts.status_dot
        self.sync_label, self.sync_bar = self.status_parts.sync_label, self.status_parts.sync_bar
        self.desktop.sync_progress = self.show_sync_progress

        self._build_menus()
        self.setTabOrder(self.dial_edit, self.line_choice)
        self.setTabOrder(self.line_choice, self.dial_button)
        # the call in progress sits between the number field and the log: so does its Tab stop
        before_badge: QWidget = self.dial_button
        panel = self.call_panel
        if panel is not None:
            self.setTabOrder(self.dial_button, panel.hold_button)
            for first, then in zip(panel.tab_stops(), panel.tab_stops()[1:], strict=False):
                self.setTabOrder(first, then)
            before_badge = panel.tab_stops()[-1]
        # the "N missed" badge beside "Recent calls": after the Call button, not before the field
        self.setTabOrder(before_badge, self.missed_badge)
        self.setTabOrder(self.missed_badge, self.log_filter)
        self.setTabOrder(self.log_filter, self.log_search)
        self.setTabOrder(self.log_search, self.log_view)
        self.resize(980, 640)

        self.trimmer = HeapTrimmer(self)  # freed memory back to the system at quiet moments
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)

    def _build_menus(self) -> None:
        """The menu bar from the action table (``ui.mainwindow.actions``, ``ui.mainwindow.menus``)."""
        self.hotkeys = Hotkeys(hotkey_handlers(self), self)
        self.hotkeys.bring_forward = self.bring_forward  # CARD6
        for action in self.hotkeys.actions.values():
            self.addAction(action)
        #: every action of the menus by its id (``ui.mainwindow.actions.ACTIONS``)
        self.window_actions = create_actions(self, self.hotkeys.actions)
        self.menus = Menus(self, self.window_actions, self.set_language, self.simulate)
        actions, menus = self.window_actions, self.menus.menus
        self.settings_action, self.quit_action = actions["settings"], actions["quit"]
        self.scheme_action, self.dnd_action = actions["links"], actions["dnd"]
        self.jalali_action, self.reports_action = actions["jalali"], actions["reports"]
        self.ring_action, self.about_action = actions["ring"], actions["about"]
        self.log_folder_action = actions["log_folder"]
        self.docks.tick(actions["contacts"], actions["dialpad"])
        self.file_menu, self.phone_menu, self.view_menu = (
            menus["fileMenu"],
            menus["phoneMenu"],
            menus["viewMenu"],
        )
        self.simulate_menu, self.help_menu = menus["simulateMenu"], menus["helpMenu"]
        self.language_menu, self.lang_en, self.lang_fa = (
            self.menus.language_menu,
            self.menus.lang_en,
            self.menus.lang_fa,
        )
        self.simulate_actions = self.menus.simulate_actions
        self.simulate_menu_action: QAction = self.menus.menu_actions["simulateMenu"]

    def retranslate(self) -> None:
        self._update_title()
        self.dial_label.setText(translate("MainWindow", "&Number:"))
        self.dial_edit.setPlaceholderText(
            translate("MainWindow", "Number, name or tel: link — Enter dials or searches")
        )
        self.dial_edit.setAccessibleName(translate("MainWindow", "Number to dial"))
        self.line_label.setText(translate("MainWindow", "&Line:"))
        self.line_choice.setAccessibleName(translate("MainWindow", "Line to dial from"))
        self.dial_button.setText(translate("MainWindow", "Call"))
        self.dial_button.setAccessibleName(translate("MainWindow", "Call the number"))
        self.banner_sim_button.setText(translate("MainWindow", "Use the simulator"))
        self.banner_close.setAccessibleName(translate("MainWindow", "Hide this message"))
        self.log_title.setText(translate("MainWindow", "Recent calls"))
        self.log_search.setPlaceholderText(translate("MainWindow", "Search the log"))
        self.log_search.setAccessibleName(translate("MainWindow", "Search the call log"))
        self.log_view.setAccessibleName(translate("MainWindow", "Call log"))
        self.log_filter.setAccessibleName(translate("MainWindow", "Show"))
        current = max(0, self.log_filter.currentIndex())
        self.log_filter.blockSignals(True)
        self.log_filter.clear()
        for text, key in (
            (translate("MainWindow", "All calls"), ""),
            (translate("MainWindow", "This session"), "session"),
            (translate("MainWindow", "Missed"), "missed"),
            (translate("MainWindow", "Incoming"), "incoming"),
            (translate("MainWindow", "Outgoing"), "outgoing"),
        ):
            self.log_filter.addItem(text, key)
        self.log_filter.setCurrentIndex(current)
        self.log_filter.blockSignals(False)
        retranslate_actions(self.window_actions)
        self.menus.retranslate(self.language.code)
        self.docks.retranslate()
        self.update_bar.retranslate()
        self.jalali_action.blockSignals(True)
        self.jalali_action.setChecked(self.language.calendar == "jalali")
        self.jalali_action.blockSignals(False)
        self._on_missed(self.log_model.unseen_missed)
        self.tray.retranslate()
        self._show_status()
        self._show_problems()
        self.log_model.texts_changed()
        self._size_log_columns()

    def changeEvent(self, event: QEvent | None) -> None:
        if event is not None and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if (
            watched is self.log_view
            and event is not None
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.call_back_selected()
            return True
        return super().eventFilter(watched, event)

    # Window placement is the window system's business, not a setting: Qt's own store.
    def restore_placement(self) -> None:
        stored = QtCore.QSettings("callsys", "callsys").value("window/geometry")
        if isinstance(stored, QtCore.QByteArray) and not stored.isEmpty():
            self.restoreGeometry(stored)
        docks = QtCore.QSettings("callsys", "callsys").value("window/docks")
        if isinstance(docks, QtCore.QByteArray) and not docks.isEmpty():
            self.restoreState(docks)  # the contacts view and the dial pad where they were
            self.docks.restored()

    def save_placement(self) -> None:
        QtCore.QSettings("callsys", "callsys").setValue("window/geometry", self.saveGeometry())
        QtCore.QSettings("callsys", "callsys").setValue("window/docks", self.saveState())

    def _size_log_columns(self) -> None:
        """Column widths from the header text and a typical value, once per language."""
        metrics = self.log_view.fontMetrics()
        samples = {
            0: format_time(datetime(2026, 12, 28, 23, 59, 59)),
            1: "Sara Ahmadi · Ahmadi",
            2: "+1 415-555-0100",
            3: max((direction_text(d) for d in Direction), key=len),
            4: "Support",
            5: "0:00:00",
        }
        for column, sample in samples.items():
            title = str(self.log_model.headerData(column, Qt.Orientation.Horizontal))
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title)) + 24
            self.log_view.setColumnWidth(column, width)

    # ================================================================== start / stop
    async def start(self, uris: list[str] | None = None) -> None:
        """Start the provider and load the persisted log; then dial any links we were given."""
        self.load_log()
        self.desktop.start_background()
        self.updates.start()
        self.pull_server_settings()
        await self.desktop.start_provider()
        self._show_problems()
        self._refresh_actions()
        self._started = True
        self._follow_clock()
        # The first ring's pop-up is built now, in the loop's next turn, not when it rings (IN3).
        QTimer.singleShot(0, self._prepare_popup)
        for uri in [*(uris or []), *self._pending_links]:
            self.dial_into_field(uri)
        self._pending_links.clear()
        self.ready.emit()

    def _prepare_popup(self) -> None:
        if not self._closed:
            self.popups.prepare()

    def pull_server_settings(self) -> asyncio.Future[Any] | None:
        """Fetch the callsys server's settings layer (``callsys.serverlayer``) off the window's
        thread and apply it; the copy kept beside the settings file applies from the next start."""
        from callsys.serverlayer import pull, server_address

        settings = self.desktop.settings
        if not server_address(settings) or settings.path is None:
            return None

        def pulled(result: Any) -> None:
            doc, path = result
            before = {key: settings.get(key) for key in OPTIONS}
            settings.set_server_values(doc["values"], source=doc["server"], locked=doc["locked"], path=path)
            changed = [key for key in OPTIONS if settings.get(key) != before[key]]
            log.info("settings from the callsys server %s: %d changed", doc["server"], len(changed))
            if changed:
                self.show_message(
                    translate(
                        "MainWindow",
                        "The callsys server changed {count} setting(s); all apply at the next start.",
                    ).format(count=self.language.digits(str(len(changed))))
                )

        def failed(why: str) -> None:
            log.warning("no settings from the callsys server: %s", why)  # the last copy stays in use

        return self.tasks.spawn(asyncio.to_thread(pull, settings), done=pulled, failed=failed)

    def open_links(self, uris: list[str]) -> None:
        """Links handed over by a second launch (B5): dialled now, or once the phone has started."""
        if not self._started:
            self._pending_links.extend(uris)
            return
        for uri in uris:
            self.dial_into_field(uri)

    def load_log(self) -> None:
        calllog = self.desktop.calllog
        if calllog is None:
            return
        try:
            records = calllog.query()
        except CallsysError as exc:
            self.show_message(str(exc))
            return
        except Exception:
            log.exception("could not read the call log")
            return
        rows = [row for row in (row_from_record(r, self.display_number) for r in records) if row is not None]
        # A persisted call that was live when the app stopped is not live any more.
        seen = QtCore.QSettings("callsys", "callsys").value("log/missed_seen_at")
        try:
            seen_at = datetime.fromisoformat(str(seen)) if seen else datetime.min.replace(tzinfo=UTC)
        except ValueError:
            seen_at = datetime.min.replace(tzinfo=UTC)
        self.log_model.load(rows, missed_seen_at=seen_at)

    def show_sync_progress(self, step: SyncProgress | None) -> None:
        """How the phone-index sync goes, or ``None`` once it has ended (``StatusParts``)."""
        self.status_parts.show_sync_progress(step)

    def ask_quit(self, calls: int) -> bool:
        """Closing during a call ends it: ask first."""
        answer = QMessageBox.question(
            self,
            translate("MainWindow", "Quit callsys?"),
            translate("MainWindow", "{count} call(s) in progress will be cut off. Quit anyway?").format(
                count=self.language.digits(str(calls))
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def quit(self) -> None:
        """Really quit (File → Quit, tray → Quit), even when closing only hides to the tray."""
        self._quitting = True
        self.close()

    def restart_to_update(self) -> None:
        """Close as File → Quit does (asking first during a call), then ``ui.app.run`` installs
        the verified update and starts callsys again."""
        if self.updates.path is None:
            return
        self.pending_update = self.updates.path
        self.quit()
        if not self._closed:  # the agent chose to stay in the call
            self.pending_update = None

    def end_session(self) -> None:
        """The system ends callsys (SIGTERM: logout, shutdown, ``kill``): quit now, without
        asking — the calls are ended and logged as they are, instead of left to be found
        "failed" at the next start."""
        self._ending = True
        self.quit()

    def closeEvent(self, event: Any) -> None:
        if (
            not self._quitting
            and self.desktop.settings.get("ui.close_to_tray")
            and self.tray.available
            and event is not None
        ):
            event.ignore()  # calls keep popping up; the tray, a relaunch or a tel: link bring it back
            self.hide()
            return
        connected = [c for c in self.desktop.manager.live_calls() if c.state.is_connected]
        if connected and event is not None and not self._ending and not self.ask_quit(len(connected)):
            event.ignore()  # quitting would drop the calls (the softphone lives in this process)
            self._quitting = False
            return
        self._closed = True
        self.updates.stop()
        self.tray.hide()
        self.hotkeys.global_keys.release()  # other programs get the keys back (CARD6)
        self.save_placement()
        self.popups.close_all()
        self._clock.stop()
        self.bridge.detach()
        super().closeEvent(event)
        self.closed.emit()

    # ================================================================== core → window
    def _on_call_event(self, event: CallEvent, call: Call) -> None:
        # A new ring goes on screen first, even while earlier rings' work still waits for their
        # paint: that work keeps its order, after this pop-up's paint — and so does any other
        # call event that comes meanwhile (it would have run that work first, before the paint).
        if event is CallEvent.INCOMING and self._ring_first(call):
            return
        if self._after_paint:
            self._after_paint.append((event, call))  # in order, behind what waits for the paint
            if not self._after_paint_timer.isActive():
                self._after_paint_timer.start(0)
            return
        self._handle_call_event(event, call)

    def _ring_first(self, call: Call) -> bool:
        """A new ringing call: its pop-up goes on screen first, with the record the local index
        knows at once (IN3); the log row, the call panel, the menus and the CRM lookup follow
        right after the pop-up's first paint (or ``AFTER_PAINT_MS``, whichever comes first)."""
        if call.state is not CallState.RINGING or self.popups.popup(call.id) is not None or not self._started:
            return False
        if self._after_paint and self.popups.unpainted():
            # Several INVITEs at once: this pop-up is built once the one before is on screen.
            self._rings_waiting.append(call.id)
            self._after_paint.append((CallEvent.INCOMING, call))
            return True
        if not self._show_ring(call):
            return False
        self._after_paint.append((CallEvent.INCOMING, call))
        self.desktop.hold_later()  # the call log's write, the CRM activity: after the paint too
        return True

    def _show_ring(self, call: Call) -> bool:
        """The pop-up of ringing *call*, with what the local index knows at once; the window's
        other work waits for its paint."""
        known = None if call.remote.is_anonymous else self.desktop.identify_now(call)
        if self.popups.on_call(call, known[0] if known is not None else None) is None:
            return False
        self._after_paint_timer.start(AFTER_PAINT_MS)
        return True

    def _popup_painted(self, _call_id: str) -> None:
        if self._after_paint:
            self._after_paint_timer.start(0)  # not inside the paint event itself

    def settle(self) -> None:
        """Do now what waits for a pop-up's paint (the log row …) and the deferred observers'
        writes: before acting on a call the agent picked from its pop-up."""
        self._after_paint_timer.stop()
        self._rings_waiting.clear()  # their pop-ups come with their events
        while self._after_paint:
            event, call = self._after_paint.pop(0)
            self._handle_call_event(event, call)
        self.desktop.flush_later()

    def _run_after_paint(self) -> None:
        """One waiting call event per turn of the loop, then the deferred observers' writes: an
        INVITE that comes meanwhile is taken between two of them, not after all of them. A ring
        that waits for its pop-up comes first: its pop-up now, the rest after its paint."""
        while self._rings_waiting:
            waiting = self.desktop.manager.get(self._rings_waiting.pop(0))
            if waiting is None or waiting.state is not CallState.RINGING:
                continue  # the caller gave up meanwhile: its events follow
            if self.popups.popup(waiting.id) is None and self._show_ring(waiting):
                return
        if self._after_paint:
            event, call = self._after_paint.pop(0)
            self._handle_call_event(event, call)
        if self._after_paint:
            if not self._after_paint_timer.isActive():  # (a new ring's pop-up restarts its wait)
                self._after_paint_timer.start(0)
            return
        self.desktop.flush_later()  # the call log's write, the CRM activity

    def _handle_call_event(self, event: CallEvent, call: Call) -> None:
        session = self.desktop
        quick = session.known_now(call)  # the pop-up's first paint shows the record
        self.log_model.upsert(
            row_from_call(call, self.display_number, session.party_of(call.id), session.log_key(call.id))
        )
        self.popups.on_call(call)
        if quick is not None:
            self._identified(call.id, quick)
        if call.state is CallState.ENDED and not session.manager.live_calls():
            self.trimmer.soon()  # the call's memory back to the system (ui.heap)
        if session.needs_lookup(call):
            self.tasks.spawn(
                session.identify(call),
                done=functools.partial(self._identified, call.id),
                failed=functools.partial(self._identify_failed, call.id),
            )
        elif call.remote.is_anonymous and event is CallEvent.INCOMING:
            popup = self.popups.popup(call.id)
            if popup is not None:
                popup.set_matches([])
            self.tray.ringing(call, None)
        self.call_panel.on_call(event, call, self.desktop.party_of(call.id))
        if event is CallEvent.ANSWERED:
            self.notes.open_for(self._in_log(call), self.desktop.party_of(call.id))  # IN7, OUT6
        else:
            self.notes.update_call(self._in_log(call), self.desktop.party_of(call.id))
        if self.dialpad is not None:
            self.dialpad.refresh()  # keys send tones during a call, type into the field otherwise
        self._refresh_actions()
        self._follow_clock()

    def _identified(self, call_id: str, matches: Any) -> None:
        matches = list(matches or [])
        popup = self.popups.popup(call_id)
        if popup is not None:
            popup.set_matches(matches)
        if matches:
            self._party_chosen(call_id, matches[0].party)
        call = self.desktop.manager.get(call_id)
        if call is not None and call.state is CallState.RINGING:
            self.tray.ringing(call, matches[0].party if matches else None)

    def _identify_failed(self, call_id: str, why: str) -> None:
        self.show_message(translate("MainWindow", "The caller could not be looked up: {why}").format(why=why))
        popup = self.popups.popup(call_id)
        if popup is not None:
            popup.set_matches([])

    def _in_log(self, call: Call) -> Call:
        """*call* as the notes know it: by its log row (``Desktop.log_key``), so that the notes of
        today's sim-1 and those of yesterday's, opened from the log, are never the same notes."""
        key = self.desktop.log_key(call.id)
        return call if key == call.id else dataclasses.replace(call, id=key)

    def _party_chosen(self, call_id: str, party: Party) -> None:
        call = self.desktop.manager.get(call_id)
        key = self.desktop.log_key(call_id)
        self.log_model.set_party(key, party)
        self.desktop.remember_party(key, party)
        if call is not None:
            self.call_panel.on_call(CallEvent.UPDATED, call, party)
            self.notes.update_call(self._in_log(call), party)

    def _on_status(self, status: ProviderStatus) -> None:
        audio_changed = self._status is None or self._status.audio_missing != status.audio_missing
        self._status = status
        provider = self.desktop.provider
        if status.lines:
            self._lines = status.lines
        elif provider is not None:
            self._lines = provider.lines()
        self._fill_lines()
        self.dnd_action.blockSignals(True)
        self.dnd_action.setChecked(status.dnd)
        self.dnd_action.blockSignals(False)
        self._show_status()
        self.call_panel.set_status(status)
        self._refresh_actions()
        if audio_changed:
            self._show_problems()
            self.call_panel.refresh()

    @property
    def provider_status(self) -> ProviderStatus | None:
        return self._status

    def _show_status(self) -> None:
        status = self._status
        state = phone_state(self.desktop.provider, status, self.desktop.settings[PROVIDER_OPTIONS])
        text = state.text
        if status is not None and status.dnd:
            text += " · " + translate("MainWindow", "Do not disturb")
        self.status_parts.show_phone(text, state.colour, status.message if status is not None else "")
        self.tray.set_status(status, text)
        if self.first_start.isVisible():
            self.first_start.refresh()

    def show_first_start(self) -> None:
        """A first start (no settings file yet): say what the phone is and offer the next steps."""
        self.first_start.show()
        self.first_start.refresh()

    def _show_problems(self) -> None:
        messages = []
        provider_failed = False
        for problem in self.desktop.problems:
            part, _, why = problem.partition(":")
            if part == "provider":
                provider_failed = True
                messages.append(
                    translate(
                        "MainWindow",
                        "The phone connection could not start: {why} Calls cannot be placed or "
                        "answered until it is fixed in Settings.",
                    ).format(why=why)
                )
            elif part == "crm":
                messages.append(
                    translate(
                        "MainWindow", "The CRM is not available: {why} Callers are not identified."
                    ).format(why=why)
                )
            elif part == "settings":
                messages.append(
                    translate(
                        "MainWindow",
                        "The settings could not be read: {why} callsys runs with the defaults for now.",
                    ).format(why=why)
                )
            elif part == "store":
                messages.append(
                    translate("MainWindow", "The call log cannot be saved: {why}").format(why=why)
                )
            elif part == "file":  # an entry of settings.toml that callsys does not know: kept
                messages.append(translate("MainWindow", "In the settings file: {why}").format(why=why))
            elif part == "options":  # a key the phone connection does not know: it still starts
                messages.append(
                    translate("MainWindow", "Not used, check the phone settings: {why}").format(why=why)
                )
        messages.extend(self.hotkey_problems)
        if self._status is not None and self._status.audio_missing:
            messages.append(audio_warning(self._status.audio_missing))
        self.banner_label.setText("\n".join(messages))
        self.banner_sim_button.setVisible(
            provider_failed and "sim" in self.desktop.registry.names() and self.desktop.provider_name != "sim"
        )
        self.banner.setVisible(bool(messages))

    def _fill_lines(self) -> None:
        previous = self.line_choice.currentData()
        self.line_choice.blockSignals(True)
        self.line_choice.clear()
        for line in self._lines:
            self.line_choice.addItem(line.label or line.id, line.id)
        default = choose_line(self._lines, previous, self.desktop.settings[DEFAULT_LINE])
        if default is not None:
            self.line_choice.setCurrentIndex(max(0, self.line_choice.findData(default.id)))
        self.line_choice.blockSignals(False)
        self.line_choice.setVisible(len(self._lines) > 1)
        self.line_label.setVisible(len(self._lines) > 1)

    def _refresh_actions(self) -> None:
        caps = self.capabilities()
        self.dial_button.setEnabled(Capability.DIAL in caps)
        self.dial_button.setToolTip(
            ""
            if Capability.DIAL in caps
            else translate("MainWindow", "The phone connection cannot place calls.")
        )
        refresh_enabled(self.window_actions, caps)
        self.simulate_menu_action.setVisible(self.simulator is not None)
        self.call_panel.set_capabilities(caps)
        self.popups.refresh_capabilities()  # open pop-ups too: Voicemail may come or go (IN6)

    def _on_missed(self, count: int) -> None:
        self.missed_badge.setVisible(count > 0)
        self.missed_badge.setText(
            translate("MainWindow", "{count} missed").format(count=self.language.digits(str(count)))
        )
        self.missed_badge.setToolTip(translate("MainWindow", "Show the missed calls"))
        self.missed_badge.setAccessibleName(self.missed_badge.text())
        self._update_title()

    def _update_title(self) -> None:
        count = self.log_model.unseen_missed
        title = translate("MainWindow", "callsys — calls and CRM")
        self.setWindowTitle(f"({self.language.digits(str(count))}) {title}" if count else title)

    def _tick(self) -> None:
        self.call_panel.tick()
        self.popups.tick()  # how long each caller has waited: one timer for every pop-up
        self.log_model.tick()

    def _follow_clock(self) -> None:
        """The once-a-second clock (durations of live calls) runs only while a call is live: an
        idle desktop is not woken for nothing."""
        live = bool(self.desktop.manager.live_calls())
        if live and not self._clock.isActive() and self._started:
            self._clock.start()
        elif not live and self._clock.isActive():
            self._clock.stop()
            self._tick()  # the last durations shown are the final ones

    # ================================================================== helpers
    def capabilities(self) -> frozenset[Capability]:
        provider = self.desktop.provider
        return provider.capabilities if provider is not None else frozenset()

    def call_capabilities(self, call: Call) -> frozenset[Capability]:
        """What the phone connection can do with *call*: voicemail only where the connection says
        this call can go there (the softphone: its line has a voicemail address, IN6)."""
        caps = self.capabilities()
        provider = self.desktop.provider
        if (
            Capability.VOICEMAIL in caps
            and isinstance(provider, PerCallVoicemail)
            and not provider.can_send_to_voicemail(call.id)
        ):
            caps = caps - {Capability.VOICEMAIL}
        return caps

    def display_number(self, number: object) -> str:
        if isinstance(number, PhoneNumber):
            return self.desktop.plan.display(number)
        return str(number)

    @property
    def simulator(self) -> Any:
        provider = self.desktop.provider
        return (
            provider
            if provider is not None and provider.name == "sim" and isinstance(provider, ScenarioPlayer)
            else None
        )

    def show_message(self, text: str) -> None:
        status_bar = self.statusBar()
        if status_bar is not None:
            status_bar.showMessage(text, 10000)

    def bring_forward(self) -> None:
        """The window up, in front and not minimised: the tray's Show, a global key for a field."""
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    def _connect_call_panel(self, panel: CallPanel) -> None:
        """What the agent does in the call panel goes to the phone connection as any command."""
        panel.answer_requested.connect(self.answer)
        panel.hangup_requested.connect(self.hangup)
        panel.voicemail_requested.connect(self.send_to_voicemail)
        panel.hold_requested.connect(self.hold)
        panel.resume_requested.connect(self.resume)
        panel.mute_requested.connect(self.set_mute)
        panel.dtmf_requested.connect(self.send_dtmf)
        panel.transfer_requested.connect(self._panel_transfer)
        panel.consult_requested.connect(self._panel_consult)
        panel.transfer_to_call_requested.connect(self.transfer_to_call)
        panel.conference_requested.connect(self.conference)
        panel.message.connect(self.show_message)

    def _panel_transfer(self, call_id: str, target: str) -> None:
        if self.transfer(call_id, target):
            self.call_panel.target_taken(target)

    def _panel_consult(self, call_id: str, target: str) -> None:
        if self.consult(call_id, target):
            self.call_panel.target_taken(target)

    # ================================================================== agent actions
    def _command(self, capability: Capability, make: Any) -> None:
        provider = self.desktop.provider
        if provider is None or capability not in provider.capabilities:
            self.show_message(translate("MainWindow", "The phone connection cannot do that."))
            return
        self.tasks.spawn(make(provider))

    def answer(self, call_id: str) -> None:
        self._command(Capability.ANSWER, lambda p: p.answer(call_id))

    def reject(self, call_id: str) -> None:
        self._command(Capability.REJECT, lambda p: p.reject(call_id))

    def send_to_voicemail(self, call_id: str) -> None:
        """IN6: the ringing call goes to voicemail (where the phone connection can)."""
        self._command(Capability.VOICEMAIL, lambda p: p.send_to_voicemail(call_id))

    def hangup(self, call_id: str) -> None:
        self._command(Capability.HANGUP, lambda p: p.hangup(call_id))

    def hold(self, call_id: str) -> None:
        self._command(Capability.HOLD, lambda p: p.hold(call_id))

    def resume(self, call_id: str) -> None:
        self._command(Capability.HOLD, lambda p: p.resume(call_id))

    def set_mute(self, call_id: str, muted: bool) -> None:
        self._command(Capability.MUTE, lambda p: p.set_mute(call_id, muted))

    def send_dtmf(self, call_id: str, digits: str) -> None:
        self._command(Capability.DTMF, lambda p: p.send_dtmf(call_id, digits))

    def transfer(self, call_id: str, target: str) -> bool:
        """Transfer *call_id* to *target*; False (and why, in the status bar) when it cannot be
        dialled — the agent's entry then stays where it was typed, to be corrected."""
        try:
            dial = self.dial_target(to_ascii_digits(target).strip())
        except ValueError as exc:
            self.show_message(str(exc))
            return False
        self._command(Capability.TRANSFER, lambda p: p.transfer(call_id, dial))
        return True

    def consult(self, call_id: str, target: str) -> bool:
        """Hold *call_id* and dial *target* to talk first (attended transfer); False (and why, in
        the status bar) when *target* cannot be dialled — it then stays where it was typed."""
        try:
            dial = self.dial_target(to_ascii_digits(target).strip())
        except ValueError as exc:
            self.show_message(str(exc))
            return False
        self._command(Capability.CONSULT, lambda p: p.consult(call_id, dial))
        return True

    def transfer_to_call(self, call_id: str, other_id: str) -> None:
        """Hand the party of *call_id* to the party of *other_id* (the one consulted)."""
        self._command(Capability.ATTENDED_TRANSFER, lambda p: p.transfer_to_call(call_id, other_id))

    def conference(self, call_id: str, other_id: str) -> None:
        """The agent and both parties together (three-way conference)."""
        self._command(Capability.CONFERENCE, lambda p: p.conference(call_id, other_id))

    def set_dnd(self, enabled: bool) -> None:
        self._command(Capability.DND, lambda p: p.set_dnd(enabled))
        if self.desktop.settings[DND] != enabled:  # the Phone tab's setting too: kept on restart
            self._save_setting(DND.key, enabled)

    def dial_from_field(self) -> None:
        text = self.dial_edit.text().strip()
        if (
            "@" not in text
            and any(ch.isalpha() for ch in number_from_uri(text) or text)
            and not text.lower().startswith(("tel:", "callto:", "sip:", "sips:"))
        ):
            self.search_directory(text)  # a name: find the record, then pick one of its numbers
            return
        self.dial_text(text, in_field=True)

    def dial_into_field(self, text: str) -> bool:
        """Dial a link (B5) or a call-log entry through the number field: shown there while it
        starts, and kept there with the reason when it cannot be dialled."""
        self.dial_edit.setText(text.strip())
        return self.dial_text(text, in_field=True)

    def search_directory(self, text: str) -> None:
        """OUT3, OUT4: a name typed in the number field — every matching record with every one of
        its numbers, in a menu under the field; one record with one number dials at once."""
        crm = self.desktop.crm
        if crm is None:
            self.show_message(translate("MainWindow", "There is no directory to search."))
            return

        def found(parties: Any) -> None:
            choices = [
                (party, number, number_type_text(party.field_of(at), party.kind))
                for party in list(parties or [])[:20]
                for at, number in enumerate(party.numbers)
            ]
            if not choices:
                self.show_message(translate("MainWindow", "No record matches “{text}”.").format(text=text))
                return
            if len(choices) == 1:
                self.dial_edit.clear()
                self.dial_text(choices[0][1].e164 or choices[0][1].digits or choices[0][1].raw)
                return
            discard(self.directory_menu)  # one at a time, not one per search
            menu = QMenu(self)
            menu.setObjectName("directoryChoices")
            for party, number, kind in choices:
                shown = self.display_number(number)
                label = (
                    f"{party.name}"
                    + (f" · {party.company}" if party.company else "")
                    + (f"   {kind}: {ltr(shown)}" if kind else f"   {ltr(shown)}")
                )
                action = menu.addAction(label)
                if action is not None:
                    target = number.e164 or number.digits or number.raw
                    action.triggered.connect(lambda _=False, t=target: self._dial_choice(t))
            self.directory_menu = menu
            menu.popup(self.dial_edit.mapToGlobal(self.dial_edit.rect().bottomLeft()))

        self.tasks.spawn(crm.search(text, 20), done=found)

    def _dial_choice(self, target: str) -> None:
        if self.dial_text(target):
            self.dial_edit.clear()

    def dial_target(self, text: str) -> str:
        """What to hand the phone connection for *text*, or ``ValueError`` with the reason for the
        agent. A SIP address (``sip:1002@192.0.2.10:5062``, ``1002@192.0.2.10``) goes as it is to
        a phone that dials SIP addresses (the softphone); everything else is a number, through
        the dial plan (SET3: outside-line prefix), also when it came as a ``tel:`` link."""
        shown = elided(text)  # a pasted page of digits must not widen the window past the screen
        try:
            address = sip_address(text)
        except ValueError:
            raise ValueError(
                translate(
                    "MainWindow",
                    "“{text}” is not a SIP address that can be dialled (user@host or user@host:port).",
                ).format(text=shown)
            ) from None
        from_uri = number_from_uri(text)
        provider = self.desktop.provider
        if address is not None and isinstance(provider, SipAddressDialing) and provider.dials_sip_addresses:
            return address
        if address is not None and from_uri is None:
            raise ValueError(
                translate(
                    "MainWindow",
                    "This phone connection dials phone numbers, not SIP addresses like “{text}”.",
                ).format(text=shown)
            )
        try:
            return self.desktop.plan.dial_string(from_uri if from_uri is not None else text)
        except ValueError:
            raise ValueError(
                translate("MainWindow", "“{text}” is not a number that can be dialled.").format(text=shown)
            ) from None

    def dial_text(self, text: str, line: str | None = None, *, in_field: bool = False) -> bool:
        """Dial what the agent typed or a link handed to us (OUT3, B5): Persian digits, ``tel:``,
        ``callto:`` and ``sip:`` links, SIP addresses are all accepted. Returns whether a call
        was started. *in_field*: the text is the number field's — cleared once the phone
        connection took the call, kept with the reason beside it when it did not."""
        text = to_ascii_digits(text).strip()
        if not text:
            return False
        try:
            dial = self.dial_target(text)
        except ValueError as exc:
            self._dial_refused(str(exc), in_field)
            return False
        provider = self.desktop.provider
        if provider is None or Capability.DIAL not in provider.capabilities:
            self._dial_refused(translate("MainWindow", "The phone connection cannot place calls."), in_field)
            return False
        chosen = choose_line(
            self._lines, line or self.line_choice.currentData(), self.desktop.settings[DEFAULT_LINE]
        )
        line_id = chosen.id if chosen is not None else None
        typed = self.dial_edit.text()

        def started(_call_id: object) -> None:
            if in_field and self.dial_edit.text() == typed:  # not if the agent typed on meanwhile
                self.dial_edit.clear()
                self.dial_error.hide()

        self.tasks.spawn(
            provider.dial(dial, line_id),
            done=started,
            failed=lambda why: self._dial_refused(why, in_field),
        )
        return True

    def _dial_refused(self, why: str, in_field: bool) -> None:
        self.show_message(why)
        if in_field:
            self.dial_error.setText(why)
            self.dial_error.setAccessibleName(why)
            self.dial_error.show()

    def _log_activated(self, index: Any) -> None:
        row = self.log_proxy.data(index, Qt.ItemDataRole.UserRole)
        if isinstance(row, LogRow):
            self.call_back(row)

    def call_back(self, row: LogRow) -> None:
        if row.dial:
            self.dial_into_field(row.dial)

    def selected_log_row(self) -> LogRow | None:
        selection = self.log_view.selectionModel()
        indexes = selection.selectedRows() if selection is not None else []
        if not indexes:
            return None
        row = self.log_proxy.data(indexes[0], Qt.ItemDataRole.UserRole)
        return row if isinstance(row, LogRow) else None

    def show_missed(self) -> None:
        self.log_filter.setCurrentIndex(max(0, self.log_filter.findData("missed")))
        self.log_model.mark_missed_seen()
        QtCore.QSettings("callsys", "callsys").setValue("log/missed_seen_at", datetime.now(UTC).isoformat())

    def _filter_changed(self, _at: int) -> None:
        self.log_proxy.set_only(str(self.log_filter.currentData() or ""))

    def record_url(self, party: Party) -> str:
        """The CRM's page of *party* ("" when it has none, e.g. the local directory)."""
        crm = self.desktop.crm
        url = ""
        if crm is not None:
            try:
                url = crm.record_url(party)
            except Exception:
                log.exception("record_url failed")
        return str(url or party.url or "")

    def open_record(self, party: Party) -> None:
        """Open a caller's record (IN3): the CRM's page in the browser, or the local details view."""
        url = self.record_url(party)
        if url:
            QDesktopServices.openUrl(QUrl(url))
            return
        dialog = PartyDetailsDialog(party, self.display_number, self)
        dialog.dial_requested.connect(self.dial_text)
        dialog.finished.connect(
            lambda _r, d=dialog: self.details_dialogs.remove(d) if d in self.details_dialogs else None
        )
        self.details_dialogs.append(dialog)
        dialog.show()

    # ================================================================== language, settings, simulator
    def set_language(self, code: str) -> None:
        self.language.apply(code, self.language.calendar)
        self._save_setting(LANGUAGE.key, code)
        self.retranslate()
        for popup in self.popups.popups():
            popup.retranslate()
        self.popups.relayout()

    def set_jalali(self, enabled: bool) -> None:
        calendar = "jalali" if enabled else "gregorian"
        self.language.calendar = calendar
        self._save_setting(CALENDAR.key, calendar)
        self.log_model.texts_changed()

    def _save_setting(self, key: str, value: object) -> None:
        settings = self.desktop.settings
        try:
            settings.set(key, value)
            if settings.path is not None:
                settings.save()
        except ConfigError as exc:
            if not settings.load_error:
                self.show_message(str(exc))
                return
            # the file could not be read: not written over; the choice holds until callsys closes
            self.show_message(
                translate(
                    "MainWindow",
                    "Not saved: the settings file could not be read, so it is not written over. "
                    "File → Settings says how to go on.",
                )
            )
        except (CallsysError, OSError) as exc:
            self.show_message(str(exc))
        except Exception as exc:  # a value the TOML writer cannot hold; keep running
            log.exception("could not save the settings")
            self.show_message(f"{type(exc).__name__}: {exc}")

    def open_settings(self, page: str | None = None, *, focus: str | None = None) -> Any:
        """The Settings dialog, on *page* (a group: ``"phone"``) when given; *focus*:
        ``"add_line"`` (a new SIP line, the built-in phone chosen) or ``"provider"`` (the phone
        connection's choice) — the first-start panel's steps."""
        from ui.settingsdialog import SettingsDialog

        dialog = SettingsDialog(self.desktop.settings, self, session=self.desktop)
        dialog.saved.connect(self.settings_saved)
        if page in dialog._pages:
            dialog.tabs.setCurrentIndex(dialog._pages[page])
        field = dialog.fields.get(PHONE_PROVIDER.key)
        combo = field.widget if field is not None and isinstance(field.widget, QComboBox) else None
        if focus == "add_line" and combo is not None:
            combo.setCurrentIndex(max(0, combo.findData("sip")))
            QTimer.singleShot(0, dialog.sip_lines.add_line)
        elif focus == "provider" and combo is not None:
            QTimer.singleShot(0, lambda: combo.setFocus(Qt.FocusReason.OtherFocusReason))
        # One dialog per opening: deleted once closed (each kept ~150 KB and its signal
        # connections for the rest of the day; found by the monkey test).
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_dialog = dialog
        dialog.exec()
        self.trimmer.soon()
        return dialog

    def settings_saved(self, keys: list[str]) -> None:
        """Apply what the settings dialog changed without a restart where we can."""
        settings = self.desktop.settings
        changed = set(keys)
        if settings.kept_copy is not None:  # an unreadable file was replaced: say where it went
            self.desktop.problems[:] = [p for p in self.desktop.problems if not p.startswith("settings:")]
            self._show_problems()
            self.show_message(
                translate("MainWindow", "The unreadable settings file was kept as {path}.").format(
                    path=ltr(str(settings.kept_copy))
                )
            )
        if any(key.startswith("hotkeys.") for key in changed):
            self.hotkey_problems = self.hotkeys.apply(settings)
            self._show_problems()
        if changed & {LANGUAGE.key, CALENDAR.key}:
            from ui.i18n import resolve_language

            self.language.apply(resolve_language(settings[LANGUAGE]), settings[CALENDAR])
            self.retranslate()
            self.popups.relayout()
        if DND.key in changed:
            self.tasks.spawn(self.desktop.apply_dnd())
        if AUTO_ANSWER.key in changed and settings.get("phone.provider") == "sip":
            changed.add("phone.options")  # the softphone takes it when it starts
        if changed & {AREA_CODE.key, DIAL_PREFIX.key, MIN_LOG_DIGITS.key}:
            self.desktop.apply_number_plan()  # from the next call and the next number dialled
        if changed & {"phone.provider", "phone.options"} or (
            "server.url" in changed and settings.get("phone.provider") == "server"
        ):
            self.use_provider(str(settings.get("phone.provider")))
        if changed & {"phone.default_line"}:
            self._fill_lines()

    def register_links(self) -> None:
        """B5: make this callsys the handler of tel:/callto: links, on request."""
        from ui.schemes import register

        try:
            where = register()
        except OSError as exc:
            self.show_message(translate("MainWindow", "Links could not be registered: {why}").format(why=exc))
            return
        self.show_message(
            translate("MainWindow", "tel: and callto: links now open callsys ({where}).").format(
                where=ltr(str(where))
            )
        )

    def open_reports(self) -> Any:
        """IN10, OUT8: the reports view over the call log."""
        from ui.reports import ReportsDialog

        dialog = ReportsDialog(self.desktop, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self.trimmer.soon)
        dialog.show()
        self.reports_dialog = dialog
        return dialog

    def try_simulator(self) -> None:
        """The first-start panel's "Try the simulator": the agent's choice, kept in the settings
        file (written like every other setting, its other contents kept), so that the next start
        comes back with the simulator. The banner's "Use the simulator" is a stand-in for a phone
        that failed to start, and is not written."""
        self._save_setting(PHONE_PROVIDER.key, "sim")
        self.use_provider("sim")

    def use_provider(self, name: str) -> None:
        self.popups.close_all()

        async def switch() -> None:
            await self.desktop.switch_provider(name)
            self._show_problems()
            self._refresh_actions()

        self.tasks.spawn(switch())

    def simulate(self, scenario: str) -> None:
        sim = self.simulator
        if sim is not None:
            sim.play(scenario)

    def simulate_ring(self) -> None:
        sim = self.simulator
        if sim is not None:
            sim.ring("+982188776655", "Sara Ahmadi", line="Sales", dnis="7000")

    # ---------------------------------------------------------------- contacts, dial pad, log
    @property
    def contacts_dock(self) -> QDockWidget:
        return self.docks.contacts_dock

    @property
    def contacts(self) -> ContactsView | None:
        return self.docks.contacts

    @property
    def dialpad_dock(self) -> QDockWidget:
        return self.docks.dialpad_dock

    @property
    def dialpad(self) -> DialPad | None:
        return self.docks.dialpad

    def toggle_contacts(self) -> None:
        self.docks.toggle_contacts()

    def show_contacts(self) -> ContactsView:
        return self.docks.show_contacts()

    def toggle_dialpad(self) -> None:
        self.docks.toggle_dialpad()

    def show_dialpad(self) -> DialPad:
        return self.docks.show_dialpad()

    def open_log_folder(self) -> bool:
        """Help → Open the log folder: the folder of ``callsys.log`` in the file manager."""
        from ui.applog import log_dir

        folder = log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.show_message(str(exc))
            return False
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        if not opened:
            self.show_message(
                translate("MainWindow", "The log folder is {path}.").format(path=ltr(str(folder)))
            )
        return bool(opened)

    def about(self) -> None:
        from callsys import __version__

        QMessageBox.about(
            self,
            translate("MainWindow", "About callsys"),
            translate(
                "MainWindow",
                "callsys {version} — joins your phone system to Microsoft Dynamics 365. Free software under the GPL.",
            ).format(version=__version__),
        )

    # ---------------------------------------------------------------- hotkey actions (CARD6)
    def _ringing(self) -> Call | None:
        ringing = [c for c in self.desktop.manager.live_calls() if c.state is CallState.RINGING]
        return ringing[0] if ringing else None

    def answer_ringing(self) -> None:
        call = self._ringing()
        if call is not None:
            self.answer(call.id)

    def reject_ringing(self) -> None:
        call = self._ringing()
        if call is not None:
            self.reject(call.id)

    def voicemail_ringing(self) -> None:
        call = self._ringing()
        if call is not None and Capability.VOICEMAIL not in self.call_capabilities(call):
            # e.g. its line has no voicemail address: said in words, nothing asked of the phone
            self.show_message(translate("MainWindow", "The phone connection cannot do that."))
        elif call is not None:
            self.send_to_voicemail(call.id)

    def hangup_current(self) -> None:
        if self.call_panel.current is not None:
            self.call_panel.hangup_current()

    def hold_current(self) -> None:
        self.call_panel.toggle_hold()

    def mute_current(self) -> None:
        self.call_panel.toggle_mute()

    def consult_current(self) -> None:
        self.call_panel.consult_current()

    def transfer_consulted(self) -> None:
        self.call_panel.transfer_consulted()

    def conference_current(self) -> None:
        self.call_panel.conference_current()

    def call_back_selected(self) -> None:
        row = self.selected_log_row()
        if row is not None:
            self.call_back(row)

    def focus_dial(self) -> None:
        self.dial_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.dial_edit.selectAll()

    def focus_search(self) -> None:
        self.log_search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.log_search.selectAll()

    def open_notes(self) -> None:
        current = self.call_panel.current
        if current is not None:
            self.notes.open_for(self._in_log(current), self.desktop.party_of(current.id))
        else:
            row = self.selected_log_row()
            if row is not None:
                self.open_notes_for(row)
        if self.notes.isVisible():
            self.notes.text.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_notes_for(self, row: LogRow) -> None:
        """The notes of any call in the log — of this session, or from the stored log — by the
        row's key: a stored row is never taken for this session's call of the same call id."""
        live = self.desktop.manager.get(row.call_id) if row.this_session else None
        call = dataclasses.replace(live, id=row.id) if live is not None else None
        saved: str | None = None
        record = None
        if self.desktop.calllog is not None:
            try:
                record = self.desktop.calllog.get(row.id)
            except Exception:
                log.exception("could not read call %s from the log", row.id)
        if record is not None:
            saved = record.notes
            if call is None:
                call = Call(
                    id=record.id,
                    direction=record.direction,
                    state=record.state,
                    started_at=record.started_at,
                    remote=record.number,
                    remote_name=record.display_name if record.party_name else record.name,
                    line=record.line,
                    answered_at=record.answered_at,
                    ended_at=record.ended_at,
                    end_reason=record.result,
                )
        if call is not None:
            self.notes.open_for(
                call, self.desktop.party_of(row.call_id) if live is not None else None, saved=saved
            )

    def save_notes(self, key: str, text: str) -> None:
        """IN7: the notes go to the log row *key* and to the CRM activity of its call."""
        self.desktop.save_notes(key, text)

    def dial_clipboard(self) -> None:
        clipboard = QGuiApplication.clipboard()
        text = clipboard.text() if clipboard is not None else ""
        if not self.dial_text(text):
            self.show_message(translate("MainWindow", "The clipboard holds no number to dial."))

    def direction_of(self, call_id: str) -> Direction | None:
        call = self.desktop.manager.get(call_id)
        return call.direction if call is not None else None
