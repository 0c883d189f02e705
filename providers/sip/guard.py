"""Flood guard of the embedded softphone: which new INVITEs get media, and which are refused.

Why: pjmedia's select() ioqueue in the pjsua2 wheel has 64 slots. Every call takes two (its RTP
and RTCP sockets), a closed socket's slot stays taken for 500 ms, and when no slot is free pjlib
*aborts the process* (an assertion). pjsua opens a call's sockets as soon as the INVITE arrives,
before the application hears of the call, so a flood of INVITE + CANCEL from outside killed the
phone after about 32 calls, whatever the application did with them.

How (``providers.sip.pjengine``): pjsua asks ``Endpoint.onSelectAccount`` which account takes a
new INVITE *before* it opens any socket. The engine asks ``MediaBudget.admit`` there (and does
nothing else there: it is on every call's way in); a refused INVITE goes to a hidden guard
account whose calls use pjsua's loop media transport (no socket at all) and is answered
``503 Service Unavailable`` with ``Retry-After`` at once — it never reaches the provider, rings
nowhere and opens nothing. This covers UDP, TCP and TLS alike: the hook is pjsua's, not a
transport's. A peek at the UDP socket in front of pjsip could not do it: one poll of pjsip
reads up to 51 queued datagrams by itself (measured), so a filter would see only the first.

Everything here is pure Python (no pjsua2), so it is tested without a phone.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = [
    "BUDGET",
    "LINGER",
    "MAX_CONNECTIONS",
    "MAX_DIALOGS",
    "MAX_TRANSACTIONS",
    "MEDIA_SLOTS",
    "RETRY_AFTER",
    "SLOTS_PER_CALL",
    "MediaBudget",
    "budget_for",
]

#: Slots of pjlib's select() ioqueue (``PJ_IOQUEUE_MAX_HANDLES``) in the pjsua2 wheel; pjmedia
#: has an ioqueue of its own, used only by calls' RTP/RTCP sockets. The engine's real figure is
#: ``providers.sip.engines.current().ioqueue_handles`` (callsys's own build has thousands).
MEDIA_SLOTS = 64
#: RTP + RTCP.
SLOTS_PER_CALL = 2


def budget_for(slots: int) -> int:
    """How many of an ioqueue's *slots* calls may take; the eighth left is a safety margin."""
    return slots - slots // 8


#: The wheel's budget: 56 of its 64 slots (28 calls).
BUDGET = budget_for(MEDIA_SLOTS)
#: How long a closed socket's slot counts as taken: pjlib frees it 500 ms after the close
#: (``PJ_IOQUEUE_KEY_FREE_DELAY``); the engine notes the close in the same poll, +100 ms margin.
LINGER = 0.6
#: Beyond this many SIP transactions alive at once a new incoming request other than an INVITE or
#: a CANCEL, and beyond this many dialogs a new INVITE, is answered 503 at once, statelessly
#: (``pjengine._RequestFilter``). A transaction outlives its final answer by up to 32 s over UDP
#: and holds ~25 KB, an INVITE's dialog ~20 KB more; 32 calls with re-INVITEs, BYEs, INFOs and a
#: PBX's OPTIONS use a few dozen, a flood thousands (memory: at most ~15 + 23 MB for all).
MAX_TRANSACTIONS = 512
MAX_DIALOGS = 512
#: TCP/TLS connections open at once; a new one past it is closed at once
#: (``pjengine._ConnectionCap``): each holds ~41 KB, 512 about 21 MB.
MAX_CONNECTIONS = 512
#: Seconds a refused caller is asked to wait (``Retry-After``) before it tries again.
RETRY_AFTER = 2


class MediaBudget:
    """Counts the media ioqueue slots that calls hold now or held less than ``LINGER`` ago.

    The engine calls ``admit`` for every new INVITE (inside ``onSelectAccount``), ``started``
    when an admitted INVITE became a call (``onIncomingCall``) or an outgoing call was made, and
    ``ended`` when a call with media is over. An admitted INVITE that never became a call (pjsua
    answered it 488, say) opened and closed its sockets at once: the next ``admit`` counts it as
    closed then.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, budget: int = BUDGET) -> None:
        self._clock = clock
        self._budget = budget
        self._closed: deque[float] = deque()  # when a call's sockets were closed
        self._admitted: float | None = None  # an admitted INVITE not yet seen as a call
        self.refused = 0  # INVITEs refused so far (for logs and tests)

    def slots_in_use(self, live_calls: int) -> int:
        now = self._clock()
        closed = self._closed
        while closed and now - closed[0] > LINGER:
            closed.popleft()
        pending = 1 if self._admitted is not None else 0
        return SLOTS_PER_CALL * (live_calls + len(closed) + pending)

    def admit(self, live_calls: int) -> bool:
        """May a new INVITE open its media now? *live_calls* hold sockets (ringing or talking)."""
        if self._admitted is not None:  # the previous admitted INVITE failed before ringing
            self._closed.append(self._admitted)
            self._admitted = None
        if self.slots_in_use(live_calls) + SLOTS_PER_CALL > self._budget:
            self.refused += 1
            return False
        self._admitted = self._clock()
        return True

    def started(self) -> None:
        self._admitted = None

    def ended(self) -> None:
        self._closed.append(self._clock())
