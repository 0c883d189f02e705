"""Wake the asyncio loop when the softphone engine has something to read (POSIX).

The engine (pjsua2 with ``threadCnt=0``) does nothing unless it is polled. Instead of polling
it 50 times a second for nothing, the provider watches the engine's sockets with
``loop.add_reader`` and polls when one of them becomes readable:

* the listening sockets the engine hands over (``Engine.wakeup_sockets``: UDP, the TCP and TLS
  listeners);
* the TCP/TLS connections the engine opens or accepts later — to a registrar or proxy over
  ``transport=tcp|tls``, or a peer's connection to our listener. They are found by scanning our
  file descriptors (``/proc/self/fd``) after the engine did something: a new connected stream
  socket whose local port is one of the listeners' (accepted) or whose far end's port is a SIP
  port of ours (5060, 5061, the ports in the lines' registrar and proxy) is taken for the
  engine's.

What is watched is a duplicate of the engine's descriptor (the engine owns and closes its own).
A duplicate keeps the socket alive after the engine closed it, so every scan drops the
duplicates whose original descriptor is gone or is now another file; a watched connection that
is readable while a poll handles nothing (the engine no longer reads it, or it never was the
engine's) is dropped as well, so it cannot spin the loop.

Where descriptors cannot be listed (no ``/proc``) or ``add_reader`` is unavailable (Windows'
proactor loop) ``complete`` is false and the provider keeps its fast timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from collections.abc import Callable, Iterable

__all__ = ["SocketWatch", "sip_port"]

log = logging.getLogger(__name__)

#: A watched connection readable this many polls in a row with nothing handled is dropped.
IDLE_READS = 3
_FD_DIR = "/proc/self/fd"


def sip_port(uri: str, transport: str = "udp") -> int:
    """The port a ``sip:``/``sips:`` URI (or ``host[:port]``) names, else the transport's default."""
    rest = uri.strip()
    scheme, sep, tail = rest.partition(":")
    if sep and scheme.lower() in ("sip", "sips"):
        rest = tail
        if scheme.lower() == "sips":
            transport = "tls"
    rest = rest.split(";", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):  # [IPv6]:port
        host_end = rest.find("]")
        port = rest[host_end + 2 :] if host_end >= 0 and rest[host_end + 1 : host_end + 2] == ":" else ""
    else:
        port = rest.rpartition(":")[2] if rest.count(":") == 1 else ""
    return int(port) if port.isdigit() else 5061 if transport == "tls" else 5060


class SocketWatch:
    """The engine's sockets watched for readability on *loop*; *poll* is called when one is."""

    def __init__(self, loop: asyncio.AbstractEventLoop, poll: Callable[[], int]) -> None:
        self._loop = loop
        self._poll = poll
        self._listeners: list[socket.socket] = []
        self._listen_ports: set[int] = set()
        self._peer_ports: set[int] = {5060, 5061}
        #: original fd → (its (st_dev, st_ino), our duplicate, polls in a row with nothing handled)
        self._connections: dict[int, tuple[tuple[int, int], socket.socket, list[int]]] = {}
        self._seen: dict[int, tuple[int, int]] = {}  # the sockets at the last scan
        self._ours: set[int] = set()  # our duplicates' descriptors: never adopted
        self.listing = os.path.isdir(_FD_DIR)

    @property
    def complete(self) -> bool:
        """True when every socket the engine reads from wakes the loop (listeners watched and
        connections found); else the provider must keep polling on its fast timer."""
        return bool(self._listeners) and self.listing

    @property
    def connections(self) -> int:
        return len(self._connections)

    def add_ports(self, ports: Iterable[int]) -> None:
        """Far-end ports that mark a connection as the engine's (registrars, proxies)."""
        self._peer_ports.update(p for p in ports if p)

    def watch_listeners(self, sockets: Iterable[socket.socket]) -> None:
        for sock in sockets:
            try:
                self._loop.add_reader(sock.fileno(), self._readable, -1)
            except (NotImplementedError, RuntimeError, ValueError, OSError):
                sock.close()
                continue
            self._listeners.append(sock)
            self._ours.add(sock.fileno())
            with contextlib.suppress(OSError):
                name = sock.getsockname()
                if isinstance(name, tuple):
                    self._listen_ports.add(int(name[1]))
        self.scan()

    def _readable(self, fd: int) -> None:
        try:
            handled = self._poll()
        except Exception:
            log.exception("SIP poll failed")
            return
        if fd < 0:
            return
        entry = self._connections.get(fd)
        if entry is None:
            return
        if handled:
            entry[2][0] = 0
            return
        entry[2][0] += 1
        self.scan()  # the engine closed it? Then the duplicate goes now.
        if fd in self._connections and self._connections[fd][2][0] >= IDLE_READS:
            log.debug("socket %d is readable but the engine does not read it: not watched", fd)
            self._drop(fd)

    # ------------------------------------------------------------------ connections
    def scan(self) -> None:
        """Drop duplicates of closed connections; watch new connections of the engine."""
        if not self.listing or not self._listeners:
            return
        try:
            names = os.listdir(_FD_DIR)
        except OSError:
            self.listing = False
            return
        current: dict[int, tuple[int, int]] = {}  # every socket now: fd → (st_dev, st_ino)
        for name in names:
            fd = int(name)
            if fd in self._ours:
                continue
            try:
                info = os.fstat(fd)
            except OSError:  # e.g. the descriptor listdir itself used
                continue
            if stat.S_ISSOCK(info.st_mode):
                current[fd] = (info.st_dev, info.st_ino)
        for fd, (ident, _dup, _reads) in list(self._connections.items()):
            if current.get(fd) != ident:
                self._drop(fd)
        seen, self._seen = self._seen, current
        for fd, ident in list(current.items()):
            if seen.get(fd) != ident and fd not in self._connections:
                self._consider(fd, ident)

    def _consider(self, fd: int, ident: tuple[int, int]) -> None:
        try:
            dup = socket.socket(fileno=os.dup(fd))
        except OSError:
            return
        keep = False
        try:
            if (
                dup.family in (socket.AF_INET, socket.AF_INET6)
                and dup.type == socket.SOCK_STREAM
                and not dup.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            ):
                local = dup.getsockname()[1]
                peer = dup.getpeername()[1]
                keep = local in self._listen_ports or peer in self._peer_ports
        except OSError:  # not connected yet: looked at again at the next scan
            self._seen.pop(fd, None)
        if not keep:
            dup.close()
            return
        try:
            self._loop.add_reader(dup.fileno(), self._readable, fd)
        except (NotImplementedError, RuntimeError, ValueError, OSError):
            dup.close()
            return
        self._ours.add(dup.fileno())
        self._connections[fd] = (ident, dup, [0])

    def _drop(self, fd: int) -> None:
        entry = self._connections.pop(fd, None)
        if entry is None:
            return
        dup = entry[1]
        with contextlib.suppress(Exception):
            self._loop.remove_reader(dup.fileno())
        self._ours.discard(dup.fileno())
        dup.close()

    def close(self) -> None:
        for fd in list(self._connections):
            self._drop(fd)
        for sock in self._listeners:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._listeners.clear()
        self._ours.clear()
        self._seen.clear()
