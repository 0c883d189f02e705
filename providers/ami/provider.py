"""AmiProvider — Asterisk seen through the Manager Interface (SET1): third-party monitoring of
every watched extension plus click-to-dial through ``Originate`` (OUT3).

How the event stream becomes calls
----------------------------------
A *call* here is one watched extension's channel (``PJSIP/1001-0000002a``, ``SIP/1001-…`` —
any technology; ``Local/`` half-channels are ignored): its id is ``<name>:<Uniqueid>``, unique
per provider instance and across PBX restarts. Both ends of an internal call between two watched
extensions are two calls (one outgoing, one incoming), as each agent sees it.

- **incoming** starts at the first of ``DialBegin`` (the channel is ``DestChannel`` and there is a
  caller) or ``Newstate Ringing`` of a channel created for someone else (``Uniqueid`` ≠
  ``Linkedid``). The caller comes from the dialling channel or the connected line; the receiving
  line from ``__CALLED_LINE`` or a configured line's DID; the DNIS from ``__CALLED_DID`` or the
  number the caller dialled (IN12); inherited ``__VARIABLES`` (and the configured ``variables``)
  ride along on the call (SET2). A call ringing while the agent talks is a waiting call — the
  CallManager marks it (IN5).
- **outgoing** starts when the phone's own channel reaches ``Ring`` (it sent an INVITE), and
  for click-to-dial when the ``Originate``'s first leg appears (``DialBegin`` without a caller or
  ``AppDial2``); ringback at ``DialState RINGING``.
- **answered** when the channel goes ``Up`` (for click-to-dial only when the far end answers:
  ``DialEnd ANSWER`` or entering a bridge — the agent picking up his own phone is not it).
- **hold/unhold** from ``Hold``/``Unhold`` of the agent's own channel; the party in the same
  bridge — the one put on hold — gets ``remote_hold`` on its call.
- **ended** at the channel's ``Hangup``, with the reason from ``DialEnd``'s ``DialStatus`` and the
  Q.850 cause: ``CANCEL`` → caller gave up; ``BUSY``/cause 17 → rejected when it had rung (the agent
  pressed reject), busy when it never rang; ``NOANSWER`` → missed / no answer; cause 26 or a
  sibling destination of the same ``Dial``/``Queue`` answering → ``ANSWERED_ELSEWHERE`` (B1).

  One customer call (``Linkedid``) is one "not answered": when a queue or ring group rang several
  agents and nobody answered, the first leg to end says so and the others end answered elsewhere
  (they merely rang, B1); a voicemail request claims the call for its agent.

After every (re)connect the provider asks ``CoreShowChannels`` and reconciles: a call whose
channel is gone ends (answered → completed, else missed/no answer) as of the moment the PBX was
last heard — never at the reconnect —, one that was answered while the link was down is marked
answered, and a live channel of a watched extension we did not know is adopted from when its
channel was created (``Duration``) — no pop-up stays ringing, no live call is forgotten. A link
that stays down longer than ``link_grace`` ends every live call as of its loss (a desktop must not
show a dead call as talking); a call that survived is not logged a second time.

What AMI cannot do
------------------
AMI cannot make a desk phone go off-hook, so there is **no ANSWER capability**: answer on the
phone itself, or use the embedded softphone (provider ``sip``), which answers from the pop-up
(IN6, CARD1). Hold, mute and DTMF are the phone's job too. Reject (hang up the ringing leg with
cause 21), hang up, click-to-dial and blind transfer (``Redirect``) work.

Attended transfer: ``consult`` sends ``Atxfer`` for the agent's channel (``Exten`` = the number,
``Context`` = ``context``): Asterisk puts the other party on hold (music on hold) and dials the
number from the agent's own phone. On this side the consultation is a call of its own (its id is
the original's with ``/consult``, ``consult_of`` the original), answered when the agent's
channel enters the target's bridge, over when it comes back to the original bridge (the target
did not answer or hung up). ``transfer_to_call`` hangs the agent's channel up: Asterisk (12 and
later) completes an attended transfer whose transferer hangs up, so the two parties are then
connected; the original call ends with ``transferred_to``. Asterisk needs nothing more than the
``context`` to reach the number in and the ``Atxfer`` action allowed to the AMI user (class
``call``); a call whose channel driver cannot transfer (``Atxfer`` refused) says so.

A **conference** is not offered over AMI: joining the agent's call and the consultation needs a
``ConfBridge`` in the dialplan and both parties ``Redirect``ed into it, which this provider does
not do; ``conference`` raises ``NotSupported`` with ``CONFERENCE_MESSAGE`` (the softphone
conferences in its own audio bridge).

Send to voicemail (IN6) works when ``voicemail_exten`` is configured: the *caller's* channel (the
one whose ``Dial``/``Queue`` rings the agent) is ``Redirect``ed to ``voicemail_context`` /
``voicemail_exten`` (``${EXTEN}`` → the agent's extension) / ``voicemail_priority``; its Dial
ends, the agent's ringing leg is hung up, and that call ends ``VOICEMAIL``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callsys.errors import NotSupported, ProviderError, ProviderUnavailable, UnknownCall
from callsys.model import CallEvent, Direction, EndReason, PhoneNumber, ProviderEvent
from callsys.provider import Capability, Line, ProviderListener, ProviderStatus, Registration, require
from providers.ami.client import ActionFailed, AmiClient
from providers.ami.options import AmiLine, AmiOptions
from providers.ami.protocol import Message

__all__ = ["CONFERENCE_MESSAGE", "NO_ANSWER_MESSAGE", "WHY", "AmiProvider"]

log = logging.getLogger(__name__)

NO_ANSWER_MESSAGE = (
    "Asterisk (AMI) cannot make a desk phone answer: pick up the phone itself, or switch to the "
    "embedded softphone, which answers from the pop-up."
)

_CHANNEL = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<endpoint>.+?)(?:-[0-9a-fA-F]+)?$")
_UNKNOWN = {"", "<unknown>", "unknown", "anonymous", "<anonymous>"}
_FAIL_CAUSES = {1, 2, 3, 20, 22, 27, 28, 34, 38, 41, 42, 44, 50, 58, 65, 66, 69, 79, 88, 102, 111, 127}
_MAX_VARS = 64
_MAX_UNANSWERED = 4096
CONFERENCE_MESSAGE = (
    "Asterisk (AMI) cannot join calls in a conference from here: use the phone's own conference "
    "key, or the embedded softphone, which joins a call and its consultation itself."
)
#: What a consultation's call id ends with (the original call's id before it).
CONSULT_SUFFIX = "/consult"

#: The variable that says why a click-to-dial ended before it got anywhere.
WHY = "Click-to-dial"

# Asterisk channel states (ChannelState:)
_DOWN, _RING, _RINGING, _UP = 0, 4, 5, 6


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/1001-0000002a`` → ``1001``; ``SIP/trunk-00000008`` → ``trunk``; ``Local/…`` → None."""
    if not channel or channel.startswith(("Local/", "Message/", "Recorder/", "Announcer/")):
        return None
    match = _CHANNEL.match(channel.split(";", 1)[0].split("<", 1)[0])
    return match.group("endpoint") if match else None


def _int(value: str, default: int = -1) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _seconds(value: str | None) -> float | None:
    """``CoreShowChannel``'s ``Duration`` (``HH:MM:SS``) or a plain number of seconds."""
    if not value:
        return None
    try:
        parts = [int(p) for p in value.strip().split(":")]
    except ValueError:
        return None
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
        return None
    total = 0
    for part in parts:
        total = total * 60 + part
    return float(total)


def _known(value: str) -> str:
    return "" if value.strip().lower() in _UNKNOWN else value.strip()


@dataclass(slots=True)
class _Channel:
    uniqueid: str
    name: str
    linkedid: str
    endpoint: str | None
    state: int = _DOWN
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    exten: str = ""
    dialled: str = ""  # the extension it was created for (the number the caller dialled)
    variables: dict[str, str] = field(default_factory=dict)
    rang: bool = False
    dialled_by: str = ""  # uniqueid of the channel whose Dial/Queue created this one
    dest_status: str = ""  # DialEnd status of this channel as a destination
    caller_status: str = ""  # DialEnd status of this channel's own Dial
    answered_dest: str = ""  # for a dialling channel: the destination that answered
    bridge: str = ""
    stale: bool = False  # known before a reconnect and not confirmed since
    _raw: tuple[str | None, ...] = ()  # the last snapshot fields seen, to skip identical updates

    @classmethod
    def from_event(cls, h: Mapping[str, str], prefix: str = "") -> _Channel:
        name = h.get(prefix + "Channel", "")
        chan = cls(
            uniqueid=h.get(prefix + "Uniqueid", ""),
            name=name,
            linkedid=h.get(prefix + "Linkedid", "") or h.get(prefix + "Uniqueid", ""),
            endpoint=endpoint_of(name),
        )
        chan.update(h, prefix)
        chan.dialled = _known(chan.exten) if chan.exten != "s" else ""
        return chan

    def update(self, h: Mapping[str, str], prefix: str = "") -> None:
        self.stale = False
        raw = (
            h.get(prefix + "ChannelState"),
            h.get(prefix + "CallerIDNum"),
            h.get(prefix + "CallerIDName"),
            h.get(prefix + "ConnectedLineNum"),
            h.get(prefix + "ConnectedLineName"),
            h.get(prefix + "Exten"),
        )
        if raw == self._raw:
            return  # most events repeat the channel's snapshot unchanged (VarSet floods)
        self._raw = raw
        state, caller_num, caller_name, connected_num, connected_name, exten = raw
        if state is not None and (value := _int(state)) >= 0:
            self.state = value
            if value == _RINGING:
                self.rang = True
        if caller_num is not None:
            self.caller_num = _known(caller_num)
        if caller_name is not None:
            self.caller_name = _known(caller_name)
        if connected_num is not None:
            self.connected_num = _known(connected_num)
        if connected_name is not None:
            self.connected_name = _known(connected_name)
        if exten is not None:
            self.exten = exten

    @property
    def originated_here(self) -> bool:
        """True for the channel that started its call (the caller's leg or an Originate's)."""
        return self.uniqueid == self.linkedid


@dataclass(slots=True)
class _Call:
    call_id: str
    extension: str
    direction: Direction
    uniqueid: str = ""  # "" while a click-to-dial waits for its first channel
    originate: bool = False
    originate_action: str = ""
    remote: str = ""
    remote_name: str = ""
    line: str = ""
    dnis: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    answered: bool = False
    agent_up: bool = False  # click-to-dial: the agent picked up his own phone
    ringback: bool = False
    held: bool = False
    remote_held: bool = False  # the other party put this call on hold
    reject_requested: bool = False
    voicemail_requested: bool = False
    linkedid: str = ""  # the customer call this leg belongs to (Asterisk's Linkedid)
    connection: int = 0  # the client's login count when a click-to-dial was requested
    consult: _Consult | None = None  # the consultation running on this call's channel (Atxfer)
    transferred_to: str = ""  # the agent completed a transfer to this number (the channel's Hangup)
    # answered while the link was down: ANSWERED waits (a round trip) for the PBX's answer time
    answer_pending: bool = False
    answer_fallback: datetime | None = None


@dataclass(slots=True)
class _Consult:
    """A consultation Asterisk runs on the agent's channel after ``Atxfer``."""

    call: _Call  # its own call as the CallManager sees it (id: the original's + CONSULT_SUFFIX)
    original: str  # the original call's id
    number: str  # as the agent typed it
    bridge: str  # the original bridge (the party waits there, on hold)
    answered: bool = False


class AmiProvider:
    """The ``ami`` provider. Build it with options (see ``providers.ami.options``)."""

    def __init__(self, options: Mapping[str, Any] | AmiOptions) -> None:
        self.options = options if isinstance(options, AmiOptions) else AmiOptions.from_mapping(options)
        self.name = self.options.name
        self._plan = self.options.number_plan
        self._watched = {e for e in self.options.extensions if e != "*"}
        self._listener: ProviderListener | None = None
        self._channels: dict[str, _Channel] = {}
        self._calls: dict[str, _Call] = {}  # by call id
        self._by_uid: dict[str, _Call] = {}  # by the agent channel's Uniqueid
        self._pending_originates: dict[str, deque[_Call]] = {}  # by extension
        self._by_action: dict[str, _Call] = {}  # Originate ActionID -> call
        self._gone: set[str] | None = None  # uniqueids hung up while a resync is in flight
        self._lost: set[str] = set()  # uniqueids whose calls were ended when the link was lost
        # Customer calls (Linkedid) one of whose ringing legs already carries the "not answered"
        # (or was sent to voicemail): the other legs merely rang (B1). Oldest forgotten first.
        self._unanswered: OrderedDict[str, None] = OrderedDict()
        self._dropped_at: datetime | None = None  # when the PBX was last heard before a drop
        self._grace: asyncio.TimerHandle | None = None
        self._stamp = ""  # the last event's Timestamp (the PBX's clock) …
        self._stamp_heard = 0.0  # … and our time.time() when it was read
        self._devices: dict[str, Registration] = {}
        self._registration = Registration.CONNECTING
        self._message = ""
        self.events_seen = 0
        self.resyncs = 0
        self.client = AmiClient(
            self.options.host,
            self.options.port,
            self.options.username,
            self.options.secret,
            on_event=self.handle_message,
            on_connected=self._resync,
            on_login=self._begin_resync,
            on_status=self._client_status,
            on_disconnected=self._link_lost,
            connect_timeout=self.options.connect_timeout,
            action_timeout=self.options.action_timeout,
            ping_interval=self.options.ping_interval,
            ping_timeout=self.options.ping_timeout,
            backoff_initial=self.options.backoff_initial,
            backoff_max=self.options.backoff_max,
        )
        self._handlers: dict[str, Callable[[Message], None]] = {
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "NewCallerid": self._on_callerid,
            "NewConnectedLine": self._on_callerid,
            "Newexten": self._on_newexten,
            "VarSet": self._on_varset,
            "DialBegin": self._on_dialbegin,
            "DialState": self._on_dialstate,
            "DialEnd": self._on_dialend,
            "BridgeEnter": self._on_bridgeenter,
            "BridgeLeave": self._on_bridgeleave,
            "Hold": self._on_hold,
            "Unhold": self._on_unhold,
            "Hangup": self._on_hangup,
            "AgentRingNoAnswer": self._on_agent_ring_no_answer,
            "OriginateResponse": self._on_originate_response,
            "DeviceStateChange": self._on_devicestate,
            "FullyBooted": self._on_fullybooted,
        }

    # ================================================================== Provider protocol
    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = {
            Capability.REJECT,
            Capability.HANGUP,
            Capability.DIAL,
            Capability.TRANSFER,
            Capability.CONSULT,
            Capability.ATTENDED_TRANSFER,
        }
        if self.options.voicemail_exten:
            caps.add(Capability.VOICEMAIL)
        if self.options.watch_all:
            caps.add(Capability.ALL_EXTENSIONS)
        return frozenset(caps)

    def lines(self) -> tuple[Line, ...]:
        online = self._registration is Registration.ONLINE
        if self.options.lines:
            reg = Registration.ONLINE if online else self._registration
            return tuple(Line(id=ln.id, label=ln.label, registration=reg) for ln in self.options.lines)
        out = []
        for ext in sorted(self._watched):
            reg = self._devices.get(ext, Registration.ONLINE) if online else self._registration
            detail = "the phone is not registered" if reg is Registration.OFFLINE and online else ""
            out.append(Line(id=ext, label=f"Extension {ext}", registration=reg, detail=detail))
        return tuple(out)

    async def start(self, listener: ProviderListener) -> None:
        """Start connecting and return at once; ``status_changed`` tells when the PBX is there."""
        self._listener = listener
        self.client.start()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait for the first successful login (tests, ``callsys server --check``)."""
        await self.client.wait_online(timeout)

    async def close(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        await self.client.close()
        self._set_status(Registration.OFFLINE, "Disconnected from Asterisk.")

    async def answer(self, call_id: str) -> None:
        raise NotSupported(NO_ANSWER_MESSAGE)

    async def reject(self, call_id: str) -> None:
        call = self._live(call_id)
        chan = self._channels.get(call.uniqueid)
        if call.direction is not Direction.INCOMING or call.answered or chan is None:
            raise ProviderError("Only a ringing incoming call can be rejected.")
        call.reject_requested = True
        await self.client.send_action("Hangup", {"Channel": chan.name, "Cause": 21})

    async def send_to_voicemail(self, call_id: str) -> None:
        """IN6: ``Redirect`` the ringing caller to the agent's voicemail in the dialplan."""
        require(self, Capability.VOICEMAIL)
        call = self._live(call_id)
        chan = self._channels.get(call.uniqueid)
        if call.direction is not Direction.INCOMING or call.answered or chan is None:
            raise ProviderError("Only a ringing incoming call can be sent to voicemail.")
        caller = self._caller_of(chan)
        if caller is None:
            raise ProviderError("Asterisk has not said which channel is calling yet; try again in a moment.")
        extension = call.extension or (chan.endpoint or "")
        opts = self.options
        call.voicemail_requested = True
        self._claim_unanswered(call)
        try:
            await self.client.send_action(
                "Redirect",
                {
                    "Channel": caller.name,
                    "Context": opts.voicemail_context,
                    "Exten": opts.voicemail_exten.replace("${EXTEN}", extension),
                    "Priority": opts.voicemail_priority,
                },
            )
        except ActionFailed as exc:
            call.voicemail_requested = False
            self._unanswered.pop(call.linkedid or call.uniqueid, None)
            raise ProviderError(
                f"Could not send the call to voicemail: Asterisk refused the Redirect of "
                f"{caller.name} to {opts.voicemail_exten.replace('${EXTEN}', extension)}@"
                f"{opts.voicemail_context} ({exc.pbx_message or 'no reason given'})."
            ) from None
        except TimeoutError:
            call.voicemail_requested = False
            self._unanswered.pop(call.linkedid or call.uniqueid, None)
            raise ProviderUnavailable(
                "The phone system did not answer the voicemail request in time."
            ) from None

    def _caller_of(self, chan: _Channel) -> _Channel | None:
        """The channel that rings *chan*: its ``Dial``/``Queue``'s, or — behind ``Local/``
        channels (ring groups) — the one that started the call."""
        caller = self._channels.get(chan.dialled_by) if chan.dialled_by else None
        if caller is not None and not caller.name.startswith("Local/"):
            return caller
        root = self._channels.get(chan.linkedid)
        if root is not None and root is not chan and not root.name.startswith("Local/"):
            return root
        return None

    async def hangup(self, call_id: str) -> None:
        consult = self._consult_of(call_id)
        if consult is not None:
            await self._end_consultation(consult)
            return
        call = self._live(call_id)
        chan = self._channels.get(call.uniqueid)
        if chan is None:
            raise ProviderError("This call is still being set up by the phone system; try again in a moment.")
        await self.client.send_action("Hangup", {"Channel": chan.name, "Cause": 16})

    async def hold(self, call_id: str) -> None:
        require(self, Capability.HOLD)

    async def resume(self, call_id: str) -> None:
        require(self, Capability.HOLD)

    async def set_mute(self, call_id: str, muted: bool) -> None:
        require(self, Capability.MUTE)

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        require(self, Capability.DTMF)

    async def set_dnd(self, enabled: bool) -> None:
        require(self, Capability.DND)

    async def transfer(self, call_id: str, target: str) -> None:
        """Blind transfer (``Redirect``) of the other party to *target* in the dialplan."""
        call = self._live(call_id)
        target = target.strip()
        if not target or not all(c.isdigit() or c in "*#+" for c in target):
            raise ProviderError(f"{target!r} is not a number the phone system can transfer to.")
        peer = self._peer_of(call)
        if peer is None:
            raise ProviderError("This call has no other party to transfer yet.")
        await self.client.send_action(
            "Redirect",
            {"Channel": peer.name, "Exten": target, "Context": self.options.context, "Priority": 1},
        )

    async def consult(self, call_id: str, number: str, line: str | None = None) -> str:
        """``Atxfer``: Asterisk holds the other party and dials *number* from the agent's phone."""
        call = self._live(call_id)
        chan = self._channels.get(call.uniqueid)
        if not call.answered or chan is None:
            raise ProviderError("Only a connected call can be held for a consultation.")
        if call.consult is not None:
            raise ProviderError("This call already has a consultation; transfer it or hang it up first.")
        try:
            digits = self._plan.dial_string(number)
        except ValueError as exc:
            raise ProviderError(str(exc)) from None
        try:
            await self.client.send_action(
                "Atxfer", {"Channel": chan.name, "Exten": digits, "Context": self.options.context}
            )
        except ActionFailed as exc:
            raise ProviderError(
                f"Asterisk refused the attended transfer of {chan.name} to {digits}@{self.options.context} "
                f"({exc.pbx_message or 'no reason given'})."
            ) from None
        except TimeoutError:
            raise ProviderUnavailable(
                "The phone system did not answer the transfer request in time."
            ) from None
        leg = _Call(
            call_id=call.call_id + CONSULT_SUFFIX,
            extension=call.extension,
            direction=Direction.OUTGOING,
            remote=digits,
            line=call.line,
        )
        consult = _Consult(call=leg, original=call.call_id, number=number, bridge=chan.bridge)
        call.consult = consult
        if not call.held:
            call.held = True
            self._emit(CallEvent.HELD, call, None)
        self._emit(
            CallEvent.OUTGOING,
            leg,
            None,
            remote=self._dialled(digits),
            line=call.line or None,
            consult_of=call.call_id,
        )
        return leg.call_id

    async def transfer_to_call(self, call_id: str, other_id: str) -> None:
        """Complete the ``Atxfer`` of *call_id* to its consultation *other_id*: hang the agent's
        channel up, and Asterisk connects the two parties."""
        call = self._live(call_id)
        consult = call.consult
        if consult is None or consult.call.call_id != other_id:
            raise ProviderError(
                "Asterisk transfers a call only to the consultation started from it (Consult…)."
            )
        chan = self._channels.get(call.uniqueid)
        if chan is None:
            raise ProviderError("This call is still being set up by the phone system; try again in a moment.")
        call.transferred_to = consult.number
        try:
            await self.client.send_action("Hangup", {"Channel": chan.name, "Cause": 16})
        except (ActionFailed, TimeoutError):
            call.transferred_to = ""
            raise ProviderError(
                "Asterisk did not complete the transfer; the call is still on hold."
            ) from None

    async def conference(self, call_id: str, other_id: str) -> None:
        raise NotSupported(CONFERENCE_MESSAGE)

    def _consult_of(self, call_id: str) -> _Consult | None:
        if not call_id.endswith(CONSULT_SUFFIX):
            return None
        call = self._calls.get(call_id[: -len(CONSULT_SUFFIX)])
        return call.consult if call is not None else None

    async def _end_consultation(self, consult: _Consult) -> None:
        """Hang up the consulted party: Asterisk brings the agent back to the held party."""
        call = self._calls.get(consult.original)
        chan = self._channels.get(call.uniqueid) if call is not None else None
        peers = (
            [p for p in self._bridged_with(chan)]
            if chan is not None and chan.bridge != consult.bridge
            else []
        )
        if not peers:
            raise ProviderError(
                "Asterisk is still dialling the consultation: cancel it on the phone (its transfer "
                "abort key), or hang up to complete the transfer."
            )
        for peer in peers:
            await self.client.send_action("Hangup", {"Channel": peer.name, "Cause": 16})

    def _consult_moved(self, call: _Call, bridge: str, h: Mapping[str, str]) -> None:
        """The agent's channel entered *bridge* during a consultation: the target's (the
        consultation is answered) or the original one again (the consultation is over)."""
        consult = call.consult
        if consult is None:
            return
        if bridge and bridge != consult.bridge:
            if not consult.answered:
                consult.answered = True
                self._emit(CallEvent.ANSWERED, consult.call, self._at(h))
            return
        self._finish_consult(call, self._at(h))
        if call.held:
            call.held = False
            self._emit(CallEvent.RESUMED, call, self._at(h))

    def _finish_consult(self, call: _Call, at: datetime | None) -> None:
        consult, call.consult = call.consult, None
        if consult is not None:
            reason = EndReason.COMPLETED if consult.answered else EndReason.NO_ANSWER
            self._emit(CallEvent.ENDED, consult.call, at, reason=reason)

    async def dial(self, number: str, line: str | None = None) -> str:
        """Click-to-dial (OUT3): ring the agent's phone, then the number, through ``Originate``.

        *line* (SET4) is a configured line id — its prefix/context apply — or a watched
        extension to ring first. The route ``prefix`` (SET3) is added to public numbers only.
        """
        extension = self._default_extension()
        if line and not any(ln.id == line for ln in self.options.lines):
            if not self._watches(line):
                raise ProviderError(f"There is no line {line!r} on this phone system.")
            extension, line = line, None
        return await self.dial_as(extension, number, line)

    async def dial_as(self, extension: str, number: str, line: str | None = None) -> str:
        """Click-to-dial from a given watched *extension* (server mode, where one connection
        watches every phone), optionally on the configured *line* (SET4)."""
        chosen: AmiLine | None = None
        if line:
            chosen = next((ln for ln in self.options.lines if ln.id == line), None)
            if chosen is None:
                raise ProviderError(f"There is no line {line!r} on this phone system.")
        if extension and not self._watches(extension):
            raise ProviderError(f"Extension {extension} is not watched by this phone connection.")
        if not extension:
            raise ProviderError("No extension is configured to place calls from (phone.options.extensions).")
        try:
            digits = self._plan.dial_string(number)
        except ValueError as exc:
            raise ProviderError(str(exc)) from None
        if chosen is not None and chosen.prefix and not self._plan.is_internal(self._plan.parse(digits)):
            digits = chosen.prefix + digits.removeprefix(self._plan.dial_prefix)
        if not self.client.online:
            raise ProviderUnavailable("The phone system (Asterisk) is not connected.")
        if self._devices.get(extension) is Registration.OFFLINE:
            raise ProviderError(
                f"Your phone (extension {extension}) is not registered with the phone system, so "
                "click-to-dial cannot ring it: check that it is switched on and connected."
            )
        channel_id = f"callsys-{uuid.uuid4().hex[:20]}"
        call = _Call(
            call_id=f"{self.name}:{channel_id}",
            extension=extension,
            direction=Direction.OUTGOING,
            originate=True,
            remote=digits,
            line=chosen.label if chosen else "",
            connection=self.client.connections,
        )
        action_id = self.client.new_action_id("Originate")
        call.originate_action = action_id
        self._calls[call.call_id] = call
        self._by_action[action_id] = call
        self._pending_originates.setdefault(extension, deque()).append(call)
        self._emit(CallEvent.OUTGOING, call, None, remote=self._plan.parse(number), line=call.line or None)
        variables = [("Variable", f"CALLSYS_CALL_ID={channel_id}")]
        if chosen is not None:
            variables.append(("Variable", f"CALLSYS_LINE={chosen.id}"))
        headers: list[tuple[str, object]] = [
            ("Channel", f"{self.options.technology}/{extension}"),
            ("Context", (chosen.context if chosen and chosen.context else self.options.context)),
            ("Exten", digits),
            ("Priority", 1),
            # The Originate's CallerID is the caller ID of the agent's leg, i.e. what the called
            # party sees: the agent, never the destination's own number. Without it, the leg keeps
            # the phone's caller ID as the PBX has it configured.
            *(
                [("CallerID", f'"{self.options.caller_id_name}" <{extension}>')]
                if self.options.caller_id_name
                else []
            ),
            ("Timeout", int(self.options.originate_timeout * 1000)),
            ("ChannelId", channel_id),
            *variables,
            ("Async", "true"),
        ]
        try:
            await self.client.send_action("Originate", headers, action_id=action_id)
        except (ProviderError, TimeoutError) as exc:
            self._end(call, EndReason.FAILED, None)
            if isinstance(exc, TimeoutError):
                raise ProviderUnavailable(
                    "The phone system did not answer the dial request in time."
                ) from None
            raise
        return call.call_id

    # ================================================================== status
    def _client_status(self, registration: Registration, message: str) -> None:
        self._set_status(registration, message)

    def _set_status(self, registration: Registration, message: str) -> None:
        self._registration, self._message = registration, message
        if self._listener is not None:
            self._listener.status_changed(
                ProviderStatus(
                    provider=self.name, registration=registration, lines=self.lines(), message=message
                )
            )

    # ================================================================== event intake
    def handle_message(self, msg: Message) -> None:
        """One AMI event (called by the client, in order, on the loop's thread)."""
        self.events_seen += 1
        stamp = msg.headers.get("Timestamp")
        if stamp:
            self._stamp, self._stamp_heard = stamp, self.client.last_heard
        handler = self._handlers.get(msg.headers.get("Event", ""))
        if handler is not None:
            handler(msg)

    def _at(self, h: Mapping[str, str]) -> datetime | None:
        if not self.options.pbx_clock:
            return None
        stamp = h.get("Timestamp")
        if not stamp:
            return None
        try:
            at = datetime.fromtimestamp(float(stamp), UTC)
        except (ValueError, OverflowError, OSError):
            return None
        return at

    def _pbx_time(self, local: float) -> datetime:
        """*local* (our ``time.time()``) on the clock the events are stamped with: the last
        event's ``Timestamp`` plus the time that passed here since it was read."""
        if self.options.pbx_clock and self._stamp and self._stamp_heard > 0:
            try:
                return datetime.fromtimestamp(float(self._stamp) + local - self._stamp_heard, UTC)
            except (ValueError, OverflowError, OSError):
                pass
        return datetime.fromtimestamp(local, UTC)

    def _watches(self, endpoint: str | None) -> bool:
        if endpoint is None:
            return False
        if endpoint in self._watched:
            return True
        return self.options.watch_all and endpoint.isdigit()

    def _channel(self, h: Mapping[str, str], prefix: str = "") -> _Channel | None:
        uid = h.get(prefix + "Uniqueid", "")
        if not uid:
            return None
        chan = self._channels.get(uid)
        if chan is None:
            if self._gone is not None and uid in self._gone:
                return None
            chan = _Channel.from_event(h, prefix)
            self._channels[uid] = chan
        else:
            chan.update(h, prefix)
            if chan.state == _UP:
                call = self._by_uid.get(uid)
                if call is not None and not call.answered and not call.originate:
                    # Up in any event (even its Hangup): answered, maybe while the link was down.
                    self._answer(call, h)
        return chan

    # ------------------------------------------------------------------ channel lifecycle
    def _on_newchannel(self, msg: Message) -> None:
        chan = self._channel(msg.headers)
        if chan is not None and chan.state == _RING:
            self._maybe_start_outgoing(chan, msg.headers)

    def _on_newstate(self, msg: Message) -> None:
        h = msg.headers
        chan = self._channel(h)
        if chan is None or not self._watches(chan.endpoint):
            return
        call = self._by_uid.get(chan.uniqueid)
        if call is None:
            if chan.state == _RING:
                self._maybe_start_outgoing(chan, h)
            elif chan.state in (_RINGING, _UP) and not chan.originated_here:
                call = self._start_incoming(chan, None, h)
            if call is None:
                return
        if chan.state == _UP:
            if call.originate:
                call.agent_up = True
            else:
                self._answer(call, h)

    def _on_callerid(self, msg: Message) -> None:
        chan = self._channel(msg.headers)
        if chan is None:
            return
        call = self._by_uid.get(chan.uniqueid)
        if call is None or call.originate:
            return
        if not call.remote and chan.connected_num:
            call.remote = chan.connected_num
            call.remote_name = self._name_for(chan.connected_num, chan.connected_name)
            self._emit(
                CallEvent.UPDATED,
                call,
                self._at(msg.headers),
                remote=self._number(call.remote),
                remote_name=call.remote_name,
            )

    def _on_newexten(self, msg: Message) -> None:
        h = msg.headers
        chan = self._channel(h)
        if chan is None:
            return
        if (
            h.get("Application") == "AppDial2"
            and self._watches(chan.endpoint)
            and chan.uniqueid not in self._by_uid
        ):
            self._start_originate(chan, h)

    def _on_varset(self, msg: Message) -> None:
        h = msg.headers
        raw = h.get("Variable", "")
        name = raw.lstrip("_")
        if not name or "(" in name:
            return
        interesting = (
            raw.startswith("_")  # inherited: the dialplan means it to travel with the call
            or name in self.options.variables
            or name in (self.options.did_variable, self.options.line_variable)
            or name.startswith("CALLSYS_")
        )
        if not interesting:
            return  # most VarSets (RTP stats, DIALSTATUS …): not even the channel is touched
        chan = self._channel(h)
        if chan is None:
            return
        value = h.get("Value", "")
        if name in chan.variables or len(chan.variables) < _MAX_VARS:
            chan.variables[name] = value
        if name == "CALLSYS_CALL_ID" and self._watches(chan.endpoint) and chan.uniqueid not in self._by_uid:
            self._start_originate(chan, h, wanted=f"{self.name}:{value}")
            return
        targets = []
        call = self._by_uid.get(chan.uniqueid)
        if call is not None:
            targets.append(call)
        if name in self.options.variables and chan.originated_here:
            # A configured IVR variable set on the caller's leg: every watched leg of the call.
            targets.extend(
                c for c in self._by_uid.values() if c is not call and self._linked(c) == chan.linkedid
            )
        for target in targets:
            self._refresh(target, self._at(h))

    def _linked(self, call: _Call) -> str:
        chan = self._channels.get(call.uniqueid)
        return chan.linkedid if chan else ""

    # ------------------------------------------------------------------ dialling
    def _on_dialbegin(self, msg: Message) -> None:
        h = msg.headers
        caller = self._channel(h) if h.get("Channel") else None
        dest = self._channel(h, "Dest")
        if dest is None:
            return
        if caller is not None:
            dest.dialled_by = caller.uniqueid
        at = self._at(h)
        if self._watches(dest.endpoint):
            call = self._by_uid.get(dest.uniqueid)
            if call is None:
                if caller is None:
                    self._start_originate(dest, h)
                elif not dest.originated_here:
                    self._start_incoming(dest, caller, h)
            elif caller is not None and call.direction is Direction.INCOMING:
                self._refresh(call, at, caller)
        if caller is not None:
            call = self._by_uid.get(caller.uniqueid)
            if call is not None and call.direction is Direction.OUTGOING:
                number = _known(h.get("Exten", "")) if h.get("Exten") not in ("s", "") else ""
                if not number:
                    number = _known(h.get("DialString", "").rsplit("/", 1)[-1])
                name = ""
                if dest.caller_num and dest.caller_num == number:
                    name = self._name_for(number, dest.caller_name)
                if number and (number != call.remote or (name and name != call.remote_name)):
                    call.remote = number
                    call.remote_name = name or call.remote_name
                    self._emit(
                        CallEvent.UPDATED,
                        call,
                        at,
                        remote=self._dialled(number),
                        remote_name=call.remote_name or None,
                    )

    def _on_dialstate(self, msg: Message) -> None:
        h = msg.headers
        if h.get("Channel"):
            caller = self._channel(h)
            self._channel(h, "Dest")
            call = self._by_uid.get(caller.uniqueid) if caller else None
            if (
                call is not None
                and call.direction is Direction.OUTGOING
                and h.get("DialStatus") in ("RINGING", "PROGRESS")
                and not call.ringback
                and not call.answered
            ):
                call.ringback = True
                self._emit(CallEvent.RINGBACK, call, self._at(h))

    def _on_dialend(self, msg: Message) -> None:
        h = msg.headers
        status = h.get("DialStatus", "")
        caller = self._channel(h) if h.get("Channel") else None
        dest = self._channel(h, "Dest")
        if dest is not None:
            dest.dest_status = status
            if caller is not None and status == "ANSWER":
                caller.answered_dest = dest.uniqueid
            call = self._by_uid.get(dest.uniqueid)
            if call is not None and status == "ANSWER" and not call.originate:
                self._answer(call, h)
        if caller is not None:
            caller.caller_status = status
            call = self._by_uid.get(caller.uniqueid)
            if call is not None and status == "ANSWER":
                self._answer(call, h)

    # ------------------------------------------------------------------ bridges, hold
    def _on_bridgeenter(self, msg: Message) -> None:
        h = msg.headers
        chan = self._channel(h)
        if chan is None or h.get("BridgeType") == "holding":
            return
        chan.bridge = h.get("BridgeUniqueid", "")
        call = self._by_uid.get(chan.uniqueid)
        if call is not None and call.consult is not None:
            self._consult_moved(call, chan.bridge, h)
            return
        if call is not None and (not call.originate or call.agent_up):
            self._answer(call, h)

    def _on_bridgeleave(self, msg: Message) -> None:
        chan = self._channel(msg.headers)
        if chan is not None:
            chan.bridge = ""

    def _on_hold(self, msg: Message) -> None:
        chan = self._channel(msg.headers)
        call = self._by_uid.get(chan.uniqueid) if chan else None
        if call is not None and call.answered and not call.held:
            call.held = True
            self._emit(CallEvent.HELD, call, self._at(msg.headers))
        if chan is not None:
            self._remote_hold(chan, True, self._at(msg.headers))

    def _on_unhold(self, msg: Message) -> None:
        chan = self._channel(msg.headers)
        call = self._by_uid.get(chan.uniqueid) if chan else None
        if call is not None and call.held:
            call.held = False
            self._emit(CallEvent.RESUMED, call, self._at(msg.headers))
        if chan is not None:
            self._remote_hold(chan, False, self._at(msg.headers))

    def _remote_hold(self, holder: _Channel, held: bool, at: datetime | None) -> None:
        """``Hold``/``Unhold`` name the channel whose phone pressed hold; the party it put on hold
        is in the same bridge (or behind a ``Local/`` pair) — its call shows that it is waiting on
        hold (or no longer)."""
        for other in [self._through_local(c) for c in self._bridged_with(holder)]:
            call = self._by_uid.get(other.uniqueid)
            if call is not None and call.answered and call.remote_held is not held:
                call.remote_held = held
                self._emit(CallEvent.UPDATED, call, at, remote_hold=held)

    # ------------------------------------------------------------------ the end
    def _on_hangup(self, msg: Message) -> None:
        h = msg.headers
        uid = h.get("Uniqueid", "")
        chan = self._channel(h) if uid in self._channels else None
        if self._gone is not None:
            self._gone.add(uid)
        self._lost.discard(uid)
        call = self._by_uid.get(uid)
        if call is not None:
            cause = _int(h.get("Cause", ""), 0)
            why = ""
            if call.originate and not call.agent_up:
                why = self._not_rung(call, cause=cause)
            self._end(call, self._end_reason(call, chan, cause), self._at(h), why=why)
        self._channels.pop(uid, None)

    def _on_agent_ring_no_answer(self, msg: Message) -> None:
        """A queue rang this member for its whole ring time: missed, not "caller gave up"."""
        dest = self._channel(msg.headers, "Dest")
        if dest is not None and not dest.dest_status:
            dest.dest_status = "NOANSWER"

    def _on_originate_response(self, msg: Message) -> None:
        h = msg.headers
        call = self._by_action.pop(h.get("ActionID", ""), None)
        if call is None or call.call_id not in self._calls:
            return
        if h.get("Response", "").lower() == "success":
            uid = h.get("Uniqueid", "")
            if not call.uniqueid and uid and uid in self._channels:
                self._bind(call, self._channels[uid])
            return
        if call.uniqueid and call.uniqueid in self._channels:
            return  # the channel exists; its Hangup tells the story
        code = h.get("Reason", "")
        reason = {"5": EndReason.BUSY, "1": EndReason.CANCELLED, "3": EndReason.CANCELLED}.get(
            code, EndReason.FAILED
        )
        self._end(call, reason, self._at(h), why=self._not_rung(call, code=code))

    def _not_rung(self, call: _Call, *, code: str = "", cause: int = -1) -> str:
        """Why a click-to-dial never got past the agent's own phone, as a sentence: from the
        ``OriginateResponse`` Reason (*code*: 0 failed, 1 hung up, 3 rang out, 5 busy, 8
        congestion) or the Q.850 *cause* of the agent's leg, and what Asterisk says of the phone."""
        phone = f"your phone (extension {call.extension})"
        if self._devices.get(call.extension) is Registration.OFFLINE or cause == 20:
            return f"Click-to-dial could not ring {phone}: it is not registered with the phone system."
        if code == "5" or cause in (17, 21):
            return f"Click-to-dial rang {phone}: it was busy or declined the call."
        if code == "3" or cause in (18, 19):
            return (
                f"Click-to-dial rang {phone}: nobody picked up within {self.options.originate_timeout:g} s."
            )
        if code == "1" or cause == 16:
            return f"Click-to-dial rang {phone}: it hung up before the number was dialled."
        if code == "8" or cause in (34, 38, 41, 42):
            return "Click-to-dial failed: the phone system is overloaded (congestion); try again in a moment."
        if code == "0" or cause in (1, 3, 27, 28):
            return (
                f"Click-to-dial could not ring {phone}: it is not registered, does not exist, "
                "or cannot be reached."
            )
        return f"Click-to-dial could not ring {phone} (cause {cause})." if cause > 0 else ""

    def _on_devicestate(self, msg: Message) -> None:
        h = msg.headers
        device = h.get("Device", "")
        endpoint = device.split("/", 1)[1] if "/" in device and not device.startswith("Queue:") else ""
        if not endpoint or not self._watches(endpoint):
            return
        state = h.get("State", "")
        if state in ("UNKNOWN", "INVALID"):
            return
        reg = Registration.OFFLINE if state == "UNAVAILABLE" else Registration.ONLINE
        if self._devices.get(endpoint) is not reg:
            self._devices[endpoint] = reg
            self._set_status(self._registration, self._message)

    def _on_fullybooted(self, msg: Message) -> None:
        log.debug("Asterisk fully booted (uptime %s s)", msg.get("Uptime"))

    # ================================================================== call bookkeeping
    def _default_extension(self) -> str:
        return next((e for e in self.options.extensions if e != "*"), "")

    def _number(self, text: str) -> PhoneNumber:
        return self._plan.parse(text)

    def _dialled(self, text: str) -> PhoneNumber:
        """The number an outgoing call went to, without the outside-line/route prefix (SET3)."""
        prefixes = sorted({self._plan.dial_prefix, *(ln.prefix for ln in self.options.lines)} - {""}, key=len)
        for prefix in reversed(prefixes):
            rest = text[len(prefix) :]
            if text.startswith(prefix) and len(rest) > self._plan.max_internal_digits:
                return self._plan.parse(rest)
        return self._plan.parse(text)

    @staticmethod
    def _name_for(number: str, name: str) -> str:
        name = _known(name)
        return "" if not name or name == number else name

    def _new_call_id(self, chan: _Channel) -> str:
        return f"{self.name}:{chan.uniqueid}"

    def _bind(self, call: _Call, chan: _Channel) -> None:
        call.uniqueid = chan.uniqueid
        call.linkedid = chan.linkedid
        self._by_uid[chan.uniqueid] = call

    def _line_info(self, chan: _Channel, caller: _Channel | None) -> tuple[str, str]:
        """(line label, DNIS) for an incoming leg — IN12."""
        vars_ = {**(caller.variables if caller else {}), **chan.variables}
        # The number the call came in on: the dialplan's DID variable, else what the channel
        # that started the call dialled (a queue member's leg is dialled by a Local channel
        # whose own extension is the member's, not the queue's).
        origin = self._channels.get(chan.linkedid)
        dnis = (
            vars_.get(self.options.did_variable, "")
            or (origin.dialled if origin is not None and origin is not chan else "")
            or (caller.dialled if caller else "")
            or chan.dialled
        )
        line = vars_.get(self.options.line_variable, "")
        if not line and dnis:
            line = next((ln.label for ln in self.options.lines if ln.did and ln.did == dnis), "")
        return line, dnis

    def _carried(self, chan: _Channel) -> dict[str, str]:
        """The variables a call carries (SET2): inherited ones + the configured names."""
        skip = {self.options.did_variable, self.options.line_variable}
        out = {k: v for k, v in chan.variables.items() if k not in skip and not k.startswith("CALLSYS_")}
        if self.options.variables:
            origin = self._channels.get(chan.linkedid)
            if origin is not None and origin is not chan:
                for name in self.options.variables:
                    if name in origin.variables and name not in out:
                        out[name] = origin.variables[name]
        return out

    def _start_incoming(self, chan: _Channel, caller: _Channel | None, h: Mapping[str, str]) -> _Call | None:
        assert chan.endpoint is not None
        if chan.uniqueid in self._lost:
            return None  # its call was ended when the link was lost: logged once, not again
        call = _Call(call_id=self._new_call_id(chan), extension=chan.endpoint, direction=Direction.INCOMING)
        self._bind(call, chan)
        self._calls[call.call_id] = call
        if caller is not None:
            call.remote = caller.caller_num
            call.remote_name = self._name_for(caller.caller_num, caller.caller_name)
        else:
            call.remote = chan.connected_num
            call.remote_name = self._name_for(chan.connected_num, chan.connected_name)
        call.line, call.dnis = self._line_info(chan, caller)
        call.variables = self._carried(chan)
        self._emit(
            CallEvent.INCOMING,
            call,
            self._at(h),
            remote=self._number(call.remote),
            remote_name=call.remote_name or None,
            line=call.line or None,
            dnis=call.dnis or None,
            variables=call.variables or None,
        )
        return call

    def _maybe_start_outgoing(self, chan: _Channel, h: Mapping[str, str]) -> None:
        if (
            not self._watches(chan.endpoint)
            or not chan.originated_here
            or chan.uniqueid in self._by_uid
            or chan.uniqueid in self._lost
        ):
            return
        assert chan.endpoint is not None
        number = _known(chan.exten) if chan.exten != "s" else ""
        call = _Call(
            call_id=self._new_call_id(chan),
            extension=chan.endpoint,
            direction=Direction.OUTGOING,
            remote=number,
        )
        self._bind(call, chan)
        self._calls[call.call_id] = call
        self._emit(CallEvent.OUTGOING, call, self._at(h), remote=self._dialled(number) if number else None)

    def _start_originate(self, chan: _Channel, h: Mapping[str, str], wanted: str = "") -> None:
        """The first leg of a click-to-dial: our own pending one if we can tell, else a new call."""
        assert chan.endpoint is not None
        if chan.uniqueid in self._lost:
            return
        queue = self._pending_originates.get(chan.endpoint)
        call: _Call | None = None
        if queue:
            if wanted:
                call = next((c for c in queue if c.call_id == wanted), None)
                if call is not None:
                    queue.remove(call)
            if call is None:
                call = queue.popleft()
        if call is not None:
            self._bind(call, chan)
            return
        call = _Call(
            call_id=self._new_call_id(chan),
            extension=chan.endpoint,
            direction=Direction.OUTGOING,
            originate=True,
        )
        self._bind(call, chan)
        self._calls[call.call_id] = call
        self._emit(CallEvent.OUTGOING, call, self._at(h))

    def _refresh(self, call: _Call, at: datetime | None, caller: _Channel | None = None) -> None:
        """Re-derive line, DNIS, variables and caller; emit UPDATED when something changed."""
        chan = self._channels.get(call.uniqueid)
        if chan is None:
            return
        changes: dict[str, Any] = {}
        if call.direction is Direction.INCOMING:
            if caller is None and chan.dialled_by:
                caller = self._channels.get(chan.dialled_by)
            line, dnis = self._line_info(chan, caller)
            if line and line != call.line:
                call.line = changes["line"] = line
            if dnis and dnis != call.dnis:
                call.dnis = changes["dnis"] = dnis
            if caller is not None and caller.caller_num and caller.caller_num != call.remote:
                call.remote = caller.caller_num
                changes["remote"] = self._number(call.remote)
            if caller is not None:
                name = self._name_for(caller.caller_num, caller.caller_name)
                if name and name != call.remote_name:
                    call.remote_name = changes["remote_name"] = name
        variables = self._carried(chan)
        if variables != call.variables:
            call.variables = variables
            changes["variables"] = variables
        if changes:
            self._emit(CallEvent.UPDATED, call, at, **changes)

    def _answer(self, call: _Call, h: Mapping[str, str]) -> None:
        if not call.answered:
            call.answered = True
            self._emit(CallEvent.ANSWERED, call, self._at(h))

    def _end_reason(self, call: _Call, chan: _Channel | None, cause: int) -> EndReason:
        if call.answered:
            return EndReason.COMPLETED
        if cause == 26:
            return EndReason.ANSWERED_ELSEWHERE
        if call.direction is Direction.INCOMING:
            if call.voicemail_requested:
                return EndReason.VOICEMAIL
            if call.reject_requested or cause == 21:
                return EndReason.REJECTED
            status = chan.dest_status if chan else ""
            if status == "CANCEL":
                partner = self._channels.get(chan.dialled_by) if chan else None
                if (
                    partner is not None
                    and partner.answered_dest
                    and chan
                    and partner.answered_dest != chan.uniqueid
                ):
                    return EndReason.ANSWERED_ELSEWHERE
                return EndReason.CANCELLED
            rang = bool(chan and chan.rang)
            if status == "BUSY" or cause == 17:
                return EndReason.REJECTED if rang else EndReason.BUSY
            if status == "NOANSWER" or cause in (18, 19):
                return EndReason.MISSED
            if status in ("CONGESTION", "CHANUNAVAIL") or cause in _FAIL_CAUSES:
                return EndReason.FAILED
            return EndReason.CANCELLED
        if call.originate and not call.agent_up:
            # The agent's own phone never went off-hook for the click-to-dial.
            if cause == 17:
                return EndReason.BUSY
            return EndReason.FAILED if cause in _FAIL_CAUSES else EndReason.CANCELLED
        status = chan.caller_status if chan else ""
        if status == "CANCEL":
            return EndReason.CANCELLED
        if status == "BUSY" or cause == 17:
            return EndReason.BUSY
        if status == "NOANSWER" or cause in (18, 19):
            return EndReason.NO_ANSWER
        if status in ("CONGESTION", "CHANUNAVAIL") or cause in _FAIL_CAUSES:
            return EndReason.FAILED
        return EndReason.CANCELLED

    def _claim_unanswered(self, call: _Call) -> bool:
        """Whether *call* is the leg that carries its customer call's "not answered" — the
        first of its legs to end unanswered (B1: one customer call, one activity)."""
        key = call.linkedid or call.uniqueid
        if not key:
            return True
        if key in self._unanswered:
            return False
        self._unanswered[key] = None
        while len(self._unanswered) > _MAX_UNANSWERED:
            self._unanswered.popitem(last=False)
        return True

    def _end(self, call: _Call, reason: EndReason, at: datetime | None, why: str = "") -> None:
        """End *call*; *why*, a sentence, rides on the ended call (its variables, shown with it
        and written into its activity) when the reason alone would leave the agent guessing."""
        if call.call_id not in self._calls:
            return
        if (
            call.direction is Direction.INCOMING
            and not call.answered
            and reason not in (EndReason.ANSWERED_ELSEWHERE, EndReason.VOICEMAIL)
            and not self._claim_unanswered(call)
        ):
            # A queue or ring group rang several agents and nobody answered (or one of them sent
            # it to voicemail): the leg that ended first says so, the others merely rang.
            reason = EndReason.ANSWERED_ELSEWHERE
        del self._calls[call.call_id]
        if call.uniqueid:
            self._by_uid.pop(call.uniqueid, None)
        queue = self._pending_originates.get(call.extension)
        if queue and call in queue:
            queue.remove(call)
        if call.originate_action:
            self._by_action.pop(call.originate_action, None)
        self._finish_consult(call, at)
        if call.transferred_to:
            self._emit(CallEvent.ENDED, call, at, reason=reason, transferred_to=call.transferred_to)
        elif why:
            self._emit(CallEvent.ENDED, call, at, reason=reason, variables={**call.variables, WHY: why})
        else:
            self._emit(CallEvent.ENDED, call, at, reason=reason)

    def _emit(self, event: CallEvent, call: _Call, at: datetime | None, **fields: Any) -> None:
        if call.answer_pending and event is not CallEvent.ANSWERED:
            # anything else that happens to it first (its end, a hold) comes after its answer
            self._flush_answer(call, call.answer_fallback)
        if self._listener is None:
            return
        try:
            ev = ProviderEvent(
                event=event,
                call_id=call.call_id,
                direction=call.direction,
                extension=call.extension,
                at=at,
                **fields,
            )
        except ValueError:
            log.exception("could not build a %s event for %s", event, call.call_id)
            return
        self._listener.call_event(ev)

    def _live(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            raise UnknownCall("That call has already ended.")
        return call

    def _bridged_with(self, chan: _Channel) -> Iterator[_Channel]:
        """The other channels in *chan*'s bridge (none when it is in no bridge)."""
        if chan.bridge:
            for other in list(self._channels.values()):
                if other is not chan and other.bridge == chan.bridge:
                    yield other

    def _peer_of(self, call: _Call) -> _Channel | None:
        chan = self._channels.get(call.uniqueid)
        if chan is None:
            return None
        peer = next(self._bridged_with(chan), None)
        if peer is not None:
            return self._through_local(peer)
        if chan.dialled_by:
            return self._channels.get(chan.dialled_by)
        if chan.answered_dest:
            return self._channels.get(chan.answered_dest)
        return None

    def _through_local(self, peer: _Channel) -> _Channel:
        """The party behind a ``Local/`` channel pair: a queue with ``Local/`` members (FreePBX's
        ``Local/1001@from-queue/n``) bridges the agent's phone with the pair's ``;2`` half, and the
        caller with its ``;1`` half. Redirecting the ``;2`` half would move the plumbing and leave
        the caller in the queue; the caller is the one bridged with the other half."""
        seen = {peer.uniqueid}
        while peer.name.startswith("Local/") and ";" in peer.name:
            base, half = peer.name.rsplit(";", 1)
            other_name = f"{base};{'1' if half == '2' else '2'}"
            other = next((c for c in self._channels.values() if c.name == other_name), None)
            if other is None:
                break
            beyond = next((c for c in self._bridged_with(other) if c.uniqueid not in seen), None)
            if beyond is None:
                break
            seen.add(beyond.uniqueid)
            peer = beyond
        return peer

    def channel_of(self, call_id: str) -> str | None:
        """The Asterisk channel name of a live call's leg (``PJSIP/1001-0000002a``): what the PBX's
        CDR rows name it by (the server's reconciliation ties them to the live call with it)."""
        call = self._calls.get(call_id)
        chan = self._channels.get(call.uniqueid) if call is not None and call.uniqueid else None
        return chan.name if chan is not None else None

    def live_call_ids(self) -> tuple[str, ...]:
        return tuple(self._calls)

    @property
    def channel_count(self) -> int:
        return len(self._channels)

    # ================================================================== link loss, resync
    def _link_lost(self) -> None:
        """The link dropped: remember when the PBX was last heard; unless the link is back within
        ``link_grace``, end every live call as of that moment (see ``_end_on_loss``)."""
        dropped = self.client.dropped_at
        self._dropped_at = self._pbx_time(dropped if dropped is not None else time.time())
        if self._grace is not None:
            return  # the calls of an earlier drop are already counting down
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._grace = loop.call_later(self.options.link_grace, self._end_on_loss)

    def _end_on_loss(self) -> None:
        """The link stayed down: nobody can tell whether the calls go on (a restarted PBX has
        dropped them all), so no desktop may go on showing them as ringing or talking. Each ends
        as of the moment the PBX was last heard — the outage is not counted as talk time."""
        self._grace = None
        if self.client.online:
            return
        at = self._dropped_at
        ended = 0
        for call in list(self._calls.values()):
            if call.uniqueid:
                self._lost.add(call.uniqueid)
            self._end(call, self._unseen_end(call), at)
            ended += 1
        if ended:
            log.info("the link to Asterisk is down: %d live call(s) ended as of its loss", ended)

    @staticmethod
    def _unseen_end(call: _Call) -> EndReason:
        """How a call ends when its end was not seen (the channel was gone, or the link is)."""
        if not call.uniqueid:
            return EndReason.FAILED  # a click-to-dial whose answer went with the link
        if call.answered:
            return EndReason.COMPLETED
        return EndReason.MISSED if call.direction is Direction.INCOMING else EndReason.NO_ANSWER

    def _begin_resync(self) -> None:
        """At the login response: what we know from before is unconfirmed from now on."""
        self.resyncs += 1
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        for chan in self._channels.values():
            chan.stale = True
        self._gone = set()

    async def _resync(self) -> None:
        """After every login: reconcile our calls with the PBX's live channels."""
        try:
            result = await self.client.send_action("CoreShowChannels")
        except (ProviderError, TimeoutError) as exc:
            log.info("could not list Asterisk's channels after connecting: %s", exc)
            self._gone = None
            return
        gone, self._gone = self._gone or set(), None
        listed: dict[str, Message] = {}
        for item in result.events:
            uid = item.get("Uniqueid")
            if uid and item.event == "CoreShowChannel":
                listed[uid] = item
        # Channels we knew that did not survive the outage.
        for uid, old in list(self._channels.items()):
            if old.stale and uid not in listed:
                del self._channels[uid]
        for uid, item in listed.items():
            if uid in gone:
                continue
            known = self._channels.get(uid)
            if known is None:
                fresh = _Channel.from_event(item.headers)
                fresh.bridge = item.get("BridgeId", "")
                self._channels[uid] = fresh
            elif known.stale:
                known.update(item.headers)
                known.bridge = item.get("BridgeId", "")
        # What happened while we were away happened after the PBX was last heard: a call that
        # ended then ends as of that moment (its real end is in the PBX's records, not on AMI),
        # never at the reconnect, which would count the outage as talk time. On the first
        # connect there is no such moment: the manager's clock.
        now, self._dropped_at = self._dropped_at, None
        pending: dict[str, str] = {}  # unique id → channel name of calls answered meanwhile
        for call in list(self._calls.values()):
            if not call.uniqueid:
                if call.connection < self.client.connections:
                    # Requested before the link dropped: its OriginateResponse is lost with it.
                    self._end(call, EndReason.FAILED, now)
                continue
            live = self._channels.get(call.uniqueid)
            if live is None:
                self._end(call, self._unseen_end(call), now)
            elif live.state == _UP and not call.answered and (not call.originate or live.bridge):
                call.answered = True
                if self.options.pbx_clock and not call.originate:
                    # When it was answered, the PBX's record of the channel says (asked below);
                    # the moment it was last heard is only the fallback.
                    call.answer_pending, call.answer_fallback = True, now
                    pending[call.uniqueid] = live.name
                else:
                    self._emit(CallEvent.ANSWERED, call, now)
        survivors = self._lost & set(listed)
        if survivors:
            log.info(
                "%d call(s) ended when the link was lost are still up on Asterisk; they stay "
                "logged up to the loss",
                len(survivors),
            )
        self._lost = survivors  # forgotten at their Hangup
        received = time.time()
        adopted = []
        for uid, item in listed.items():
            candidate = self._channels.get(uid)
            if (
                candidate is None
                or uid in self._by_uid
                or uid in self._lost
                or not self._watches(candidate.endpoint)
            ):
                continue
            age = _seconds(item.get("Duration") or item.get("Seconds"))
            adopted.append(
                self._adopt(candidate, self._pbx_time(received - age) if age is not None else None)
            )
        if pending:
            answers = await self._answer_times(pending)
            for uid in pending:
                waiting = self._by_uid.get(uid)
                if waiting is not None and waiting.answer_pending:
                    self._flush_answer(waiting, answers.get(uid) or waiting.answer_fallback)
        await self._refresh_devices()
        for call in adopted:
            await self._fetch_variables(call)

    def _flush_answer(self, call: _Call, at: datetime | None) -> None:
        call.answer_pending = False
        self._emit(CallEvent.ANSWERED, call, at)

    async def _answer_times(self, channels: dict[str, str]) -> dict[str, datetime]:
        """When the PBX answered each channel (unique id → name): ``CDR(answer,u)`` through
        ``Status``, its CDR's answer time on the clock the events are stamped with; missing where
        it cannot say."""

        async def one(uid: str, name: str) -> tuple[str, datetime | None]:
            try:
                result = await self.client.send_action(
                    "Status", {"Channel": name, "Variables": "CDR(answer,u)"}
                )
            except (ProviderError, TimeoutError):
                return uid, None
            for item in result.events:
                if item.event != "Status" or item.get("Uniqueid", uid) != uid:
                    continue
                for entry in item.get_all("Variable"):
                    name_, _, value = entry.partition("=")
                    if name_ == "CDR(answer,u)":
                        try:
                            stamp = float(value)
                        except ValueError:
                            return uid, None
                        return uid, datetime.fromtimestamp(stamp, UTC) if stamp > 0 else None
            return uid, None

        found = await asyncio.gather(*(one(uid, name) for uid, name in channels.items()))
        return {uid: at for uid, at in found if at is not None}

    async def _refresh_devices(self) -> None:
        """Whether each watched phone is registered right now (``DeviceStateList``, Asterisk 13+)."""
        try:
            result = await self.client.send_action("DeviceStateList")
        except (ProviderError, TimeoutError) as exc:
            log.debug("no device states from Asterisk: %s", exc)
            return
        for item in result.events:
            if item.event == "DeviceStateChange":
                self._on_devicestate(item)

    async def _fetch_variables(self, call: _Call) -> None:
        """An adopted call's line, DNIS and IVR variables (IN12, SET2) — the VarSet events that
        carried them were sent while we were not listening. Asks ``Status`` for them by name."""
        chan = self._channels.get(call.uniqueid)
        if chan is None or call.call_id not in self._calls:
            return
        names = [self.options.did_variable, self.options.line_variable, *self.options.variables]
        try:
            result = await self.client.send_action(
                "Status", {"Channel": chan.name, "Variables": ",".join(names)}
            )
        except (ProviderError, TimeoutError) as exc:
            log.debug("no variables for %s: %s", chan.name, exc)
            return
        for item in result.events:
            if item.event != "Status" or item.get("Uniqueid", call.uniqueid) != call.uniqueid:
                continue
            for entry in item.get_all("Variable"):
                name, sep, value = entry.partition("=")
                name = name.lstrip("_")
                if sep and value and name in names and len(chan.variables) < _MAX_VARS:
                    chan.variables[name] = value
        if call.call_id in self._calls:
            self._refresh(call, None)

    def _adopt(self, chan: _Channel, since: datetime | None = None) -> _Call:
        """A live channel of a watched extension we did not know about (we just connected),
        *since* the channel was created (``CoreShowChannel``'s ``Duration``): that is when the
        call started, and for one already connected when it counts from — AMI does not say when
        it was answered, so its talk time may include the ring time we did not see."""
        assert chan.endpoint is not None
        if chan.originated_here:
            direction = Direction.OUTGOING
            remote = (_known(chan.exten) if chan.exten != "s" else "") or chan.connected_num
        else:
            direction = Direction.INCOMING
            remote = chan.connected_num
        call = _Call(
            call_id=self._new_call_id(chan),
            extension=chan.endpoint,
            direction=direction,
            remote=remote,
            remote_name=self._name_for(remote, chan.connected_name),
        )
        self._bind(call, chan)
        self._calls[call.call_id] = call
        fields: dict[str, Any] = {
            "remote": (self._dialled(remote) if direction is Direction.OUTGOING else self._number(remote))
            if remote
            else None,
            "remote_name": call.remote_name or None,
        }
        if chan.state == _UP:
            call.answered = True
            self._emit(CallEvent.ANSWERED, call, since, **fields)
        elif direction is Direction.INCOMING:
            self._emit(CallEvent.INCOMING, call, since, **fields)
        else:
            self._emit(CallEvent.OUTGOING, call, since, **fields)
        return call
