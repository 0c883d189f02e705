"""A small asyncio client for the Asterisk Manager Interface.

Why not panoramisk: its last release (1.4, 2021) targets Python 3.4/3.5, calls
``asyncio.get_event_loop()`` (deprecated outside a running loop; our tests turn warnings into
errors), retries on a fixed 2 s timer without backoff, has no type hints (mypy strict on
``providers/``) and no resynchronisation hook. What we need is ~300 lines, so we own it.

What it does:

- connects (127.0.0.1 or wherever the settings point), checks the ``Asterisk Call Manager/``
  banner, logs in, and reports ``CONNECTING`` / ``ONLINE`` / ``OFFLINE`` through ``on_status``;
- correlates actions and responses by ``ActionID`` (one counter per action name and connection:
  ``login-1``, ``orig-1`` …, readable in the PBX's own logs), including list actions whose
  response is followed by events up to ``EventList: Complete``;
- sends ``Ping`` every ``ping_interval`` seconds and drops a link that does not answer;
- after a dropped link (a PBX restart is noticed at once: the socket reaches EOF) it tries again
  immediately, then — while the PBX refuses or does not answer — with a back-off that doubles from
  ``backoff_initial`` up to ``backoff_max`` (1 s by default) with jitter (each wait is 50–100 % of
  the step, so many servers do not knock in step): the PBX is found again within about a second
  of being back, however long it was away. ``retry_delays`` is the schedule. ``on_disconnected``
  runs when a logged-in link is lost (``dropped_at`` says when the PBX was last heard), and
  ``on_connected`` after every successful login — the provider resynchronises its calls there;
- hands every other event to ``on_event`` synchronously, in order, on the loop's thread;
  ``on_login`` runs synchronously when the login is accepted, before any later frame.

Every pending action fails with ``ProviderUnavailable`` when the link drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from callsys.errors import ProviderError, ProviderUnavailable
from callsys.provider import Registration
from providers.ami.protocol import BANNER_PREFIX, FrameParser, Message, encode_action

__all__ = ["ActionFailed", "AmiClient", "ListResult"]

log = logging.getLogger(__name__)

_SHORT_IDS = {
    "Login": "login",
    "Logoff": "logoff",
    "Originate": "orig",
    "SIPpeers": "peers",
    "PJSIPShowEndpoints": "endpoints",
    "ExtensionState": "exst",
    "CoreShowChannels": "chans",
    "Status": "status",
    "Command": "cmd",
    "Hangup": "hangup",
    "Redirect": "redirect",
    "Ping": "ping",
    "DeviceStateList": "devices",
}


class ActionFailed(ProviderError):
    """The PBX answered ``Response: Error`` (message in ``str(e)``)."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"The phone system refused {action}: {message or 'no reason given'}.")
        self.action = action
        self.pbx_message = message


@dataclass
class ListResult:
    """A list action's response and the events that came with it (``CoreShowChannel`` …)."""

    response: Message
    events: list[Message] = field(default_factory=list)


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[ListResult]
    events: list[Message] = field(default_factory=list)
    response: Message | None = None


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        on_event: Callable[[Message], None],
        on_connected: Callable[[], Awaitable[None]] | None = None,
        on_login: Callable[[], None] | None = None,
        on_status: Callable[[Registration, str], None] | None = None,
        on_disconnected: Callable[[], None] | None = None,
        connect_timeout: float = 5.0,
        action_timeout: float = 10.0,
        ping_interval: float = 20.0,
        ping_timeout: float = 10.0,
        backoff_initial: float = 0.25,
        backoff_max: float = 1.0,
        read_size: int = 65536,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.host, self.port = host, port
        self._username, self._secret = username, secret
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_login = on_login
        self._on_status = on_status
        self._on_disconnected = on_disconnected
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.connect_timeout = connect_timeout
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._read_size = read_size
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, _Pending] = {}
        self._counters: dict[str, int] = {}
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self._logged_in = False
        self._online = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.banner = ""
        self.connections = 0  # successful logins so far (1 = first connect, 2+ = reconnects)
        self.frames_dropped = 0  # oversized frames dropped (malformed input)
        self.last_error = ""
        self.last_heard = 0.0  # time.time() of the last bytes (or EOF) read from the PBX
        self.dropped_at: float | None = None  # when the last logged-in link was lost (last heard)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._runner is None:
            self._closing = False
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="ami-client")

    @property
    def online(self) -> bool:
        return self._online.is_set()

    async def wait_online(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._online.wait(), timeout)

    async def close(self, logoff_timeout: float = 2.0) -> None:
        """Log off politely (events still arriving before the PBX's goodbye are delivered),
        then close the link and stop reconnecting."""
        if self._closing:
            return
        self._closing = True
        if self.online:
            with contextlib.suppress(ProviderError, TimeoutError, OSError):
                await self.send_action("Logoff", timeout=logoff_timeout)
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._drop_link("closed")

    # ------------------------------------------------------------------ actions
    def new_action_id(self, action: str) -> str:
        """A fresh ActionID for *action*, for a caller that must know it before sending."""
        return self._next_id(action)

    def _next_id(self, action: str) -> str:
        short = _SHORT_IDS.get(action, action.lower())
        n = self._counters.get(short, 0) + 1
        self._counters[short] = n
        return f"{short}-{n}"

    async def send_action(
        self,
        action: str,
        headers: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        *,
        timeout: float | None = None,
        action_id: str | None = None,
    ) -> ListResult:
        """Send *action*; return its response (and, for list actions, the events of the list).

        Raises ``ProviderUnavailable`` when not connected or the link drops, ``ActionFailed``
        on ``Response: Error``, ``TimeoutError`` when the PBX does not answer in time.
        """
        writer = self._writer
        if writer is None or (action != "Login" and not self.online):
            raise ProviderUnavailable("The phone system (Asterisk) is not connected.")
        action_id = action_id or self._next_id(action)
        future: asyncio.Future[ListResult] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(action, future)
        try:
            writer.write(encode_action(action, action_id, headers))
            await writer.drain()
            result = await asyncio.wait_for(future, timeout or self.action_timeout)
        except TimeoutError:
            raise  # an OSError subclass, but it means "no answer", not "no link"
        except (ConnectionError, OSError) as exc:
            raise ProviderUnavailable("The connection to the phone system was lost.") from exc
        finally:
            self._pending.pop(action_id, None)
        if result.response.response.lower() == "error":
            raise ActionFailed(action, result.response.get("Message"))
        return result

    # ------------------------------------------------------------------ connection loop
    def _status(self, registration: Registration, message: str) -> None:
        if self._on_status is not None:
            try:
                self._on_status(registration, message)
            except Exception:
                log.exception("AMI status callback failed")

    def retry_delays(self) -> Iterator[float]:
        """The waits before each new attempt once a link is lost: none before the first (a PBX
        restart is tried at once), then ``backoff_initial`` doubling up to ``backoff_max``, each
        scaled by a random 50–100 % (jitter) — never more than ``backoff_max``."""
        yield 0.0
        step = self.backoff_initial
        while True:
            yield min(step, self.backoff_max) * self._rng.uniform(0.5, 1.0)
            step = min(step * 2, self.backoff_max)

    async def _run(self) -> None:
        delays = self.retry_delays()
        next(delays)  # the very first connect is not a retry
        while not self._closing:
            self._status(Registration.CONNECTING, f"Connecting to Asterisk at {self.host}:{self.port}…")
            self._logged_in = False
            problem = "the connection closed"
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except ActionFailed as exc:
                problem = f"it refused the login: {exc.pbx_message or 'no reason given'}"
            except (OSError, ConnectionError, TimeoutError, ProviderError, EOFError) as exc:
                problem = str(exc) or type(exc).__name__
                log.info("AMI link to %s:%s lost: %s", self.host, self.port, problem)
            finally:
                await self._drop_link(problem)
            self.last_error = problem
            if self._closing:
                break
            if self._logged_in:
                self.dropped_at = self.last_heard or time.time()
                delays = self.retry_delays()
            delay = next(delays)
            when = f"retrying in {delay:.1f} s" if delay > 0 else "retrying now"
            self._status(Registration.OFFLINE, f"Asterisk at {self.host}:{self.port}: {problem}; {when}.")
            if self._logged_in and self._on_disconnected is not None:
                try:
                    self._on_disconnected()
                except Exception:
                    log.exception("AMI disconnect callback failed")
            if delay > 0:
                await self._sleep(delay)

    async def _session(self) -> None:
        """One connection, from connect to drop (always ends by raising why it dropped)."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout
        )
        self._writer = writer
        self._counters.clear()
        banner = await asyncio.wait_for(reader.readline(), self.connect_timeout)
        text = banner.decode("utf-8", "replace").strip()
        if not text.startswith(BANNER_PREFIX):
            raise ProviderError(f"{self.host}:{self.port} is not an Asterisk manager port ({text[:60]!r}).")
        self.banner = text
        read_task = asyncio.get_running_loop().create_task(self._read_loop(reader), name="ami-read")
        try:
            await self.send_action(
                "Login",
                {"Username": self._username, "Secret": self._secret, "Events": "on"},
                timeout=self.connect_timeout,
            )
            self.connections += 1
            self._logged_in = True
            self._online.set()
            self._status(Registration.ONLINE, f"Connected to Asterisk at {self.host}:{self.port}.")
            if self._on_connected is not None:
                self._spawn(self._on_connected())
            ping_task = asyncio.get_running_loop().create_task(self._ping_loop(), name="ami-ping")
            try:
                done, _ = await asyncio.wait({read_task, ping_task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ping_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ping_task
            for task in done:
                exc = task.exception()
                if exc is not None:
                    raise exc
            raise ConnectionError("the connection closed")
        finally:
            read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await read_task

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except ProviderError as exc:
                log.info("AMI resynchronisation did not finish: %s", exc)
            except Exception:
                log.exception("AMI on_connected callback failed")

        task = asyncio.get_running_loop().create_task(guarded(), name="ami-on-connected")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.send_action("Ping", timeout=self.ping_timeout)
            except TimeoutError:
                raise ProviderUnavailable(
                    f"Asterisk did not answer a keep-alive within {self.ping_timeout:g} s."
                ) from None

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        parser = FrameParser()
        try:
            while True:
                data = await reader.read(self._read_size)
                self.last_heard = time.time()
                if not data:
                    raise ConnectionError("Asterisk closed the connection")
                for msg in parser.feed(data):
                    self._dispatch(msg)
                self.frames_dropped += parser.dropped
                parser.dropped = 0
        finally:
            self.frames_dropped += parser.dropped

    def _dispatch(self, msg: Message) -> None:
        headers = msg.headers
        action_id = headers.get("ActionID")
        pending = self._pending.get(action_id) if action_id else None
        if pending is not None and not pending.future.done():
            if "Response" in headers and pending.response is None:
                pending.response = msg
                if pending.action == "Login" and msg.response.lower() == "success" and self._on_login:
                    # Synchronously, before the next frame of this read is dispatched: events
                    # after the login must already count as "since we (re)connected".
                    self._on_login()
                if headers.get("EventList", "").lower() != "start":
                    pending.future.set_result(ListResult(msg))
                return
            if "Event" in headers and pending.response is not None:
                if headers.get("EventList", "").lower() == "complete":
                    pending.future.set_result(ListResult(pending.response, pending.events))
                else:
                    pending.events.append(msg)
                return
        if "Event" in headers:
            try:
                self._on_event(msg)
            except Exception:  # one bad event must not kill the link
                log.exception("AMI event handler failed on %s", headers.get("Event"))
        elif "Response" not in headers:
            log.debug("ignoring AMI frame without Event or Response: %r", msg)

    async def _drop_link(self, reason: str) -> None:
        self._online.clear()
        writer, self._writer = self._writer, None
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(
                    ProviderUnavailable(f"The connection to the phone system was lost ({reason}).")
                )
        self._pending.clear()
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
