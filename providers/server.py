"""ServerProvider — the desktop takes its calls from a callsys server instead of the PBX.

The server watches the PBX (AMI), logs every call to the CRM itself (IN14) and pushes the call
events of this desktop's extensions over an authenticated WebSocket (``callsys.server.protocol``).
This provider turns those pushes back into ``ProviderEvent``s for the desktop's CallManager, and
forwards the commands the server's own provider allows (its ``capabilities`` are whatever the
server announced in its ``welcome``).

Never two activities for one call: when the welcome says ``activity_owner == "server"`` the
desktop must not write activities for calls from this provider (``owns_activity`` is False) and
sends notes and conversions to the server with ``set_notes`` / ``link`` instead.

Options (``phone.options`` or the provider's table): ``url`` (``ws://host:port/ws``; default the
``server.url`` setting passed in by the composition root), ``urls`` (several servers — the nodes
of a server pair — tried in order: when the one in use fails or drops the link, the next is tried
at once, and the list is waited on only when every server failed), ``agent`` (default: the login name),
``token_secret`` (keyring name of the token; default ``server/token``), ``extensions`` and
``branch`` (needed only with the shared secret), ``ca_file`` (for a ``wss://`` server whose
certificate is not signed by a public CA), ``instance`` (a stable id of this desktop, so a
restart after a crash takes over its own seat; default host name + agent).

Link loss: the provider reconnects with backoff (1 s doubling to 30 s; 30 s after a seat or
token refusal) and, on the new ``welcome``, reconciles — calls the server no longer has are
ended here, calls it has are adopted — so no pop-up stays stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import logging
import socket
import ssl
from collections.abc import Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from callsys.errors import ConfigError, NotSupported, ProviderError, ProviderUnavailable, UnknownCall
from callsys.model import Call, CallEvent, CallState, Direction, EndReason, ProviderEvent
from callsys.optionkeys import OptionKeys
from callsys.provider import Capability, Line, ProviderListener, ProviderStatus, Registration, require
from callsys.secretnames import server_token_name
from callsys.secrets import get_secret
from callsys.server.protocol import (
    CLOSE_REPLACED,
    CLOSE_SEATS,
    CLOSE_UNAUTHENTICATED,
    PROTOCOL_VERSION,
    ProtocolError,
    call_from_wire,
    decode,
    encode,
)

__all__ = ["OPTION_KEYS", "ServerProvider"]

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 15.0
#: What the server's phone system may do but the server does not forward to desktops yet: a
#: consultation, the transfer to it and a conference need the two calls on the server's side.
_NOT_FORWARDED = frozenset({Capability.CONSULT, Capability.ATTENDED_TRANSFER, Capability.CONFERENCE})

#: Every key ``ServerProvider`` reads from its options (any other gets a warning).
OPTION_KEYS = OptionKeys(
    "the callsys server connection",
    dict.fromkeys(
        (
            "url", "urls", "server_url", "agent", "token_secret", "token", "extensions", "branch", "instance",
            "retry", "ca_file",
        )
    ),
)  # fmt: skip
_ERRORS: dict[str, type[ProviderError]] = {
    "UnknownCall": UnknownCall,
    "NotSupported": NotSupported,
    "ProviderUnavailable": ProviderUnavailable,
}


class ServerProvider:
    name = "server"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        raw = opts.get("urls") or []
        listed = [u.strip() for u in raw.split(",")] if isinstance(raw, str) else [str(u) for u in raw]
        single = str(opts.get("url") or opts.get("server_url") or "")
        self.urls: list[str] = []
        for candidate in [*listed, single]:
            normal = _ws_url(candidate) if candidate else ""
            if normal and normal not in self.urls:
                self.urls.append(normal)
        if not self.urls:
            raise ConfigError(
                "The server phone connection needs the server's address (server.url).", key="server.url"
            )
        #: The server this desktop talks to (or tries next): on a failure it moves to the next one.
        self.url = self.urls[0]
        self.agent = str(opts.get("agent") or getpass.getuser())
        self._token_secret = server_token_name(opts)
        self._token_override = opts.get("token")  # tests and automation; normally from the keyring
        exts = opts.get("extensions", [])
        self._extensions = (
            [e.strip() for e in exts.split(",")] if isinstance(exts, str) else [str(e) for e in exts]
        )
        self._branch = str(opts.get("branch", ""))
        self.instance = str(opts.get("instance") or f"{socket.gethostname()}:{self.agent}")
        self._min_retry = float(opts.get("retry", 1.0))
        ca_file = opts.get("ca_file")  # a company CA or the server's self-signed certificate
        self._tls: ssl.SSLContext | None = None
        if any(u.startswith("wss://") for u in self.urls):
            try:
                self._tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"The CA file {ca_file} cannot be read: {exc}.", key="phone.options.ca_file"
                ) from None
        self._listener: ProviderListener | None = None
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._calls: dict[str, Call] = {}
        self._caps: frozenset[Capability] = frozenset()
        self._lines: tuple[Line, ...] = ()
        self.settings: dict[str, Any] = {}
        self.activity_owner = "server"
        self.session: str = ""
        self.last_refusal: str = ""
        self._welcomed = asyncio.Event()
        self._closing = False

    # -------------------------------------------------------------------- Provider protocol
    @property
    def capabilities(self) -> frozenset[Capability]:
        return self._caps

    @property
    def owns_activity(self) -> bool:
        """False: the server writes this call's activity; the desktop only adds notes to it."""
        return self.activity_owner != "server"

    def lines(self) -> tuple[Line, ...]:
        return self._lines

    async def start(self, listener: ProviderListener) -> None:
        self._listener = listener
        self._status(Registration.CONNECTING, f"Connecting to {self.url}")
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait_connected(self, timeout: float = 10.0) -> bool:
        """Until the server has welcomed us (for tests and the `--check` of a desktop)."""
        try:
            await asyncio.wait_for(self._welcomed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def answer(self, call_id: str) -> None:
        await self._command("answer", call=call_id)

    async def reject(self, call_id: str) -> None:
        await self._command("reject", call=call_id)

    async def send_to_voicemail(self, call_id: str) -> None:
        """The server's PBX provider sends the ringing call to voicemail (IN6), if it can."""
        await self._command("send_to_voicemail", call=call_id)

    async def hangup(self, call_id: str) -> None:
        await self._command("hangup", call=call_id)

    async def hold(self, call_id: str) -> None:
        await self._command("hold", call=call_id)

    async def resume(self, call_id: str) -> None:
        await self._command("resume", call=call_id)

    async def set_mute(self, call_id: str, muted: bool) -> None:
        raise NotSupported("Muting is done on the phone itself when calls come from a callsys server.")

    async def dial(self, number: str, line: str | None = None) -> str:
        if not number:
            raise ProviderError("There is no number to dial.")
        value = await self._command("dial", number=number, line=line)
        return str(value)

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        await self._command("send_dtmf", call=call_id, digits=digits)

    async def transfer(self, call_id: str, target: str) -> None:
        await self._command("transfer", call=call_id, target=target)

    async def consult(self, call_id: str, number: str, line: str | None = None) -> str:
        require(self, Capability.CONSULT)  # not forwarded to the server's phone system (yet)
        raise AssertionError("unreachable")

    async def transfer_to_call(self, call_id: str, other_id: str) -> None:
        require(self, Capability.ATTENDED_TRANSFER)

    async def conference(self, call_id: str, other_id: str) -> None:
        require(self, Capability.CONFERENCE)

    async def set_dnd(self, enabled: bool) -> None:
        raise NotSupported("Do-not-disturb is set on the phone system when calls come from a callsys server.")

    async def set_notes(self, call_id: str, text: str) -> None:
        """The agent's notes (whole text) on the activity the server keeps for *call_id*."""
        await self._request({"type": "note", "call": call_id, "text": text})

    async def link(self, call_id: str, table: str, record_id: str) -> None:
        """Make the server's activity for *call_id* regard this record (a pick or a conversion)."""
        await self._request({"type": "link", "call": call_id, "table": table, "record": record_id})

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        self._fail_pending("The connection to the callsys server was closed.")

    # -------------------------------------------------------------------- the link
    def _token(self) -> str:
        if isinstance(self._token_override, str) and self._token_override:
            return self._token_override
        return get_secret(self._token_secret) or ""

    def _next_url(self) -> bool:
        """Move on to the next server of the list; True when that starts the list over."""
        index = (self.urls.index(self.url) + 1) % len(self.urls)
        self.url = self.urls[index]
        return index == 0

    async def _run(self) -> None:
        delay = self._min_retry
        tried = 0  # servers of the list that failed in a row
        while not self._closing:
            retry_after = delay
            reached = False
            try:
                async with connect(
                    self.url, open_timeout=10, close_timeout=2, max_size=1 << 22, ssl=self._tls
                ) as ws:
                    self._ws = ws
                    reached = True
                    await ws.send(
                        encode(
                            {
                                "type": "hello",
                                "protocol": PROTOCOL_VERSION,
                                "agent": self.agent,
                                "token": self._token(),
                                "instance": self.instance,
                                "extensions": self._extensions,
                                "branch": self._branch,
                            }
                        )
                    )
                    async for frame in ws:
                        self._on_frame(frame)
                        delay = self._min_retry  # a welcomed link resets the backoff
                    retry_after, message = self._after_close(ws)
            except ConnectionClosed as exc:
                retry_after, message = self._after_close(self._ws, exc)
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                message = f"Cannot reach the callsys server at {self.url}: {exc}"
            except InvalidURI as exc:
                self._status(Registration.DISABLED, f"The server address is not valid: {exc}")
                return
            self._ws = None
            self._welcomed.clear()
            self._fail_pending("The connection to the callsys server was lost.")
            if self._closing:
                return
            self._status(Registration.OFFLINE, message)
            if len(self.urls) > 1 and retry_after < 30.0:
                # Another node may serve now (the one we had died, or never answered): try the
                # next server at once; wait only once every server of the list has failed.
                tried = 1 if reached else tried + 1
                self._next_url()
                if tried < len(self.urls):
                    log.info("server link down (%s); trying %s", message, self.url)
                    continue
                tried = 0
            log.info("server link down (%s); retrying in %.1f s", message, retry_after)
            await asyncio.sleep(retry_after)
            delay = min(delay * 2, 30.0)

    def _after_close(
        self, ws: ClientConnection | None, exc: ConnectionClosed | None = None
    ) -> tuple[float, str]:
        code = ws.close_code if ws is not None else (exc.rcvd.code if exc and exc.rcvd else None)
        reason = ws.close_reason if ws is not None else (exc.rcvd.reason if exc and exc.rcvd else "")
        reason = reason or "The callsys server closed the connection."
        self.last_refusal = reason if code in (CLOSE_UNAUTHENTICATED, CLOSE_SEATS, CLOSE_REPLACED) else ""
        if code in (CLOSE_UNAUTHENTICATED, CLOSE_SEATS):
            return 30.0, reason
        if code == CLOSE_REPLACED:
            self._closing = True  # another copy of this desktop took over; do not fight it
            return 0.0, reason
        return self._min_retry, reason

    def _on_frame(self, frame: str | bytes) -> None:
        try:
            message = decode(frame)
        except ProtocolError:
            log.warning("ignoring a malformed frame from the server")
            return
        kind = message["type"]
        try:
            if kind == "call":
                self._on_call(CallEvent(message["event"]), call_from_wire(message["call"]))
            elif kind == "result":
                self._on_result(message)
            elif kind == "welcome":
                self._on_welcome(message)
        except (KeyError, ValueError, ProtocolError) as exc:
            log.warning("ignoring a %s message the server sent: %s", kind, exc)

    def _on_welcome(self, message: Mapping[str, Any]) -> None:
        self.session = str(message.get("session", ""))
        self.settings = dict(message.get("settings") or {})
        self.activity_owner = str(message.get("activity_owner", "server"))
        caps = set()
        for name in message.get("capabilities") or ():
            with contextlib.suppress(ValueError):
                caps.add(Capability(name))
        self._caps = frozenset(caps) - _NOT_FORWARDED
        self._lines = tuple(
            Line(id=str(line.get("id")), label=str(line.get("label", line.get("id"))))
            for line in message.get("lines") or ()
            if isinstance(line, Mapping) and line.get("id")
        )
        live = {}
        for data in message.get("calls") or ():
            try:
                call = call_from_wire(data)
            except ProtocolError:
                continue
            live[call.id] = call
        # Reconcile: calls that ended while we were away end here too; live ones are adopted.
        for call_id, known in list(self._calls.items()):
            if call_id not in live:
                reason = EndReason.COMPLETED if known.answered_at else EndReason.CANCELLED
                self._forget(call_id)
                self._emit(ProviderEvent(CallEvent.ENDED, call_id, reason=reason))
        for call in live.values():
            self._adopt(call)
        self._welcomed.set()
        self._status(Registration.ONLINE, f"Connected to the callsys server as {self.agent}")

    def _adopt(self, call: Call) -> None:
        known = self._calls.get(call.id)
        if known is None:
            first = CallEvent.INCOMING if call.direction is Direction.INCOMING else CallEvent.OUTGOING
            self._emit(self._full(first, call, at=call.started_at))
        if call.state.is_connected and (known is None or not known.state.is_connected):
            self._emit(
                ProviderEvent(CallEvent.ANSWERED, call.id, direction=call.direction, at=call.answered_at)
            )
        if call.state is CallState.HELD and (known is None or known.state is not CallState.HELD):
            self._emit(ProviderEvent(CallEvent.HELD, call.id, at=call.on_hold_since))
        self._calls[call.id] = call

    def _on_call(self, event: CallEvent, call: Call) -> None:
        if event is CallEvent.ENDED:
            self._forget(call.id)
            self._emit(
                ProviderEvent(
                    CallEvent.ENDED, call.id, reason=call.end_reason or EndReason.COMPLETED, at=call.ended_at
                )
            )
            return
        self._calls[call.id] = call
        if event in (CallEvent.INCOMING, CallEvent.OUTGOING, CallEvent.UPDATED):
            self._emit(
                self._full(event, call, at=call.started_at if event is not CallEvent.UPDATED else None)
            )
        elif event is CallEvent.ANSWERED:
            self._emit(ProviderEvent(event, call.id, direction=call.direction, at=call.answered_at))
        elif event is CallEvent.HELD:
            self._emit(ProviderEvent(event, call.id, at=call.on_hold_since))
        elif event in (CallEvent.RINGBACK, CallEvent.RESUMED):
            self._emit(ProviderEvent(event, call.id))

    @staticmethod
    def _full(event: CallEvent, call: Call, at: Any) -> ProviderEvent:
        return ProviderEvent(
            event,
            call.id,
            direction=call.direction,
            remote=call.remote,
            remote_name=call.remote_name or None,
            line=call.line or None,
            dnis=call.dnis or None,
            extension=call.extension or None,
            variables=call.variables or None,
            at=at,
        )

    def _forget(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    # -------------------------------------------------------------------- requests
    async def _command(self, op: str, **args: Any) -> Any:
        return await self._request({"type": "command", "op": op, "args": args})

    async def _request(self, message: dict[str, Any]) -> Any:
        ws = self._ws
        if ws is None or not self._welcomed.is_set():
            raise ProviderUnavailable("The callsys server is not connected.")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await ws.send(encode({**message, "id": request_id}))
            return await asyncio.wait_for(future, COMMAND_TIMEOUT)
        except ConnectionClosed:
            raise ProviderUnavailable("The connection to the callsys server was lost.") from None
        except TimeoutError:
            raise ProviderUnavailable("The callsys server did not answer in time.") from None
        finally:
            self._pending.pop(request_id, None)

    def _on_result(self, message: Mapping[str, Any]) -> None:
        future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
        if future is None or future.done():
            return
        if message.get("ok"):
            future.set_result(message.get("value"))
        else:
            kind = _ERRORS.get(str(message.get("kind")), ProviderError)
            future.set_exception(kind(str(message.get("error") or "The callsys server refused.")))

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ProviderUnavailable(reason))
        self._pending.clear()

    # -------------------------------------------------------------------- listener
    def _emit(self, event: ProviderEvent) -> None:
        if self._listener is not None:
            self._listener.call_event(event)

    def _status(self, registration: Registration, message: str) -> None:
        if self._listener is not None:
            self._listener.status_changed(
                ProviderStatus(self.name, registration, self._lines, message=message)
            )


def _ws_url(url: str) -> str:
    """``https://host:8765`` → ``wss://host:8765/ws`` (the WebSocket path added when none is given)."""
    url = url.strip()
    if url.startswith(("http://", "https://")):
        url = "ws" + url[4:]
    if url.count("/") < 3:
        url += "/ws"
    return url


def create(options: Mapping[str, Any]) -> ServerProvider:
    return ServerProvider(options)
