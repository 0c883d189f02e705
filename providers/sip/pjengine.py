"""The pjsua2 engine: the only module of callsys that imports ``pjsua2``.

Rules learnt the hard way (see the spike in ``shared/reference/pjsua2-spike``):

* One ``pj.Endpoint`` per process, created with ``threadCnt=0`` and ``mainThreadOnly=True``:
  pjsua2 starts no SIP thread and every callback runs inside ``libHandleEvents``, which the
  provider calls from an asyncio task (never a thread of ours).
* A ``pj.Call`` is kept only while its call lives. At DISCONNECTED it moves to a graveyard that
  ``poll`` empties right after ``libHandleEvents`` returns (never inside its own callback). A
  stale ``pj.Call`` whose slot pjsua already gave to a new call would hang that new call up when
  destroyed, so such a straggler is disowned (leaked, a few hundred bytes) instead.
* ``getInfo()`` results are held in a local before reading ``.media``.
* No ``pj.Call`` may survive ``libDestroy()``: ``destroy`` drops them all before it.
* Which pjsua2 is imported is chosen first (``providers.sip.engines``: the PyPI wheel or our
  own build); its compile-time limits are ``BUILD``'s, never constants here.
* The wheel has no sound-device backend: the conference bridge runs on the null device and the
  sound card is bridged through an ``AudioMediaPort`` (``providers.sip.sound``). The built
  engine opens the sound card in pjmedia (``_DeviceBridge``) while a call has audio.
* Nothing of pjmedia runs while no call has media (``_MediaThreads``): its worker thread, which
  polled the calls' RTP sockets every 10 ms for the life of the process, is stopped and another
  one (pjmedia's own, of a second media endpoint on the same ioqueue) reads them only while a
  call has media; the conference bridge's clock (the null or real sound device) runs from a
  call's first media until a second after the last call.
* The wheel allows at most 4 calls (the built engine 32); pjsua answers the next INVITE with
  486 Busy Here itself, before it opens any socket for it.
* pjlib's select() ioqueue in this wheel has 64 slots, keeps a closed socket's slot for 500 ms
  and *aborts the process* (assertion) when none is free. Each call holds two (RTP, RTCP), so
  ~30 calls set up and torn down within half a second kill the phone. pjsua opens them before
  any application callback but ``onSelectAccount``: there the flood guard
  (``providers.sip.guard``) sends an INVITE over the slot budget to a hidden guard account
  whose calls use the loop media transport (no socket) and answers it 503 + Retry-After.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import ipaddress
import itertools
import logging
import os
import re
import socket
import stat
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from providers.sip import engines

#: The pjsua2 build this process runs (``providers.sip.engines``): imported before ``pjsua2``.
BUILD = engines.load()

import pjsua2 as pj  # noqa: E402  (the build chosen just above)

from callsys import heap  # noqa: E402
from callsys.errors import ConfigError, ProviderError, ProviderUnavailable, UnknownCall  # noqa: E402
from providers.sip import guard as limits  # noqa: E402
from providers.sip.engine import AudioTap, CallBusy, EngineListener, IncomingCall, Phase  # noqa: E402
from providers.sip.guard import RETRY_AFTER, MediaBudget, budget_for  # noqa: E402
from providers.sip.headers import caller_info  # noqa: E402
from providers.sip.options import LineConfig, SipOptions, host_of  # noqa: E402

__all__ = ["PjEngine"]

log = logging.getLogger(__name__)

_PHASES = {
    pj.PJSIP_INV_STATE_CALLING: Phase.CALLING,
    pj.PJSIP_INV_STATE_INCOMING: Phase.RINGING,
    pj.PJSIP_INV_STATE_EARLY: Phase.RINGING,
    pj.PJSIP_INV_STATE_CONNECTING: Phase.CONNECTING,
    pj.PJSIP_INV_STATE_CONFIRMED: Phase.CONFIRMED,
    pj.PJSIP_INV_STATE_DISCONNECTED: Phase.DISCONNECTED,
}
_DTMF = set("0123456789*#ABCDabcd")
#: a line's ``srtp`` → pjsua's
_SRTP_USE = {
    "off": pj.PJMEDIA_SRTP_DISABLED,
    "optional": pj.PJMEDIA_SRTP_OPTIONAL,
    "mandatory": pj.PJMEDIA_SRTP_MANDATORY,
}
#: the flood guard's refusal: (status code, why)
_BUSY_FLOOD = (503, "too many calls within a second")
#: seconds to keep trying to resume a call pjsua put back on hold by itself (see onCallMediaState)
_RESUME_AGAIN_FOR = 5.0
#: pjsua's PJSUA_XFER_NO_REQUIRE_REPLACES (pjsua.h; the wheel does not export it)
_XFER_NO_REQUIRE_REPLACES = 1
#: After this many pjsip events, the first quiet ``poll`` gives free heap memory back to the
#: system (at most every ``_TRIM_EVERY`` seconds; see ``_trim_heap``)…
_TRIM_AFTER_EVENTS = 500
_TRIM_EVERY = 5.0
#: …and after any events at all once this long has passed (the tail of a flood: its last
#: transactions end up to 32 s after it, fewer than ``_TRIM_AFTER_EVENTS`` at a time)
_TRIM_ANYWAY = 30.0
#: ``libHandleEvents`` calls per ``poll`` at most, while each finds something (see ``poll``)
_POLL_ROUNDS = 64
_FRAME_USEC = 20000
_RATE = 8000
#: False: pjmedia's worker thread and the null sound device's clock run all the time, as they
#: did before (``benchmarks/ui_startup.py --idle-cpu`` measures both side by side).
STOP_MEDIA_WHEN_IDLE = True
#: Seconds the conference bridge's clock keeps running after the last call with media has gone:
#: it applies the bridge's queued port removals (``_MediaThreads``).
MEDIA_IDLE_GRACE = 1.0


_F = TypeVar("_F", bound=Callable[..., Any])


def _callback(method: _F) -> _F:
    """For every method pjsua2 calls from C++ (SWIG directors): an exception must never escape,
    since it unwinds through pjsip's C code as a C++ exception and aborts the process. It is
    logged instead; the callback then does nothing more (e.g. ``onCallMediaState`` when
    ``getInfo`` or ``getAudioMedia`` raise ``pj.Error`` for a call that just ended)."""

    @functools.wraps(method)
    def guarded(*args: Any) -> Any:
        try:
            return method(*args)
        except Exception:
            log.exception("pjsua2 callback %s failed", method.__qualname__)
            return None

    guarded.guarded = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


class _Pjsip:
    """pjsip's C functions that pjsua2 does not wrap, from pjsua2's own module: the two that
    answering a request inside a dialog needs (``pjsip_endpt_create_response`` +
    ``pjsip_tsx_send_msg``), and those of ``_RequestFilter``. ``_pjsip()`` is None where they
    are not exported."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(pj._pjsua2.__file__)
        self.endpt = lib.pjsua_get_pjsip_endpt
        self.endpt.restype = ctypes.c_void_p
        self.endpt.argtypes = []
        self.create = lib.pjsip_endpt_create_response
        self.create.restype = ctypes.c_int
        self.create.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
        ]  # fmt: skip
        self.shutdown_transport = lib.pjsip_transport_shutdown
        self.shutdown_transport.restype = ctypes.c_int
        self.shutdown_transport.argtypes = [ctypes.c_void_p]
        self.srtp_member = lib.pjmedia_transport_srtp_get_member
        self.srtp_member.restype = ctypes.c_void_p
        self.srtp_member.argtypes = [ctypes.c_void_p]
        self.send = lib.pjsip_tsx_send_msg
        self.send.restype = ctypes.c_int
        self.send.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.lib = lib

    def respond(self, tsx: Any, rdata: Any, code: int) -> bool:
        """Send *code* as the response of the server transaction *tsx* to the request *rdata*
        (pjsua2's ``SipTransaction.pjTransaction`` and ``SipRxData.pjRxData``)."""
        tsx_ptr, rdata_ptr = int(tsx), int(rdata)
        if not tsx_ptr or not rdata_ptr:
            return False
        tdata = ctypes.c_void_p()
        if self.create(self.endpt(), rdata_ptr, code, None, ctypes.byref(tdata)) != 0 or not tdata.value:
            return False
        return bool(self.send(tsx_ptr, tdata.value) == 0)


class _PjStr(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_char_p), ("slen", ctypes.c_ssize_t)]


_RX_REQUEST = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _PjsipModule(ctypes.Structure):
    """pjsip's ``pjsip_module`` (``sip_module.h``; the same in every pjsip 2.x)."""

    _fields_ = [
        ("prev", ctypes.c_void_p),
        ("next", ctypes.c_void_p),
        ("name", _PjStr),
        ("id", ctypes.c_int),
        ("priority", ctypes.c_int),
        ("load", ctypes.c_void_p),
        ("start", ctypes.c_void_p),
        ("stop", ctypes.c_void_p),
        ("unload", ctypes.c_void_p),
        ("on_rx_request", _RX_REQUEST),
        ("on_rx_response", ctypes.c_void_p),
        ("on_tx_request", ctypes.c_void_p),
        ("on_tx_response", ctypes.c_void_p),
        ("on_tsx_state", ctypes.c_void_p),
    ]


class _RequestFilter:
    """A pjsip module just before pjsua's own (priority 63 < 64): it sees every request that no
    transaction or dialog took — a new call, a MESSAGE, OPTIONS, REGISTER … — before pjsua makes
    a transaction (and, for an INVITE, a dialog) for it.

    * An ACK no transaction or dialog took (one without a To tag, say) is dropped. pjsua 2.15
      takes such an ACK for a "merged request" when its Call-ID, From tag and CSeq number are a
      ringing INVITE's and answers it 482, which pjsip refuses to build for an ACK: the process
      aborts (``pjsip_endpt_create_response: Assertion ... != PJSIP_ACK_METHOD' failed``, found
      by the fuzzer; pjsua 2.16 leaves ACKs alone there). An ACK is never answered anyway.
    * Load shedding: a new INVITE while ``guard.MAX_DIALOGS`` dialogs are alive, or another new
      request (not a CANCEL) while ``guard.MAX_TRANSACTIONS`` transactions are, is answered
      ``503`` statelessly — no transaction, no dialog, nothing kept. A transaction outlives its
      final answer (over UDP up to 32 s: an unACKed INVITE answer is retransmitted until timer
      H, a non-INVITE one absorbs retransmissions until timer J) and holds 25 KB (its answer's
      16 KB buffer), an INVITE's dialog 20 KB more: a flood of INVITEs or MESSAGEs at 1,000/s
      held hundreds of megabytes. INVITEs count dialogs, so that a flood of MESSAGEs does not
      refuse the caller right behind it.
    """

    PRIORITY = 63

    def __init__(
        self, lib: ctypes.CDLL, endpt: Callable[[], int], max_transactions: int, max_dialogs: int
    ) -> None:
        self._endpt = endpt
        self._max, self._max_dialogs = max_transactions, max_dialogs
        self._info = lib.pjsip_rx_data_get_info
        self._info.restype = ctypes.c_char_p
        self._info.argtypes = [ctypes.c_void_p]
        self._count = lib.pjsip_tsx_layer_get_tsx_count
        self._dialogs = lib.pjsip_ua_get_dlg_set_count
        for fn in (self._count, self._dialogs):
            fn.restype = ctypes.c_uint
            fn.argtypes = []
        self._respond = lib.pjsip_endpt_respond_stateless
        self._respond.restype = ctypes.c_int
        self._respond.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
        ]  # fmt: skip
        self._register = lib.pjsip_endpt_register_module
        self._unregister = lib.pjsip_endpt_unregister_module
        for fn in (self._register, self._unregister):
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self._name = ctypes.create_string_buffer(b"mod-callsys-request-filter")
        self._callback = _RX_REQUEST(self._on_rx_request)  # kept: C holds a pointer to it
        self.module = _PjsipModule()
        self.module.name = _PjStr(ctypes.cast(self._name, ctypes.c_char_p), len(self._name.value))
        self.module.id = -1
        self.module.priority = self.PRIORITY
        self.module.on_rx_request = self._callback
        self.installed = False
        self.shed = 0  # requests answered 503 for want of room
        self._shed_logged = -1000.0

    def _on_rx_request(self, rdata: int) -> int:
        try:
            info = self._info(rdata) or b""
            if info.startswith(b"Request msg ACK"):
                return 1
            if info.startswith(b"Request msg CANCEL"):
                return 0
            if info.startswith(b"Request msg INVITE"):
                if self._dialogs() < self._max_dialogs:
                    return 0
            elif self._count() < self._max:
                return 0
            self._respond(self._endpt(), rdata, 503, None, None, None)
            self.shed += 1
            now = time.monotonic()
            if now - self._shed_logged > 10:
                self._shed_logged = now
                log.warning(
                    "flood: %d transactions alive; new requests answered 503 (%d so far)",
                    self._max,
                    self.shed,
                )
            return 1
        except Exception:  # never raise into C
            return 0

    def install(self) -> None:
        if self._register(self._endpt(), ctypes.byref(self.module)) == 0:
            self.installed = True
        else:
            log.warning("could not install the request filter")

    def remove(self) -> None:
        if self.installed:
            self._unregister(self._endpt(), ctypes.byref(self.module))
            self.installed = False


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``). pjsip frees a
    finished transaction's pools, but glibc keeps the freed memory in the process (its small
    blocks sit between live ones, below the top of the heap): after a flood of INVITEs the
    phone stayed 15-30 % above its idle size for good. A few milliseconds, after busy spells."""
    heap.trim()


@functools.cache
def _pjsip() -> _Pjsip | None:
    try:
        return _Pjsip()
    except (OSError, AttributeError, TypeError):  # pragma: no cover - another build of pjsua2
        log.warning("pjsip's own functions are not exported: no INFO DTMF, no request filter")
        return None


_INFO_DTMF = re.compile(r"^\s*(?:signal\s*=\s*)?([0-9*#A-Da-d])\s*$", re.I | re.M)


_CALL_ID = re.compile(r"^(?:call-id|i)[ \t]*:[ \t]*(\S*)", re.I | re.M)


def _call_id(message: str) -> str:
    """The Call-ID of a SIP message's text ("" without one)."""
    head = message.partition("\r\n\r\n")[0]
    found = _CALL_ID.search(head)
    return found.group(1) if found else ""


def _info_dtmf(message: str) -> tuple[bool, str]:
    """(is it DTMF — an INFO with ``Content-Type: application/dtmf`` or ``dtmf-relay`` —, its
    digit or "") from the request's text: the body is the digit, or a ``Signal=`` line."""
    head, _, body = message.partition("\r\n\r\n")
    kind = re.search(r"^(?:content-type|c)\s*:\s*([^;\r\n]*)", head, re.I | re.M)
    if kind is None or kind.group(1).strip().lower() not in ("application/dtmf", "application/dtmf-relay"):
        return False, ""
    found = _INFO_DTMF.search(body)
    return True, found.group(1).upper() if found else ""


def _fmt() -> Any:
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, _RATE, 1, _FRAME_USEC, 16)
    return fmt


def _vector_reader() -> Callable[[Any], bytes]:
    """Fast ``ByteVector`` → bytes (``bytes(v)`` iterates in Python: ~250 µs per frame).

    A ``std::vector`` starts with its data pointer on libstdc++, libc++ and MSVC; we check that
    on a known vector and fall back to the slow path if the layout is different.
    """

    def fast(vec: Any) -> bytes:
        size = int(vec.size())
        if not size:
            return b""
        begin = ctypes.c_void_p.from_address(int(vec.this)).value
        return ctypes.string_at(begin, size) if begin else bytes(vec)

    try:
        probe = pj.ByteVector(b"callsys\x00\x01\xff")
        if fast(probe) == b"callsys\x00\x01\xff":
            return fast
    except Exception:  # pragma: no cover - exotic platform
        log.debug("fast ByteVector access unavailable", exc_info=True)
    return bytes


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """pjlib prints a banner to fd 1 before our log settings apply: keep JSON stdout clean."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real fd 1
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


#: The thread pjlib knows (it called ``libCreate``), while a library runs; 0 when none does.
_engine_thread = 0
#: Library-bound objects whose last reference went in another thread, resurrected by
#: ``_FreedOnEngineThread.__del__`` and destroyed on the engine's thread by ``_free_strays``.
_strays: list[Any] = []
_strays_lock = threading.Lock()


class _FreedOnEngineThread:
    """A pjsua2 object whose C++ destructor calls into pjlib is destroyed on the engine's thread.

    Python frees an object in whichever thread drops its last reference — or runs the garbage
    collector that finds it in a cycle: an HTTP server's thread, a sync worker, pjmedia's clock
    thread running an audio tap. pjlib there is "called from an unknown/external thread" and
    its assertion aborts the process. Such an object is kept alive instead (Python allows a
    finalizer to resurrect) and destroyed on the engine's thread at its next poll.
    """

    def __del__(self) -> None:
        if _engine_thread and threading.get_ident() != _engine_thread:
            with _strays_lock:
                _strays.append(self)


def _free_strays() -> int:
    """On the engine's thread: destroy what other threads let go of. Returns how many."""
    with _strays_lock:
        if not _strays:
            return 0
        strays = _strays[:]
        _strays.clear()
    for obj in strays:
        with contextlib.suppress(Exception):
            if obj.thisown:
                # explicitly, now: the proxy may sit in a cycle that a collector in another
                # thread would free later, without calling __del__ a second time
                type(obj).__swig_destroy__(obj)
    return len(strays)


class _Player(_FreedOnEngineThread, pj.AudioMediaPlayer):  # type: ignore[misc]
    pass


class _Recorder(_FreedOnEngineThread, pj.AudioMediaRecorder):  # type: ignore[misc]
    pass


class _TapPort(_FreedOnEngineThread, pj.AudioMediaPort):  # type: ignore[misc]
    """Receives what a call's far end sends (pjmedia clock thread) and hands it to a tap.

    Tap ports are pooled, never destroyed while the library runs: pjmedia removes conference
    ports asynchronously, and freeing an ``AudioMediaPort`` right after removal lets the clock
    thread call into freed memory (seen as a segfault under a flood of calls).
    """

    def __init__(self, read: Callable[[Any], bytes]) -> None:
        super().__init__()
        self.read = read
        self.key = ""
        self.tap: AudioTap | None = None

    @_callback
    def onFrameReceived(self, frame: Any) -> None:
        tap, key = self.tap, self.key
        if tap is None or not key:
            return
        try:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                tap(key, self.read(frame.buf))
        except Exception:  # never raise into C++
            log.exception("audio tap failed")


class _Digit:
    """An ``OnDtmfDigitParam`` for a digit that came in a SIP INFO."""

    def __init__(self, digit: str) -> None:
        self.digit = digit


class _Call(_FreedOnEngineThread, pj.Call):  # type: ignore[misc]
    def __init__(self, engine: PjEngine, account: Any, key: str, call_id: int | None = None) -> None:
        if call_id is None:
            super().__init__(account)
        else:
            super().__init__(account, call_id)
        self.engine: PjEngine | None = engine
        self.key = key
        self.line_id = account.line.id if isinstance(account, _Account) else ""  # "": the guard
        self.audio: Any = None  # pj.AudioMedia of the call, while media is active
        self.recorder: Any = None
        self.tap: Any = None
        self.muted = False
        self.answered = False  # we responded to the INVITE (no automatic 180 needed)
        self.quiet = False  # refused by the phone itself: never reported to the listener
        self.media = True  # has RTP/RTCP sockets (the flood guard's calls have loop media)
        self.hold_wanted = False  # we put it on hold (hold() and not resume() since)
        self.resume_by: float | None = None  # pjsua re-held it by itself: resume it again by then
        self.sip_call_id = ""  # its Call-ID header, once asked for (_sip_call_id)
        self.source = ""  # incoming: the IP address its INVITE came from
        self.connected = False  # reached CONFIRMED
        self.has_media = False  # its audio stream was set up: the bridge's clock must run

    @_callback
    def onCallState(self, prm: Any) -> None:
        engine = self.engine
        if engine is None:
            return
        ci = self.getInfo()
        phase = _PHASES.get(ci.state)
        code, reason = int(ci.lastStatusCode), str(ci.lastReason)
        if phase is Phase.CONFIRMED:
            self.connected = True
        if phase is Phase.DISCONNECTED:
            engine._retire(self)
        if phase is not None and not self.quiet:
            engine._emit(lambda listener: listener.on_phase(self.key, phase, code, reason))

    @_callback
    def onCreateMediaTransport(self, prm: Any) -> None:
        """pjsua made the call's RTP/RTCP transport: make it send only where the SDP says."""
        if self.media and not _pin_remote_address(prm.mediaTp) and not _LATCHING_WARNED:
            _warn_latching()

    @_callback
    def onCallMediaState(self, prm: Any) -> None:
        engine = self.engine
        if engine is None or self.quiet:
            return
        ci = self.getInfo()  # keep CallInfo alive while reading .media
        media = list(ci.media)
        local_hold = remote_hold = False
        for mi in media:
            if mi.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            status = mi.status
            if status not in (pj.PJSUA_CALL_MEDIA_NONE, pj.PJSUA_CALL_MEDIA_ERROR):
                engine._media_started(self)  # before _connect_audio: the sound card needs the clock
            local_hold = local_hold or status == pj.PJSUA_CALL_MEDIA_LOCAL_HOLD
            remote_hold = remote_hold or status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD
            if status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                engine._connect_audio(self, self.getAudioMedia(mi.index))
            else:
                engine._disconnect_audio(self)
            break
        if local_hold and not self.hold_wanted:
            # Nobody asked for this hold: pjsua keeps PJSUA_CALL_UNHOLD in the call's options
            # after a resume and treats *any* later failed re-INVITE of ours (e.g. its own one
            # to lock a codec, refused 491 because the far end re-INVITEs at the same time) as
            # "releasing hold failed", so it holds the call again by itself. Resume it again
            # (``poll``) instead of leaving the agent on a hold they never asked for.
            local_hold = False
            if self.resume_by is None:
                self.resume_by = time.monotonic() + _RESUME_AGAIN_FOR
                log.info("pjsua put call %s back on hold by itself; resuming it again", self.key)
        engine._emit(lambda listener: listener.on_media(self.key, local_hold, remote_hold))

    @_callback
    def onDtmfDigit(self, prm: Any) -> None:
        digit = str(prm.digit)[:1]
        if self.engine is not None and digit:
            self.engine._emit(lambda listener: listener.on_dtmf(self.key, digit))

    @_callback
    def onCallTsxState(self, prm: Any) -> None:
        """A new request inside the call (pjsua tells us first; answering it here makes pjsua
        leave it alone, as it handles only requests still in TRYING state):

        * one whose Call-ID is not this call's is answered 481. pjsua never forgets a dialog's
          call slot: after a BYE the dialog lives on in pjsip while the BYE's transaction lingers
          (32 s over UDP), and once a new call takes that slot a request in the old dialog came
          here as the new call's — a REFER then made pjsua answer with the new call's dialog and
          pjsip abort the process (``pjsip_dlg_respond: Assertion ... == dlg' failed``).
        * an INFO with DTMF: the digit is reported like one sent in RTP and the INFO answered
          200 (400 without a digit). ``application/dtmf`` (the digit as the body) pjsua leaves
          to the application, and pjsip answered it 500; ``application/dtmf-relay``
          (``Signal=5``) pjsua reads itself, but its parser steps past the end of a body with
          no line break after the signal and aborts the process (``pj_strstr: Assertion
          `str->slen >= 0'``, found by the fuzzer), so the engine reads both.
        """
        event = prm.e
        if event.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx = event.body.tsxState.tsx
        method = str(tsx.method)
        if tsx.role != pj.PJSIP_ROLE_UAS or tsx.state != pj.PJSIP_TSX_STATE_TRYING or method == "INVITE":
            return
        rdata = event.body.tsxState.src.rdata
        message = str(rdata.wholeMsg)
        if _call_id(message) != self._sip_call_id():
            pjsip = _pjsip()
            if pjsip is not None and pjsip.respond(tsx.pjTransaction, rdata.pjRxData, 481):
                log.warning("answered 481 to a %s in a call that has ended", method)
            return
        if method != "INFO":
            return
        ours, digit = _info_dtmf(message)
        pjsip = _pjsip() if ours else None
        if pjsip is None:
            return
        if pjsip.respond(tsx.pjTransaction, rdata.pjRxData, 200 if digit else 400) and digit:
            self.onDtmfDigit(_Digit(digit))

    def _sip_call_id(self) -> str:
        if not self.sip_call_id:
            self.sip_call_id = str(self.getInfo().callIdString)
        return self.sip_call_id

    @_callback
    def onCallTransferRequest(self, prm: Any) -> None:
        """The far end asks us to call someone else (an incoming REFER): declined, 603. pjsua
        would accept it and place that call by itself, reusing this object for the new call:
        the agent's call would never be seen to end, a call nobody dialled would take its place
        (past the 4-call limit's and the flood guard's count), and closing the phone afterwards
        crashed the process in ``hangupAllCalls`` (``tests/sip/test_refer_peers.py``)."""
        prm.statusCode = 603
        log.warning("declined the far end's request to transfer call %s to %s", self.key, prm.dstUri)

    @_callback
    def onCallReplaceRequest(self, prm: Any) -> None:
        """An INVITE with ``Replaces`` for this call (attended transfer, pick-up): declined, 603.
        pjsua would answer it 200, hang this call up and hand this object to the new call, so
        the call the agent sees would silently become somebody else's."""
        prm.statusCode = 603
        log.warning("declined an INVITE that would replace call %s", self.key)

    @_callback
    def onCallTransferStatus(self, prm: Any) -> None:
        code, final = int(prm.statusCode), bool(prm.finalNotify)
        if final:
            prm.cont = False
        if self.engine is not None:
            self.engine._emit(lambda listener: listener.on_transfer(self.key, code, final))


#: ``struct transport_udp`` (pjmedia/src/pjmedia/transport_udp.c, 2.x): the ``pjmedia_transport``
#: base (name[32], type, op, user_data, grp_lock: 64 bytes on 64-bit), ``pool``, ``options``
_UDP_TYPE_AT, _UDP_POOL_AT, _UDP_OPTIONS_AT = 32, 64, 72
_PJMEDIA_TRANSPORT_TYPE_UDP = 0
_PJMEDIA_UDP_NO_SRC_ADDR_CHECKING = 1


def _pin_remote_address(transport: Any) -> bool:
    """Turn pjmedia's symmetric RTP ("latching") off for a call's UDP media transport: it must
    send RTP and RTCP to the address and port the far end's SDP gave, never to wherever packets
    come from. pjmedia switches its destination to a new source after one packet when the far
    end has sent nothing yet, and after 10 in a row otherwise: three spoofed RTP packets sent
    the agent's voice to a third party. pjsua creates the transport with no options and has no
    setting for it, so the option bit (``PJMEDIA_UDP_NO_SRC_ADDR_CHECKING``) is set in the
    transport itself, right after pjsua made it (``Call.onCreateMediaTransport``). The layout
    is checked first (name ``udp…``, type UDP, a pool, no option set yet); False when it does
    not match (another transport, or another pjmedia) — the transport is left as it is.

    What pjmedia does not offer: refusing *received* RTP from another source. Its stream
    plays packets from a new source once 10 arrive in a row (or the first ones, before the far
    end's own): audio can still be injected, but the agent's voice goes nowhere else. A line
    with ``srtp = mandatory`` refuses unauthenticated packets altogether."""
    try:
        address = int(transport)
    except (TypeError, ValueError):
        return False
    pjsip = _pjsip()
    for _ in range(4):  # pjsua wraps the UDP transport in its SRTP one (even with SRTP off)
        if not address or ctypes.string_at(address, 4) != b"srtp" or pjsip is None:
            break
        address = pjsip.srtp_member(address) or 0
    if not address:
        return False
    if ctypes.string_at(address, 3) != b"udp":
        return False
    if ctypes.c_int.from_address(address + _UDP_TYPE_AT).value != _PJMEDIA_TRANSPORT_TYPE_UDP:
        return False
    if not ctypes.c_void_p.from_address(address + _UDP_POOL_AT).value:
        return False
    options = ctypes.c_uint.from_address(address + _UDP_OPTIONS_AT)
    if options.value & ~_PJMEDIA_UDP_NO_SRC_ADDR_CHECKING:
        return False
    options.value |= _PJMEDIA_UDP_NO_SRC_ADDR_CHECKING
    return True


_LATCHING_WARNED = False


def _warn_latching() -> None:
    global _LATCHING_WARNED
    _LATCHING_WARNED = True
    log.warning("this pjmedia's UDP transport is not the one expected: calls' RTP may follow spoofed packets")


_NO_SRTP_REASON = "Not Acceptable Here (encrypted audio, SRTP, required)"
_MEDIA_LINE = re.compile(r"^m=audio[ \t]+\S+[ \t]+(\S+)", re.M | re.I)


def _without_srtp(line_id: str, invite: str) -> tuple[int, str] | None:
    """(488, why) for an INVITE to a line with ``srtp = mandatory`` whose SDP offers audio over
    plain RTP only (no ``RTP/SAVP``, ``RTP/SAVPF`` or DTLS ``UDP/TLS/RTP/SAVP`` media line);
    None for an offer with SRTP, or none at all (the answer to our offer will need SRTP).
    pjsua would answer such an offer 488 too, but before the engine hears of the call: nobody
    would know why the caller could not get through."""
    body = invite.partition("\r\n\r\n")[2]
    profiles = [p.upper() for p in _MEDIA_LINE.findall(body)]
    if not profiles or any("SAVP" in p for p in profiles):
        return None
    return 488, f"a call offering no encrypted audio on line {line_id}, which requires SRTP"


def _source_ip(address: str) -> str:
    """``127.0.0.1:5060`` / ``[::1]:5060`` (pjsip's ``srcAddress``) → the IP address."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    return address.rpartition(":")[0] if address.count(":") == 1 else address


def _literal_ip(uri: str) -> str:
    """The IP address a registrar or proxy URI is written with ("" for a host name)."""
    host = host_of(uri)
    host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return ""


class _Account(_FreedOnEngineThread, pj.Account):  # type: ignore[misc]
    def __init__(self, engine: PjEngine, line: LineConfig) -> None:
        super().__init__()
        self.engine = engine
        self.line = line
        #: where INVITEs may come from (``accept_only_from_server``): the addresses the REGISTER
        #: was answered from, and the registrar's and proxy's if written as IP addresses
        self.servers: set[str] = {ip for ip in (_literal_ip(line.registrar), _literal_ip(line.proxy)) if ip}
        self.registered_once = False

    @_callback
    def onIncomingCall(self, prm: Any) -> None:
        self.engine._incoming(self, prm)

    @_callback
    def onRegState(self, prm: Any) -> None:
        code, reason, expiration = int(prm.code), str(prm.reason), int(prm.expiration)
        if self.line.transport == "tls" and not 200 <= code < 300:
            reason = self.engine._tls_reason(self.line, int(prm.status), reason)
        registered = 200 <= code < 300 and expiration > 0
        if registered:
            source = _source_ip(str(prm.rdata.srcAddress))
            if source:
                self.servers.add(source)
            self.registered_once = True
        line_id = self.line.id
        self.engine._emit(lambda listener: listener.on_registration(line_id, code, reason, registered))


#: PJSIP_TLS_ECERTVERIF ("SSL certificate verification error"), not exported by the wheel
_TLS_ECERTVERIF = 171173
_ETIMEDOUT = 70009  # PJ_ETIMEDOUT
_EEOF = 70016  # PJ_EEOF: the server closed the connection, e.g. during the TLS handshake
#: A TLS alert N from the server is status _TLS_ALERT + N (PJ_SSL_ERRNO_START 470000 + OpenSSL's
#: ERR_LIB_SSL 20 × 1200 + SSL_AD_REASON_OFFSET 1000); e.g. 495070 = protocol_version
_TLS_ALERT = 495000

#: Seconds a TLS connection may take (TCP connect + handshake); pjsip waits forever by default,
#: e.g. on a port that does not speak TLS, and the REGISTER would only time out after 32 s.
TLS_HANDSHAKE_TIMEOUT = 10.0

#: pj_ssl_cert_verify_flag_t bits → what is wrong, and what the user can do about it
_CERT_PROBLEMS = (
    (pj.PJ_SSL_CERT_EISSUER_NOT_FOUND | pj.PJ_SSL_CERT_EUNTRUSTED,
     "it is untrusted, not issued by an authority this line trusts (set tls_ca_file to the "
     "certificate of the authority that issued it)"),
    (pj.PJ_SSL_CERT_EIDENTITY_NOT_MATCH,
     "it was issued for another name (use the name or address it was issued for as registrar "
     "or proxy)"),
    (pj.PJ_SSL_CERT_EVALIDITY_PERIOD,
     "it has expired or is not valid yet (check this computer's date and time)"),
)  # fmt: skip


class _GuardAccount(_FreedOnEngineThread, pj.Account):  # type: ignore[misc]
    """The flood guard's hidden account: its calls have loop media (no socket) and are refused."""

    def __init__(self, engine: PjEngine) -> None:
        super().__init__()
        self.engine = engine

    @_callback
    def onIncomingCall(self, prm: Any) -> None:
        self.engine._refuse(self, prm)


def _source(prm: Any) -> str:
    """``ip:port`` the INVITE came from ("" when pjsua does not say)."""
    try:
        return str(prm.rdata.srcAddress)
    except Exception:
        return ""


class _ConnectionCap:
    """At most ``guard.MAX_CONNECTIONS`` TCP/TLS connections at once: pjsip accepts every one
    (the built engine watches 4,096 sockets) and each holds ~41 KB (its 16 KB receive buffer,
    its pools) until it is closed — by the far end, or after 30 s without a SIP message. A flood
    of 3,000 half-open connections took the phone to 3.6 × its idle size. A connection past the
    cap is shut down as soon as pjsip reports it (``onTransportState``, CONNECTED; pjsip expects
    that there). Outgoing connections count too: one opened while the cap is full fails."""

    def __init__(self, shutdown: Callable[[int], int], limit: int) -> None:
        self._shutdown = shutdown
        self.limit = limit
        self.open: set[int] = set()
        self.refused = 0
        self._logged = -1000.0

    def state(self, prm: Any) -> None:
        try:
            if not str(prm.type).lower().startswith(("tcp", "tls")):
                return
            handle, state = int(prm.hnd), prm.state
            if state == pj.PJSIP_TP_STATE_CONNECTED:
                if handle in self.open or len(self.open) < self.limit:
                    self.open.add(handle)
                    return
                self.refused += 1
                now = time.monotonic()
                if now - self._logged > 10:
                    self._logged = now
                    log.warning(
                        "flood: %d SIP connections open; closing new ones (%d so far)",
                        self.limit,
                        self.refused,
                    )
                self._shutdown(handle)
            elif state in (
                pj.PJSIP_TP_STATE_DISCONNECTED,
                pj.PJSIP_TP_STATE_SHUTDOWN,
                pj.PJSIP_TP_STATE_DESTROY,
            ):
                self.open.discard(handle)
        except Exception:  # never raise into C++
            log.exception("counting SIP connections failed")


class _SelectAccountHook:
    """``onSelectAccount`` for the endpoint: pjsua asks it for every new INVITE before it opens
    the call's media sockets (the flood guard's only chance, see ``providers.sip.guard``)."""

    select_account: Callable[[Any], None] | None = None  # PjEngine._select_account

    @_callback
    def onSelectAccount(self, prm: Any) -> None:
        hook = self.select_account
        if hook is not None:
            hook(prm)


class _Endpoint(_FreedOnEngineThread, _SelectAccountHook, pj.Endpoint):  # type: ignore[misc]
    """Remembers why the last TLS connection to each server failed its certificate check."""

    def __init__(self, failures: dict[str, str]) -> None:
        super().__init__()
        self.failures = failures  # "host:port" → what was wrong, read by PjEngine._tls_failure
        self.connections: _ConnectionCap | None = None

    @_callback
    def onTransportState(self, prm: Any) -> None:
        if self.connections is not None:
            self.connections.state(prm)
        try:
            tls = prm.tlsInfo
            if tls.isEmpty() or not int(tls.verifyStatus):
                return
            status = int(tls.verifyStatus)
            problems = [text for bits, text in _CERT_PROBLEMS if status & bits]
            known = sum(bits for bits, _ in _CERT_PROBLEMS)
            if status & ~known or not problems:  # anything else: pjsip's own words
                problems += [str(m).rstrip(".").lower() for m in tls.verifyMsgs if str(m) != "OK"]
            text = "; ".join(problems) or f"verification status {status:#x}"
            self.failures[str(tls.remoteAddr)] = self.failures[""] = text
        except Exception:  # never raise into C++
            log.exception("TLS transport state")


class _SoundPort(_FreedOnEngineThread, pj.AudioMediaPort):  # type: ignore[misc]
    """The sound card as a conference port: mic frames out, speaker frames in (clock thread)."""

    def __init__(self, device: Any, read: Callable[[Any], bytes]) -> None:
        super().__init__()
        self.device, self.read = device, read

    @_callback
    def onFrameRequested(self, frame: Any) -> None:
        try:
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(self.device.read_mic())
        except Exception:
            log.exception("microphone frame failed")

    @_callback
    def onFrameReceived(self, frame: Any) -> None:
        try:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                self.device.write_speaker(self.read(frame.buf))
        except Exception:
            log.exception("speaker frame failed")


class _SoundBridge:
    """Connects calls' audio to the sound card; opens the device only while a call has audio."""

    def __init__(self, device: Any, read: Callable[[Any], bytes]) -> None:
        self.device = device
        self.port: _SoundPort | None = _SoundPort(device, read)
        self.port.createPort("callsys-sound", _fmt())
        self.connected: dict[str, Any] = {}  # call key -> its pj.AudioMedia

    def connect(self, key: str, audio: Any) -> None:
        if self.port is None:
            return
        self.disconnect(key, stop=False)
        self.device.start()
        self.port.startTransmit(audio)
        audio.startTransmit(self.port)
        self.connected[key] = audio

    def disconnect(self, key: str, stop: bool = True) -> None:
        audio = self.connected.pop(key, None)
        port = self.port
        if audio is not None and port is not None:
            with contextlib.suppress(pj.Error):
                port.stopTransmit(audio)
                audio.stopTransmit(port)
        if stop and not self.connected:
            self.device.stop()

    def close(self) -> None:
        self.connected.clear()
        self.device.stop()
        port, self.port = self.port, None
        if port is not None:
            port.__disown__()  # see _TapPort: never free a conference port while pjmedia runs


class _DeviceBridge:
    """The sound card through pjmedia's own backend (the built engine): pjsua's conference
    bridge runs on the null device from a call's first media (``_MediaThreads``), on the chosen
    devices while a call has audio, and on no device at all once no call is left."""

    def __init__(self, adm: Any, audio: Any) -> None:
        self.adm = adm
        self.capture = _device_index(adm, audio.input_device, capture=True)
        self.playback = _device_index(adm, audio.output_device, capture=False)
        self.connected: dict[str, Any] = {}
        self.open = False
        self.failed = ""  # why the sound card could not be opened (the call stays silent)

    def connect(self, key: str, audio: Any) -> None:
        self.disconnect(key, stop=False)
        if not self.open:
            try:
                self.adm.setCaptureDev(self.capture)
                self.adm.setPlaybackDev(self.playback)
                self.open, self.failed = True, ""
            except pj.Error as exc:
                self.failed = str(exc.reason)
                log.warning("sound device could not be opened: %s", exc.reason)
                with contextlib.suppress(pj.Error):
                    self.adm.setNullDev()
        try:
            self.adm.getCaptureDevMedia().startTransmit(audio)
            audio.startTransmit(self.adm.getPlaybackDevMedia())
        except pj.Error as exc:
            log.warning("sound device not connected: %s", exc.reason)
        self.connected[key] = audio

    def disconnect(self, key: str, stop: bool = True) -> None:
        audio = self.connected.pop(key, None)
        if audio is not None:
            with contextlib.suppress(pj.Error):
                self.adm.getCaptureDevMedia().stopTransmit(audio)
                audio.stopTransmit(self.adm.getPlaybackDevMedia())
        if stop and not self.connected and self.open:
            self.open = False
            with contextlib.suppress(pj.Error):
                self.adm.setNullDev()

    def close(self) -> None:
        self.connected.clear()
        if self.open:
            self.open = False
            with contextlib.suppress(pj.Error):
                self.adm.setNullDev()


def _device_index(adm: Any, wanted: int | str | None, capture: bool) -> int:
    """pjmedia's index of the device the audio options name (a number or part of a name), else
    the default device (-1 capture, -2 playback)."""
    default = -1 if capture else -2
    if wanted is None or wanted == "":
        return default
    try:
        devices = list(adm.enumDev2())
    except pj.Error:
        return default
    usable = [
        (i, dev) for i, dev in enumerate(devices) if (dev.inputCount if capture else dev.outputCount) > 0
    ]
    if isinstance(wanted, int):
        return wanted if 0 <= wanted < len(devices) else default
    for i, dev in usable:
        if str(wanted).lower() in str(dev.name).lower():
            return i
    log.warning("no sound device called %r; using the default", wanted)
    return default


class _MediaThreads:
    """pjmedia's threads, running only while a call has media (``STOP_MEDIA_WHEN_IDLE``).

    pjsua gives pjmedia a worker thread (``medConfig.threadCnt``; pjsua allows no fewer while
    pjmedia has an ioqueue of its own) that polls the calls' RTP/RTCP sockets with a 10 ms
    timeout for the life of the process: 100 wake-ups a second with no call at all. The
    conference bridge is clocked by the sound device — the null device when there is no sound
    card —: 50 more. Here pjmedia's worker is stopped after ``libInit`` with pjmedia's own
    ``pjmedia_endpt_stop_threads``; while a call has media a second media endpoint on the same
    ioqueue (``pjmedia_endpt_create2`` with one worker: pjmedia's own C thread and loop, no
    Python in it) reads those sockets, and ``pjmedia_endpt_destroy2`` ends it again — the shared
    ioqueue is not its own, so it stays. The bridge's clock is started when a call's media
    first becomes active (``setNullDev``, so RTP flows from the first frame in every audio
    mode; the sound card replaces it while a call has audio, see ``_DeviceBridge``) and stopped
    (``setNoDev``) ``MEDIA_IDLE_GRACE`` after the last such call has gone, time for the clock to
    apply the bridge's queued port removals. A removal still queued then is applied first thing
    when the clock starts again: the bridge's slots cannot fill up (they did when pjsua closed
    the clock for good after a second without calls: every call failed 488 after 254).

    Where pjsua2's module does not export pjmedia's functions, pjmedia's worker keeps polling;
    the clock is handled all the same."""

    def __init__(self, ep: Any) -> None:
        self._ep = ep
        self.clock = False  # the bridge's clock (the null sound device) runs
        self.off_at: float | None = None  # when to stop the clock and the RTP worker
        self.polling = False  # pjmedia's own worker is stopped: ours reads the RTP sockets
        self._worker = ctypes.c_void_p()  # the second media endpoint, while a call has media
        self._lib: Any = None
        self._ioqueue: int = 0

    def take_over(self) -> None:
        """Stop pjmedia's worker thread (after ``libInit``, on the loop's thread)."""
        try:
            lib = ctypes.CDLL(pj._pjsua2.__file__)
            functions: tuple[tuple[Any, Any, list[Any]], ...] = (
                (lib.pjsua_get_pjmedia_endpt, ctypes.c_void_p, []),
                (lib.pjsua_get_pool_factory, ctypes.c_void_p, []),
                (lib.pjmedia_endpt_get_ioqueue, ctypes.c_void_p, [ctypes.c_void_p]),
                (lib.pjmedia_endpt_stop_threads, ctypes.c_int, [ctypes.c_void_p]),
                (lib.pjmedia_endpt_create2, ctypes.c_int,
                 [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)]),
                (lib.pjmedia_endpt_destroy2, ctypes.c_int, [ctypes.c_void_p]),
            )  # fmt: skip
        except (OSError, AttributeError):  # pragma: no cover - another build of pjsua2
            log.info("pjmedia's functions are not exported: its worker thread keeps polling")
            return
        for function, restype, argtypes in functions:
            function.restype, function.argtypes = restype, argtypes
        endpt = lib.pjsua_get_pjmedia_endpt()
        ioqueue = lib.pjmedia_endpt_get_ioqueue(endpt) if endpt else None
        if not ioqueue or not lib.pjsua_get_pool_factory():
            return
        if lib.pjmedia_endpt_stop_threads(endpt) != 0:
            return
        self._lib, self._ioqueue, self.polling = lib, ioqueue, True

    def media_started(self) -> None:
        """A call has media: RTP sockets to read, frames to clock."""
        self.off_at = None
        if self.polling and not self._worker:
            worker = ctypes.c_void_p()
            status = self._lib.pjmedia_endpt_create2(
                self._lib.pjsua_get_pool_factory(), self._ioqueue, 1, ctypes.byref(worker)
            )
            if status == 0 and worker:
                self._worker = worker
            else:
                log.warning("pjmedia's RTP worker did not start (%d): calls may be silent", status)
        if not self.clock:
            try:
                self._ep.audDevManager().setNullDev()
                self.clock = True
            except pj.Error as exc:
                log.warning("the conference bridge's clock did not start: %s", exc.reason)

    def check(self, media: bool) -> None:
        """From every poll: *media* tells whether a call still has media; the clock and the RTP
        worker stop ``MEDIA_IDLE_GRACE`` after the last one."""
        if media or not (self.clock or self._worker):
            self.off_at = None
            return
        now = time.monotonic()
        if self.off_at is None:
            self.off_at = now + MEDIA_IDLE_GRACE
        elif now >= self.off_at:
            self.stop()

    def stop(self) -> None:
        self.off_at = None
        self._end_worker()
        if self.clock:
            self.clock = False
            with contextlib.suppress(pj.Error):
                self._ep.audDevManager().setNoDev()

    def _end_worker(self) -> None:
        worker, self._worker = self._worker, ctypes.c_void_p()
        if worker:
            self._lib.pjmedia_endpt_destroy2(worker)  # its thread ends within 10 ms (joined)

    def close(self) -> None:
        """End the RTP worker (before ``libDestroy``)."""
        self._end_worker()
        self.polling = False


class _PortTaken(Exception):
    pass


def _tls_group(line: LineConfig) -> tuple[str, bool, str, str]:
    """Lines with the same certificate check and client certificate share a TLS transport."""
    return (
        line.tls_ca_file if line.tls_verify else "",
        line.tls_verify,
        line.tls_cert_file,
        line.tls_key_file,
    )


def _free_port(host: str, pair: bool) -> int:
    """A port free right now for UDP and TCP on *host* (and TCP on port + 1 when *pair*)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            try:
                for p in (port, port + 1) if pair else (port,):
                    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                        tcp.bind((host, p))
            except OSError:
                continue
            if port != 5060:
                return port
    return 0


#: The one pj.Endpoint of this process (pjsua2 allows no second one), for a clear error.
_live_endpoint: weakref.ref[Any] | None = None


#: pjsua2 objects whose C++ destructor calls into the library (a player's or recorder's slot,
#: a conference port, a call, an account). Destroyed after ``libDestroy`` — when the last
#: Python reference to one goes, at any later garbage collection, even under the next
#: library's life — pjsua finds no such slot and pjlib's assertion aborts the process
#: (``pjsua_player_destroy: Assertion 'pjsua_var.player[id].port != NULL'``).
_LIBRARY_BOUND: tuple[type, ...] = tuple(
    kind
    for kind in (
        getattr(pj, name, None)
        for name in (
            "AudioMediaPlayer",
            "AudioMediaRecorder",
            "ToneGenerator",
            "AudioMediaPort",
            "ExtraAudioDevice",
            "Call",
            "Account",
            "Buddy",
        )
    )
    if isinstance(kind, type)
)


def _disown_survivors() -> int:
    """Before ``libDestroy``: every pjsua2 object of ``_LIBRARY_BOUND`` still alive (held by a
    cycle, a traceback's frames, a leftover attribute) is left to C++ — a small leak at the
    library's end instead of an abort whenever Python lets it go. Returns how many."""
    gc.collect()
    left = 0
    for obj in gc.get_objects():
        if not isinstance(obj, _LIBRARY_BOUND) or not getattr(obj, "thisown", False):
            continue
        left += 1
        with contextlib.suppress(Exception):
            if hasattr(obj, "__disown__"):
                obj.__disown__()  # a director: C++ keeps it, and it keeps its Python half
            else:
                obj.thisown = False  # type: ignore[attr-defined]
    if left:
        log.debug("%d pjsua2 object(s) outlived the library; left to C++", left)
    return left


class PjEngine:
    """``providers.sip.engine.Engine`` on pjsua2."""

    _keys = itertools.count(1)

    def __init__(self) -> None:
        self._ep: Any = None
        self._listener: EngineListener | None = None
        self._options: SipOptions | None = None
        self._accounts: dict[str, _Account] = {}
        self._calls: dict[str, _Call] = {}
        self._graveyard: list[_Call] = []
        #: every pj.Call we made, weakly: any still alive at destroy() is disowned (see there)
        self._all_calls: weakref.WeakSet[_Call] = weakref.WeakSet()
        self._transports: dict[str, int] = {}
        self._tls_failures: dict[str, str] = {}  # filled by _Endpoint.onTransportState
        #: (CA file, verify, client certificate, its key) → key in _transports
        self._tls_keys: dict[tuple[str, bool, str, str], str] = {}
        self._listen: tuple[str, int] = ("127.0.0.1", 0)
        self._player: Any = None
        self._sound: _SoundBridge | _DeviceBridge | None = None  # device mode
        self._tap: AudioTap | None = None
        self._tap_pool: list[_TapPort] = []
        self._all_taps: list[_TapPort] = []
        self._read = _vector_reader()
        self._budget = MediaBudget(budget=budget_for(BUILD.ioqueue_handles))
        self._guard: _GuardAccount | None = None
        self._guard_id = -1
        self._default_id = -1  # the account pjsua would pick for a request no account matches
        self._refused: dict[str, _Call] = {}  # the guard's calls, kept until DISCONNECTED
        self._refusals_logged: dict[int, float] = {}  # status code → when last logged
        self._by_id: dict[int, _Account] = {}  # pjsua's account id → our line's account
        self._refusal = _BUSY_FLOOD  # what _refuse answers the INVITE _select_account sent it
        self._request_filter: _RequestFilter | None = None
        #: the call whose onIncomingCall is running: its final answer waits for ``poll``
        self._inside: _Call | None = None
        #: events handled since the C heap was last given back to the system (``_trim_heap``)
        self._since_trim = 0
        self._trimmed_at = 0.0
        #: (call, what, send) final answers given inside onIncomingCall, sent by ``poll``
        self._deferred: list[tuple[_Call, str, Callable[[], None]]] = []
        self._rang = False  # a call rang in this poll (see ``poll``)
        #: the keys of the calls joined in this phone's conference: each one's audio goes to
        #: the others in pjmedia's conference bridge (besides the sound card, as every call's)
        self._conference: set[str] = set()
        self._media: _MediaThreads | None = None

    @property
    def build(self) -> engines.EngineBuild:
        return BUILD

    # ------------------------------------------------------------------ lifecycle
    def start(self, options: SipOptions, listener: EngineListener) -> None:
        self._options, self._listener = options, listener
        if _live_endpoint is not None and _live_endpoint() is not None:
            gc.collect()
            if _live_endpoint() is not None:  # pjsua2 allows one Endpoint per process
                raise ProviderError("Another softphone is still running in this process.")
        try:
            self._start(options)
        except BaseException as exc:
            # Frames of the failed start hold pjsua2 objects; a pj.Endpoint that outlives
            # libDestroy makes the next Endpoint() abort the process.
            for err in (exc, exc.__context__, exc.__cause__):
                if err is not None and err.__traceback__ is not None:
                    traceback.clear_frames(err.__traceback__)
            self.destroy()
            if isinstance(exc, pj.Error):
                raise ProviderUnavailable(
                    f"The softphone could not start: {exc.reason} ({exc.title})."
                ) from None
            raise

    def _start(self, options: SipOptions) -> None:
        global _live_endpoint, _engine_thread
        with _quiet_stdout():
            self._ep = _Endpoint(self._tls_failures)
            _live_endpoint = weakref.ref(self._ep)
            self._ep.libCreate()
            _engine_thread = threading.get_ident()
            cfg = pj.EpConfig()
            cfg.uaConfig.threadCnt = 0
            cfg.uaConfig.mainThreadOnly = True
            cfg.uaConfig.maxCalls = BUILD.max_calls
            cfg.uaConfig.userAgent = f"{options.user_agent} (pjsip {self._ep.libVersion().full})"
            cfg.logConfig.consoleLevel = 0
            cfg.logConfig.level = options.log_level if options.log_file else 0
            if options.log_file:
                cfg.logConfig.filename = options.log_file
                cfg.logConfig.msgLogging = True
                cfg.logConfig.decor |= pj.PJ_LOG_HAS_MICRO_SEC
            else:
                cfg.logConfig.msgLogging = False
            cfg.medConfig.noVad = True
            cfg.medConfig.clockRate = _RATE
            cfg.medConfig.sndClockRate = _RATE
            cfg.medConfig.ecTailLen = 0
            # Never close the (null) sound device when idle: its clock is the conference
            # bridge's, which applies queued port additions and removals. Closed (pjsua's
            # default: 1 s after nothing is connected to the bridge's master port, always so
            # in audio mode none) every answered call's port stayed taken, and after 254 calls
            # every call failed 488 (conference.c: PJ_ETOOMANY; found by the fuzzer).
            # The engine starts and stops the clock itself (``_MediaThreads``).
            cfg.medConfig.sndAutoCloseTime = -1
            self._ep.libInit(cfg)
        self._media = _MediaThreads(self._ep)
        if STOP_MEDIA_WHEN_IDLE:
            # no clock until a call has media (pjsua would open the default sound card itself)
            self._ep.audDevManager().setNoDev()
            self._media.take_over()
        else:
            self._ep.audDevManager().setNullDev()
        for codec, prio in (("PCMU/8000/1", 255), ("PCMA/8000/1", 254), ("G722/16000/1", 200)):
            with contextlib.suppress(pj.Error):
                self._ep.codecSetPriority(codec, prio)
        for attempt in range(10):
            try:
                self._create_transports(options)
                break
            except _PortTaken:
                if attempt == 9:
                    raise ProviderUnavailable("No free port for SIP was found.") from None
        self._ep.libStart()
        self._setup_audio(options)
        for line in options.lines:
            self._add_account(line)
        self._add_guard()
        pjsip = _pjsip()
        if pjsip is not None:
            self._request_filter = _RequestFilter(
                pjsip.lib, pjsip.endpt, limits.MAX_TRANSACTIONS, limits.MAX_DIALOGS
            )
            self._request_filter.install()

    def _create_transports(self, options: SipOptions) -> None:
        """UDP, and TCP (and TLS on the next port) on the same port. With ``listen_port`` 0 a
        port free for both is picked; ``_PortTaken`` asks the caller to try another.

        The certificate check is a setting of the TLS transport in pjsip, so lines with
        different ``tls_*`` settings get a TLS transport each (the 2nd on any port)."""
        wanted = {"udp"} | {line.transport for line in options.lines}
        kinds = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP, "tls": pj.PJSIP_TRANSPORT_TLS}
        bound = "" if options.listen_host in ("0.0.0.0", "") else options.listen_host
        port = options.listen_port or _free_port(bound or "0.0.0.0", "tls" in wanted)
        created: list[int] = []
        tls_groups = dict.fromkeys(_tls_group(line) for line in options.lines if line.transport == "tls")
        self._tls_keys = {group: "tls" if not i else f"tls{i + 1}" for i, group in enumerate(tls_groups)}
        plan = [(name, name, port) for name in ("udp", "tcp")]
        plan += [(key, "tls", port + 1 if key == "tls" else 0) for key in self._tls_keys.values()]
        tls_settings = {key: group for group, key in self._tls_keys.items()}
        for key, name, tport in plan:
            if name not in wanted and not (name == "tcp" and options.direct_only):
                continue
            tc = pj.TransportConfig()
            tc.boundAddress = bound
            tc.port = tport
            if name == "tls":
                tls = tc.tlsConfig
                tls.CaListFile, tls.verifyServer, tls.certFile, tls.privKeyFile = tls_settings[key]
                tc.tlsConfig.msecTimeout = int(TLS_HANDSHAKE_TIMEOUT * 1000)
            try:
                tid = self._ep.transportCreate(kinds[name], tc)
            except pj.Error as exc:
                if name not in wanted:  # optional TCP listener of a direct phone
                    log.info("no TCP listener: %s", exc.reason)
                    continue
                if (
                    name == "tls"
                    and "EAFNOTSUP" not in str(exc.reason)
                    and "ADDRINUSE" not in str(exc.reason)
                ):
                    raise ConfigError(
                        "This softphone build cannot use TLS.", key="phone.options.lines"
                    ) from None
                if not options.listen_port:
                    for tid in created:
                        with contextlib.suppress(pj.Error):
                            self._ep.transportClose(tid)
                    raise _PortTaken from None
                raise ProviderUnavailable(
                    f"Cannot listen for SIP on {options.listen_host}:{tc.port} ({name}): {exc.reason}."
                ) from None
            created.append(tid)
            self._transports[key] = tid
            if name == "udp":
                info = self._ep.transportGetInfo(tid)
                host, _, lport = str(info.localName).rpartition(":")
                self._listen = (host.strip("[]"), int(lport))

    def _add_account(self, line: LineConfig) -> None:
        options = self._options
        assert options is not None
        acfg = pj.AccountConfig()
        host, port = self._listen
        if line.direct:
            acfg.idUri = f"sip:{line.user}@{host}:{port}"
        else:
            name = line.display_name.replace('"', "")
            uri = f"sip:{line.user}@{line.domain}"
            acfg.idUri = f'"{name}" <{uri}>' if name else uri
            registrar = line.registrar
            if line.transport != "udp" and "transport=" not in registrar:
                registrar += f";transport={line.transport}"
            acfg.regConfig.registrarUri = registrar
            acfg.regConfig.timeoutSec = line.reg_timeout
            acfg.regConfig.retryIntervalSec = max(1, min(line.reg_timeout, options.reg_retry))
            acfg.regConfig.firstRetryIntervalSec = max(1, min(line.reg_timeout, options.reg_retry))
            if line.proxy:
                proxy = line.proxy if line.proxy.lower().startswith("sip") else "sip:" + line.proxy
                acfg.sipConfig.proxies.append(proxy + ";lr")
            acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", line.auth_user, 0, line.password))
        tid = self._transports.get(
            self._tls_keys.get(_tls_group(line), "tls") if line.transport == "tls" else line.transport
        )
        if tid is not None:
            acfg.sipConfig.transportId = tid
        media = acfg.mediaConfig.transportConfig
        if options.listen_host not in ("0.0.0.0", ""):
            media.boundAddress = options.listen_host
        media.port = options.rtp_port
        media.portRange = options.rtp_port_range
        acfg.mediaConfig.srtpUse = _SRTP_USE[line.srtp]
        acfg.mediaConfig.srtpSecureSignaling = line.srtp_secure_signaling
        account = _Account(self, line)
        account.create(acfg, True)
        self._accounts[line.id] = account
        self._by_id[int(account.getId())] = account

    def _add_guard(self) -> None:
        """The flood guard's account (never the default, never registered) and its hook."""
        acfg = pj.AccountConfig()
        acfg.idUri = "sip:callsys-flood-guard@flood-guard.invalid"  # matches no request by host
        acfg.mediaConfig.useLoopMedTp = True  # a refused call opens no socket
        guard = _GuardAccount(self)
        guard.create(acfg, False)
        self._guard, self._guard_id = guard, int(guard.getId())
        lines = list(self._accounts.values())
        self._default_id = int(lines[-1].getId()) if lines else -1  # created last: pjsua's default
        self._ep.select_account = self._select_account
        pjsip = _pjsip()
        if pjsip is not None:
            self._ep.connections = _ConnectionCap(pjsip.shutdown_transport, limits.MAX_CONNECTIONS)

    def _setup_audio(self, options: SipOptions) -> None:
        audio = options.audio
        if audio.mode == "files" and audio.play_file:
            self._player = _Player()
            self._player.createPlayer(audio.play_file)  # loops by default
        elif audio.mode == "device" and BUILD.sound_devices:
            self._sound = _DeviceBridge(self._ep.audDevManager(), audio)
        elif audio.mode == "device":
            from providers.sip.sound import SoundDevice

            self._sound = _SoundBridge(SoundDevice(audio), self._read)

    def sound_device_counts(self) -> tuple[int, int]:
        """(devices that record, devices that play) as pjmedia's own backend sees them (the
        built engine); the wheel has none. On the loop's thread, like every pjsua2 call."""
        if self._ep is None or not BUILD.sound_devices:
            return (0, 0)
        inputs = outputs = 0
        try:
            for info in self._ep.audDevManager().enumDev2():
                if str(info.driver).lower() == "null" or "null" in str(info.name).lower():
                    continue
                inputs += int(info.inputCount) > 0
                outputs += int(info.outputCount) > 0
        except pj.Error as exc:
            log.warning("could not list the sound devices: %s", exc.reason)
        return (inputs, outputs)

    def poll(self) -> int:
        """Handle what pjsip has: ``libHandleEvents`` again while it finds something, up to
        ``_POLL_ROUNDS`` times. One call handles at most 10 expired timers and one network event
        (``PJSIP_MAX_TIMED_OUT_ENTRIES``, ``PJSIP_MAX_NET_EVENTS``): after a flood, thousands of
        finished transactions waited for their timers at 20 per second of idle polling, each
        holding its memory, for hours.

        A poll in which a call rang ends there: its pop-up is painted before the next INVITE is
        taken (the socket is still readable, so the loop polls again on its next turn). Several
        INVITEs at once were all rung in one poll, each pop-up built before the first was
        painted."""
        if self._ep is None:
            return 0
        count = 0
        self._rang = False
        for _ in range(_POLL_ROUNDS):
            handled = int(self._ep.libHandleEvents(0))
            count += max(handled, 0)
            if _strays:
                _free_strays()
            if self._deferred:
                self._send_deferred()
            if self._graveyard:
                self._bury()
            if handled <= 0 or self._ep is None or self._rang:
                break
        if self._ep is None:
            return count
        for call in [c for c in self._calls.values() if c.resume_by is not None]:
            self._resume_again(call)
        if STOP_MEDIA_WHEN_IDLE and self._media is not None:
            self._media.check(any(c.has_media for c in self._calls.values()))
        self._since_trim += count
        if not count and self._since_trim:
            now = time.monotonic()
            since_trim = now - self._trimmed_at
            if since_trim >= _TRIM_EVERY and (
                self._since_trim >= _TRIM_AFTER_EVENTS or since_trim >= _TRIM_ANYWAY
            ):
                self._since_trim, self._trimmed_at = 0, now
                _trim_heap()
        return count

    def _final(self, call: _Call, what: str, send: Callable[[], None]) -> None:
        """Give a call its final answer (or hang it up) now, or — inside its own onIncomingCall —
        right after ``libHandleEvents`` returns. pjsua2's ``Endpoint::on_incoming_call`` frees
        the INVITE's copy after the callback without checking it: a final non-2xx answer to an
        INVITE without SDP ends the call at once, pjsua frees that copy itself, and the second
        free aborts the process (``pjsip_rx_data_free_cloned: Assertion 'rdata' failed``). The
        ``pj.Call`` exists (user data set), so pjsua2 does not answer 500 in the meantime."""
        call.answered = True
        if call is self._inside:
            self._deferred.append((call, what, send))
            return
        send()

    def _send_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        for call, what, send in deferred:
            # the caller may have cancelled it within the same libHandleEvents
            if call.engine is None or (
                self._calls.get(call.key) is not call and self._refused.get(call.key) is not call
            ):
                continue
            try:
                send()
            except pj.Error as exc:
                log.warning("could not %s call %s: %s", what, call.key, exc.reason)
            except Exception:  # never leave the poll half done
                log.exception("could not %s call %s", what, call.key)

    def _resume_again(self, call: _Call) -> None:
        """Resume a call pjsua put back on hold by itself; while another offer/answer exchange
        is in progress pjsua refuses, so the next poll tries again (for a few seconds)."""
        try:
            self._unhold(call)
        except pj.Error as exc:
            if call.resume_by is not None and time.monotonic() < call.resume_by:
                return
            log.warning("could not resume call %s again: %s", call.key, exc.reason)
            call.hold_wanted = True  # it is held: say so, the agent's Resume takes it off
            key = call.key
            self._emit(lambda listener: listener.on_media(key, True, False))
        call.resume_by = None

    def _bury(self) -> None:
        while self._graveyard:
            call = self._graveyard.pop()
            call.engine = None
            call.audio = call.recorder = None
            with contextlib.suppress(pj.Error):
                if call.isActive():
                    # pjsua already gave this slot to a new call: destroying the stale object
                    # would hang the new call up. Let C++ keep it instead.
                    call.__disown__()
            del call

    def listen_address(self) -> tuple[str, int]:
        return self._listen

    def wakeup_sockets(self) -> list[socket.socket]:
        """Duplicates of pjsip's own listening SIP sockets (UDP, TCP and TLS listeners), POSIX
        only.

        The provider watches them with ``loop.add_reader`` and polls the moment a request
        arrives, instead of up to one poll interval later. Found by scanning our file
        descriptors for sockets bound to a transport's port; empty where that is impossible.
        """
        if os.name != "posix" or self._ep is None:
            return []
        ports = {self._listen[1]}
        for tid in self._transports.values():
            with contextlib.suppress(pj.Error, ValueError):
                ports.add(int(str(self._ep.transportGetInfo(tid).localName).rpartition(":")[2]))
        found: list[socket.socket] = []
        try:
            candidates = [int(fd) for fd in os.listdir("/proc/self/fd")]
        except OSError:
            candidates = list(range(3, 1024))
        for fd in candidates:
            try:
                if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                    continue
                sock = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue
            try:
                name = sock.getsockname()
                listening = sock.type == socket.SOCK_DGRAM or bool(
                    sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                )
                if isinstance(name, tuple) and name[1] in ports and listening:
                    found.append(sock)
                    continue
            except OSError:
                pass
            sock.close()
        return found

    def call_count(self) -> int:
        return len(self._calls)

    def hangup_all(self) -> None:
        if self._ep is not None:
            self._ep.hangupAllCalls()

    def unregister_all(self) -> None:
        for account in self._accounts.values():
            if not account.line.direct:
                with contextlib.suppress(pj.Error):
                    account.setRegistration(False)

    def destroy(self) -> None:
        global _engine_thread
        ep = self._ep
        if ep is None:
            return
        _free_strays()
        self._tap = None
        for port in self._all_taps:
            port.tap = None
            port.__disown__()
        self._all_taps.clear()
        self._tap_pool.clear()
        for call in [*self._calls.values(), *self._refused.values()]:
            self._graveyard.append(call)
        self._calls.clear()
        self._refused.clear()
        self._deferred.clear()
        ep.select_account = None
        ep.connections = None
        if self._request_filter is not None:
            self._request_filter.remove()  # before libDestroy: pjsip would call into freed memory
            self._request_filter = None
        self._bury()
        if self._sound is not None:
            self._sound.close()
            self._sound = None
        self._player = None
        accounts: list[Any] = [*self._accounts.values(), *([self._guard] if self._guard else [])]
        for account in accounts:
            with contextlib.suppress(pj.Error):
                account.shutdown()
        self._accounts.clear()
        self._by_id.clear()
        self._guard = None
        gc.collect()  # no pj.Call / pj.Account proxy may outlive libDestroy
        for call in list(self._all_calls):
            # Still referenced from outside (e.g. a logged traceback's frames): destroying it
            # after libDestroy would abort the process, so C++ keeps it (a small leak).
            call.engine = None
            call.audio = call.recorder = call.tap = None
            with contextlib.suppress(Exception):
                call.__disown__()
        self._all_calls = weakref.WeakSet()
        _disown_survivors()
        media, self._media = self._media, None
        if media is not None:
            media.close()  # our RTP thread ends before pjlib does
        try:
            with _quiet_stdout():
                # calls are over and accounts unregistered: do not wait on the network again
                ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        finally:
            self._ep = None
            _engine_thread = 0

    # ------------------------------------------------------------------ callbacks (inside poll)
    def _emit(self, deliver: Callable[[EngineListener], None]) -> None:
        if self._listener is None:
            return
        try:
            deliver(self._listener)
        except Exception:  # an error in the provider must never unwind into pjsua
            log.exception("SIP event handler failed")

    def _media_started(self, call: _Call) -> None:
        call.has_media = True
        if STOP_MEDIA_WHEN_IDLE and self._media is not None:
            self._media.media_started()

    def _retire(self, call: _Call) -> None:
        self._refused.pop(call.key, None)
        if call.media:
            self._budget.ended()  # its RTP/RTCP sockets are closed now
        self._release_tap(call)
        self._disconnect_audio(call)
        if self._calls.get(call.key) is call:
            del self._calls[call.key]
            self._conference.discard(call.key)
        self._graveyard.append(call)

    def _select_account(self, prm: Any) -> None:
        """Inside pjsua, for each new INVITE, before its media sockets are opened: send it to
        the guard account (refused there, ``_refuse``) when it comes from a source this line
        does not take calls from (403), when its source already has as many calls ringing as
        it may (486, direct lines), or when the media slots are running out (503). Kept
        minimal (it is on every call's way in)."""
        try:
            if self._guard is None:
                return
            # Out-of-dialog MESSAGE, SUBSCRIBE … come here too but open no media: not counted
            # (a flood of them would otherwise get real callers a 503). ~7 µs for the copy.
            if not prm.rdata.info.startswith("Request msg INVITE"):
                return
            if int(prm.accountIndex) == self._guard_id and self._default_id >= 0:
                # pjsua prefers an account not bound to a transport for a request on another
                # one (TCP to a UDP line): that is the guard, never meant to take calls
                prm.accountIndex = self._default_id
            account = self._by_id.get(int(prm.accountIndex))
            refusal = self._screen(account, _source_ip(str(prm.rdata.srcAddress))) if account else None
            if refusal is None and account is not None and account.line.srtp == "mandatory":
                refusal = _without_srtp(account.line.id, str(prm.rdata.wholeMsg))
            if refusal is None and not self._budget.admit(len(self._calls)):
                refusal = _BUSY_FLOOD
            if refusal is not None:
                self._refusal = refusal
                prm.accountIndex = self._guard_id
        except Exception:  # never raise into C++
            log.exception("flood guard failed")

    def _screen(self, account: _Account, source: str) -> tuple[int, str] | None:
        """403 for a source a registered line does not take calls from, 486 for a source with
        ``ringing_per_source`` calls ringing on a direct line; None: go on."""
        line = account.line
        if not line.direct:
            if line.accept_only_from_server and account.registered_once and source not in account.servers:
                return 403, f"an INVITE for line {line.id} from {source}, not from its registrar or proxy"
            return None
        bound = self._options.ringing_per_source if self._options else 0
        if bound and source:
            ringing = sum(1 for call in self._calls.values() if call.source == source and not call.connected)
            if ringing >= bound:
                return 486, f"an INVITE from {source}, which has {ringing} calls ringing already"
        return None

    def _refuse(self, account: _GuardAccount, prm: Any) -> None:
        """Answer an INVITE the guard took (loop media, no socket): what ``_select_account``
        decided — 503 + Retry-After (media slots), 403 (not from the line's server) or 486 (too
        many calls ringing from its source)."""
        (code, why), self._refusal = self._refusal, _BUSY_FLOOD
        key = f"sip-refused-{next(self._keys)}-{os.getpid()}"
        call = _Call(self, account, key, prm.callId)
        call.quiet, call.media, call.answered = True, False, True
        self._refused[key] = call
        self._all_calls.add(call)
        op = pj.CallOpParam()
        op.statusCode = code
        if code == 488:  # the reason phrase says why (the caller's phone may show it)
            op.reason = _NO_SRTP_REASON
        if code == 503:
            header = pj.SipHeader()
            header.hName, header.hValue = "Retry-After", str(RETRY_AFTER)
            tx = pj.SipTxOption()
            tx.headers.append(header)
            op.txOption = tx  # (op.txOption.headers.append would change a copy)
        self._inside = call
        try:
            self._final(call, "refuse", lambda: call.answer(op))
        finally:
            self._inside = None
        now = time.monotonic()
        if now - self._refusals_logged.get(code, -1000.0) > 10:
            self._refusals_logged[code] = now
            if code == 503:
                log.warning(
                    "flood guard: too many calls within a second; refusing new ones (%d so far)",
                    self._budget.refused,
                )
            else:
                log.warning("refused %s (%d)", why, code)

    def _incoming(self, account: _Account, prm: Any) -> None:
        self._budget.started()
        key = f"sip-{next(self._keys)}-{os.getpid()}"
        call = _Call(self, account, key, prm.callId)
        self._calls[key] = call
        self._all_calls.add(call)
        with contextlib.suppress(Exception):
            call.source = _source_ip(str(prm.rdata.srcAddress))
        self._inside = call
        try:
            self._ring(account, call, key, prm)
        finally:
            self._inside = None

    def _ring(self, account: _Account, call: _Call, key: str, prm: Any) -> None:
        try:
            text = str(prm.rdata.wholeMsg)
        except Exception:
            text = ""
        info = caller_info(text)
        refusal = (
            (400, "Bad Request (Content-Length larger than the body)")  # RFC 3261 §18.3
            if info.body_cut
            else None
        )
        options = self._options
        if refusal is None and options is not None and not options.admits(account.line, _source(prm)):
            refusal = (403, "Forbidden")  # a direct line, and not a peer it takes calls from
        if refusal is not None:  # the call never rings
            log.warning("answered %d to an INVITE from %s: %s", refusal[0], _source(prm), refusal[1])
            call.quiet = True
            op = pj.CallOpParam()
            op.statusCode, op.reason = refusal
            with contextlib.suppress(pj.Error):
                self._answer(call, 0, op)
            return
        incoming = IncomingCall(
            line_id=account.line.id,
            user=info.user,
            name=info.name,
            dialled=info.dialled,
            sip_call_id=info.sip_call_id,
            remote_uri=info.remote_uri,
            contact=info.contact,
            source=call.source,
        )
        self._emit(lambda listener: listener.on_incoming(key, incoming))
        self._rang = True
        if self._calls.get(key) is call and not call.answered:
            with contextlib.suppress(pj.Error):
                self._answer(call, 180)

    # ------------------------------------------------------------------ audio
    def _connect_audio(self, call: _Call, audio: Any) -> None:
        call.audio = audio
        audio.adjustRxLevel(0.0 if call.muted else 1.0)
        if self._player is not None:
            self._player.startTransmit(audio)
        options = self._options
        if options is not None and options.audio.mode == "files" and options.audio.record_dir:
            if call.recorder is None:
                call.recorder = _Recorder()
                call.recorder.createRecorder(os.path.join(options.audio.record_dir, f"rx-{call.key}.wav"))
            audio.startTransmit(call.recorder)
        if self._tap is not None and call.tap is None:
            if self._tap_pool:
                call.tap = self._tap_pool.pop()
            else:
                call.tap = _TapPort(self._read)
                call.tap.createPort(f"tap{len(self._all_taps)}", _fmt())
                self._all_taps.append(call.tap)
            call.tap.key, call.tap.tap = call.key, self._tap
        if call.tap is not None:
            audio.startTransmit(call.tap)
        if self._sound is not None:
            self._sound.connect(call.key, audio)
        self._link_conference(call)

    def _link_conference(self, call: _Call) -> None:
        """Connect *call*'s audio both ways with every other call of the conference."""
        if call.key not in self._conference or call.audio is None:
            return
        for key in self._conference:
            other = self._calls.get(key)
            if other is None or other is call or other.audio is None:
                continue
            with contextlib.suppress(pj.Error):
                call.audio.startTransmit(other.audio)
                other.audio.startTransmit(call.audio)

    def _unlink_conference(self, call: _Call) -> None:
        if call.audio is None:
            return
        for key in self._conference:
            other = self._calls.get(key)
            if other is None or other is call or other.audio is None:
                continue
            with contextlib.suppress(pj.Error):
                call.audio.stopTransmit(other.audio)
                other.audio.stopTransmit(call.audio)

    def conference(self, keys: list[str]) -> None:
        """Join the calls *keys* in the conference bridge: each hears the others and the agent
        (an empty list ends the conference: each call hears the agent only again)."""
        wanted = set(keys)
        for key in list(self._conference - wanted):
            call = self._calls.get(key)
            if call is not None:
                self._unlink_conference(call)
            self._conference.discard(key)
        for key in wanted:
            self._call(key)  # UnknownCall for a call that has ended
        self._conference |= wanted
        for key in wanted:
            self._link_conference(self._calls[key])

    def _release_tap(self, call: _Call) -> None:
        port, call.tap = call.tap, None
        if port is not None:
            if call.audio is not None:
                with contextlib.suppress(pj.Error):
                    call.audio.stopTransmit(port)
            port.key, port.tap = "", None
            self._tap_pool.append(port)

    def _disconnect_audio(self, call: _Call) -> None:
        if self._sound is not None:
            self._sound.disconnect(call.key)
        self._unlink_conference(call)
        audio, call.audio = call.audio, None
        if audio is None:
            return
        with contextlib.suppress(pj.Error):
            if self._player is not None:
                self._player.stopTransmit(audio)
            if call.recorder is not None:
                audio.stopTransmit(call.recorder)
            if call.tap is not None:
                audio.stopTransmit(call.tap)

    def set_audio_tap(self, tap: AudioTap | None) -> None:
        self._tap = tap

    # ------------------------------------------------------------------ commands
    def _call(self, key: str) -> _Call:
        try:
            return self._calls[key]
        except KeyError:
            raise UnknownCall("That call has already ended.") from None

    def _answer(self, call: _Call, code: int, op: Any = None) -> None:
        if op is None:
            op = pj.CallOpParam()
            op.statusCode = code
        if int(op.statusCode) >= 200:
            self._final(call, "answer", lambda: call.answer(op))
            return
        call.answer(op)
        call.answered = True

    def answer(self, key: str, code: int = 200) -> None:
        call = self._call(key)
        try:
            self._answer(call, code)
        except pj.Error as exc:
            raise ProviderError(f"Could not answer: {exc.reason}.") from None

    def hangup(self, key: str, code: int = 0) -> None:
        call = self._call(key)
        op = pj.CallOpParam()
        if code:
            op.statusCode = code
        try:
            self._final(call, "hang up", lambda: call.hangup(op))
        except pj.Error as exc:
            raise ProviderError(f"Could not hang up: {exc.reason}.") from None

    def redirect(self, key: str, uri: str) -> None:
        """IN6 voicemail: the final answer to a ringing INVITE is 302 with ``Contact: <uri>`` —
        the only Contact of that response (checked with sipp in ``test_voicemail_peers.py``)."""
        call = self._call(key)
        op = pj.CallOpParam()
        op.statusCode = 302
        contact = pj.SipHeader()
        contact.hName = "Contact"
        contact.hValue = f"<{uri}>"
        headers = pj.SipHeaderVector()
        headers.append(contact)
        op.txOption.headers = headers
        try:
            self._final(call, "redirect", lambda: call.hangup(op))
        except pj.Error as exc:
            raise ProviderError(f"Could not send the call to voicemail: {exc.reason}.") from None

    @staticmethod
    def _failed(what: str, exc: Any) -> ProviderError:
        if "EINVALIDOP" in str(exc.reason) or "EPENDING" in str(exc.reason):
            return CallBusy(f"Could not {what} yet: an offer/answer exchange is still in progress.")
        return ProviderError(f"Could not {what}: {exc.reason}.")

    def hold(self, key: str) -> None:
        call = self._call(key)
        try:
            call.setHold(pj.CallOpParam(True))
        except pj.Error as exc:
            raise self._failed("hold the call", exc) from None
        call.hold_wanted, call.resume_by = True, None

    def resume(self, key: str) -> None:
        call = self._call(key)
        try:
            self._unhold(call)
        except pj.Error as exc:
            raise self._failed("resume the call", exc) from None

    @staticmethod
    def _unhold(call: _Call) -> None:
        prm = pj.CallOpParam(True)
        prm.opt.flag = pj.PJSUA_CALL_UNHOLD
        call.reinvite(prm)
        call.hold_wanted, call.resume_by = False, None

    def set_mute(self, key: str, muted: bool) -> None:
        call = self._call(key)
        call.muted = muted
        if call.audio is not None:
            with contextlib.suppress(pj.Error):
                call.audio.adjustRxLevel(0.0 if muted else 1.0)  # what the bridge sends to the call

    def dial(self, key: str, line: LineConfig, uri: str) -> None:
        account = self._accounts.get(line.id)
        if account is None:
            raise ProviderError(f"There is no line called {line.id!r}.")
        if len(self._calls) >= BUILD.max_calls:
            raise ProviderError(f"The softphone can hold at most {BUILD.max_calls} calls at once.")
        if not self._budget.admit(len(self._calls)):
            raise ProviderError("Too many calls were set up in the last second; try again in a moment.")
        call = _Call(self, account, key)
        self._calls[key] = call
        self._all_calls.add(call)
        try:
            call.makeCall(uri, pj.CallOpParam(True))
            self._budget.started()
        except pj.Error as exc:
            self._budget.started()
            self._budget.ended()
            self._calls.pop(key, None)
            call.engine = None
            del call
            raise ProviderError(f"Could not call {uri}: {exc.reason}.") from None

    def send_dtmf(self, key: str, digits: str) -> None:
        call = self._call(key)
        if not digits or any(d not in _DTMF for d in digits):
            raise ProviderError("DTMF digits are 0-9, *, # and A-D.")
        try:
            call.dialDtmf(digits)
        except pj.Error as exc:
            raise ProviderError(f"Could not send DTMF: {exc.reason}.") from None

    def transfer(self, key: str, uri: str) -> None:
        call = self._call(key)
        try:
            call.xfer(uri, pj.CallOpParam(True))
        except pj.Error as exc:
            raise self._failed("transfer the call", exc) from None

    def transfer_replaces(self, key: str, other_key: str) -> None:
        """Attended transfer: a REFER to *key*'s far end whose Refer-To is *other_key*'s far end
        with ``Replaces`` naming our dialog with it (RFC 3891/5589). The Refer-To does not
        *require* Replaces: a far end that does not know it takes the INVITE as a new call, and
        the transfer still connects the two (the provider then ends our call to it itself)."""
        call, other = self._call(key), self._call(other_key)
        prm = pj.CallOpParam(True)
        prm.options = _XFER_NO_REQUIRE_REPLACES
        try:
            call.xferReplaces(other, prm)
        except pj.Error as exc:
            raise self._failed("transfer the call", exc) from None

    def _tls_reason(self, line: LineConfig, status: int, reason: str) -> str:
        """Why a TLS line's registration failed, in words the user can act on (pjsip's reason
        when it was not the TLS connection)."""
        server = host_of(line.proxy or line.registrar)
        unknown = re.fullmatch(r"Unknown error (\d+)", reason.strip())
        status = status or (int(unknown.group(1)) if unknown else 0)  # the status is 0 here in 2.15
        if status == _TLS_ECERTVERIF or "ECERTVERIF" in reason:
            found = self._tls_failures.get(server) or self._tls_failures.get("", "")
            return f"TLS certificate of {server} refused" + (f": {found}" if found else "")
        if status == _EEOF or "PJ_EEOF" in reason:
            hint = "" if line.tls_cert_file else " (it may want a client certificate: tls_cert_file)"
            return f"{server} closed the TLS connection{hint}"
        if status == _ETIMEDOUT or "ETIMEDOUT" in reason:
            return (
                f"no TLS connection to {server} within {TLS_HANDSHAKE_TIMEOUT:g} s "
                "(no answer, or that port does not speak TLS)"
            )
        alert = status - _TLS_ALERT
        if alert == 70 or "protocol version" in reason.lower():
            speaks = "TLS 1.2 and 1.3" if BUILD.tls13 else "TLS 1.2 at most"
            return f"{server} wants another TLS version; this softphone speaks {speaks}"
        # OpenSSL 3 (the built engine) hears why a server that wants a client certificate stops:
        # handshake_failure (40) in TLS 1.2, certificate_required (116) in TLS 1.3.
        wants_cert = alert in (40, 116) or "handshake failure" in reason or "certificate required" in reason
        hint = (
            "; it may want a client certificate: tls_cert_file"
            if wants_cert and not line.tls_cert_file
            else ""
        )
        if 0 <= alert < 256:  # pjsip's text for these is "Unknown error" after the first Endpoint
            return f"{server} refused the TLS connection (TLS alert {alert}{hint})"
        if " alert " in reason:  # OpenSSL's words, e.g. "sslv3 alert handshake failure"
            return f"{server} refused the TLS connection ({reason}{hint})"
        return reason

    def reregister(self, line_id: str) -> None:
        account = self._accounts.get(line_id)
        if account is not None and not account.line.direct:
            with contextlib.suppress(pj.Error):
                account.setRegistration(True)
