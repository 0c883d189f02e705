"""The WebSocket hub: authenticated desktop sessions, the seat limit, and call-event push.

One ``Hub`` per server. A desktop connects, sends ``hello`` with its token; the hub checks it in
constant time (``hmac.compare_digest``), takes a seat (ARCH3) or refuses with a close code and a
reason a person can read (see ``callsys.server.protocol``), then pushes every call event of the
desktop's extensions. Each event is encoded once and written to its sessions synchronously (no
await between the PBX event and the socket write, so push latency is one loop iteration).

Liveness: the library's ping/pong on a ``heartbeat_timeout`` budget. A desktop whose process
crashed closes its TCP connection and loses its seat at once; one that hangs or whose network
vanished loses it when the pongs stop. A desktop that reconnects with the same ``instance`` id
(after a crash, before the heartbeat noticed) takes over its own old seat instead of being refused.

A slow desktop cannot make the server buffer without bound: a session whose unsent data passes
``max_backlog`` bytes is closed (it resynchronises from the ``welcome`` snapshot on reconnect).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.connection import broadcast
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from callsys.errors import CallsysError
from callsys.model import Call, CallEvent
from callsys.server.protocol import (
    CLOSE_BAD_HELLO,
    CLOSE_REPLACED,
    CLOSE_SEATS,
    CLOSE_UNAUTHENTICATED,
    PROTOCOL_VERSION,
    ProtocolError,
    call_to_wire,
    decode,
    encode,
)

__all__ = ["ALL", "HttpRoute", "Hub", "Identity", "Session"]

log = logging.getLogger(__name__)

#: An extension list holding ``ALL`` sees every call of its branch (a supervisor's desktop).
ALL = "*"
HELLO_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a desktop is, once its token has been accepted."""

    agent: str
    branch: str
    extensions: frozenset[str]


@dataclass(eq=False)
class Session:
    id: str
    identity: Identity
    instance: str
    connection: ServerConnection
    connected_at: float = field(default_factory=time.monotonic)

    def sees(self, branch: str, extension: str) -> bool:
        ident = self.identity
        return branch == ident.branch and (ALL in ident.extensions or extension in ident.extensions)


#: ``authenticate(hello) → Identity`` or raises ``PermissionError`` with the refusal text.
Authenticator = Callable[[Mapping[str, Any]], Identity]
#: ``welcome(identity) → dict`` merged into the welcome message (settings, lines, live calls …).
Welcomer = Callable[[Identity], Mapping[str, Any]]
#: ``handle(session, message) → value`` for a command/note; raises CallsysError to refuse.
CommandHandler = Callable[[Session, Mapping[str, Any]], Awaitable[Any]]
#: ``route(request) → (status, json-able body)`` for plain HTTP GETs, or None for 404.
HttpRoute = Callable[[Request], tuple[int, Any] | None]


def _json_response(connection: ServerConnection, status: int, body: Any) -> Response:
    payload = encode(body).encode()
    response = connection.respond(status, "")
    headers = Headers(response.headers)
    for name in ("Content-Type", "Content-Length"):
        del headers[name]  # Headers is a multi-dict: assigning would add a second value
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["Content-Length"] = str(len(payload))
    headers["Cache-Control"] = "no-store"
    return Response(response.status_code, response.reason_phrase, headers, payload)


def split_call_id(call_id: str) -> tuple[str, str]:
    """``"hq/1700000000.12"`` → ``("hq", "1700000000.12")`` (server call ids carry the branch)."""
    branch, sep, local = call_id.partition("/")
    return (branch, local) if sep else ("", call_id)


class Hub:
    def __init__(
        self,
        *,
        seats: int,
        heartbeat_timeout: float,
        authenticate: Authenticator,
        welcome: Welcomer,
        handle: CommandHandler,
        http: HttpRoute | None = None,
        max_backlog: int = 4 << 20,
    ) -> None:
        self.seats = seats
        self.heartbeat_timeout = heartbeat_timeout
        self._authenticate = authenticate
        self._welcome = welcome
        self._handle = handle
        self._http = http
        self._max_backlog = max_backlog
        self._sessions: dict[str, Session] = {}
        self._by_instance: dict[tuple[str, str], Session] = {}
        # (branch, extension) → sessions; (branch, ALL) → supervisors of that branch
        self._index: dict[tuple[str, str], set[Session]] = {}
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.refused: dict[int, int] = {}  # close code → how many, for the health endpoint
        self.pushed = 0

    # ----------------------------------------------------------------------------- lifecycle
    async def start(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> tuple[str, int]:
        interval = max(0.2, self.heartbeat_timeout / 3)
        self._server = await serve(
            self._session,
            host,
            port,
            process_request=self._process_request,
            ssl=tls,
            ping_interval=interval,
            ping_timeout=max(0.2, self.heartbeat_timeout - interval),
            close_timeout=min(5.0, max(0.5, self.heartbeat_timeout / 3)),
            max_size=1 << 20,
            max_queue=64,
            # Call events are small JSON objects; deflating each one per desktop costs more CPU
            # than the bytes it saves on a LAN.
            compression=None,
            logger=logging.getLogger("callsys.server.ws"),
        )
        sock = next(iter(self._server.sockets))
        addr = sock.getsockname()
        return str(addr[0]), int(addr[1])

    async def close(self, reason: str = "The callsys server is shutting down.") -> None:
        """Refuse new sessions, tell the connected ones why, and wait until they are gone."""
        self._closing = True
        if self._server is None:
            return
        self._server.close(close_connections=False)
        closing = [s.connection.close(1001, reason) for s in list(self._sessions.values())]
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._server = None

    # ----------------------------------------------------------------------------- queries
    @property
    def sessions(self) -> tuple[Session, ...]:
        return tuple(self._sessions.values())

    def sessions_for(self, branch: str, extension: str) -> set[Session]:
        found = self._index.get((branch, extension), set())
        supervisors = self._index.get((branch, ALL), set())
        return found | supervisors if supervisors else found

    # ----------------------------------------------------------------------------- push
    def push(self, event: CallEvent, call: Call, branch: str) -> int:
        """Send *event* for *call* to every session that sees it. Returns how many got it."""
        targets = self.sessions_for(branch, call.extension)
        if not targets:
            return 0
        frame = encode({"type": "call", "event": event.value, "call": call_to_wire(call)})
        self._write(targets, frame)
        self.pushed += 1
        return len(targets)

    def _write(self, sessions: Iterable[Session], frame: str) -> None:
        conns = []
        for session in sessions:
            transport = session.connection.transport
            if transport is not None and transport.get_write_buffer_size() > self._max_backlog:
                log.warning(
                    "desktop %s (%s) is not reading; dropping its session",
                    session.id,
                    session.identity.agent,
                    extra={
                        "event": "session_dropped",
                        "session": session.id,
                        "agent": session.identity.agent,
                    },
                )
                self._drop(session)  # no more pushes to it, and its seat is free at once
                self._spawn(session.connection.close(1008, "Your desktop fell too far behind; reconnect."))
                continue
            conns.append(session.connection)
        broadcast(conns, frame)

    # ----------------------------------------------------------------------------- HTTP
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if request.path.split("?", 1)[0] in ("/", "/ws"):
                return None
            return connection.respond(HTTPStatus.NOT_FOUND, "No WebSocket here; use /ws.\n")
        if self._http is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found.\n")
        try:
            answer = self._http(request)
        except Exception:
            log.exception("HTTP %s failed", request.path)
            return _json_response(connection, 500, {"error": "internal error"})
        if answer is None:
            return _json_response(connection, 404, {"error": "not found"})
        status, body = answer
        return _json_response(connection, status, body)

    # ----------------------------------------------------------------------------- sessions
    async def _refuse(self, connection: ServerConnection, code: int, reason: str) -> None:
        self.refused[code] = self.refused.get(code, 0) + 1
        log.info(
            "refused a desktop",
            extra={
                "event": "refused",
                "code": code,
                "reason": reason,
                "peer": str(connection.remote_address),
            },
        )
        # A close reason is at most 123 bytes (RFC 6455 §5.5): keep it short and whole.
        data = reason.encode()[:123].decode(errors="ignore")
        await connection.close(code, data)

    async def _session(self, connection: ServerConnection) -> None:
        if self._closing:
            await connection.close(1001, "The callsys server is shutting down.")
            return
        try:
            frame = await asyncio.wait_for(connection.recv(), HELLO_TIMEOUT)
        except TimeoutError:
            await self._refuse(connection, CLOSE_BAD_HELLO, "No hello within 10 seconds.")
            return
        except ConnectionClosed:
            return
        try:
            hello = decode(frame)
            if hello["type"] != "hello":
                raise ProtocolError("the first message must be a hello")
        except ProtocolError as exc:
            await self._refuse(connection, CLOSE_BAD_HELLO, f"Bad hello: {exc}.")
            return
        try:
            identity = self._authenticate(hello)
        except PermissionError as exc:
            await self._refuse(connection, CLOSE_UNAUTHENTICATED, str(exc) or "Authentication failed.")
            return
        instance = str(hello.get("instance") or "")[:64]
        # --- from here to _admit there is no await: the seat count cannot change under us
        old = self._by_instance.get((identity.agent, instance)) if instance else None
        if old is not None:
            self._drop(old)
            self._spawn(old.connection.close(CLOSE_REPLACED, "This desktop connected again elsewhere."))
        elif len(self._sessions) >= self.seats:
            await self._refuse(
                connection,
                CLOSE_SEATS,
                f"All {self.seats} desktop seats are in use; try again later or ask for more seats.",
            )
            return
        session = self._admit(identity, instance, connection)
        try:
            self._write(
                [session],
                encode(
                    {
                        "type": "welcome",
                        "protocol": PROTOCOL_VERSION,
                        "session": session.id,
                        "agent": identity.agent,
                        "branch": identity.branch,
                        "extensions": sorted(identity.extensions),
                        "heartbeat_timeout": self.heartbeat_timeout,
                        **self._welcome(identity),
                    }
                ),
            )
            await self._serve_session(session)
        finally:
            self._drop(session)

    def _admit(self, identity: Identity, instance: str, connection: ServerConnection) -> Session:
        session = Session(
            id=f"s{next(self._ids)}", identity=identity, instance=instance, connection=connection
        )
        self._sessions[session.id] = session
        if instance:
            self._by_instance[(identity.agent, instance)] = session
        for ext in identity.extensions:
            self._index.setdefault((identity.branch, ext), set()).add(session)
        log.info(
            "desktop connected",
            extra={
                "event": "session_open",
                "session": session.id,
                "agent": identity.agent,
                "seats_used": len(self._sessions),
                "seats": self.seats,
            },
        )
        return session

    def _drop(self, session: Session) -> None:
        if self._sessions.pop(session.id, None) is None:
            return
        if self._by_instance.get((session.identity.agent, session.instance)) is session:
            del self._by_instance[(session.identity.agent, session.instance)]
        for ext in session.identity.extensions:
            members = self._index.get((session.identity.branch, ext))
            if members is not None:
                members.discard(session)
                if not members:
                    del self._index[(session.identity.branch, ext)]
        log.info(
            "desktop disconnected",
            extra={
                "event": "session_close",
                "session": session.id,
                "agent": session.identity.agent,
                "seats_used": len(self._sessions),
                "close_code": session.connection.close_code,
            },
        )

    async def _serve_session(self, session: Session) -> None:
        connection = session.connection
        try:
            async for frame in connection:
                try:
                    message = decode(frame)
                except ProtocolError as exc:
                    self._write([session], encode({"type": "error", "error": str(exc)}))
                    continue
                kind = message["type"]
                if kind == "ping":
                    self._write([session], encode({"type": "pong", "id": message.get("id")}))
                elif kind in ("command", "note", "link"):
                    self._spawn(self._answer(session, message))
                else:
                    self._write([session], encode({"type": "error", "error": f"unknown message {kind!r}"}))
                if self._sessions.get(session.id) is not session:
                    return  # replaced by a newer connection of the same desktop
        except ConnectionClosed:
            pass

    async def _answer(self, session: Session, message: Mapping[str, Any]) -> None:
        request_id = message.get("id")
        try:
            value = await self._handle(session, message)
            reply: dict[str, Any] = {"type": "result", "id": request_id, "ok": True, "value": value}
        except CallsysError as exc:
            reply = {
                "type": "result",
                "id": request_id,
                "ok": False,
                "error": str(exc),
                "kind": type(exc).__name__,
            }
        except Exception:
            log.exception("command %r from %s failed", message.get("op"), session.identity.agent)
            reply = {
                "type": "result",
                "id": request_id,
                "ok": False,
                "error": "The server could not do that.",
            }
        if self._sessions.get(session.id) is session:
            self._write([session], encode(reply))

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def constant_time_equal(given: str, expected: str) -> bool:
    """Compare a presented token with the stored one without leaking where they differ."""
    return hmac.compare_digest(given.encode(), expected.encode())
