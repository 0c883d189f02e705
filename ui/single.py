"""One callsys per user and settings (issue 6, B5): a second launch — typically a clicked ``tel:``
link — hands its links to the running window over a local socket and exits (qutebrowser's
``misc/ipc.py``, made small).

The socket name carries the user and a hash of the settings file, so two people on one machine,
or a test with its own settings, never talk to each other's window. Messages are one JSON line:
``{"uris": ["tel:+98…"]}``; an empty list just raises the window.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ui.qt import QLocalServer, QLocalSocket, QObject, Qt, pyqtSignal

if TYPE_CHECKING:
    from ui.mainwindow import MainWindow

__all__ = ["SingleInstance", "server_name"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
MAX_MESSAGE = 64 * 1024


def server_name(settings_path: Path | str | None) -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    digest = hashlib.sha256(str(Path(settings_path).expanduser().resolve() if settings_path else "").encode())
    return f"callsys-{''.join(c for c in user if c.isalnum())[:16]}-{digest.hexdigest()[:12]}"


class SingleInstance(QObject):
    received = pyqtSignal(list)

    def __init__(self, settings_path: Path | str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(settings_path)
        self._server: QLocalServer | None = None

    def hand_over(self, uris: list[str]) -> bool:
        """Give *uris* to a running instance. ``True`` if one took them (then exit)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        payload = json.dumps({"uris": list(uris)}).encode("utf-8") + b"\n"
        socket.write(payload)
        ok = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(CONNECT_TIMEOUT_MS)
        return ok

    def listen(self, window: MainWindow | None = None) -> bool:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A stale socket left by a crash: nobody answered hand_over, so it is safe to remove.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance socket %s: %s", self.name, server.errorString())
                return False
        server.newConnection.connect(self._accept)
        self._server = server
        if window is not None:
            self.received.connect(lambda uris: _deliver(window, uris))
        return True

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

            socket.readyRead.connect(read)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                read()

    def _message(self, line: bytes) -> None:
        try:
            data = json.loads(line.decode("utf-8"))
            uris = [str(u) for u in data.get("uris", [])][:20]
        except (ValueError, AttributeError, UnicodeDecodeError):
            log.warning("ignoring a malformed message on the single-instance socket")
            return
        self.received.emit(uris)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def _deliver(window: MainWindow, uris: list[str]) -> None:
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
    window.open_links(uris)
