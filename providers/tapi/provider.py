"""TapiProvider — the desk phone of an Avaya, Panasonic, Cisco or Mitel PBX through Windows
telephony (TAPI 2.x) and the vendor's TAPI service provider (TSP) (SET1, CARD2).

How it runs
-----------
``start`` loads ``tapi32.dll`` (``providers.tapi.binding``), calls ``lineInitializeExW`` with
event notification (no hidden window), negotiates an API version per line (2.0 … 2.2), reads every
line's name (``lineGetDevCapsW``) and opens the configured ones — every line when none is
configured — with monitor and owner privileges (monitor only with ``monitor_only``). That happens
on a worker thread: a TSP may take seconds. A thread of its own then waits in ``lineGetMessage``
and hands each ``LINEMESSAGE`` to the asyncio loop (``call_soon_threadsafe``); everything else —
the call table, the listener — lives on the loop.

How messages become calls
-------------------------
- ``LINE_APPNEWCALL`` (a call appeared on an open line; ``dwParam3`` is our privilege on it)
  registers the ``HCALL``; its first ``LINE_CALLSTATE`` announces it: ``OFFERING``/``ACCEPTED`` →
  INCOMING, ``DIALTONE``/``DIALING``/``PROCEEDING``/``RINGBACK`` → OUTGOING (a call dialled on the
  desk phone itself). ``lineGetCallInfoW`` gives the caller ID and name, the called ID (the DNIS,
  IN12: a configured line whose ``did`` matches labels the call), the origin and the reason
  (a forwarded or transferred call carries a ``Reason`` variable).
- ``LINE_CALLINFO`` with caller/called/connected ID flags re-reads the call info: many TSPs send
  the caller ID a moment after ``OFFERING``; it becomes an UPDATED event, so the pop-up, the CRM
  lookup and the call log get the number instead of "unknown".
- ``RINGBACK`` → RINGBACK; ``CONNECTED`` → ANSWERED (RESUMED after hold); ``ONHOLD*`` → HELD.
- ``DISCONNECTED`` ends the call (its mode says why: busy, no answer, rejected, picked up
  elsewhere …); as owner we ``lineDrop`` it so the TSP can free it. ``IDLE`` ends a call that went
  straight there — ``OFFERING → IDLE`` is a missed call — and is where ``lineDeallocateCall``
  frees the handle.
- A second call ringing on the line while one is connected is a waiting call (the CallManager
  marks it, IN5); answering it holds the connected one first, as the desk phone would.

Async requests (``lineAnswer``, ``lineDrop``, ``lineMakeCallW``, ``lineHold``, ``lineUnhold``,
``lineBlindTransferW``) return a request id; the command waits for the ``LINE_REPLY`` with that id
(``reply_timeout`` seconds) and raises a ``ProviderError`` with a sentence for its ``LINEERR_*``.

What it cannot do
-----------------
Mute, DTMF, do-not-disturb and voicemail are the desk phone's business (not offered). A line the
TSP lets us only watch (the call's privilege is monitor, or it lacks the answer feature) cannot be
answered from callsys: ``answer`` says so (``MONITOR_ONLY_MESSAGE``), as the AMI provider does.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callsys.errors import ConfigError, NotSupported, ProviderError, ProviderUnavailable, UnknownCall
from callsys.model import CallEvent, Direction, EndReason, PhoneNumber, ProviderEvent
from callsys.provider import Capability, Line, ProviderListener, ProviderStatus, Registration, require
from providers.tapi import structs as s
from providers.tapi.binding import CallInfo, Message, TapiLibrary, load
from providers.tapi.errors import MONITOR_ONLY_MESSAGE, TapiError, describe, error_for
from providers.tapi.options import TapiLine, TapiOptions

__all__ = ["MONITOR_ONLY_MESSAGE", "NO_LINES_MESSAGE", "LineList", "TapiProvider", "list_lines"]

log = logging.getLogger(__name__)

NO_LINES_MESSAGE = (
    "Windows telephony (TAPI) offers no lines: the phone system's TAPI driver (TSP) is not "
    "installed, or it gives this Windows user no line. Install the vendor's TSP, then check "
    "Control Panel → Phone and Modem → Advanced."
)

_APP_NAME = "callsys"
_POLL_MS = 100  # lineGetMessage's timeout: how soon the message thread notices close()
_CONTROL = (Capability.ANSWER, Capability.REJECT, Capability.HANGUP, Capability.HOLD)
_ALL_CAPS = frozenset((*_CONTROL, Capability.DIAL, Capability.TRANSFER))
_ID_FLAGS = (
    s.LINECALLINFOSTATE_CALLERID
    | s.LINECALLINFOSTATE_CALLEDID
    | s.LINECALLINFOSTATE_CONNECTEDID
    | s.LINECALLINFOSTATE_REDIRECTINGID
    | s.LINECALLINFOSTATE_ORIGIN
    | s.LINECALLINFOSTATE_REASON
)
_OUTGOING_STATES = (
    s.LINECALLSTATE_DIALTONE | s.LINECALLSTATE_DIALING | s.LINECALLSTATE_PROCEEDING | s.LINECALLSTATE_RINGBACK
)
_HELD_STATES = s.LINECALLSTATE_ONHOLD | s.LINECALLSTATE_ONHOLDPENDCONF | s.LINECALLSTATE_ONHOLDPENDTRANSFER
_FAILED_MODES = (
    s.LINEDISCONNECTMODE_BADADDRESS
    | s.LINEDISCONNECTMODE_UNREACHABLE
    | s.LINEDISCONNECTMODE_CONGESTION
    | s.LINEDISCONNECTMODE_INCOMPATIBLE
    | s.LINEDISCONNECTMODE_UNAVAIL
    | s.LINEDISCONNECTMODE_NODIALTONE
    | s.LINEDISCONNECTMODE_NUMBERCHANGED
    | s.LINEDISCONNECTMODE_OUTOFORDER
    | s.LINEDISCONNECTMODE_TEMPFAILURE
    | s.LINEDISCONNECTMODE_QOSUNAVAIL
    | s.LINEDISCONNECTMODE_BLOCKED
)
_REASONS = {
    s.LINECALLREASON_FWDBUSY: "forwarded (busy)",
    s.LINECALLREASON_FWDNOANSWER: "forwarded (no answer)",
    s.LINECALLREASON_FWDUNCOND: "forwarded",
    s.LINECALLREASON_PICKUP: "picked up",
    s.LINECALLREASON_REDIRECT: "redirected",
    s.LINECALLREASON_TRANSFER: "transferred",
}


@dataclass(slots=True)
class _Line:
    device: int
    name: str
    label: str
    config: TapiLine | None = None
    version: int = 0
    handle: int = 0
    monitor_only: bool = False
    registration: Registration = Registration.OFFLINE
    detail: str = ""

    def as_line(self) -> Line:
        return Line(id=self.name, label=self.label, registration=self.registration, detail=self.detail)


@dataclass(slots=True)
class _Call:
    call_id: str
    line: _Line
    handle: int = 0  # HCALL (0 while a lineMakeCall waits for its LINE_REPLY)
    privilege: int = s.LINECALLPRIVILEGE_OWNER
    features: int = -1  # LINECALLSTATUS.dwCallFeatures (-1: not read)
    direction: Direction | None = None
    announced: bool = False
    answered: bool = False
    held: bool = False
    ended: bool = False
    state: int = 0
    mode: int = 0  # the disconnect mode, once DISCONNECTED
    busy: bool = False
    action: str = ""  # what the agent did to end it: reject | hangup | transfer
    remote: str = ""
    remote_name: str = ""
    dnis: str = ""
    label: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    tsp_call_id: int = 0  # LINECALLINFO.dwCallID: the PBX's own id, for its logs and CDRs

    @property
    def controllable(self) -> bool:
        return bool(self.privilege & s.LINECALLPRIVILEGE_OWNER) and not self.line.monitor_only


@dataclass(frozen=True, slots=True)
class LineList:
    """What ``list_lines`` found: the names of TAPI's lines, or why there are none."""

    names: tuple[str, ...]
    message: str = ""


def list_lines(options: Mapping[str, Any] | None = None) -> LineList:
    """The names of the TAPI lines on this computer (``lineGetDevCapsW``), for Settings. Never
    raises: when TAPI, a TSP or any line is missing, ``message`` says so and what to do."""
    try:
        opts = TapiOptions.from_mapping(options or {})
        lib = load(opts.library)
        app, count, _api = lib.initialize(_APP_NAME, s.TAPI_VERSION_2_2)
    except (ProviderError, ConfigError) as exc:
        return LineList((), str(exc))
    names = []
    try:
        for device in range(count):
            try:
                version = lib.negotiate(app, device, s.TAPI_VERSION_2_0, s.TAPI_VERSION_2_2)
                names.append(lib.dev_caps(app, device, version).name or f"Line {device}")
            except TapiError as exc:
                log.info("TAPI line %d: %s", device, exc)
    finally:
        lib.shutdown(app)
    return LineList(tuple(names), "" if names else NO_LINES_MESSAGE)


class TapiProvider:
    """The ``tapi`` provider. Build it with options (see ``providers.tapi.options``)."""

    def __init__(
        self, options: Mapping[str, Any] | TapiOptions, *, library: Callable[[str], TapiLibrary] = load
    ) -> None:
        self.options = options if isinstance(options, TapiOptions) else TapiOptions.from_mapping(options)
        self.name = self.options.name
        self._plan = self.options.number_plan
        self._load = library
        self._lib: TapiLibrary | None = None
        self._app = 0
        self._listener: ProviderListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lines: list[_Line] = [
            _Line(device=-1, name=ln.id, label=ln.label, config=ln, monitor_only=ln.monitor_only)
            for ln in self.options.lines
        ]
        self._calls: dict[str, _Call] = {}
        self._by_handle: dict[int, _Call] = {}
        self._requests: dict[int, asyncio.Future[int]] = {}
        self._making: dict[int, tuple[_Call, Any]] = {}  # lineMakeCall request id → (call, HCALL)
        self._orphans: list[Message] = []  # call messages for an HCALL a lineMakeCall may own
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._registration = Registration.DISABLED
        self._message = ""
        self._session = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self.messages_seen = 0

    # ================================================================== Provider protocol
    @property
    def capabilities(self) -> frozenset[Capability]:
        lines = [ln for ln in self._lines if ln.registration is Registration.ONLINE] or self._lines
        if self.options.monitor_only or (lines and all(ln.monitor_only for ln in lines)):
            return frozenset()  # watched lines: the pop-up only shows who calls
        return _ALL_CAPS

    def lines(self) -> tuple[Line, ...]:
        return tuple(ln.as_line() for ln in self._lines)

    async def start(self, listener: ProviderListener) -> None:
        """Open TAPI and the lines; returns once it is known whether that worked (the status
        says so: ``ONLINE``, or ``OFFLINE`` with a sentence — no TSP, no lines, TAPI missing)."""
        if self._loop is not None:
            raise ProviderError("The TAPI connection is already running.")
        self._listener = listener
        self._loop = asyncio.get_running_loop()
        self._set_status(Registration.CONNECTING, "Opening the TAPI lines…")
        try:
            registration, message = await asyncio.to_thread(self._open)
        except ProviderError as exc:
            registration, message = Registration.OFFLINE, str(exc)
        if registration is Registration.ONLINE and self._lib is not None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._pump, name="tapi-messages", daemon=True)
            self._thread.start()
        elif self._lib is not None:  # nothing to watch: give TAPI back at once
            self._lib.shutdown(self._app)
            self._lib = None
        self._set_status(registration, message)

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        for future in self._requests.values():
            if not future.done():
                future.set_exception(ProviderUnavailable("The TAPI connection was closed."))
        self._requests.clear()
        lib = self._lib
        if lib is not None:
            for call in list(self._by_handle.values()):
                lib.deallocate(call.handle)
            for line in self._lines:
                if line.handle:
                    lib.close(line.handle)
                    line.handle = 0
                if line.registration is Registration.ONLINE:
                    line.registration = Registration.OFFLINE
            lib.shutdown(self._app)
            self._lib = None
        self._by_handle.clear()
        self._calls.clear()
        self._loop = None
        if self._registration is not Registration.DISABLED:
            self._set_status(Registration.OFFLINE, "Disconnected from Windows telephony (TAPI).")

    async def answer(self, call_id: str) -> None:
        call = self._live(call_id)
        self._need_control(call)
        if call.direction is not Direction.INCOMING or call.answered:
            raise ProviderError("Only a ringing incoming call can be answered.")
        if call.features >= 0 and not call.features & s.LINECALLFEATURE_ANSWER:
            raise NotSupported(MONITOR_ONLY_MESSAGE)
        lib = self._library()
        for other in list(self._calls.values()):  # IN5: the desk phone holds the call it talks on
            if other is not call and other.line is call.line and other.answered and not other.held:
                try:
                    await self._request(
                        functools.partial(lib.hold, other.handle), "put the other call on hold"
                    )
                except ProviderError as exc:
                    log.info("could not hold %s before answering %s: %s", other.call_id, call_id, exc)
        await self._request(lambda: lib.answer(call.handle), "answer the call")

    async def reject(self, call_id: str) -> None:
        call = self._live(call_id)
        self._need_control(call)
        if call.direction is not Direction.INCOMING or call.answered:
            raise ProviderError("Only a ringing incoming call can be rejected.")
        await self._drop(call, "reject", "reject the call")

    async def hangup(self, call_id: str) -> None:
        call = self._live(call_id)
        self._need_control(call)
        await self._drop(call, "hangup", "hang up")

    async def hold(self, call_id: str) -> None:
        require(self, Capability.HOLD)
        call = self._live(call_id)
        self._need_control(call)
        if not call.answered or call.held:
            raise ProviderError("Only a connected call can be put on hold.")
        lib = self._library()
        await self._request(lambda: lib.hold(call.handle), "put the call on hold")

    async def resume(self, call_id: str) -> None:
        require(self, Capability.HOLD)
        call = self._live(call_id)
        self._need_control(call)
        if not call.held:
            raise ProviderError("Only a held call can be taken off hold.")
        lib = self._library()
        await self._request(lambda: lib.unhold(call.handle), "take the call off hold")

    async def set_mute(self, call_id: str, muted: bool) -> None:
        require(self, Capability.MUTE)

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        require(self, Capability.DTMF)

    async def set_dnd(self, enabled: bool) -> None:
        require(self, Capability.DND)

    async def send_to_voicemail(self, call_id: str) -> None:
        require(self, Capability.VOICEMAIL)

    async def consult(self, call_id: str, number: str, line: str | None = None) -> str:
        require(self, Capability.CONSULT)  # lineSetupTransfer is not wired up
        raise AssertionError("unreachable")

    async def transfer_to_call(self, call_id: str, other_id: str) -> None:
        require(self, Capability.ATTENDED_TRANSFER)

    async def conference(self, call_id: str, other_id: str) -> None:
        require(self, Capability.CONFERENCE)

    async def transfer(self, call_id: str, target: str) -> None:
        """Blind transfer (``lineBlindTransferW``) of a connected call to *target*."""
        require(self, Capability.TRANSFER)
        call = self._live(call_id)
        self._need_control(call)
        if not call.answered:
            raise ProviderError("Only a connected call can be transferred.")
        address = self._address(target, call.line)
        lib = self._library()
        call.action = "transfer"
        try:
            await self._request(lambda: lib.blind_transfer(call.handle, address), "transfer the call")
        except ProviderError:
            call.action = ""
            raise

    async def dial(self, number: str, line: str | None = None) -> str:
        """``lineMakeCallW`` on *line* (a line's name or label; default: the first line callsys
        may control). The route ``prefix`` (SET3) of the line, else of the options, goes in front
        of public numbers. Returns once the TSP accepted the call (its ``LINE_REPLY``)."""
        require(self, Capability.DIAL)
        chosen = self._line_for_dial(line)
        address = self._address(number, chosen)
        lib = self._library()
        call = _Call(call_id=self._new_call_id(), line=chosen, direction=Direction.OUTGOING, remote=address)
        request, holder = lib.make_call(chosen.handle, address)
        self._calls[call.call_id] = call
        self._announce(call, remote=self._plan.parse(number))
        self._making[request] = (call, holder)
        try:
            await self._await_reply(request, "dial")
        except ProviderError:
            self._end(call, EndReason.FAILED)
            raise
        finally:
            if self._making.pop(request, None) is not None:  # no reply (timeout, close)
                self._replay_orphans()
        return call.call_id

    # ================================================================== opening
    def _open(self) -> tuple[Registration, str]:
        """On a worker thread: initialise TAPI, read the lines, open the wanted ones."""
        lib = self._load(self.options.library)
        app, count, _api = lib.initialize(_APP_NAME, s.TAPI_VERSION_2_2)
        self._lib, self._app = lib, app
        found: list[_Line] = []
        problems: list[str] = []
        for device in range(count):
            try:
                version = lib.negotiate(app, device, s.TAPI_VERSION_2_0, s.TAPI_VERSION_2_2)
                caps = lib.dev_caps(app, device, version)
            except TapiError as exc:
                problems.append(f"line {device}: {exc}")
                continue
            found.append(_Line(device=device, name=caps.name or f"Line {device}", label="", version=version))
            found[-1].label = found[-1].name
            found[-1].detail = caps.provider_info
        if not found:
            return Registration.OFFLINE, NO_LINES_MESSAGE + (f" ({'; '.join(problems)})" if problems else "")
        by_name = {ln.name.casefold(): ln for ln in found}
        if self._lines:  # the configured lines, in their order
            for line in self._lines:
                match = by_name.get(line.name.casefold())
                if match is None:
                    line.registration = Registration.OFFLINE
                    line.detail = "TAPI has no line of that name (it has: {})".format(
                        ", ".join(ln.name for ln in found)
                    )
                    continue
                line.device, line.version = match.device, match.version
        else:
            for line in found:
                line.monitor_only = self.options.monitor_only
            self._lines = found
        opened = 0
        for line in self._lines:
            if line.device < 0:
                continue
            opened += self._open_line(lib, line)
        names = ", ".join(ln.label for ln in self._lines if ln.registration is Registration.ONLINE)
        if not opened:
            return Registration.OFFLINE, "No TAPI line could be opened: " + "; ".join(
                f"{ln.label}: {ln.detail}" for ln in self._lines
            )
        return Registration.ONLINE, f"TAPI lines open: {names}."

    def _open_line(self, lib: TapiLibrary, line: _Line) -> int:
        watch_only = line.monitor_only or self.options.monitor_only
        privileges = s.LINECALLPRIVILEGE_MONITOR | (0 if watch_only else s.LINECALLPRIVILEGE_OWNER)
        media = 0 if watch_only else s.LINEMEDIAMODE_INTERACTIVEVOICE
        try:
            line.handle = lib.open(self._app, line.device, line.version, privileges, media, line.device)
        except TapiError as exc:
            if watch_only or exc.code != 0x80000036:  # LINEERR_INVALPRIVSELECT: watch it then
                line.registration, line.detail = Registration.OFFLINE, str(exc)
                return 0
            try:
                line.handle = lib.open(
                    self._app, line.device, line.version, s.LINECALLPRIVILEGE_MONITOR, 0, line.device
                )
            except TapiError as again:
                line.registration, line.detail = Registration.OFFLINE, str(again)
                return 0
            watch_only = True
        line.monitor_only = watch_only
        line.registration = Registration.ONLINE
        line.detail = "watched only: answer on the desk phone" if watch_only else ""
        return 1

    # ================================================================== messages
    def _pump(self) -> None:
        """The message thread: ``lineGetMessage`` → the loop, until ``close``."""
        lib, app, loop = self._lib, self._app, self._loop
        assert lib is not None and loop is not None
        while not self._stop.is_set():
            got = lib.get_message(app, _POLL_MS)
            if isinstance(got, int):
                if got == s.LINEERR_OPERATIONFAILED:  # the timeout: nothing happened
                    continue
                if not self._stop.is_set():
                    log.warning("lineGetMessage failed: %s", describe(got))
                    self._post(loop, self._lost, got)
                return
            if not self._post(loop, self.handle_message, got):
                return

    @staticmethod
    def _post(loop: asyncio.AbstractEventLoop, func: Callable[[Any], None], arg: Any) -> bool:
        try:
            loop.call_soon_threadsafe(func, arg)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _lost(self, code: int) -> None:
        self._set_status(Registration.OFFLINE, describe(code))

    def handle_message(self, msg: Message) -> None:
        """One ``LINEMESSAGE``, on the loop's thread."""
        self.messages_seen += 1
        kind = msg.message_id
        if kind == s.LINE_REPLY:
            made = self._making.pop(msg.param1, None)
            if made is not None and not msg.param2:  # lineMakeCall's HCALL is valid from now on
                self._bind(made[0], int(made[1].value))
            future = self._requests.pop(msg.param1, None)
            if future is not None and not future.done():
                future.set_result(msg.param2 & 0xFFFFFFFF)
            elif future is None:
                log.debug("LINE_REPLY for request %d nobody waits for", msg.param1)
            if made is not None:  # messages that waited for this reply: ours now, or others'
                self._replay_orphans()
        elif kind == s.LINE_APPNEWCALL:
            line = self._line_by_handle(msg.device)
            if line is not None and msg.param2 not in self._by_handle:
                new = _Call(call_id=self._new_call_id(), line=line, handle=msg.param2, privilege=msg.param3)
                self._calls[new.call_id] = new
                self._by_handle[new.handle] = new
        elif kind == s.LINE_CALLSTATE:
            call = self._call_for(msg)
            if call is not None:
                if msg.param3:  # our privilege on the call changed
                    call.privilege = msg.param3
                self._on_state(call, msg.param1, msg.param2)
        elif kind == s.LINE_CALLINFO:
            known = self._by_handle.get(msg.device)
            if known is not None and msg.param1 & _ID_FLAGS and known.announced and not known.ended:
                self._refresh(known)
        elif kind == s.LINE_CLOSE:
            line = self._line_by_handle(msg.device)
            if line is not None:
                line.handle = 0
                self._line_down(line, "the phone system's TAPI driver closed the line")
        elif kind == s.LINE_LINEDEVSTATE:
            line = self._line_by_handle(msg.device)
            if line is not None and msg.param1 & s.LINEDEVSTATE_OUTOFSERVICE:
                self._line_down(line, "out of service")
            elif line is not None and msg.param1 & s.LINEDEVSTATE_INSERVICE:
                line.registration, line.detail = Registration.ONLINE, ""
                self._set_status(Registration.ONLINE, self._message)
            elif msg.param1 & s.LINEDEVSTATE_REINIT:
                self._set_status(Registration.OFFLINE, describe(0x80000052))
        elif kind in (s.LINE_CREATE, s.LINE_REMOVE):
            self._set_status(
                self._registration,
                "The TAPI lines changed (a line was added or removed); restart callsys to use them.",
            )

    def _call_for(self, msg: Message) -> _Call | None:
        call = self._by_handle.get(msg.device)
        if call is not None:
            return call
        for pending, holder in self._making.values():  # TAPI may write the HCALL before the reply
            if not pending.handle and int(holder.value) == msg.device:
                self._bind(pending, msg.device)
                return pending
        if self._making:  # it may still be one of ours: decide once the replies are in
            self._orphans.append(msg)
            return None
        return self._adopt(msg.device)

    def _adopt(self, handle: int) -> _Call | None:
        """A call we were not told about by LINE_APPNEWCALL (a TSP that skips it)."""
        lib = self._lib
        if lib is None:
            return None
        try:
            info = lib.call_info(handle)
        except TapiError as exc:
            log.info("ignoring a message for call handle %d: %s", handle, exc)
            return None
        line = self._line_by_handle(info.line_handle)
        if line is None:
            return None
        call = _Call(call_id=self._new_call_id(), line=line, handle=handle)
        self._calls[call.call_id] = call
        self._by_handle[handle] = call
        return call

    def _bind(self, call: _Call, handle: int) -> None:
        if not handle or call.handle:
            return
        call.handle = handle
        self._by_handle[handle] = call

    def _replay_orphans(self) -> None:
        if self._making or not self._orphans:
            return
        orphans, self._orphans = self._orphans, []
        for msg in orphans:
            self.handle_message(msg)

    def _on_state(self, call: _Call, state: int, mode: int) -> None:
        call.state = state
        if state == s.LINECALLSTATE_IDLE:
            self._end(call, self._reason(call))
            self._forget(call)
            return
        if call.ended:
            return
        if state & (s.LINECALLSTATE_OFFERING | s.LINECALLSTATE_ACCEPTED):
            call.direction = call.direction or Direction.INCOMING
            self._announce(call)
        elif state & _OUTGOING_STATES:
            call.direction = call.direction or Direction.OUTGOING
            self._announce(call)
            if state == s.LINECALLSTATE_RINGBACK:
                self._emit(CallEvent.RINGBACK, call)
        elif state == s.LINECALLSTATE_BUSY:
            call.busy = True
            self._announce(call)
        elif state == s.LINECALLSTATE_CONNECTED:
            self._announce(call)
            if call.held:
                call.held = False
                self._emit(CallEvent.RESUMED, call)
            elif not call.answered:
                call.answered = True
                self._emit(CallEvent.ANSWERED, call)
        elif state & _HELD_STATES:
            self._announce(call)
            if call.answered and not call.held:
                call.held = True
                self._emit(CallEvent.HELD, call)
        elif state == s.LINECALLSTATE_DISCONNECTED:
            call.mode = mode
            self._end(call, self._reason(call))
            if call.controllable and call.handle and not call.action and self._lib is not None:
                self._fire(functools.partial(self._library().drop, call.handle))  # let the TSP free it

    def _announce(self, call: _Call, remote: PhoneNumber | None = None) -> None:
        """The call's first event: INCOMING or OUTGOING, with what the call info says."""
        if call.announced:
            return
        if call.handle:
            self._read_info(call)
            self._read_status(call)
        if call.direction is None:
            call.direction = Direction.INCOMING
        call.announced = True
        outgoing = call.direction is Direction.OUTGOING
        if remote is None and call.remote:
            remote = self._plan.parse(call.remote)
        self._emit(
            CallEvent.OUTGOING if outgoing else CallEvent.INCOMING,
            call,
            direction=call.direction,
            remote=remote,
            remote_name=call.remote_name or None,
            line=call.label or call.line.label,
            dnis=call.dnis or None,
            variables=call.variables or None,
        )

    def _read_info(self, call: _Call) -> CallInfo | None:
        lib = self._lib
        if lib is None or not call.handle:
            return None
        try:
            info = lib.call_info(call.handle)
        except TapiError as exc:
            log.info("no call info for %s: %s", call.call_id, exc)
            return None
        if not call.tsp_call_id and info.call_id:
            call.tsp_call_id = info.call_id
            log.info(
                "%s is call %d of the TSP on %s (origin 0x%x, reason 0x%x)",
                call.call_id,
                info.call_id,
                call.line.name,
                info.origin,
                info.reason,
            )
        if call.direction is None:
            outbound = info.origin & s.LINECALLORIGIN_OUTBOUND
            call.direction = Direction.OUTGOING if outbound else Direction.INCOMING
        if call.direction is Direction.INCOMING:
            number, name = self._party(info.caller_flags, info.caller_id, info.caller_name)
            call.dnis = info.called_id or call.dnis
            label = self._label_for(call.dnis)
            if label:
                call.label = label
        else:
            number, name = self._party(info.called_flags, info.called_id, info.called_name)
            if info.connected_id:
                number, name = self._party(info.connected_flags, info.connected_id, info.connected_name)
        if number:
            call.remote = number
        if name:
            call.remote_name = name
        reason = _REASONS.get(info.reason)
        if reason:
            call.variables["Reason"] = reason
        return info

    def _read_status(self, call: _Call) -> None:
        lib = self._lib
        if lib is None or not call.handle:
            return
        try:
            status = lib.call_status(call.handle)
        except TapiError as exc:
            log.info("no call status for %s: %s", call.call_id, exc)
            return
        call.features = status.features
        if status.privilege:
            call.privilege = status.privilege

    @staticmethod
    def _party(flags: int, number: str, name: str) -> tuple[str, str]:
        if flags & (s.LINECALLPARTYID_BLOCKED | s.LINECALLPARTYID_UNKNOWN | s.LINECALLPARTYID_UNAVAIL):
            if not flags & s.LINECALLPARTYID_ADDRESS:
                number = ""
            if not flags & s.LINECALLPARTYID_NAME:
                name = ""
        return number.strip(), name.strip()

    def _refresh(self, call: _Call) -> None:
        """LINE_CALLINFO: the caller ID (or the DNIS, the connected party) arrived or changed."""
        before = (call.remote, call.remote_name, call.dnis, call.label, dict(call.variables))
        self._read_info(call)
        changes: dict[str, Any] = {}
        if call.remote != before[0] and call.remote:
            changes["remote"] = self._plan.parse(call.remote)
        if call.remote_name != before[1] and call.remote_name:
            changes["remote_name"] = call.remote_name
        if call.dnis != before[2] and call.dnis:
            changes["dnis"] = call.dnis
        if call.label != before[3] and call.label:
            changes["line"] = call.label
        if call.variables != before[4]:
            changes["variables"] = call.variables
        if changes:
            self._emit(CallEvent.UPDATED, call, **changes)

    def _reason(self, call: _Call) -> EndReason:
        mode = call.mode
        if call.answered:
            return EndReason.COMPLETED
        if mode & s.LINEDISCONNECTMODE_PICKUP:
            return EndReason.ANSWERED_ELSEWHERE
        if call.direction is Direction.OUTGOING:
            if call.busy or mode & s.LINEDISCONNECTMODE_BUSY:
                return EndReason.BUSY
            if mode & s.LINEDISCONNECTMODE_NOANSWER:
                return EndReason.NO_ANSWER
            if mode & (_FAILED_MODES | s.LINEDISCONNECTMODE_REJECT):
                return EndReason.BUSY if mode & s.LINEDISCONNECTMODE_REJECT else EndReason.FAILED
            return EndReason.CANCELLED
        if call.action in ("reject", "hangup"):
            return EndReason.REJECTED
        if mode & s.LINEDISCONNECTMODE_REJECT:
            return EndReason.REJECTED
        if mode & (s.LINEDISCONNECTMODE_BUSY | s.LINEDISCONNECTMODE_DONOTDISTURB):
            return EndReason.BUSY
        if mode & (s.LINEDISCONNECTMODE_NORMAL | s.LINEDISCONNECTMODE_CANCELLED):
            return EndReason.CANCELLED  # the caller hung up while it rang
        if mode & _FAILED_MODES:
            return EndReason.FAILED
        return EndReason.MISSED  # rang out (no answer, forwarded away, or straight to IDLE)

    def _end(self, call: _Call, reason: EndReason) -> None:
        if call.ended:
            return
        call.ended = True
        self._calls.pop(call.call_id, None)
        if call.announced:
            self._emit(CallEvent.ENDED, call, reason=reason)

    def _forget(self, call: _Call) -> None:
        self._calls.pop(call.call_id, None)
        if call.handle and self._by_handle.get(call.handle) is call:
            del self._by_handle[call.handle]
            if self._lib is not None:
                self._lib.deallocate(call.handle)

    def _line_down(self, line: _Line, why: str) -> None:
        line.registration, line.detail = Registration.OFFLINE, why
        for call in list(self._calls.values()):
            if call.line is line:
                self._end(call, EndReason.FAILED if call.answered else self._reason(call))
        alive = any(ln.registration is Registration.ONLINE for ln in self._lines)
        self._set_status(Registration.ONLINE if alive else Registration.OFFLINE, f"{line.label}: {why}.")

    # ================================================================== requests
    def _library(self) -> TapiLibrary:
        if self._lib is None:
            raise ProviderUnavailable(self._message or "The TAPI connection is not open.")
        return self._lib

    async def _request(self, start: Callable[[], int], doing: str) -> None:
        """Start an async TAPI request and wait for its LINE_REPLY."""
        request = start()
        await self._await_reply(request, doing)

    async def _await_reply(self, request: int, doing: str) -> None:
        if request <= 0:  # done at once
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._requests[request] = future
        timeout = self.options.reply_timeout
        try:
            result = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ProviderUnavailable(
                f"The phone system did not confirm the request to {doing} within {timeout:g} seconds "
                f"(TAPI request {request} got no LINE_REPLY). Check the desk phone and the TAPI driver."
            ) from None
        finally:
            self._requests.pop(request, None)
        if result:
            raise error_for(result, doing)

    def _fire(self, start: Callable[[], int]) -> None:
        """A request whose outcome nobody waits for (lineDrop of a call the far end ended)."""
        try:
            start()
        except TapiError as exc:
            log.debug("TAPI request failed: %s", exc)

    async def _drop(self, call: _Call, action: str, doing: str) -> None:
        lib = self._library()
        call.action = action
        try:
            await self._request(lambda: lib.drop(call.handle), doing)
        except ProviderError:
            call.action = ""
            raise

    # ================================================================== helpers
    def _need_control(self, call: _Call) -> None:
        if not call.controllable:
            raise NotSupported(MONITOR_ONLY_MESSAGE)
        if not call.handle:
            raise ProviderError("The phone system has not confirmed this call yet; try again in a moment.")

    def _live(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None or call.ended:
            raise UnknownCall("That call has already ended.")
        return call

    def _line_for_dial(self, wanted: str | None) -> _Line:
        open_lines = [ln for ln in self._lines if ln.handle and ln.registration is Registration.ONLINE]
        if wanted:
            key = wanted.casefold()
            match = next((ln for ln in self._lines if key in (ln.name.casefold(), ln.label.casefold())), None)
            if match is None:
                raise ProviderError(f"There is no TAPI line {wanted!r}.")
            if match not in open_lines:
                raise ProviderUnavailable(f"The line {match.label} is not open: {match.detail or 'offline'}.")
            if match.monitor_only:
                raise NotSupported(MONITOR_ONLY_MESSAGE)
            return match
        for line in open_lines:
            if not line.monitor_only:
                return line
        if open_lines:
            raise NotSupported(MONITOR_ONLY_MESSAGE)
        raise ProviderUnavailable(self._message or "No TAPI line is open.")

    def _address(self, number: str, line: _Line) -> str:
        try:
            digits = self._plan.dial_string(number)
        except ValueError as exc:
            raise ProviderError(str(exc)) from None
        prefix = line.config.prefix if line.config is not None else ""
        if prefix and not self._plan.is_internal(self._plan.parse(digits)):
            digits = prefix + digits.removeprefix(self._plan.dial_prefix)
        return digits

    def _label_for(self, dnis: str) -> str:
        if not dnis:
            return ""
        digits = "".join(c for c in dnis if c.isdigit())
        for line in self._lines:
            did = line.config.did if line.config is not None else ""
            if did and "".join(c for c in did if c.isdigit()) == digits:
                return line.label
        return ""

    def _line_by_handle(self, handle: int) -> _Line | None:
        return next((ln for ln in self._lines if ln.handle and ln.handle == handle), None)

    def _new_call_id(self) -> str:
        return f"{self.name}:{self._session}.{next(self._ids)}"

    def _emit(self, event: CallEvent, call: _Call, **fields: Any) -> None:
        if self._listener is None:
            return
        try:
            ev = ProviderEvent(event=event, call_id=call.call_id, **fields)
        except ValueError:
            log.exception("could not build a %s event for %s", event, call.call_id)
            return
        self._listener.call_event(ev)

    def _set_status(self, registration: Registration, message: str) -> None:
        self._registration, self._message = registration, message
        if self._listener is not None:
            self._listener.status_changed(
                ProviderStatus(
                    provider=self.name, registration=registration, lines=self.lines(), message=message
                )
            )

    def live_call_ids(self) -> tuple[str, ...]:
        return tuple(self._calls)
