"""The desktop's side of signed updates (SET5): check, download in the background, restart to update.

``UpdateAgent`` checks the organisation's update feed (``updates.url``, verified from the root
shipped with the app or ``updates.root``) at start and every ``updates.check_hours`` hours. The
check and the download run on a worker thread — never on the window's — and report back through
Qt signals: ``progress(received, total)`` while the installer comes, ``ready(version, path)`` once
its length and hash matched the signed ones, ``failed(why)`` when the feed or the file cannot be
trusted (nothing is installed then). ``UpdateBar`` shows it in the status bar: a small progress bar
with a Cancel button, then "Version X is ready — restart to update".

Restarting installs: the window closes as File → Quit does, ``ui.app.run`` hands the verified
file to the system's installer (``callsys.updates.install_command``: ``pkexec apt-get install``)
and starts callsys again. Where the installed package comes from an apt repository
(``callsys.updates.apt_repository``) or the administrator set ``updates.mode = "system"``, the
desktop neither checks nor installs: it says that updates come from the system.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from callsys import __version__
from callsys.errors import CallsysError
from callsys.settings import UPDATES_CHECK_HOURS, UPDATES_MODE, UPDATES_ROOT, UPDATES_URL, Settings

from ui.i18n import current, ltr, translate
from ui.qt import QHBoxLayout, QLabel, QObject, QProgressBar, QPushButton, QTimer, QWidget, named, pyqtSignal

__all__ = ["UpdateAgent", "UpdateBar", "finish_update", "install_update", "relaunch_command"]

log = logging.getLogger(__name__)

#: The callsys started again after an update (see ``finish_update``).
RELAUNCHED: list[subprocess.Popen[bytes]] = []
#: Milliseconds after the window is up before the first check (the start stays quick).
FIRST_CHECK_DELAY_MS = 5000
#: Milliseconds before trying again when the feed could not be reached (a laptop offline at
#: start does not wait a whole day for its next check).
RETRY_MS = 3_600_000


class UpdateAgent(QObject):
    """Finds, fetches and verifies a newer version off the window's thread (see the module)."""

    #: "checking", "downloading", "ready", "failed", "unreachable", "cancelled", "current" or "system"
    state_changed = pyqtSignal(str)
    progress = pyqtSignal(int, int)  # bytes received, bytes in all
    ready = pyqtSignal(str, str)  # version, the verified installer's path
    failed = pyqtSignal(str)  # why, one sentence
    system = pyqtSignal(str)  # updates come from this apt repository (or "" when set so)

    # from the worker thread; queued to this object's (the window's) thread
    _worker_state = pyqtSignal(str, str)
    _worker_progress = pyqtSignal(int, int)
    _worker_done = pyqtSignal(str, str, str)  # state, version, path or message

    def __init__(
        self,
        settings: Settings,
        parent: QObject | None = None,
        *,
        current: str = __version__,
        cache: Path | None = None,
        downloads: Path | None = None,
        repository: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.current = current
        self._cache = cache
        self._downloads = downloads
        if repository is None:
            from callsys.updates import apt_repository

            repository = apt_repository
        self._repository = repository
        self.state = ""
        self.version = ""
        self.path: Path | None = None
        self.message = ""
        self.received = self.total = 0
        self._cancel = threading.Event()
        self._worker: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check_now)
        self.retry = QTimer(self)  # after an unreachable feed
        self.retry.setSingleShot(True)
        self.retry.setInterval(RETRY_MS)
        self.retry.timeout.connect(self.check_now)
        self._worker_state.connect(self._on_state)
        self._worker_progress.connect(self._on_progress)
        self._worker_done.connect(self._on_done)

    # ------------------------------------------------------------------ the admin's settings
    @property
    def url(self) -> str:
        return str(self.settings[UPDATES_URL])

    @property
    def mode(self) -> str:
        return str(self.settings[UPDATES_MODE])

    def start(self, delay_ms: int = FIRST_CHECK_DELAY_MS) -> bool:
        """Check soon, then every ``updates.check_hours`` hours. False: updates are off here
        (no feed, ``updates.mode`` is "off"), or the system updates callsys (``system`` says so)."""
        if self.mode == "system":
            self._set_state("system")
            self.system.emit("")
            return False
        if self.mode == "off" or not self.url:
            return False
        hours = int(self.settings[UPDATES_CHECK_HOURS])
        self._timer.start(min(hours * 3_600_000, 2**31 - 1))
        QTimer.singleShot(max(0, delay_ms), self.check_now)
        return True

    def stop(self) -> None:
        self._timer.stop()
        self.retry.stop()
        self.cancel()

    # ------------------------------------------------------------------ check and download
    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def check_now(self) -> None:
        """Check the feed and fetch a newer version, on a worker thread (once at a time; not
        again once an update is ready to install)."""
        if self.busy or self.state in ("ready", "system") or self.mode != "auto" or not self.url:
            return
        self._cancel.clear()
        self._set_state("checking")
        self._worker = threading.Thread(target=self._work, name="callsys-update", daemon=True)
        self._worker.start()

    def cancel(self) -> None:
        """Stop the download (the next check starts it again)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread (tests, shutdown). True: it has ended."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    def _root(self) -> bytes:
        from callsys.updates import SHIPPED_ROOT, UpdateError

        configured = str(self.settings[UPDATES_ROOT])
        path = Path(configured).expanduser() if configured else SHIPPED_ROOT
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UpdateError(f"The update feed's root {path} cannot be read: {exc.strerror}.") from None

    def _work(self) -> None:
        """On the worker thread: nothing here touches a widget; it reports through signals."""
        from callsys.updates import FeedUnreachable, UpdateCancelled, check_update, download, feed_cache

        url = self.url
        try:
            source = self._repository()
            if source:
                self._worker_done.emit("system", "", source)
                return
            offer = check_update(url, self._root(), self.current, self._cache or feed_cache(url))
            if offer is None:
                self._worker_done.emit("current", "", "")
                return
            self._worker_state.emit("downloading", offer.version)
            self._worker_progress.emit(0, offer.length)
            folder = self._downloads or (self._cache or feed_cache(url)) / "downloads"
            path = download(
                offer,
                folder,
                progress=lambda received: self._worker_progress.emit(received, offer.length),
                cancel=self._cancel,
            )
            self._worker_done.emit("ready", offer.version, str(path))
        except UpdateCancelled:
            self._worker_done.emit("cancelled", "", "")
        except FeedUnreachable as exc:
            self._worker_done.emit("unreachable", "", str(exc))
        except CallsysError as exc:
            self._worker_done.emit("failed", "", str(exc))
        except Exception as exc:  # a bug must not end the window; it is logged with its traceback
            log.exception("the update check failed")
            self._worker_done.emit("failed", "", f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ on the window's thread
    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    def _on_state(self, state: str, version: str) -> None:
        self.version = version
        self.received, self.total = 0, 0
        self._set_state(state)

    def _on_progress(self, received: int, total: int) -> None:
        self.received, self.total = received, total
        self.progress.emit(received, total)

    def _on_done(self, state: str, version: str, detail: str) -> None:
        if state == "ready":
            self.version, self.path = version, Path(detail)
            log.info("callsys %s is downloaded and verified: %s", version, detail)
            self._set_state(state)
            self.ready.emit(version, detail)
        elif state == "failed":
            self.message = detail
            log.warning("no update: %s", detail)
            self._set_state(state)
            self.failed.emit(detail)
        elif state == "unreachable":  # not the agent's concern: logged, tried again in an hour
            self.message = detail
            log.warning("no update check: %s", detail)
            self.retry.start()
            self._set_state(state)
        elif state == "system":
            self.message = detail
            self._timer.stop()
            log.info("updates come from the system's package manager (%s)", detail)
            self._set_state(state)
            self.system.emit(detail)
        else:
            self._set_state(state)


class UpdateBar(QWidget):
    """The status bar's part of an update: what is happening, a small progress bar with Cancel,
    then "Version X is ready — restart to update" with its button."""

    restart_requested = pyqtSignal()

    def __init__(self, agent: UpdateAgent, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("updateBar")
        self.agent = agent
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = named(QLabel(self), "updateStatus")
        self.label.setMaximumWidth(420)  # a long refusal is in full in the tooltip
        self.bar = named(QProgressBar(self), "updateProgress")
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.cancel_button = named(QPushButton(self), "updateCancel")
        self.restart_button = named(QPushButton(self), "updateRestart")
        for widget in (self.label, self.bar, self.cancel_button, self.restart_button):
            layout.addWidget(widget)
        self.cancel_button.clicked.connect(agent.cancel)
        self.restart_button.clicked.connect(self.restart_requested)
        agent.state_changed.connect(self._show)
        agent.progress.connect(self._progress)
        self.retranslate()

    def retranslate(self) -> None:
        self.cancel_button.setText(translate("Updates", "Cancel"))
        self.cancel_button.setAccessibleName(translate("Updates", "Cancel the update's download"))
        self.restart_button.setText(translate("Updates", "Restart to update"))
        self.bar.setAccessibleName(translate("Updates", "Update download"))
        self._show(self.agent.state)

    def _progress(self, received: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(min(received, total))
        percent = round(100 * received / total) if total else 0
        self.bar.setAccessibleDescription(
            translate("Updates", "{percent}% downloaded").format(percent=_digits(str(percent)))
        )

    def _show(self, state: str) -> None:
        agent = self.agent
        version = ltr(_digits(agent.version))  # "0.2.0" stays one left-to-right run in Persian
        text = ""
        if state == "downloading":
            text = translate("Updates", "Downloading version {version}…").format(version=version)
        elif state == "ready":
            text = translate("Updates", "Version {version} is ready — restart to update").format(
                version=version
            )
        elif state == "failed":
            text = translate("Updates", "No update: {why}").format(why=agent.message)
        self.label.setText(text)
        self.label.setToolTip(text)
        self.bar.setVisible(state == "downloading")
        self.cancel_button.setVisible(state == "downloading")
        self.restart_button.setVisible(state == "ready")
        self.setVisible(bool(text))

    def system_text(self) -> str:
        return translate("Updates", "callsys is updated by the system's package manager.")


def _digits(text: str) -> str:
    language = current()
    return language.digits(text) if language is not None else text


# ------------------------------------------------------------------------------ restart
def install_update(path: Path, run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> str:
    """Hand the verified installer to the system's installer (``pkexec apt-get install``) and
    wait for it. Returns "" when it was installed, else why not (one sentence)."""
    from callsys.updates import install_command

    try:
        command = install_command(path)
    except CallsysError as exc:
        return str(exc)
    log.info("installing the update: %s", " ".join(command))
    try:
        result = run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        return f"{command[0]} could not be started: {exc.strerror}."
    if result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()
        why = f" ({detail[-1]})" if detail else ""
        if result.returncode in (126, 127):  # pkexec: the password dialog was dismissed / refused
            return f"The update was not installed: the administrator's password was not given{why}."
        return f"The update was not installed: {command[1]} exited with {result.returncode}{why}."
    return ""


def relaunch_command(argv: list[str] | None = None) -> list[str]:
    """How to start callsys again after the update (the installed ``callsys`` on PATH)."""
    args = list(sys.argv[1:] if argv is None else argv)
    program = shutil.which("callsys")
    if program is not None:
        return [program, *args]
    return [sys.executable, "-m", "callsys", *args]


def finish_update(path: Path, argv: list[str] | None = None) -> str:
    """After the window has closed (and freed its single-instance lock): install, then start
    callsys again with *argv* (its settings file; never the links it was started with, which
    were dialled already) — the new version, or the old one if installing failed. Returns why
    it failed."""
    why = install_update(path)
    if why:
        log.error("%s", why)
    try:
        # kept referenced: this process ends right after, the new one lives on in its own session
        RELAUNCHED.append(
            subprocess.Popen(relaunch_command(argv or []), start_new_session=True, env=dict(os.environ))
        )
    except OSError as exc:
        log.error("callsys could not be started again: %s", exc)
    return why
