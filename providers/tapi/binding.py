"""``tapi32.dll`` through ``ctypes``: the few TAPI 2.x line functions callsys uses, typed.

The library is ``WinDLL("tapi32.dll")`` on Windows; elsewhere (the tests) a ``CDLL`` of a
library with the same functions and structure layouts (``tests/tapi/fake_tapi32.c``) — the same
code path either way, only the loader differs. Only the Unicode (``W``) functions are used;
strings go in as NUL-terminated UTF-16-LE buffers (``wchar_t`` is 16 bits on Windows, not on
Linux, so ``c_wchar_p`` would not be the same code path) and come out of the variable part of a
structure by ``dwXxxOffset``/``dwXxxSize``.

Variable-size structures (``LINEDEVCAPS``, ``LINECALLINFO``, ``LINECALLSTATUS``) are asked for
with room for the fixed part plus ``EXTRA_BYTES``; when TAPI says it needs more
(``dwNeededSize`` > ``dwTotalSize``, or ``LINEERR_STRUCTURETOOSMALL``), the call is repeated with
a buffer of the size it asked for.

Async functions (``lineAnswer``, ``lineDrop``, ``lineMakeCall`` …) return a positive request id
here; their result comes later as a ``LINE_REPLY`` (``providers.tapi.provider`` matches them).
A negative return is a ``LINEERR_*``, raised as a ``TapiError`` at once.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Any

from callsys.errors import ProviderUnavailable
from providers.tapi import structs as s
from providers.tapi.errors import TapiError, error_for

__all__ = ["EXTRA_BYTES", "CallInfo", "CallStatus", "DevCaps", "Message", "TapiLibrary", "load"]

#: Room for strings asked for in the first try of a variable-size structure.
EXTRA_BYTES = 512
_STRUCTURETOOSMALL = 0x8000004D
_MAX_TRIES = 4


@dataclass(frozen=True, slots=True)
class Message:
    """One ``LINEMESSAGE``."""

    device: int
    message_id: int
    instance: int
    param1: int
    param2: int
    param3: int


@dataclass(frozen=True, slots=True)
class DevCaps:
    device_id: int
    name: str
    provider_info: str
    permanent_id: int
    max_active_calls: int
    line_features: int


@dataclass(frozen=True, slots=True)
class CallInfo:
    line_handle: int
    device_id: int
    call_id: int
    related_call_id: int
    origin: int
    reason: int
    caller_flags: int
    caller_id: str
    caller_name: str
    called_flags: int
    called_id: str
    called_name: str
    connected_flags: int
    connected_id: str
    connected_name: str
    redirecting_id: str


@dataclass(frozen=True, slots=True)
class CallStatus:
    state: int
    mode: int
    privilege: int
    features: int


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def _text(raw: bytes, used: int, offset: int, size: int) -> str:
    """The string at *offset*/*size* of a variable structure, if it lies within *used* bytes."""
    if size <= 0 or offset <= 0 or offset + size > used or offset + size > len(raw):
        return ""
    text = raw[offset : offset + size - (size % 2)].decode("utf-16-le", errors="replace")
    return text.split("\0", 1)[0]


class TapiLibrary:
    """Typed wrappers of the TAPI functions in *lib* (a loaded ``tapi32``)."""

    def __init__(self, lib: Any, path: str) -> None:
        self.path = path
        self._lib = lib
        dw, vp, lp = ctypes.c_uint32, ctypes.c_void_p, ctypes.c_char_p
        pdw = ctypes.POINTER(ctypes.c_uint32)
        signatures: dict[str, list[Any]] = {
            "lineInitializeExW": [pdw, vp, vp, lp, pdw, pdw, vp],
            "lineNegotiateAPIVersion": [dw, dw, dw, dw, pdw, vp],
            "lineGetDevCapsW": [dw, dw, dw, dw, vp],
            "lineOpenW": [dw, dw, pdw, dw, dw, ctypes.c_size_t, dw, dw, vp],
            "lineClose": [dw],
            "lineGetMessage": [dw, vp, dw],
            "lineGetCallInfoW": [dw, vp],
            "lineGetCallStatus": [dw, vp],
            "lineAnswer": [dw, lp, dw],
            "lineDrop": [dw, lp, dw],
            "lineMakeCallW": [dw, pdw, lp, dw, vp],
            "lineHold": [dw],
            "lineUnhold": [dw],
            "lineBlindTransferW": [dw, lp, dw],
            "lineDeallocateCall": [dw],
            "lineShutdown": [dw],
        }
        self._f = {name: self._declare(name, args) for name, args in signatures.items()}

    def _declare(self, name: str, args: list[Any]) -> Any:
        try:
            func = getattr(self._lib, name)
        except AttributeError:
            raise ProviderUnavailable(f"{self.path} has no {name}: it is not a TAPI 2.x library.") from None
        func.argtypes = args
        func.restype = ctypes.c_int32
        return func

    def _call(self, name: str, *args: Any) -> int:
        return int(self._f[name](*args))

    def _check(self, result: int, doing: str) -> int:
        if result < 0:
            raise error_for(result, doing)
        return result

    # ------------------------------------------------------------------ start-up
    def initialize(self, app_name: str, version: int) -> tuple[int, int, int]:
        """``lineInitializeExW`` with event notification (no hidden window).
        Returns ``(hLineApp, number of line devices, TAPI's highest API version)``."""
        app = ctypes.c_uint32(0)
        devices = ctypes.c_uint32(0)
        api = ctypes.c_uint32(version)
        params = s.LINEINITIALIZEEXPARAMS()
        params.dwTotalSize = ctypes.sizeof(params)
        params.dwOptions = s.LINEINITIALIZEEXOPTION_USEEVENT
        result = self._call(
            "lineInitializeExW",
            ctypes.byref(app),
            None,
            None,
            _utf16(app_name),
            ctypes.byref(devices),
            ctypes.byref(api),
            ctypes.byref(params),
        )
        self._check(result, "start Windows telephony (TAPI)")
        return app.value, devices.value, api.value

    def negotiate(self, app: int, device: int, low: int, high: int) -> int:
        version = ctypes.c_uint32(0)
        ext = s.LINEEXTENSIONID()
        self._check(
            self._call(
                "lineNegotiateAPIVersion", app, device, low, high, ctypes.byref(version), ctypes.byref(ext)
            ),
            "agree on a TAPI version with the line",
        )
        return version.value

    def _variable(self, name: str, args: tuple[Any, ...], kind: type[ctypes.Structure], doing: str) -> bytes:
        """Call *name* with a buffer for *kind* as its last argument, growing the buffer until
        the whole structure fits. Returns the buffer's bytes (fixed part first)."""
        size = ctypes.sizeof(kind) + EXTRA_BYTES
        for _ in range(_MAX_TRIES):
            buf = ctypes.create_string_buffer(size)
            head = kind.from_buffer(buf)
            head.dwTotalSize = size
            result = self._call(name, *args, ctypes.byref(buf))
            if result < 0 and result & 0xFFFFFFFF == _STRUCTURETOOSMALL:
                size *= 2
                continue
            self._check(result, doing)
            needed = int(head.dwNeededSize)
            if needed <= size:
                return buf.raw[: max(int(head.dwUsedSize), ctypes.sizeof(kind))]
            size = needed
        raise TapiError(
            f"Could not {doing}: the phone system's TAPI driver kept asking for a bigger buffer "
            f"(last {size} bytes).",
            _STRUCTURETOOSMALL,
        )

    def dev_caps(self, app: int, device: int, version: int) -> DevCaps:
        raw = self._variable(
            "lineGetDevCapsW", (app, device, version, 0), s.LINEDEVCAPS, "read the line's name"
        )
        caps = s.LINEDEVCAPS.from_buffer_copy(raw.ljust(ctypes.sizeof(s.LINEDEVCAPS), b"\0"))
        used = len(raw)
        return DevCaps(
            device_id=device,
            name=_text(raw, used, caps.dwLineNameOffset, caps.dwLineNameSize),
            provider_info=_text(raw, used, caps.dwProviderInfoOffset, caps.dwProviderInfoSize),
            permanent_id=int(caps.dwPermanentLineID),
            max_active_calls=int(caps.dwMaxNumActiveCalls),
            line_features=int(caps.dwLineFeatures),
        )

    def open(
        self, app: int, device: int, version: int, privileges: int, media_modes: int, instance: int
    ) -> int:
        line = ctypes.c_uint32(0)
        self._check(
            self._call(
                "lineOpenW",
                app,
                device,
                ctypes.byref(line),
                version,
                0,
                instance,
                privileges,
                media_modes,
                None,
            ),
            "open the line",
        )
        return line.value

    def close(self, line: int) -> int:
        return self._call("lineClose", line)

    def shutdown(self, app: int) -> int:
        return self._call("lineShutdown", app)

    # ------------------------------------------------------------------ events
    def get_message(self, app: int, timeout_ms: int) -> Message | int:
        """The next ``LINEMESSAGE``, or the (negative) result when there was none: TAPI says
        ``LINEERR_OPERATIONFAILED`` when *timeout_ms* passed, another code when it is shut down."""
        msg = s.LINEMESSAGE()
        result = self._call("lineGetMessage", app, ctypes.byref(msg), timeout_ms)
        if result != 0:
            return result
        return Message(
            int(msg.hDevice),
            int(msg.dwMessageID),
            int(msg.dwCallbackInstance),
            int(msg.dwParam1),
            int(msg.dwParam2),
            int(msg.dwParam3),
        )

    # ------------------------------------------------------------------ calls
    def call_info(self, call: int) -> CallInfo:
        raw = self._variable("lineGetCallInfoW", (call,), s.LINECALLINFO, "read the caller ID")
        info = s.LINECALLINFO.from_buffer_copy(raw.ljust(ctypes.sizeof(s.LINECALLINFO), b"\0"))
        used = len(raw)

        def text(field: str) -> str:
            return _text(raw, used, getattr(info, f"dw{field}Offset"), getattr(info, f"dw{field}Size"))

        return CallInfo(
            line_handle=int(info.hLine),
            device_id=int(info.dwLineDeviceID),
            call_id=int(info.dwCallID),
            related_call_id=int(info.dwRelatedCallID),
            origin=int(info.dwOrigin),
            reason=int(info.dwReason),
            caller_flags=int(info.dwCallerIDFlags),
            caller_id=text("CallerID"),
            caller_name=text("CallerIDName"),
            called_flags=int(info.dwCalledIDFlags),
            called_id=text("CalledID"),
            called_name=text("CalledIDName"),
            connected_flags=int(info.dwConnectedIDFlags),
            connected_id=text("ConnectedID"),
            connected_name=text("ConnectedIDName"),
            redirecting_id=text("RedirectingID"),
        )

    def call_status(self, call: int) -> CallStatus:
        raw = self._variable("lineGetCallStatus", (call,), s.LINECALLSTATUS, "read the call's state")
        status = s.LINECALLSTATUS.from_buffer_copy(raw.ljust(ctypes.sizeof(s.LINECALLSTATUS), b"\0"))
        return CallStatus(
            int(status.dwCallState),
            int(status.dwCallStateMode),
            int(status.dwCallPrivilege),
            int(status.dwCallFeatures),
        )

    def answer(self, call: int) -> int:
        return self._check(self._call("lineAnswer", call, None, 0), "answer the call")

    def drop(self, call: int) -> int:
        return self._check(self._call("lineDrop", call, None, 0), "hang up")

    def make_call(self, line: int, address: str) -> tuple[int, ctypes.c_uint32]:
        """``lineMakeCallW``: the request id and the ``HCALL`` TAPI fills in (valid once the
        request's ``LINE_REPLY`` says it succeeded — keep it alive until then)."""
        call = ctypes.c_uint32(0)
        request = self._check(
            self._call("lineMakeCallW", line, ctypes.byref(call), _utf16(address), 0, None), "dial"
        )
        return request, call

    def hold(self, call: int) -> int:
        return self._check(self._call("lineHold", call), "put the call on hold")

    def unhold(self, call: int) -> int:
        return self._check(self._call("lineUnhold", call), "take the call off hold")

    def blind_transfer(self, call: int, address: str) -> int:
        return self._check(self._call("lineBlindTransferW", call, _utf16(address), 0), "transfer the call")

    def deallocate(self, call: int) -> int:
        return self._call("lineDeallocateCall", call)


NOT_WINDOWS_MESSAGE = (
    "TAPI (Windows telephony) exists only on Windows: on this computer, use the embedded "
    "softphone or Asterisk (AMI) instead."
)


def load(path: str = "") -> TapiLibrary:
    """Load ``tapi32.dll`` (Windows) or the library at *path*. Raises ``ProviderUnavailable``
    with a readable sentence when it is not there."""
    if not path and sys.platform != "win32":
        raise ProviderUnavailable(NOT_WINDOWS_MESSAGE)
    where = path or "tapi32.dll"
    try:
        if sys.platform == "win32":
            lib: Any = ctypes.WinDLL(where)
        else:
            lib = ctypes.CDLL(where)
    except OSError as exc:
        raise ProviderUnavailable(
            f"Windows telephony (TAPI) could not be loaded from {where}: {exc}"
        ) from None
    return TapiLibrary(lib, where)
