"""One callsys per user and settings (issue 6, B5): a second launch — typically a clicked ``tel:``
link — hands its links to the running window over a local socket and exits (qutebrowser's
``misc/ipc.py``, made small).

The socket name carries the user and a hash of the settings file, so two people on one machine,
or a test with its own settings, never talk to each other's window. Messages are one JSON line:
``{"v": 1, "uris": ["tel:+98…"]}``; an empty list just raises the window.

As qutebrowser does it:

* The launch listens right after its hand-over failed, before it builds its window: two links
  clicked within the first second no longer start two windows (the second of which used to take
  the socket over, leaving the first unreachable).
* A socket that is in use is somebody's: the launch tries to hand over again rather than remove
  it; only a socket nobody answers on (left by a crash) is removed.
* On Unix the socket lives in a folder of the user's with mode 0700. Qt's ``UserAccessOption``
  would chmod the socket only after binding it, a window in which another user can connect
  (QTBUG-48635); it is kept for Windows, where it sets the pipe's access list.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ui.qt import QAbstractSocket, QLocalServer, QLocalSocket, QObject, pyqtSignal

if TYPE_CHECKING:
    from ui.mainwindow import MainWindow

__all__ = ["SingleInstance", "server_name"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
#: How long an accepted connection may take to say what it wants (the GUI waits that long).
READ_TIMEOUT_MS = 100
MAX_MESSAGE = 64 * 1024
#: The message format; a newer launch may add keys, an older running window ignores them.
PROTOCOL = 1
#: How often a launch that found the socket in use tries to hand over before giving up.
HAND_OVER_TRIES = 10


def server_name(settings_path: Path | str | None) -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    digest = hashlib.sha256(str(Path(settings_path).expanduser().resolve() if settings_path else "").encode())
    name = f"callsys-{''.join(c for c in user if c.isalnum())[:16]}-{digest.hexdigest()[:12]}"
    folder = _private_folder()
    return str(folder / name) if folder is not None else name


def _private_folder() -> Path | None:
    """A folder only this user can enter, for the socket (Unix); ``None`` on Windows or when no
    such folder can be made (then Qt's default place is used, as before)."""
    if sys.platform == "win32":
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir())
    folder = base / f"callsys-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            log.warning("%s is not a folder of this user's; using Qt's default socket place", folder)
            return None
        if stat.S_IMODE(info.st_mode) != 0o700:
            folder.chmod(0o700)
    except OSError as exc:
        log.warning("cannot make a private folder for the single-instance socket: %s", exc)
        return None
    return folder


class SingleInstance(QObject):
    received = pyqtSignal(list)

    def __init__(self, settings_path: Path | str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(settings_path)
        self._server: QLocalServer | None = None
        self._pending: list[list[str]] = []  # received before a window was attached
        self._window: MainWindow | None = None
        self._server_error: QAbstractSocket.SocketError | None = None

    def hand_over(self, uris: list[str]) -> bool:
        """Give *uris* to a running instance. ``True`` if one took them (then exit)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        payload = json.dumps({"v": PROTOCOL, "uris": list(uris)}).encode("utf-8") + b"\n"
        socket.write(payload)
        ok = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(CONNECT_TIMEOUT_MS)
        return ok

    def claim(self, uris: list[str]) -> bool:
        """Hand *uris* to a running instance, or become the running instance: ``True`` when
        another one took them (exit then), ``False`` when this process now listens (start)."""
        for _ in range(HAND_OVER_TRIES):
            if self.hand_over(uris):
                return True
            if self._listen():
                return False
            if self._server_error != QAbstractSocket.SocketError.AddressInUseError:
                return False  # cannot listen at all: start without (said in the log)
            time.sleep(0.05)  # another launch is starting up: it will answer in a moment
        # In use, yet nobody answers: the socket of a callsys that crashed.
        QLocalServer.removeServer(self.name)
        self._listen()
        return False

    def _listen(self) -> bool:
        server = QLocalServer(self)
        if sys.platform == "win32":
            server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            self._server_error = server.serverError()
            if self._server_error != QAbstractSocket.SocketError.AddressInUseError:
                log.warning("single-instance socket %s: %s", self.name, server.errorString())
            server.deleteLater()
            return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def listen(self, window: MainWindow | None = None) -> bool:
        """Listen now if not yet (``claim`` does), and give links to *window* from now on."""
        if self._server is None and not self._listen():
            QLocalServer.removeServer(self.name)  # a stale socket left by a crash
            if not self._listen():
                return False
        if window is not None:
            self.attach(window)
        return True

    def attach(self, window: MainWindow) -> None:
        """Deliver links to *window*, those that arrived while it was being built first."""
        self._window = window
        self.received.connect(lambda uris: _deliver(window, uris))
        pending, self._pending = self._pending, []
        for uris in pending:
            _deliver(window, uris)

    def _accept(self) -> None:
        server = self._server
        if server is None:
            return
        while server.hasPendingConnections():
            socket = server.nextPendingConnection()
            if socket is None:
                continue
            buffer = bytearray()

            def read(sock: QLocalSocket = socket, buf: bytearray = buffer) -> None:
                buf.extend(bytes(sock.readAll().data()))
                if len(buf) > MAX_MESSAGE:
                    sock.abort()
                    return
                if b"\n" in buf:
                    line = bytes(buf).split(b"\n", 1)[0]
                    buf.clear()
                    self._message(line)

            def gone(sock: QLocalSocket = socket, buf: bytearray = buffer) -> None:
                read(sock, buf)  # what came with the goodbye
                sock.deleteLater()

            socket.readyRead.connect(read)
            socket.disconnected.connect(gone)
            # A launch that handed over while this one was starting has written and gone before
            # we accepted it: its message is in the socket, but Qt would report only the goodbye.
            if socket.bytesAvailable() or socket.waitForReadyRead(READ_TIMEOUT_MS):
                read()

    def _message(self, line: bytes) -> None:
        try:
            data = json.loads(line.decode("utf-8"))
            uris = [str(u) for u in data.get("uris", [])][:20]
            version = int(data.get("v", PROTOCOL))
        except (ValueError, AttributeError, TypeError, UnicodeDecodeError):
            log.warning("ignoring a malformed message on the single-instance socket")
            return
        if version > PROTOCOL:
            log.info("a newer callsys (protocol %d) handed links over; reading what it shares", version)
        if self._window is None:
            self._pending.append(uris)
            return
        self.received.emit(uris)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def _deliver(window: MainWindow, uris: list[str]) -> None:
    window.bring_forward()
    window.open_links(uris)
