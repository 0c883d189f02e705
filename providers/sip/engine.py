"""The small engine interface behind the SIP provider.

The provider (``providers.sip.provider``) holds the product rules — waiting calls, DND,
auto-answer, end reasons, ProviderEvents. An *engine* only speaks SIP and moves audio. The one
engine today is pjsua2 (``providers.sip.pjengine``); another (e.g. baresip over ``ctrl_tcp``)
can be added by implementing ``Engine`` without touching the provider.

Threading contract: every ``Engine`` method and every ``EngineListener`` callback runs on the
thread that owns the asyncio loop; the provider calls ``poll()`` from an asyncio task.
Calls are identified by opaque string keys the engine makes up (never a reusable slot number).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from callsys.errors import ProviderError
from providers.sip.engines import EngineBuild
from providers.sip.options import LineConfig, SipOptions

__all__ = ["CallBusy", "Engine", "EngineListener", "IncomingCall", "Phase"]


class CallBusy(ProviderError):
    """The call is in the middle of an offer/answer exchange; the same command works shortly."""


class Phase(StrEnum):
    CALLING = "calling"  # outgoing INVITE sent
    RINGING = "ringing"  # 180/183 (either direction)
    CONNECTING = "connecting"
    CONFIRMED = "confirmed"  # connected
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class IncomingCall:
    line_id: str
    user: str  # the caller's URI user part; the provider turns it into a PhoneNumber
    name: str
    dialled: str
    sip_call_id: str
    remote_uri: str
    contact: str = ""  # the INVITE's Contact URI (where a direct caller can be called back)
    source: str = ""  # the IP address the INVITE came from ("" when unknown)


class EngineListener(Protocol):
    def on_incoming(self, key: str, call: IncomingCall) -> None: ...

    def on_phase(self, key: str, phase: Phase, code: int, reason: str) -> None: ...

    def on_media(self, key: str, local_hold: bool, remote_hold: bool) -> None: ...

    def on_dtmf(self, key: str, digit: str) -> None: ...

    def on_transfer(self, key: str, code: int, final: bool) -> None: ...

    def on_registration(self, line_id: str, code: int, reason: str, registered: bool) -> None: ...


#: Receives (call key, 16-bit mono PCM at 8 kHz, one 20 ms frame) of what the far end sends.
AudioTap = Callable[[str, bytes], None]


class Engine(Protocol):
    @property
    def build(self) -> EngineBuild:
        """What this engine's build can do (calls at once, message size …)."""

    def start(self, options: SipOptions, listener: EngineListener) -> None:
        """Create transports and one account per line; raise ``ProviderError`` on failure."""

    def poll(self) -> int:
        """Handle pending SIP/media events without blocking; returns how many were handled."""

    def listen_address(self) -> tuple[str, int]: ...

    def wakeup_sockets(self) -> list[socket.socket]:
        """Sockets whose readability means "poll now" (may be empty: then only the timer polls).
        The caller owns and closes them."""

    def call_count(self) -> int: ...

    def answer(self, key: str, code: int = 200) -> None: ...

    def hangup(self, key: str, code: int = 0) -> None: ...

    def redirect(self, key: str, uri: str) -> None:
        """Answer a ringing incoming call ``302 Moved Temporarily`` with ``Contact: <uri>``."""

    def hold(self, key: str) -> None: ...

    def resume(self, key: str) -> None: ...

    def set_mute(self, key: str, muted: bool) -> None: ...

    def dial(self, key: str, line: LineConfig, uri: str) -> None:
        """Start an outgoing call under the caller-chosen *key* (events may arrive at once)."""

    def send_dtmf(self, key: str, digits: str) -> None: ...

    def transfer(self, key: str, uri: str) -> None: ...

    def transfer_replaces(self, key: str, other_key: str) -> None:
        """Attended transfer: REFER *key*'s far end to *other_key*'s, replacing our call with it."""

    def conference(self, keys: list[str]) -> None:
        """Join the calls *keys* in a conference (each hears the others and the agent); ``[]``
        ends it."""

    def reregister(self, line_id: str) -> None: ...

    def set_audio_tap(self, tap: AudioTap | None) -> None:
        """Feed every received audio frame of every call to *tap* (tests, meters)."""

    def hangup_all(self) -> None: ...

    def unregister_all(self) -> None: ...

    def destroy(self) -> None:
        """Release everything. Only after ``call_count() == 0`` and a few polls."""


def make_uri(target: str, line: LineConfig, listen: tuple[str, int]) -> str:
    """A SIP request URI for *target*: a full ``sip:`` URI as is, else ``sip:target@domain``."""
    target = target.strip()
    lowered = target.lower()
    if lowered.startswith(("sip:", "sips:")):
        return target
    if lowered.startswith("tel:"):
        target = target[4:].split(";", 1)[0]
    if "@" in target:
        return "sip:" + target
    host = line.domain
    if not host:
        host = f"{listen[0]}:{listen[1]}"
    suffix = f";transport={line.transport}" if line.transport != "udp" and line.direct else ""
    return f"sip:{target}@{host}{suffix}"


def is_sip_address(target: str) -> bool:
    """``sip:…``/``sips:…`` or ``user@host``: dialled as it is, whatever line it goes out on."""
    stripped = target.strip()
    return "@" in stripped or stripped.lower().startswith(("sip:", "sips:"))


def address_of(uri: str) -> str:
    """The bare SIP URI in a header value (``"Bob" <sip:1002@192.0.2.7:5062>;tag=x`` →
    ``sip:1002@192.0.2.7:5062``): what calling back dials. "" when there is none, or when it is
    too long to keep with the call (64 characters, the length of a number's written form)."""
    text = uri.strip()
    if "<" in text:
        text = text.split("<", 1)[1].split(">", 1)[0].strip()
    text = text.split("?", 1)[0]
    if not text.lower().startswith(("sip:", "sips:")) or "@" not in text or len(text) > 64:
        return ""
    return text if is_dialable(text) else ""


def callback_address(remote_uri: str, contact: str) -> str:
    """Where calling a direct caller back reaches them: the From URI's user at the Contact's
    host and port (``sip:1002@127.0.0.1`` + ``<sip:1002-x@127.0.0.1:5062;transport=udp>`` →
    ``sip:1002@127.0.0.1:5062;transport=udp``); the From URI alone without a usable Contact."""
    identity = address_of(remote_uri)
    reach = address_of(contact)
    if not identity or not reach:
        return identity
    scheme, rest = identity.split(":", 1)
    user = rest.split("@", 1)[0]
    host, _, params = reach.split("@", 1)[1].partition(";")
    transport = next((p for p in params.split(";") if p.lower().startswith("transport=")), "")
    address = f"{scheme}:{user}@{host}" + (f";{transport}" if transport else "")
    return address if len(address) <= 64 else identity


def is_dialable(target: str) -> bool:
    stripped = target.strip()
    return bool(stripped) and len(stripped) <= 256 and not any(ch in stripped for ch in "\r\n<>\"' ")


def line_ids(lines: Sequence[LineConfig]) -> tuple[str, ...]:
    return tuple(line.id for line in lines)
