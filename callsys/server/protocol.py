"""The wire protocol between a callsys server and its desktops (JSON text frames over WebSocket).

Both ends import this module — the server (``callsys.server.hub``) and the desktop's ``server``
provider (``providers/server.py``) — so the two can never disagree about a field name.

Conversation::

    desktop                                         server
    ── {"type":"hello","token":…,"agent":…,
        "instance":…,"extensions":[…]}  ─────────►
                                          ◄───────── {"type":"welcome","session":…,"agent":…,
                                                      "extensions":[…],"capabilities":[…],
                                                      "lines":[…],"settings":{…},"calls":[…]}
                                          (or a close frame: 4401 / 4429 / 4400, reason text)
                                          ◄───────── {"type":"call","event":"incoming","call":{…}}
    ── {"type":"command","id":7,"op":"dial",
        "args":{"number":…,"line":…}}     ─────────►
                                          ◄───────── {"type":"result","id":7,"ok":true,"value":…}
    ── {"type":"note","id":8,"call":…,"text":…} ───► (the agent's notes, whole text, on the
                                                      server's activity — never a second one)
    ── {"type":"link","id":9,"call":…,"table":"contact","record":…} ─► (regarding / conversion)
                                          ◄───────── {"type":"result","id":8,"ok":true}

Liveness is the WebSocket ping/pong the library does on both sides; a peer that stops answering
pings is dropped after the heartbeat timeout and its seat is freed (ARCH3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from callsys.model import Call, CallState, Direction, EndReason, PhoneNumber, freeze_variables

__all__ = [
    "CLOSE_BAD_HELLO",
    "CLOSE_HEARTBEAT",
    "CLOSE_REPLACED",
    "CLOSE_SEATS",
    "CLOSE_UNAUTHENTICATED",
    "PROTOCOL_VERSION",
    "ProtocolError",
    "call_from_wire",
    "call_to_wire",
    "decode",
    "encode",
]

PROTOCOL_VERSION = 1

# Close codes in the private-use range 4000-4999 (RFC 6455 §7.4.2), mirroring HTTP where one fits.
CLOSE_UNAUTHENTICATED = 4401  # no token, wrong token, unknown agent
CLOSE_BAD_HELLO = 4400  # the first frame was not a well-formed hello (or never came)
CLOSE_SEATS = 4429  # every licensed seat is taken (ARCH3)
CLOSE_REPLACED = 4409  # the same desktop instance connected again; this older session is dropped
CLOSE_HEARTBEAT = 4408  # no pong within the heartbeat timeout


class ProtocolError(ValueError):
    """A frame that is not valid JSON, not an object, or misses a required field."""


def encode(message: Mapping[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)


def decode(frame: str | bytes, *, limit: int = 1 << 20) -> dict[str, Any]:
    if len(frame) > limit:
        raise ProtocolError("frame too large")
    try:
        value = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise ProtocolError("a message is a JSON object with a 'type'")
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def call_to_wire(call: Call) -> dict[str, Any]:
    """A ``Call`` snapshot as a JSON-ready dict (every field; times as ISO 8601 with offset)."""
    return {
        "id": call.id,
        "direction": call.direction.value,
        "state": call.state.value,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "end_reason": call.end_reason.value if call.end_reason is not None else None,
        "remote": {
            "raw": call.remote.raw,
            "e164": call.remote.e164,
            "digits": call.remote.digits,
            "extension": call.remote.extension,
        },
        "remote_name": call.remote_name,
        "line": call.line,
        "dnis": call.dnis,
        "extension": call.extension,
        "variables": dict(call.variables),
        "waiting": call.waiting,
        "on_hold_since": _iso(call.on_hold_since),
        "provider": call.provider,
        "loggable": call.loggable,
    }


def _number(value: object) -> PhoneNumber:
    if not isinstance(value, Mapping):
        return PhoneNumber(raw="")
    raw = value.get("raw")
    e164 = value.get("e164")
    digits = value.get("digits")
    extension = value.get("extension")
    try:
        return PhoneNumber(
            raw=raw if isinstance(raw, str) else "",
            e164=e164 if isinstance(e164, str) else None,
            digits=digits if isinstance(digits, str) else "",
            extension=extension if isinstance(extension, str) else None,
        )
    except ValueError:
        # A server of another version sent something our model refuses: keep what is readable.
        return PhoneNumber(raw=raw if isinstance(raw, str) else "")


def call_from_wire(data: Mapping[str, Any]) -> Call:
    """The inverse of ``call_to_wire``; raises ``ProtocolError`` for a frame we cannot use."""
    try:
        call_id = str(data["id"])
        direction = Direction(data["direction"])
        state = CallState(data["state"])
        started = _time(data.get("started_at"))
        reason_text = data.get("end_reason")
        reason = EndReason(reason_text) if reason_text else None
    except (KeyError, ValueError) as exc:
        raise ProtocolError(f"bad call: {exc}") from None
    if not call_id or started is None:
        raise ProtocolError("a call needs an id and a start time")
    variables = data.get("variables")

    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    return Call(
        id=call_id,
        direction=direction,
        state=state,
        started_at=started,
        remote=_number(data.get("remote")),
        remote_name=text("remote_name"),
        line=text("line"),
        dnis=text("dnis"),
        extension=text("extension"),
        variables=freeze_variables(
            {str(k): str(v) for k, v in variables.items()} if isinstance(variables, Mapping) else None
        ),
        answered_at=_time(data.get("answered_at")),
        ended_at=_time(data.get("ended_at")),
        end_reason=reason,
        waiting=bool(data.get("waiting", False)),
        on_hold_since=_time(data.get("on_hold_since")),
        provider=text("provider"),
        loggable=bool(data.get("loggable", True)),
    )
