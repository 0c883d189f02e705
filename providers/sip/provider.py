"""``SipProvider``: the embedded softphone as a ``callsys.provider.Provider`` (CARD1).

The provider holds the phone's rules and speaks ``ProviderEvent``s; SIP itself is done by an
``Engine`` (pjsua2 today, imported only when the phone starts, so importing this module is
cheap and Qt-free). The engine is pumped from the asyncio loop — under Qt the qasync loop, i.e.
the GUI thread, which is exactly what pjsua2's ``mainThreadOnly`` mode wants — so that an idle
phone does not wake the process (``providers.sip.wakeups``):

* at once when one of its SIP sockets becomes readable (``loop.add_reader`` on duplicates of
  pjsip's listening sockets and of the TCP/TLS connections it opens or accepts, POSIX), so an
  INVITE reaches the CallManager in about a millisecond;
* on a timer for everything else — SIP timers (retransmissions, re-registration, keep-alives)
  and, during calls, DTMF and re-INVITE retries: every ``poll_interval_ms`` (20 ms by default)
  while a call exists, every ``IDLE_POLL_INTERVAL`` (0.5 s, SIP's T1: a retransmission or a
  refresh is at most that late) when none does. Where the sockets cannot all be watched
  (Windows, no ``/proc``) the timer stays at ``poll_interval_ms``.

Rules implemented here:

* Incoming (IN6/IN12): caller number and name (P-Asserted-Identity, Remote-Party-ID, From), the
  line that received it and the dialled number (P-Called-Party-ID, Diversion, To, Request-URI).
* A call ringing while another is connected is a waiting call (IN5): it is never auto-answered,
  and answering it puts the connected calls on hold first.
* Do-not-disturb answers every new call with 486 Busy Here (the call still shows up as a call
  that ended "busy", so the agent can see who tried).
* At most 4 calls at once (a limit of the pjsua2 wheel): pjsua itself answers a 5th incoming
  INVITE with 486 Busy Here, and ``dial`` refuses a 5th call with a ``ProviderError``.
* Reject sends 486 Busy Here (default) or 603 Decline (``reject_code``).
* Send to voicemail (IN6) answers the ringing INVITE with 302 Moved Temporarily and the line's
  ``voicemail_uri`` as the Contact; the PBX or the caller's phone follows it. Only lines with a
  ``voicemail_uri`` can; the capability exists when at least one line has one.
* A call that rings ``ring_timeout`` seconds unanswered is declined with 480 (a missed call);
  on a direct line a call from an IP address no call was answered from yet rings at most
  ``unknown_ring_timeout`` seconds (the engine already limits how many may ring from one
  address, and on a registered line takes INVITEs only from the line's server).
* Hold by the far end (a re-INVITE with ``a=sendonly``, ``a=inactive`` or ``c=0.0.0.0``) is an
  ``UPDATED`` event with ``remote_hold=True`` (and ``False`` when it resumes): the call stays
  connected and our own hold/resume is unaffected.
* Flood guard: auto-answer is suspended while calls arrive in a burst (more than
  ``BURST_CALLS`` within ``BURST_SECONDS``). Answering a flood makes pjsua open and close
  media sockets faster than pjlib recycles them, which aborts the process (see
  ``providers.sip.pjengine``); calls left ringing keep their slots and the rest of the flood
  gets 486 Busy Here without media. Below that, the engine refuses (503, never reaching us)
  every INVITE that would take more media slots than pjlib has (``providers.sip.guard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from callsys.errors import NotSupported, ProviderError, UnknownCall
from callsys.model import CallEvent, Direction, EndReason, PhoneNumber, ProviderEvent
from callsys.provider import Capability, Line, ProviderListener, ProviderStatus, Registration, require
from providers.sip.engine import (
    CallBusy,
    Engine,
    IncomingCall,
    Phase,
    address_of,
    callback_address,
    is_dialable,
    is_sip_address,
    make_uri,
)
from providers.sip.headers import number_from_user
from providers.sip.options import MAX_CALLS, SipOptions
from providers.sip.wakeups import SocketWatch, sip_port

__all__ = ["IDLE_POLL_INTERVAL", "MAX_CALLS", "SipProvider"]

log = logging.getLogger(__name__)

BURST_CALLS = 4
BURST_SECONDS = 2.0
#: Seconds between timer polls while no call exists and every engine socket wakes the loop.
IDLE_POLL_INTERVAL = 0.5
#: Seconds between descriptor scans on the timer (besides the scan after every busy poll).
SCAN_INTERVAL = 10.0
#: Seconds ``transfer_to_call`` waits for the far end to take or refuse the transfer.
TRANSFER_WAIT = 30.0

_CAPABILITIES = frozenset(
    {
        Capability.ANSWER,
        Capability.REJECT,
        Capability.HANGUP,
        Capability.HOLD,
        Capability.MUTE,
        Capability.DIAL,
        Capability.DTMF,
        Capability.TRANSFER,
        Capability.CONSULT,
        Capability.ATTENDED_TRANSFER,
        Capability.CONFERENCE,
        Capability.DND,
    }
)


@dataclass
class _CallRecord:
    key: str
    direction: Direction
    line_id: str
    connected: bool = False
    local_hold: bool = False
    remote_hold: bool = False  # the far end put us on hold (re-INVITE sendonly/inactive/0.0.0.0)
    muted: bool = False
    ended: bool = False
    alerting: bool = False  # outgoing: the far end rings (180/183)
    early_media: bool = False  # outgoing: the far end sends its own ringback / announcements
    action: str = ""  # what *we* did to end it: reject | busy | cancel | hangup | voicemail
    source: str = ""  # incoming: the IP address its INVITE came from
    transfer_to: str = ""
    remote: str = ""  # the far end as the agent would dial it (number or SIP address)
    #: attended transfer: the key of the call whose far end this call's far end was referred to
    replaced_by: str = ""
    transferred: bool = False  # the far end accepted our transfer (the REFER's final NOTIFY 2xx)
    #: an attended transfer waiting for its outcome: the final status code (0: the call ended)
    transfer_outcome: asyncio.Future[int] | None = None


def _default_engine(choice: str = "auto") -> Engine:
    from providers.sip.engines import load

    load(choice)  # the pjsua2 build the options ask for, imported before pjengine imports it
    from providers.sip.pjengine import PjEngine

    return PjEngine()


class SipProvider:
    """The embedded SIP softphone. Build it with ``SipProvider(options)``; see ``options.py``."""

    name = "sip"
    #: ``dial`` takes ``sip:user@host:port`` and ``user@host`` as well as numbers (the window
    #: hands SIP addresses through as they are; other phone connections get numbers only).
    dials_sip_addresses = True

    def __init__(
        self,
        options: Mapping[str, Any] | SipOptions,
        *,
        engine_factory: Callable[[], Engine] | None = None,
        parse_number: Callable[[str], PhoneNumber] | None = None,
    ) -> None:
        self.options = options if isinstance(options, SipOptions) else SipOptions.parse(options)
        self._engine_factory = engine_factory or functools.partial(_default_engine, self.options.engine)
        # Without the configured number plan (``parse_number=plan.parse``, which every front end
        # passes) a number is kept as written on the wire — E.164 only when it says "+" — and the
        # CallManager reads it with the plan; never with a plan of some other country.
        self._parse_number = parse_number or number_from_user
        self._engine: Engine | None = None
        self._listener: ProviderListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.Handle | None = None
        self._timer_due = 0.0  # loop time of the next timer poll
        self._next_scan = 0.0  # loop time of the next descriptor scan on the timer
        self._scan_queued = False  # a scan after a poll that did something is on the loop
        self._calls: dict[str, _CallRecord] = {}
        self._registration: dict[str, tuple[Registration, str]] = {}
        self._dnd = self.options.dnd
        self._auto_answer = self.options.auto_answer
        self._ringer: Any = None
        self._audio: tuple[tuple[str, ...], str] = ((), "")  # (missing parts, sentence)
        self._audio_thread: threading.Thread | None = None  # the first device check (see close)
        self._ringback: Any = None
        self._keys = 0
        self._arrivals: deque[float] = deque()
        self._watch: SocketWatch | None = None
        #: IP addresses an incoming call on a direct line was answered from (this run)
        self._known_sources: set[str] = set()
        #: the keys of the calls in this phone's conference (``conference``)
        self._conference: set[str] = set()
        #: Called after every poll that handled events (benchmarks and tests hook in here).
        self.on_poll: Callable[[int], None] | None = None

    # ------------------------------------------------------------------ Provider surface
    @property
    def capabilities(self) -> frozenset[Capability]:
        if any(line.voicemail_uri for line in self.options.lines):
            return _CAPABILITIES | {Capability.VOICEMAIL}
        return _CAPABILITIES

    @property
    def max_calls(self) -> int:
        """Calls at once (the engine build's limit: 4 with the wheel); pjsua answers the next
        incoming call 486 Busy Here itself."""
        return self._engine.build.max_calls if self._engine is not None else MAX_CALLS

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise ProviderError("The softphone is not running.")
        return self._engine

    def listen_address(self) -> tuple[str, int]:
        """Where the phone takes direct SIP calls (``callsys.provider.DirectSipCalls``): the host
        and port it listens on. Raises ``ProviderError`` while it is not running."""
        return self.engine.listen_address()

    def lines(self) -> tuple[Line, ...]:
        out = []
        for line in self.options.lines:
            if line.direct:
                host, port = self._engine.listen_address() if self._engine else (self.options.listen_host, 0)
                state = (
                    (Registration.ONLINE, f"direct on {host}:{port}")
                    if self._engine
                    else (Registration.OFFLINE, "not started")
                )
            else:
                state = self._registration.get(line.id, (Registration.CONNECTING, ""))
            out.append(Line(id=line.id, label=line.title, registration=state[0], detail=state[1]))
        return tuple(out)

    def status(self) -> ProviderStatus:
        lines = self.lines()
        if self._engine is None:
            overall = Registration.OFFLINE
        elif any(line.registration is Registration.ONLINE for line in lines):
            overall = Registration.ONLINE
        elif any(line.registration is Registration.CONNECTING for line in lines):
            overall = Registration.CONNECTING
        else:
            overall = Registration.OFFLINE
        parts = [
            f"{line.label}: {line.registration.value}" + (f" ({line.detail})" if line.detail else "")
            for line in lines
        ]
        return ProviderStatus(
            provider=self.name,
            registration=overall,
            lines=lines,
            dnd=self._dnd,
            message="; ".join(parts),
            audio_missing=self._audio[0] if self._engine is not None else (),
            audio=self._audio[1] if self._engine is not None else "",
        )

    def _recheck_audio(self) -> None:
        """Before a call: a device plugged in since the warning is found (PortAudio lists its
        devices again, only while no call has audio open), one that went away is reported."""
        self._check_audio(refresh=bool(self._audio[0]) and not self._calls)

    def _check_audio(self, *, refresh: bool = False) -> None:
        """Find out whether calls have a microphone, a speaker and a ringer; publish a change."""
        state = self._audio_state(refresh=refresh)
        if state is not None:
            self._set_audio(state)

    def _check_audio_soon(self) -> None:
        """The first check, at start, on a thread of its own: importing sounddevice and starting
        PortAudio takes 30–90 ms that the window's start-up does not wait for. The answer is
        published from the loop's thread."""
        loop = self._loop
        if self.options.audio.mode != "device" or loop is None:
            return
        if self._engine_has_sound():
            # The built engine reaches the sound card through pjmedia (ALSA): PortAudio starting
            # on another thread beside it aborted the process. pjmedia's own list, here.
            self._check_audio()
            return

        def check() -> None:
            state = self._audio_state()
            if state is not None:
                with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                    loop.call_soon_threadsafe(self._set_audio, state)

        self._audio_thread = threading.Thread(target=check, name="callsys-audio-check", daemon=True)
        self._audio_thread.start()

    def _audio_state(self, *, refresh: bool = False) -> tuple[tuple[str, ...], str] | None:
        audio = self.options.audio
        if audio.mode == "none":
            return (
                ("microphone", "speaker", "ringer"),
                "Audio is turned off (audio mode none): calls have no microphone and no speaker.",
            )
        if audio.mode == "files":
            return ((), "")
        if self._engine_has_sound():
            inputs, outputs = self._engine.sound_device_counts()  # type: ignore[union-attr]
            missing = (() if inputs else ("microphone",)) + (() if outputs else ("speaker", "ringer"))
            from providers.sip.sound import audio_message

            return (missing, audio_message(missing))
        from providers.sip.sound import check_devices

        try:
            check = check_devices(audio, refresh=refresh)
        except Exception:
            log.exception("checking the sound devices failed")
            return None
        for notice in check.notices:
            log.warning("%s", notice)
        return (check.missing, check.message)

    def _engine_has_sound(self) -> bool:
        """The engine opens the sound card itself (the built engine's pjmedia), not through the
        Python bridge and PortAudio."""
        engine = self._engine
        return (
            engine is not None
            and bool(getattr(engine.build, "sound_devices", False))
            and hasattr(engine, "sound_device_counts")
        )

    def _set_audio(self, state: tuple[tuple[str, ...], str]) -> None:
        if state != self._audio and self._engine is not None:
            if state[1]:
                log.warning("%s", state[1])
            self._audio = state
            self._publish_status()

    async def start(self, listener: ProviderListener) -> None:
        if self._engine is not None:
            raise ProviderError("The softphone is already running.")
        self._listener = listener
        self._loop = asyncio.get_running_loop()
        engine = self._engine_factory()
        engine.start(self.options, self)
        self._engine = engine
        if self.options.audio.mode == "device":
            from providers.sip.sound import Ringer

            self._ringer = Ringer(self.options.audio)
            self._ringback = Ringer(self.options.audio, ringback=True)
        self._watch_sockets(engine)
        self._schedule(self._interval())
        if self.options.audio.mode != "device":  # known without asking PortAudio
            self._audio = self._audio_state() or self._audio
        self._publish_status()
        self._check_audio_soon()

    def _watch_sockets(self, engine: Engine) -> None:
        """Poll as soon as the engine has something to read (POSIX), not up to one interval later."""
        assert self._loop is not None
        watch = SocketWatch(self._loop, self._poll)
        for line in self.options.lines:
            for uri in (line.registrar, line.proxy):
                if uri:
                    watch.add_ports([sip_port(uri, line.transport)])
        watch.watch_listeners(engine.wakeup_sockets())
        self._watch = watch

    def _unwatch_sockets(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()

    def _poll(self) -> int:
        """One poll of the engine; after it, the timer runs at the pace the phone needs now."""
        engine = self._engine
        if engine is None:
            return 0
        try:
            handled = engine.poll()
            if handled and self.on_poll is not None:
                self.on_poll(handled)
        except Exception:
            log.exception("SIP poll failed")
            return 0
        if handled and self._watch is not None and not self._scan_queued and self._loop is not None:
            # The engine may have opened or closed a connection: look on the loop's next turn,
            # not between a ringing call's pop-up and its paint (a readable socket stays so).
            self._scan_queued = True
            self._loop.call_soon(self._scan_after_poll)
        self._hurry()
        return handled

    def _scan_after_poll(self) -> None:
        self._scan_queued = False
        try:
            if self._watch is not None:
                self._watch.scan()
        except Exception:
            log.exception("watching the SIP sockets failed")

    def _busy(self) -> bool:
        return bool(self._calls) or (self._engine is not None and self._engine.call_count() > 0)

    def _interval(self) -> float:
        """The fast interval while a call exists (or the sockets cannot wake us), else the idle one."""
        fast = self.options.poll_interval
        if self._busy() or self._watch is None or not self._watch.complete:
            return fast
        return max(fast, IDLE_POLL_INTERVAL)

    def _hurry(self) -> None:
        """A call appeared: bring the next timer poll forward to the fast interval."""
        timer, loop = self._timer, self._loop
        if timer is None or loop is None or not self._busy():
            return
        fast = self.options.poll_interval
        if self._timer_due - loop.time() > fast * 1.5:
            timer.cancel()
            self._schedule(fast)

    def _schedule(self, delay: float) -> None:
        assert self._loop is not None
        self._timer_due = self._loop.time() + delay
        self._timer = self._loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._engine is None or self._loop is None:
            return
        try:  # a safety net: connections are found after the polls that did something
            if self._watch is not None and self._loop.time() >= self._next_scan:
                self._next_scan = self._loop.time() + SCAN_INTERVAL
                self._watch.scan()
        except Exception:
            log.exception("watching the SIP sockets failed")
        self._poll()
        if self._timer is None and self._engine is not None:
            self._schedule(self._interval())

    async def answer(self, call_id: str) -> None:
        rec = self._record(call_id)
        if rec.direction is not Direction.INCOMING or rec.connected:
            raise ProviderError("Only a ringing incoming call can be answered.")
        self._answer(rec)

    def _answer(self, rec: _CallRecord) -> None:
        engine = self.engine
        for other in self._calls.values():  # IN5: answering a waiting call holds the others
            if other is not rec and other.connected and not other.local_hold and not other.ended:
                try:
                    engine.hold(other.key)
                except ProviderError:
                    log.warning("could not hold call %s before answering %s", other.key, rec.key)
        engine.answer(rec.key, 200)
        self._update_ringer()

    async def reject(self, call_id: str) -> None:
        rec = self._record(call_id)
        if rec.connected or rec.direction is Direction.OUTGOING:
            await self.hangup(call_id)
            return
        rec.action = "reject"
        self.engine.hangup(rec.key, self.options.reject_code)

    def can_send_to_voicemail(self, call_id: str) -> bool:
        """IN6: can this call go to voicemail now — ringing, incoming, and its line has a
        ``voicemail_uri``? (``capabilities`` only says that some line has one; the desktop offers
        the Voicemail button per call with this.)"""
        rec = self._calls.get(call_id)
        if rec is None or rec.ended or rec.direction is not Direction.INCOMING or rec.connected or rec.action:
            return False
        return any(
            rec.line_id in (line.id, line.label) and bool(line.voicemail_uri) for line in self.options.lines
        )

    async def send_to_voicemail(self, call_id: str) -> None:
        """IN6: 302 Moved Temporarily to the line's ``voicemail_uri``."""
        require(self, Capability.VOICEMAIL)
        rec = self._record(call_id)
        if rec.direction is not Direction.INCOMING or rec.connected or rec.action:
            raise ProviderError("Only a ringing incoming call can be sent to voicemail.")
        config = self.options.line(rec.line_id)
        if not config.voicemail_uri:
            raise NotSupported(f"The line {config.title} has no voicemail address (voicemail_uri).")
        engine = self.engine
        uri = make_uri(config.voicemail_uri, config, engine.listen_address())
        rec.action = "voicemail"
        try:
            engine.redirect(rec.key, uri)
        except ProviderError:
            rec.action = ""
            raise
        self._update_ringer()

    async def hangup(self, call_id: str) -> None:
        rec = self._record(call_id)
        if not rec.connected:
            rec.action = "cancel" if rec.direction is Direction.OUTGOING else "reject"
            code = self.options.reject_code if rec.direction is Direction.INCOMING else 0
            self.engine.hangup(rec.key, code)
            return
        rec.action = "hangup"
        self.engine.hangup(rec.key)

    async def _when_idle(self, command: Callable[[], None]) -> None:
        """Run a re-INVITE/REFER command; while an offer/answer exchange is in progress (right
        after answering, or during the far end's re-INVITE) pjsua refuses it: retry for 2 s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while True:
            try:
                command()
                return
            except CallBusy:
                if loop.time() > deadline:
                    raise
            await asyncio.sleep(0.05)

    async def hold(self, call_id: str) -> None:
        rec = self._connected(call_id)
        if not rec.local_hold:
            await self._when_idle(lambda: self.engine.hold(rec.key))

    async def resume(self, call_id: str) -> None:
        rec = self._connected(call_id)
        if rec.local_hold:
            await self._when_idle(lambda: self.engine.resume(rec.key))

    async def set_mute(self, call_id: str, muted: bool) -> None:
        rec = self._connected(call_id)
        self.engine.set_mute(rec.key, muted)
        rec.muted = muted

    async def dial(self, number: str, line: str | None = None) -> str:
        return self._dial(number, line)

    def _dial(self, number: str, line: str | None, consult_of: str | None = None) -> str:
        engine = self.engine
        target = number.strip()
        if not is_dialable(target):
            raise ProviderError(f"{number!r} is not a number or SIP address that can be dialled.")
        config = self.options.line(line)
        if engine.call_count() >= self.max_calls:
            raise ProviderError(f"The softphone can hold at most {self.max_calls} calls at once.")
        if config.direct and "@" not in target and not target.lower().startswith(("sip:", "sips:")):
            raise ProviderError("A phone without a registrar dials SIP addresses, e.g. 1002@192.0.2.10.")
        uri = make_uri(target, config, engine.listen_address())
        self._recheck_audio()
        if self._ringer is not None:  # sound card in use: the resampler ready before the far end answers
            from providers.sip.sound import preload_numpy

            preload_numpy()
        self._keys += 1
        key = f"sip-out-{self._keys}-{id(self):x}"
        rec = _CallRecord(key=key, direction=Direction.OUTGOING, line_id=config.id)
        self._calls[key] = rec
        user = target[4:].split(";", 1)[0] if target.lower().startswith("tel:") else target
        if user.lower().startswith(("sip:", "sips:")):
            user = user.split(":", 1)[1]
        user = user.split("@", 1)[0]
        # A SIP address stays with the call (its written form), so calling back reaches it again.
        address = address_of(uri) if is_sip_address(target) else ""
        remote = self._number(user)
        if address:
            remote = replace(remote, raw=address)
        rec.remote = address or target
        self._emit(
            ProviderEvent(
                CallEvent.OUTGOING,
                key,
                direction=Direction.OUTGOING,
                remote=remote,
                line=config.title,
                extension=config.user,
                consult_of=consult_of,
            )
        )
        try:
            engine.dial(key, config, uri)
        except ProviderError:
            self._end(rec, EndReason.FAILED)
            raise
        self._hurry()
        return key

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        rec = self._connected(call_id)
        self.engine.send_dtmf(rec.key, digits)

    async def transfer(self, call_id: str, target: str) -> None:
        rec = self._connected(call_id)
        if not is_dialable(target):
            raise ProviderError(f"{target!r} is not a number or SIP address to transfer to.")
        config = self.options.line(rec.line_id)
        if config.direct and "@" not in target and not target.lower().startswith(("sip:", "sips:")):
            raise ProviderError(
                "A phone without a registrar transfers to SIP addresses, e.g. 1002@192.0.2.10."
            )
        rec.transfer_to = target
        rec.replaced_by = ""
        uri = make_uri(target, config, self.engine.listen_address())
        await self._when_idle(lambda: self.engine.transfer(rec.key, uri))

    async def consult(self, call_id: str, number: str, line: str | None = None) -> str:
        """Hold *call_id* and dial *number* on the same line (unless *line* says otherwise)."""
        rec = self._connected(call_id)
        if not is_dialable(number):
            raise ProviderError(f"{number!r} is not a number or SIP address that can be dialled.")
        if self.engine.call_count() >= self.max_calls:
            raise ProviderError(f"The softphone can hold at most {self.max_calls} calls at once.")
        if not rec.local_hold:
            await self._when_idle(lambda: self.engine.hold(rec.key))
        return self._dial(number, line or rec.line_id, consult_of=rec.key)

    def _pair(self, call_id: str, other_id: str) -> tuple[_CallRecord, _CallRecord]:
        if call_id == other_id:
            raise ProviderError("That needs two different calls.")
        return self._connected(call_id), self._connected(other_id)

    async def transfer_to_call(self, call_id: str, other_id: str) -> None:
        """Attended transfer: REFER the far end of *call_id* to the far end of *other_id* with
        ``Replaces``. When the far end reports the new call up (the REFER's final NOTIFY 2xx)
        both calls are hung up here; the two parties stay connected to each other."""
        rec, other = self._pair(call_id, other_id)
        rec.transfer_to, rec.replaced_by = other.remote, other.key
        outcome: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        rec.transfer_outcome = outcome
        try:
            await self._when_idle(lambda: self.engine.transfer_replaces(rec.key, other.key))
            # Wait for the far end's answer, so that a refusal reaches the agent as an error (the
            # calls stay as they were); a far end that says nothing in time leaves it to the log.
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(asyncio.shield(outcome), TRANSFER_WAIT)
                if code and not 200 <= code < 300:
                    raise ProviderError(
                        f"The other party did not take the transfer ({code}); both calls are as they were."
                    )
        finally:
            rec.transfer_outcome = None

    async def conference(self, call_id: str, other_id: str) -> None:
        """Three-way conference in pjmedia's bridge: both calls off hold, each far end hears
        the other and the agent. Hanging up one of them leaves the agent with the other; to
        leave the two parties talking without the agent, transfer one to the other
        (``transfer_to_call``)."""
        rec, other = self._pair(call_id, other_id)
        engine = self.engine
        for key in [one.key for one in (rec, other) if one.local_hold]:
            await self._when_idle(functools.partial(engine.resume, key))
        keys = sorted(set(self._conference) | {rec.key, other.key})
        engine.conference(keys)
        for key in keys:
            if key not in self._conference:
                self._conference.add(key)
                self._emit(ProviderEvent(CallEvent.UPDATED, key, conference=True))

    async def set_dnd(self, enabled: bool) -> None:
        self._dnd = enabled
        self._publish_status()

    def set_auto_answer(self, enabled: bool) -> None:
        self._auto_answer = enabled

    async def reregister(self) -> None:
        """Try every registration again now (e.g. after the network came back)."""
        for line in self.options.lines:
            if not line.direct:
                self.engine.reregister(line.id)

    async def close(self) -> None:
        engine = self._engine
        if engine is None:
            return
        self._unwatch_sockets()
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        interval = min(self.options.poll_interval, 0.005)
        loop = asyncio.get_running_loop()
        engine.hangup_all()
        # PortAudio starting on the device-check thread while the engine shuts its own sound
        # device down (the built engine's pjmedia uses ALSA too) aborted the process: let the
        # check finish first.
        checking, self._audio_thread = self._audio_thread, None
        if checking is not None:
            await asyncio.to_thread(checking.join, 10.0)
        deadline = loop.time() + 3.0
        while engine.call_count() and loop.time() < deadline:
            engine.poll()
            await asyncio.sleep(interval)
        for rec in list(self._calls.values()):
            self._end(rec, EndReason.COMPLETED if rec.connected else EndReason.FAILED)
        engine.unregister_all()
        deadline = loop.time() + 1.5
        while loop.time() < deadline and any(
            state is Registration.ONLINE for state, _ in self._registration.values()
        ):
            engine.poll()
            await asyncio.sleep(interval)
        for _ in range(3):
            engine.poll()
        for tone in (self._ringer, self._ringback):
            if tone is not None:
                tone.stop()
        engine.destroy()
        self._engine = None
        self._publish_status()

    # ------------------------------------------------------------------ EngineListener
    def on_incoming(self, key: str, call: IncomingCall) -> None:
        # The device check (PortAudio listing its devices again when one was missing) waits
        # until the ring has reached the window: it is not on the INVITE → pop-up path.
        if self._loop is not None:
            self._loop.call_soon(self._recheck_audio)
        config = self.options.line(call.line_id)
        rec = _CallRecord(key=key, direction=Direction.INCOMING, line_id=config.id, source=call.source)
        self._calls[key] = rec
        self._hurry()
        number = self._number(call.user)
        # A direct line has no PBX to route a number back: the caller's SIP address is kept as
        # the number's written form (what calling back dials).
        address = callback_address(call.remote_uri, call.contact) if config.direct and number.raw else ""
        if address:
            number = replace(number, raw=address)
        rec.remote = address or number.raw or call.user
        self._emit(
            ProviderEvent(
                CallEvent.INCOMING,
                key,
                direction=Direction.INCOMING,
                remote=number,
                remote_name=call.name or None,
                line=config.title,
                dnis=call.dialled or None,
                extension=config.user,
            )
        )
        engine = self.engine
        if self._dnd:
            rec.action = "busy"
            engine.hangup(key, 486)
            return
        others_connected = any(r.connected for r in self._calls.values() if r is not rec)
        ring_timeout = self._ring_time(config.direct, call.source)
        if self._loop is not None and ring_timeout:
            self._loop.call_later(ring_timeout, self._ring_timeout, key)
        if self._auto_answer and not others_connected and not self._burst():
            engine.answer(key, 180)
            delay = self.options.auto_answer_delay
            if self._loop is not None:
                self._loop.call_later(delay, self._auto_answer_now, key)
            return
        self._update_ringer()

    def _ring_time(self, direct: bool, source: str) -> float:
        """How long a new call may ring (0: until the caller gives up). On a direct line a
        caller no call was answered from yet rings at most ``unknown_ring_timeout``."""
        ring, unknown = self.options.ring_timeout, self.options.unknown_ring_timeout
        if direct and unknown and source not in self._known_sources:
            return min(ring, unknown) if ring else unknown
        return ring

    def _burst(self) -> bool:
        """True while more than ``BURST_CALLS`` calls arrived within ``BURST_SECONDS``."""
        now = time.monotonic()
        arrivals = self._arrivals
        arrivals.append(now)
        while arrivals and now - arrivals[0] > BURST_SECONDS:
            arrivals.popleft()
        return len(arrivals) > BURST_CALLS

    def _ring_timeout(self, key: str) -> None:
        rec = self._calls.get(key)
        if rec is None or rec.connected or rec.ended or rec.action or self._engine is None:
            return
        rec.action = "timeout"
        with contextlib.suppress(ProviderError):
            self._engine.hangup(key, 480)

    def _auto_answer_now(self, key: str) -> None:
        rec = self._calls.get(key)
        if rec is None or rec.connected or rec.ended or self._engine is None:
            return
        try:
            self._answer(rec)
        except ProviderError:
            log.warning("auto-answer of %s failed", key)

    def on_phase(self, key: str, phase: Phase, code: int, reason: str) -> None:
        rec = self._calls.get(key)
        if rec is None:
            return
        if phase is Phase.RINGING and rec.direction is Direction.OUTGOING:
            rec.alerting = True
            self._emit(ProviderEvent(CallEvent.RINGBACK, key))
            self._update_ringer()
        elif phase is Phase.CONFIRMED and not rec.connected:
            rec.connected = True
            if rec.source and rec.direction is Direction.INCOMING:
                self._known_sources.add(rec.source)
            self._emit(ProviderEvent(CallEvent.ANSWERED, key))
            self._update_ringer()
        elif phase is Phase.DISCONNECTED:
            self._end(rec, self._end_reason(rec, code))

    def _end_reason(self, rec: _CallRecord, code: int) -> EndReason:
        if rec.connected:
            return EndReason.COMPLETED
        if rec.action == "busy":
            return EndReason.BUSY
        if rec.direction is Direction.INCOMING:
            if rec.action == "timeout":
                return EndReason.MISSED
            if rec.action == "reject":
                return EndReason.REJECTED
            if rec.action == "voicemail":
                return EndReason.VOICEMAIL
            if code == 408:
                return EndReason.MISSED
            return EndReason.CANCELLED  # the caller gave up while it rang (487)
        if rec.action == "cancel" or code == 487:
            return EndReason.CANCELLED
        if code in (486, 600, 603):
            return EndReason.BUSY
        if code in (408, 480):
            return EndReason.NO_ANSWER
        return EndReason.FAILED

    def on_media(self, key: str, local_hold: bool, remote_hold: bool) -> None:
        rec = self._calls.get(key)
        if rec is not None and not rec.connected and rec.direction is Direction.OUTGOING and not local_hold:
            rec.early_media = True  # 183 with SDP: the far end's own ringback plays instead of ours
            self._update_ringer()
        if rec is None or not rec.connected:
            return
        if local_hold and not rec.local_hold:
            rec.local_hold = True
            self._emit(ProviderEvent(CallEvent.HELD, key))
        elif not local_hold and rec.local_hold:
            rec.local_hold = False
            self._emit(ProviderEvent(CallEvent.RESUMED, key))
        if remote_hold != rec.remote_hold:
            rec.remote_hold = remote_hold
            self._emit(ProviderEvent(CallEvent.UPDATED, key, remote_hold=remote_hold))

    def on_dtmf(self, key: str, digit: str) -> None:
        if key in self._calls:
            self._emit(ProviderEvent(CallEvent.DTMF, key, digits=digit))

    def on_transfer(self, key: str, code: int, final: bool) -> None:
        rec = self._calls.get(key)
        if rec is None or not final:
            return
        if rec.transfer_outcome is not None and not rec.transfer_outcome.done():
            rec.transfer_outcome.set_result(code)
        if 200 <= code < 300:
            rec.action, rec.transferred = "hangup", True
            with contextlib.suppress(ProviderError):
                self.engine.hangup(key)
            other = self._calls.get(rec.replaced_by) if rec.replaced_by else None
            if other is not None and not other.ended:
                # The far end we referred to knew Replaces and ends our call itself, or took the
                # INVITE as a new call: either way, our leg to it is done.
                other.action = "hangup"
                with contextlib.suppress(ProviderError):
                    self.engine.hangup(other.key)
        else:
            log.warning("transfer of %s to %s failed: %s", key, rec.transfer_to, code)

    def on_registration(self, line_id: str, code: int, reason: str, registered: bool) -> None:
        if registered:
            state = (Registration.ONLINE, "")
        elif 200 <= code < 300:
            state = (Registration.OFFLINE, "unregistered")
        else:
            state = (Registration.OFFLINE, f"{code} {reason}".strip())
        if self._registration.get(line_id) != state:
            self._registration[line_id] = state
            self._publish_status()

    # ------------------------------------------------------------------ helpers
    def _record(self, call_id: str) -> _CallRecord:
        rec = self._calls.get(call_id)
        if rec is None or rec.ended:
            raise UnknownCall("That call has already ended.")
        return rec

    def _connected(self, call_id: str) -> _CallRecord:
        rec = self._record(call_id)
        if not rec.connected:
            raise NotSupported("That works only on a connected call.")
        return rec

    def _number(self, user: str) -> PhoneNumber:
        if not user:
            return PhoneNumber(raw="")
        try:
            return self._parse_number(user)
        except Exception:
            return number_from_user(user)

    def _end(self, rec: _CallRecord, reason: EndReason) -> None:
        if rec.ended:
            return
        rec.ended = True
        self._calls.pop(rec.key, None)
        if rec.transfer_outcome is not None and not rec.transfer_outcome.done():
            rec.transfer_outcome.set_result(0)
        if rec.key in self._conference:
            self._conference.discard(rec.key)
            if len(self._conference) < 2 and self._engine is not None:
                # one call left: it is an ordinary call again (the manager clears its flag)
                self._conference.clear()
                with contextlib.suppress(ProviderError):
                    self._engine.conference([])
        transferred = rec.transfer_to if rec.transferred else None
        self._emit(ProviderEvent(CallEvent.ENDED, rec.key, reason=reason, transferred_to=transferred))
        self._update_ringer()

    def _update_ringer(self) -> None:
        if self._ringback is not None:
            ringback = any(
                r.direction is Direction.OUTGOING
                and r.alerting
                and not r.early_media
                and not r.connected
                and not r.ended
                for r in self._calls.values()
            )
            if ringback:
                self._ringback.start()
            else:
                self._ringback.stop()
        if self._ringer is None:
            return
        ringing = any(
            r.direction is Direction.INCOMING and not r.connected and not r.ended and not r.action
            for r in self._calls.values()
        )
        connected = any(r.connected for r in self._calls.values())
        if ringing and not connected:
            self._ringer.start()
        else:
            self._ringer.stop()

    def _emit(self, event: ProviderEvent) -> None:
        if self._listener is None:
            return
        try:
            self._listener.call_event(event)
        except Exception:
            log.exception("call listener failed on %s", event.event)

    def _publish_status(self) -> None:
        if self._listener is None:
            return
        try:
            self._listener.status_changed(self.status())
        except Exception:
            log.exception("status listener failed")
