"""Reading who is calling and which number they dialled from a raw SIP INVITE (IN12).

pjsua2 hands us the whole received message as text; this module picks out, without trusting
any of it: the caller's number and display name (P-Asserted-Identity, Remote-Party-ID, From)
and the dialled number (P-Called-Party-ID, Diversion, To, Request-URI). Everything here is
pure Python and never raises on hostile input: a garbled header just yields "unknown".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from callsys.model import PhoneNumber, clean_text

__all__ = ["CallerInfo", "NameAddr", "SipMessage", "caller_info", "number_from_user", "parse_name_addr"]

#: RFC 3261 compact header forms.
_COMPACT = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "v": "via",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}
_MAX_MESSAGE = 64 * 1024
_VISUAL = re.compile(r"[\s\-.()/]")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(frozen=True, slots=True)
class SipMessage:
    """The request line and the headers (lower-case full names, in order, values unfolded)."""

    request_uri: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> SipMessage:
        text = text[:_MAX_MESSAGE]
        head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
        lines = re.split(r"\r?\n", head)
        first = lines[0].strip() if lines else ""
        parts = first.split()
        request_uri = parts[1] if len(parts) >= 3 and not parts[0].upper().startswith("SIP/") else ""
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and headers:  # folded continuation line
                name, value = headers[-1]
                headers[-1] = (name, value + " " + line.strip())
                continue
            name, sep, value = line.partition(":")
            if not sep:
                continue
            key = name.strip().lower()
            headers.append((_COMPACT.get(key, key), value.strip()))
        return cls(request_uri, tuple(headers))

    def all(self, name: str) -> list[str]:
        """Every value of header *name* (comma-separated lists are not split)."""
        key = name.lower()
        return [value for header, value in self.headers if header == key]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class NameAddr:
    display: str
    uri: str
    params: str = ""  # header parameters after the URI (";tag=…;privacy=full")


def _split_top_level(value: str) -> list[str]:
    """Split a header value at commas that are outside quotes and <…>."""
    out: list[str] = []
    depth, quoted, escaped, start = 0, False, False, 0
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            out.append(value[start:i])
            start = i + 1
    out.append(value[start:])
    return [item.strip() for item in out if item.strip()]


def parse_name_addr(value: str) -> NameAddr:
    """Parse ``"Name" <sip:u@h;p>;tag=x``, ``Name <tel:+1…>`` or a bare ``sip:u@h;tag=x``."""
    value = value.strip()
    display = ""
    if value.startswith('"'):
        chars: list[str] = []
        i, escaped = 1, False
        while i < len(value):
            ch = value[i]
            if escaped:
                chars.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                break
            else:
                chars.append(ch)
            i += 1
        display = "".join(chars)
        value = value[i + 1 :].strip()
    lt = value.find("<")
    if lt >= 0:
        gt = value.find(">", lt)
        if gt < 0:
            gt = len(value)
        if not display:
            display = value[:lt].strip()
        return NameAddr(clean_text(display), value[lt + 1 : gt].strip(), value[gt + 1 :].strip())
    # addr-spec without <>: header params start at the first ';'
    uri, _, params = value.partition(";")
    return NameAddr(clean_text(display), uri.strip(), (";" + params) if params else "")


def uri_user(uri: str) -> str:
    """The user part of a sip:/sips:/tel: URI, percent-decoded, without URI parameters."""
    uri = uri.strip()
    scheme, sep, rest = uri.partition(":")
    if not sep:
        return ""
    scheme = scheme.lower()
    if scheme == "tel":
        user = rest.split(";", 1)[0]
    elif scheme in ("sip", "sips"):
        if "@" not in rest:
            return ""
        user = rest.rsplit("@", 1)[0].split(";", 1)[0]
    else:
        return ""
    try:
        return clean_text(unquote(user), 64)
    except Exception:  # pragma: no cover - unquote does not raise on str
        return ""


def number_from_user(user: str) -> PhoneNumber:
    """A ``PhoneNumber`` from a URI user part: ``+4930123`` → E.164, ``1001`` → digits."""
    raw = clean_text(user, 64)
    if not raw or raw.lower() in ("anonymous", "unknown", "restricted", "unavailable", "private"):
        return PhoneNumber(raw="")
    compact = _VISUAL.sub("", raw)
    if compact.startswith("+") and _E164.match(compact):
        return PhoneNumber(raw=raw, e164=compact, digits=compact[1:])
    if compact.isascii() and compact.isdigit():
        return PhoneNumber(raw=raw, digits=compact)
    return PhoneNumber(raw=raw)


@dataclass(frozen=True, slots=True)
class CallerInfo:
    user: str  # the caller's URI user part ("" when anonymous / withheld)
    number: PhoneNumber
    name: str
    dialled: str  # the number the caller dialled (DNIS), digits or user part
    sip_call_id: str
    remote_uri: str
    #: The INVITE declares a Content-Length larger than its body (a datagram cut short, or a lie):
    #: RFC 3261 §18.3 says answer 400 (pjsip takes the body as it is). Never True on TCP/TLS,
    #: where pjsip frames messages by their Content-Length.
    body_cut: bool = False
    #: The Contact URI: where the caller really is (a direct caller's host and port).
    contact: str = ""


def _parse_first(msg: SipMessage, header: str) -> NameAddr | None:
    for value in msg.all(header):
        for item in _split_top_level(value):
            addr = parse_name_addr(item)
            if addr.uri:
                return addr
    return None


def _body_cut(text: str, msg: SipMessage) -> bool:
    """True when the one Content-Length of *text* is larger than its body (in bytes)."""
    lengths = msg.all("content-length")
    if len(lengths) != 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
        return False  # none, or several, or garbage: not ours to judge (pjsip answers garbage)
    declared = int(lengths[0])
    ends = [(at, len(sep)) for sep in ("\r\n\r\n", "\n\n") if (at := text.find(sep)) >= 0]
    if not ends:
        return False
    end, sep_len = min(ends)
    body = text[end + sep_len :]
    return declared > len(body) and declared > len(body.encode("utf-8", "surrogateescape"))


def caller_info(text: str, parse_number: Callable[[str], PhoneNumber] = number_from_user) -> CallerInfo:
    """Who calls and what they dialled, from the raw INVITE *text*. Never raises."""
    try:
        msg = SipMessage.parse(text)
    except Exception:  # pragma: no cover - parse is total, this is belt and braces
        msg = SipMessage("", ())

    def number(user: str) -> PhoneNumber:
        try:
            return parse_number(user)
        except Exception:
            return number_from_user(user)

    from_addr = _parse_first(msg, "from")
    pai = _parse_first(msg, "p-asserted-identity")
    rpid: NameAddr | None = None
    for value in msg.all("remote-party-id"):
        for item in _split_top_level(value):
            addr = parse_name_addr(item)
            party = re.search(r";\s*party\s*=\s*(\w+)", addr.params, re.I)
            if addr.uri and (party is None or party.group(1).lower() == "calling"):
                rpid = addr
                break
        if rpid:
            break
    privacy = (msg.first("privacy") or "").lower()
    anonymous = any(token.strip() in ("id", "user") for token in privacy.split(";"))

    identity = pai or rpid or from_addr
    caller_user = uri_user(identity.uri) if identity else ""
    if anonymous and identity is not pai:
        caller_user = ""
    name = ""
    for candidate in (pai, rpid, from_addr):
        if candidate and candidate.display and candidate.display.lower() not in ("anonymous", "unknown"):
            name = candidate.display
            break
    caller = number(caller_user) if caller_user else PhoneNumber(raw="")
    if caller.is_anonymous and not caller.raw:
        name = "" if anonymous else name

    dialled = ""
    pcpi = _parse_first(msg, "p-called-party-id")
    if pcpi:
        dialled = uri_user(pcpi.uri)
    if not dialled:
        diversions: list[NameAddr] = []
        for value in msg.all("diversion"):
            diversions.extend(parse_name_addr(item) for item in _split_top_level(value))
        for addr in reversed(diversions):  # the last entry is the originally called number
            dialled = uri_user(addr.uri)
            if dialled:
                break
    if not dialled:
        to_addr = _parse_first(msg, "to")
        dialled = uri_user(to_addr.uri) if to_addr else ""
    if not dialled:
        dialled = uri_user(msg.request_uri)
    return CallerInfo(
        user=caller_user,
        number=caller,
        name=clean_text(name),
        dialled=clean_text(dialled, 64),
        sip_call_id=clean_text(msg.first("call-id") or "", 128),
        remote_uri=clean_text(from_addr.uri if from_addr else "", 256),
        body_cut=_body_cut(text, msg),
        contact=clean_text(contact.uri if (contact := _parse_first(msg, "contact")) else "", 256),
    )
