"""``callsys`` without a sub-command: the desktop application.

``run(args, ctx)`` builds a QApplication, runs asyncio inside Qt's event loop (qasync), composes
the core (``ui.desktop.compose``), shows the window and starts the phone connection. Nothing
that can go wrong on an agent's machine — a bad settings file, a database in a read-only folder,
an unreachable PBX — ends in a traceback: the window opens and says what is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from callsys.errors import CallsysError
from callsys.settings import CALENDAR, FIRST_START_PANEL, LANGUAGE, Settings, unreadable_settings

from ui.i18n import Language, resolve_language, set_current
from ui.qt import QApplication, QCoreApplication, QEvent, QIcon, QObject, QtGui, QTimer

QFileOpenEvent = QtGui.QFileOpenEvent

if TYPE_CHECKING:
    from callsys.cli import Context

    from ui.mainwindow import MainWindow

__all__ = ["ICON_PATH", "create_application", "run"]

log = logging.getLogger(__name__)

ICON_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources", "icons", "callsys.svg"
)

#: For ``benchmarks/ui_startup.py``: print "callsys-ready <epoch seconds>" once the window is
#: shown and the event loop is idle, then quit.
READY_ENV = "CALLSYS_QUIT_WHEN_READY"
HAND_OVER_ONLY_ENV = "CALLSYS_SINGLE_INSTANCE_ONLY"


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("callsys")
    app.setOrganizationName("callsys")
    app.setDesktopFileName("callsys")
    if os.path.exists(ICON_PATH):
        app.setWindowIcon(QIcon(ICON_PATH))
    return app


def _load_settings(ctx: Context) -> tuple[Settings, str | None, str]:
    """The settings, the reason they could not be read (or None), and the file's path."""
    from callsys.settings import config_path

    path = str(ctx.args.config or config_path())
    try:
        return ctx.settings, None, path
    except CallsysError as exc:
        # A bad file must not keep the window shut: run on defaults and say why. The settings
        # keep the file's path (the dialog and the View menu save to it, never to another file)
        # and its error: nothing is written over it unless the agent chooses to (keeping a copy).
        return unreadable_settings(path, str(exc)), str(exc), path


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ui.desktop import compose
    from ui.mainwindow import MainWindow
    from ui.single import SingleInstance

    app = create_application()
    from ui.applog import install as install_log_file

    if install_log_file() is not None:  # callsys.log in the platform's log folder, secrets filtered out
        from callsys import __version__

        started = " ".join(sys.argv[1:]) or "no arguments"
        if len(started) > 300:  # a tel: link of 10,000 digits: one readable line, not a page
            started = started[:299] + "…"
        log.info("callsys %s started (%s)", __version__, started)
    settings, settings_error, settings_file = _load_settings(ctx)
    uris = list(args.uris or [])  # the desktop's command line always has them (callsys.cli)

    instance: SingleInstance | None = None
    if not os.environ.get(READY_ENV):
        instance = SingleInstance(settings_file)
        if os.environ.get(HAND_OVER_ONLY_ENV):  # for tests and scripts: never start a window
            return 0 if instance.hand_over(uris) else 3
        if instance.claim(uris):
            return 0  # the running window dials the links

    language = Language(app)
    language.apply(resolve_language(settings[LANGUAGE]), settings[CALENDAR])
    set_current(language)

    from ui.loop import EventLoop

    loop = EventLoop(app)  # qasync's, with socket readers (the softphone's INVITEs) run at once
    loop.set_debug(False)  # dev mode's asyncio debug trips qasync's timer KeyError (qasync#22)
    asyncio.set_event_loop(loop)
    # No settings file (and none that failed to load): a first start, said in the window.
    # An administrator may keep it silent (ui.first_start_panel = false in their layer).
    first_start = (
        settings_error is None
        and settings.path is not None
        and not settings.path.exists()
        and settings[FIRST_START_PANEL]
    )
    desktop = compose(settings, ctx.registry)
    if settings_error:
        desktop.problems.insert(0, f"settings:{settings_error}")
    # An unknown entry (a typo, a section of a newer callsys) is kept, not used — and said.
    desktop.problems.extend(f"file:{warning}" for warning in settings.warnings)
    window = MainWindow(desktop, language)
    links = LinkOpener(window, app)  # macOS hands a clicked tel: link over as a QFileOpenEvent
    app.installEventFilter(links)
    if instance is not None:
        instance.listen(window)
    window.restore_placement()
    if first_start:
        window.show_first_start()
    window.show()
    if os.environ.get(READY_ENV):
        window.ready.connect(lambda: QTimer.singleShot(0, lambda: _report_ready(window, time.time())))

    closing = asyncio.Event()

    async def main() -> None:
        await window.start(uris)
        await closing.wait()

    app.setQuitOnLastWindowClosed(False)
    window.closed.connect(closing.set)
    # SIGTERM (logout, shutdown, kill): close as File → Quit does. Through the loop's wake-up
    # socket, as the server does: a plain signal.signal handler would wait for the next Python
    # code the loop runs, and an idle window runs none (its clock ticks only during calls).
    if sys.platform != "win32":
        loop.add_signal_handler(signal.SIGTERM, window.end_session)
    try:
        with loop:
            loop.run_until_complete(main())
            loop.run_until_complete(_shutdown(window))
    finally:
        if instance is not None:
            instance.close()
        pending_update = window.pending_update
        _tear_down(app, window, links)
    if pending_update is not None:  # "Restart to update": install, then start again (SET5)
        from ui.updater import finish_update

        config = args.config
        finish_update(pending_update, ["--config", str(config)] if config else [])
    return 0


def _tear_down(app: QApplication, window: MainWindow, links: QObject) -> None:
    """Delete our Qt objects while the QApplication and the interpreter are still whole.

    Left to interpreter exit, PyQt6's own at-exit cleanup (``cleanup_on_exit`` in QtCore) walks
    every sip wrapper and met one already freed — a segfault at every exit under Python's debug
    allocator (``PYTHONDEVMODE=1``, which ``briefcase dev`` sets), undefined behaviour without it.
    """
    app.removeEventFilter(links)
    window.deleteLater()
    links.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()


class LinkOpener(QObject):
    """Dials ``tel:``/``callto:`` URLs the OS opens with the app (``QFileOpenEvent``, macOS)."""

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if isinstance(event, QFileOpenEvent) and event.url().scheme().lower() in ("tel", "callto", "sip"):
            self._window.dial_into_field(event.url().toString())
            return True
        return False


async def _shutdown(window: MainWindow) -> None:
    window.tasks.cancel_all()
    try:
        await asyncio.wait_for(window.desktop.close(), timeout=5)
    except TimeoutError:
        log.warning("shutting down took too long; leaving anyway")


def _report_ready(window: MainWindow, ready_at: float) -> None:
    """Benchmark hook: the window is shown and the loop idle. Optionally stay idle for
    ``CALLSYS_IDLE_SECONDS`` to measure idle memory and CPU, then quit."""
    from ui import memreport  # the benchmark's figures; not imported by a normal start

    idle = float(os.environ.get("CALLSYS_IDLE_SECONDS", "0") or 0)
    cpu_start = time.process_time()  # CPU used to get here: a figure the machine's load hardly moves
    threads_start = memreport.thread_cpu()
    wakeups_start = memreport.thread_wakeups()
    rss_ready = memreport.figures()["rss_kb"]

    def report() -> None:
        cpu = time.process_time() - cpu_start
        threads = memreport.thread_cpu()
        per_thread = ",".join(
            f"{name}:{threads[name] - threads_start.get(name, 0.0):.4f}" for name in sorted(threads)
        )
        wakeups = memreport.thread_wakeups()
        per_thread_wakeups = ",".join(
            f"{name}:{wakeups[name] - wakeups_start.get(name, 0)}" for name in sorted(wakeups)
        )
        idle_figures = " ".join(f"idle_{key}={value}" for key, value in memreport.figures().items())
        if window.banner.isVisibleTo(window):  # what the agent is told is wrong, for the tests
            print("callsys-banner " + json.dumps(window.banner_label.text()), flush=True)
        if window.first_start.isVisibleTo(window):  # a first start: what the panel says
            print("callsys-first-start " + json.dumps(window.first_start.text.text()), flush=True)
        print("callsys-status " + json.dumps(window.status_label.text()), flush=True)
        print(
            f"callsys-ready {ready_at:.6f} rss_kb={rss_ready} {idle_figures} "
            f"idle_cpu_s={cpu:.4f} idle_s={idle} cpu_to_ready_s={cpu_start:.4f} idle_threads={per_thread or '-'} "
            f"idle_wakeups={per_thread_wakeups or '-'}",
            flush=True,
        )
        memreport.dump()  # CALLSYS_MEMORY_DUMP=DIR: smaps, modules, tracemalloc for --breakdown
        window.close()

    QTimer.singleShot(int(idle * 1000), report)
