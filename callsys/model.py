"""Domain values: phone numbers, CRM parties, calls, and the one flat call-event enum.

Everything here is a frozen dataclass that validates itself when built (aiortc style), so a
value that exists is a value that is valid. Text that comes from the outside world (a caller's
display name, a CRM record's name) is *sanitised* rather than rejected: a hostile caller ID must
never stop a call from ringing (see ``clean_text``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "MAX_TEXT",
    "Call",
    "CallEvent",
    "CallState",
    "Direction",
    "EndReason",
    "Party",
    "PartyKind",
    "PhoneNumber",
    "ProviderEvent",
    "clean_text",
    "freeze_variables",
]

#: Longest display text we keep from the outside world (names, companies, IVR values).
MAX_TEXT = 256

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


# Format characters that are part of correct text and must survive: ZWNJ and ZWJ shape Persian
# and Arabic words ("می‌خواهم"). Every other format character (bidi overrides and isolates,
# zero-width spaces used for spoofing, BOMs) is dropped.
_KEEP_FORMAT = frozenset("\u200c\u200d")


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    """Return *value* as printable single-line text of at most *limit* characters.

    Control and format characters (C0/C1, bidi overrides, zero-width spaces used for spoofing)
    are dropped — except ZWNJ/ZWJ, which Persian spelling needs; runs of whitespace collapse to
    one space. Never raises.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit * 4:  # bound the work before normalising a 10 MB header
        text = text[: limit * 4]
    if text.isascii() and text.isprintable():  # the common case: nothing to drop
        return " ".join(text.split())[:limit]
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in _KEEP_FORMAT:
            out.append(" " if ch in "\t\r\n" else "")
        else:
            out.append(ch)
    cleaned = " ".join("".join(out).split())
    return cleaned[:limit]


class Direction(StrEnum):
    """Direction of a call as seen from the agent's extension."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


class CallState(StrEnum):
    RINGING = "ringing"  # incoming, alerting the agent
    DIALING = "dialing"  # outgoing, not yet ringing at the far end
    ALERTING = "alerting"  # outgoing, far end is ringing (ringback)
    ACTIVE = "active"  # connected, audio flowing
    HELD = "held"  # connected, on hold
    ENDED = "ended"

    @property
    def is_live(self) -> bool:
        return self is not CallState.ENDED

    @property
    def is_connected(self) -> bool:
        return self in (CallState.ACTIVE, CallState.HELD)


class EndReason(StrEnum):
    COMPLETED = "completed"  # was answered, then hung up by either side
    MISSED = "missed"  # incoming, rang out unanswered (no answer / timeout)
    REJECTED = "rejected"  # incoming, declined by the agent
    VOICEMAIL = "voicemail"  # incoming, sent to voicemail by the agent while it rang (IN6)
    CANCELLED = "cancelled"  # caller gave up while it rang (incoming) or we cancelled (outgoing)
    BUSY = "busy"  # the callee was busy (outgoing) / the agent was busy or DND (incoming)
    NO_ANSWER = "no_answer"  # outgoing, the far end did not answer
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # ring group / queue: another agent took it (B1)
    FAILED = "failed"  # network or protocol error, unreachable number

    @property
    def is_unanswered(self) -> bool:
        """True for a call that never connected (IN8 "Unanswered" activity)."""
        return self not in (EndReason.COMPLETED, EndReason.ANSWERED_ELSEWHERE)


class CallEvent(StrEnum):
    """The call lifecycle as one flat enum (baresip's ``CALL_INCOMING … CALL_CLOSED``)."""

    INCOMING = "incoming"  # an incoming call starts ringing here
    OUTGOING = "outgoing"  # we started dialling
    RINGBACK = "ringback"  # the far end of an outgoing call is ringing
    ANSWERED = "answered"  # connected
    HELD = "held"
    RESUMED = "resumed"
    UPDATED = "updated"  # caller name, line, IVR variables … learned later
    DTMF = "dtmf"  # a DTMF digit was received (value in ProviderEvent.digits)
    ENDED = "ended"  # the call is over; Call.end_reason says why


class PartyKind(StrEnum):
    CONTACT = "contact"
    ACCOUNT = "account"
    LEAD = "lead"
    SYSTEMUSER = "systemuser"
    CUSTOM = "custom"  # a customised table (IN2); Party.table holds its logical name


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A phone number: how it was written, and (when it is a real public number) its E.164 form.

    ``digits`` is the dialable ASCII form (no prefix, no separators) — for an internal
    extension like ``1001`` it is all we have; ``e164`` is ``None`` then.
    """

    raw: str
    e164: str | None = None
    digits: str = ""
    extension: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", clean_text(self.raw, 64))
        if self.e164 is not None and not _E164.match(self.e164):
            raise ValueError(f"not an E.164 number: {self.e164!r}")
        if self.digits and not (self.digits.isascii() and self.digits.isdigit()):
            raise ValueError(f"digits must be ASCII digits: {self.digits!r}")
        if self.extension is not None and not (self.extension.isascii() and self.extension.isdigit()):
            raise ValueError(f"extension must be ASCII digits: {self.extension!r}")

    @property
    def key(self) -> str:
        """The lookup key: E.164 when known, else the digits (internal extensions)."""
        return self.e164 or self.digits

    @property
    def is_anonymous(self) -> bool:
        return not self.e164 and not self.digits

    def __str__(self) -> str:
        return self.e164 or self.digits or self.raw


@dataclass(frozen=True, slots=True)
class Party:
    """A CRM record that can be on the other end of a call (IN1, ARCH1)."""

    kind: PartyKind
    id: str
    name: str
    company: str = ""
    numbers: tuple[PhoneNumber, ...] = ()
    url: str = ""
    table: str = ""  # logical name (contact, account, …, or a custom table)
    source: str = ""  # which Crm produced it ("local", "dynamics")
    #: The phone field each of ``numbers`` is stored in ("mobilephone", "telephone1", "home", …),
    #: in the same order, when the CRM says; the desktop names it (work, mobile, home) in pickers.
    fields: tuple[str, ...] = ()

    def field_of(self, index: int) -> str:
        """The field of ``numbers[index]``, or ``""`` when unknown."""
        return self.fields[index] if 0 <= index < len(self.fields) else ""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a party needs an id")
        object.__setattr__(self, "name", clean_text(self.name))
        object.__setattr__(self, "company", clean_text(self.company))
        if not self.table:
            object.__setattr__(self, "table", self.kind.value)


def freeze_variables(values: Mapping[str, str] | None) -> Mapping[str, str]:
    if not values:
        return MappingProxyType({})
    return MappingProxyType(
        {clean_text(k, 64): clean_text(v) for k, v in list(values.items())[:64] if clean_text(k, 64)}
    )


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """What a provider tells the CallManager. Only ``event`` and ``call_id`` are required;
    every other field is "what I know now" and ``None``/empty means "no news"."""

    event: CallEvent
    call_id: str
    direction: Direction | None = None
    remote: PhoneNumber | None = None
    remote_name: str | None = None
    line: str | None = None  # receiving line / DNIS label (IN12) or the line used to dial (SET4)
    dnis: str | None = None  # the dialled number on the company's side
    extension: str | None = None  # the agent's extension
    variables: Mapping[str, str] | None = None  # IVR-collected values (SET2)
    reason: EndReason | None = None
    digits: str = ""  # DTMF received
    at: datetime | None = None  # when it happened (provider clock); defaults to the manager's clock
    remote_hold: bool | None = None  # the other party put the call on hold (True) / took it off (False)
    #: This call is the agent's consultation for the call with this id (attended transfer); ""
    #: says it is not (any more).
    consult_of: str | None = None
    #: The party of this call was handed over to this number or address (a transfer).
    transferred_to: str | None = None
    #: The call is (True) or is no longer (False) part of a conference on this phone.
    conference: bool | None = None

    def __post_init__(self) -> None:
        if not self.call_id:
            raise ValueError("a provider event needs a call id")
        if self.remote_name is not None:
            object.__setattr__(self, "remote_name", clean_text(self.remote_name))
        for name in ("line", "dnis", "extension", "transferred_to"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, clean_text(value, 64))
        if self.variables is not None:
            object.__setattr__(self, "variables", freeze_variables(self.variables))
        if self.event is CallEvent.ENDED and self.reason is None:
            raise ValueError("an ENDED event needs a reason")


@dataclass(frozen=True, slots=True)
class Call:
    """A snapshot of one call, as the CallManager knows it. Observers get these; they are
    immutable, so no observer can change what the others (or the manager) see."""

    id: str
    direction: Direction
    state: CallState
    started_at: datetime
    remote: PhoneNumber = field(default_factory=lambda: PhoneNumber(raw=""))
    remote_name: str = ""
    line: str = ""
    dnis: str = ""
    extension: str = ""
    variables: Mapping[str, str] = field(default_factory=lambda: freeze_variables(None))
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    waiting: bool = False  # rang while another call was connected (IN5)
    on_hold_since: datetime | None = None
    #: The other party has put the call on hold (re-INVITE sendonly/inactive); the call stays
    #: ACTIVE (or HELD, if we hold it too): only we can take our own hold off.
    remote_hold: bool = False
    provider: str = ""
    loggable: bool = True  # False when the short-number rule says so (IN13)
    #: The id of the call this one consults for: the agent put that call on hold and dialled
    #: this one to talk first, then transfers the held party here or joins both (attended
    #: transfer, conference). "" for an ordinary call.
    consult_of: str = ""
    #: Who the party was handed over to (a blind or attended transfer), as dialled.
    transferred_to: str = ""
    #: Part of a three-way conference of the agent with this call's and another call's parties.
    conference: bool = False

    @property
    def duration_seconds(self) -> int:
        """Talk time in whole seconds (0 for a call that never connected)."""
        if self.answered_at is None:
            return 0
        end = self.ended_at
        if end is None:
            return 0
        return max(0, round((end - self.answered_at).total_seconds()))

    @property
    def is_missed(self) -> bool:
        """Incoming and never answered by this agent — not counting "answered elsewhere" (B1)."""
        return (
            self.direction is Direction.INCOMING
            and self.end_reason is not None
            and self.end_reason in (EndReason.MISSED, EndReason.CANCELLED, EndReason.BUSY)
        )

    def evolve(self, **changes: object) -> Call:
        return replace(self, **changes)  # type: ignore[arg-type]
