"""The one provider protocol (shaped like an httpx transport) and the explicit provider registry.

A provider adapts one telephony system — the embedded softphone, Asterisk AMI, a callsys server,
the simulator — to a handful of async commands, and reports what happens as ``ProviderEvent``s
to a ``ProviderListener`` (normally the CallManager plus a status observer). Providers declare
``capabilities``; the UI offers only what they declare, and a command outside them raises
``NotSupported``.

Threading: ``listener`` methods must be called on the asyncio loop that called ``start``.
A provider with threads of its own hops with ``loop.call_soon_threadsafe``.

The registry is explicit — a table of names → factories, filled by ``providers/__init__.py`` —
because Briefcase bundles do not carry package entry points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from callsys.errors import ConfigError, NotSupported
from callsys.model import ProviderEvent
from callsys.optionkeys import OptionKeys

__all__ = [
    "ActivityRelay",
    "Capability",
    "DirectSipCalls",
    "KeepsOptions",
    "Line",
    "PerCallVoicemail",
    "Provider",
    "ProviderFactory",
    "ProviderListener",
    "ProviderRegistry",
    "ProviderStatus",
    "Registration",
    "ScenarioPlayer",
    "SipAddressDialing",
    "require",
    "writes_own_activity",
]


class Capability(StrEnum):
    ANSWER = "answer"
    REJECT = "reject"
    HANGUP = "hangup"
    HOLD = "hold"
    MUTE = "mute"
    DIAL = "dial"
    DTMF = "dtmf"
    TRANSFER = "transfer"  # blind: hand a connected call to a number
    CONSULT = "consult"  # hold a call and dial someone to talk to first (``consult``)
    ATTENDED_TRANSFER = "attended_transfer"  # hand a call to its consulted party (``transfer_to_call``)
    CONFERENCE = "conference"  # the agent, a call's party and its consulted party together
    VOICEMAIL = "voicemail"  # send a ringing call to voicemail
    DND = "dnd"
    ALL_EXTENSIONS = "all_extensions"  # sees calls of every extension (server-side monitoring)


class Registration(StrEnum):
    ONLINE = "online"  # registered / connected
    CONNECTING = "connecting"
    OFFLINE = "offline"  # cannot reach the PBX / registrar / server
    DISABLED = "disabled"  # not configured


@dataclass(frozen=True, slots=True)
class Line:
    """A line (SET4): a SIP account, a trunk/DID, or a PBX extension the agent can dial from."""

    id: str
    label: str
    registration: Registration = Registration.ONLINE
    detail: str = ""  # e.g. "401 Unauthorized" when registration failed


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    provider: str
    registration: Registration
    lines: tuple[Line, ...] = ()
    dnd: bool = False
    message: str = ""  # human-readable, shown in the status bar / tray tooltip
    #: What a call would lack, among "microphone", "speaker", "ringer" (a softphone with no
    #: sound device, or with its audio turned off); empty when calls have audio or the
    #: provider's calls do not go through this computer. ``audio`` says it in a sentence.
    audio_missing: tuple[str, ...] = ()
    audio: str = ""


@runtime_checkable
class ProviderListener(Protocol):
    def call_event(self, event: ProviderEvent) -> None: ...

    def status_changed(self, status: ProviderStatus) -> None: ...


@runtime_checkable
class Provider(Protocol):
    """One telephony adapter. Every command is async and may raise ``ProviderError``."""

    name: str

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    def lines(self) -> tuple[Line, ...]: ...

    async def start(self, listener: ProviderListener) -> None: ...

    async def answer(self, call_id: str) -> None: ...

    async def reject(self, call_id: str) -> None: ...

    async def send_to_voicemail(self, call_id: str) -> None:
        """Send a ringing incoming call to voicemail (IN6); it ends with ``EndReason.VOICEMAIL``.
        Providers without ``Capability.VOICEMAIL`` raise ``NotSupported`` (``require``)."""
        ...

    async def hangup(self, call_id: str) -> None: ...

    async def hold(self, call_id: str) -> None: ...

    async def resume(self, call_id: str) -> None: ...

    async def set_mute(self, call_id: str, muted: bool) -> None: ...

    async def dial(self, number: str, line: str | None = None) -> str:
        """Start an outgoing call to *number* (already prefixed, SET3) and return its call id."""
        ...

    async def send_dtmf(self, call_id: str, digits: str) -> None: ...

    async def transfer(self, call_id: str, target: str) -> None: ...

    async def consult(self, call_id: str, number: str, line: str | None = None) -> str:
        """Put the connected call *call_id* on hold and dial *number* (already prefixed) to talk
        first; return the new call's id. Its ``OUTGOING`` event names *call_id* in
        ``consult_of``. Providers without ``Capability.CONSULT`` raise ``NotSupported``."""
        ...

    async def transfer_to_call(self, call_id: str, other_id: str) -> None:
        """Attended transfer: connect the party of *call_id* with the party of *other_id* (its
        consultation) and leave both; *call_id* ends with ``transferred_to``. Providers without
        ``Capability.ATTENDED_TRANSFER`` raise ``NotSupported``."""
        ...

    async def conference(self, call_id: str, other_id: str) -> None:
        """Join the agent and the parties of *call_id* and *other_id* in a three-way conference;
        both calls report ``conference=True``. Providers without ``Capability.CONFERENCE`` raise
        ``NotSupported``."""
        ...

    async def set_dnd(self, enabled: bool) -> None: ...

    async def close(self) -> None: ...


# ------------------------------------------------------------------ optional behaviour, declared
# What only some providers do, each a small protocol a provider implements (and ``isinstance``
# answers), so that a front end asks the type rather than probing names.


@runtime_checkable
class PerCallVoicemail(Protocol):
    """Voicemail is decided per call (the softphone: the line the call came in on has a
    ``voicemail_uri``), beyond ``Capability.VOICEMAIL``."""

    def can_send_to_voicemail(self, call_id: str) -> bool: ...


@runtime_checkable
class ActivityRelay(Protocol):
    """A provider whose far side may write the calls' CRM activities (a callsys server): when
    ``owns_activity`` is false the desktop writes none and sends the agent's notes and chosen
    records there instead."""

    @property
    def owns_activity(self) -> bool: ...

    async def set_notes(self, call_id: str, text: str) -> None: ...

    async def link(self, call_id: str, table: str, record_id: str) -> None: ...


def writes_own_activity(provider: object) -> bool:
    """Whether the desktop logs *provider*'s calls as CRM activities itself (every provider but
    a callsys server that writes them)."""
    return not isinstance(provider, ActivityRelay) or provider.owns_activity


@runtime_checkable
class SipAddressDialing(Protocol):
    """A provider that dials a SIP address (``sip:alice@example.org``) as it is, not as digits."""

    dials_sip_addresses: bool


@runtime_checkable
class KeepsOptions(Protocol):
    """A provider that keeps the options it runs with, parsed and checked (the softphone's
    ``SipOptions``, TAPI's ``TapiOptions``): a front end reads what the phone runs with (its
    lines, its direct line) from there — not from the settings, which may have changed since."""

    @property
    def options(self) -> object: ...


@runtime_checkable
class DirectSipCalls(Protocol):
    """A softphone that takes SIP calls addressed to it directly, with no registrar between."""

    def listen_address(self) -> tuple[str, int]:
        """The host and port it takes them on. Raises ``ProviderError`` while it is not running."""
        ...


@runtime_checkable
class ScenarioPlayer(Protocol):
    """The simulator: plays a named scripted scenario (``callsys simulate``, the Simulate menu)."""

    @property
    def scenarios(self) -> Mapping[str, Any]: ...

    def play(self, scenario: Any) -> Any: ...


_PHRASES = {
    Capability.VOICEMAIL: "send calls to voicemail",
    Capability.CONSULT: "hold a call to consult someone first",
    Capability.ATTENDED_TRANSFER: "transfer a call to the party you consulted",
    Capability.CONFERENCE: "join two calls in a conference",
}


def require(provider: Provider, capability: Capability) -> None:
    """Raise ``NotSupported`` with a readable message unless *provider* can do *capability*."""
    if capability not in provider.capabilities:
        what = _PHRASES.get(capability, capability.value.replace("_", " "))
        raise NotSupported(f"The {provider.name} phone connection cannot {what}.")


#: Builds a provider from its settings section (a plain mapping) and shared context.
ProviderFactory = Callable[[Mapping[str, Any]], Provider]


@dataclass
class ProviderRegistry:
    """Explicit name → factory table. ``providers.REGISTRY`` is the filled-in one."""

    _factories: dict[str, tuple[ProviderFactory, str]] = field(default_factory=dict)
    #: name → the keys its options know (``callsys.optionkeys``), loaded when first asked.
    _option_keys: dict[str, Callable[[], OptionKeys]] = field(default_factory=dict)

    def register(
        self,
        name: str,
        factory: ProviderFactory,
        title: str = "",
        options: Callable[[], OptionKeys] | None = None,
    ) -> None:
        """*options* returns the keys the provider's options know; without it any key passes."""
        if name in self._factories:
            raise ValueError(f"provider {name!r} registered twice")
        self._factories[name] = (factory, title or name)
        if options is not None:
            self._option_keys[name] = options

    def option_keys(self, name: str) -> OptionKeys | None:
        """The keys provider *name* reads from its options (None: not declared)."""
        loader = self._option_keys.get(name)
        return loader() if loader is not None else None

    def option_warnings(
        self, name: str, options: Mapping[str, Any], where: str = "phone.options"
    ) -> list[str]:
        """A sentence for every key of *options* that provider *name* does not know (a typo, a
        leftover of another provider). Warnings, not errors: the provider starts without them."""
        keys = self.option_keys(name)
        if keys is None:
            return []
        stray = [key for key in options if not keys.knows(key)]
        elsewhere: dict[str, list[str]] = {}
        for other in self._option_keys if stray else ():  # a leftover says whose option it is
            other_keys = self.option_keys(other) if other != name else None
            if other_keys is None:
                continue
            for key in stray:
                if other_keys.knows(key):
                    elsewhere.setdefault(key, []).append(other_keys.owner)
        return keys.unknown(options, where, {key: " or ".join(owners) for key, owners in elsewhere.items()})

    def names(self) -> Iterable[str]:
        return self._factories.keys()

    def title(self, name: str) -> str:
        return self._factories[name][1]

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> Provider:
        try:
            factory = self._factories[name][0]
        except KeyError:
            known = ", ".join(sorted(self._factories)) or "none"
            raise ConfigError(
                f"Unknown phone provider {name!r}; expected one of: {known}.", key="phone.provider"
            ) from None
        return factory(options or {})
