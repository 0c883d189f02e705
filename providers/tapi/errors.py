"""``LINEERR_*`` codes as sentences a person can act on, and as the right ``ProviderError``.

TAPI functions return a negative ``LONG`` (``0x8000xxxx``) when they fail at once, and an async
request's ``LINE_REPLY`` carries the same codes. ``error_for`` turns either into an exception whose
``str`` says what happened and what to do; the TAPI name and hex code follow in brackets, for
whoever reads the log or calls the vendor.
"""

from __future__ import annotations

from callsys.errors import NotSupported, ProviderError, ProviderUnavailable, UnknownCall

__all__ = ["MONITOR_ONLY_MESSAGE", "TapiError", "describe", "error_for", "name_of"]

MONITOR_ONLY_MESSAGE = (
    "This line is only watched: the phone system's TAPI driver does not let callsys answer or "
    "control its calls. Pick up the desk phone itself, or ask the administrator to give this "
    "user control of the line (in the driver's settings)."
)

_CODES: dict[int, tuple[str, str]] = {
    0x80000001: ("ALLOCATED", "The line is already in use by another program."),
    0x80000002: (
        "BADDEVICEID",
        "That TAPI line does not exist (any more). Check the list of lines in Settings.",
    ),
    0x80000005: ("CALLUNAVAIL", "The phone has no free line for another call right now."),
    0x80000009: ("DIALDIALTONE", "The phone system gave no dial tone."),
    0x8000000C: (
        "INCOMPATIBLEAPIVERSION",
        "The phone system's TAPI driver is too old: callsys needs TAPI 2.0 or later.",
    ),
    0x8000000E: (
        "INIFILECORRUPT",
        "The Windows telephony configuration is damaged. Open Control Panel → Phone and Modem "
        "and check the driver there, or reinstall the phone system's TAPI driver.",
    ),
    0x8000000F: ("INUSE", "The line is busy with another call or another program."),
    0x80000010: ("INVALADDRESS", "The phone system cannot dial that number."),
    0x80000014: ("INVALAPPHANDLE", "The connection to Windows telephony was closed."),
    0x80000018: ("INVALCALLHANDLE", "That call has already ended."),
    0x8000001A: ("INVALCALLPRIVILEGE", "callsys may not control this call."),
    0x8000001C: (
        "INVALCALLSTATE",
        "The call is not in a state that allows this any more (it may have been answered, "
        "held or ended in the meantime).",
    ),
    0x8000002B: ("INVALLINEHANDLE", "The line was closed by the phone system."),
    0x80000032: ("INVALPARAM", "The phone system's TAPI driver refused the request as invalid."),
    0x80000035: ("INVALPOINTER", "The phone system's TAPI driver refused the request as invalid."),
    0x80000036: (
        "INVALPRIVSELECT",
        "The phone system's TAPI driver does not let callsys control this line, only watch it.",
    ),
    0x80000042: (
        "NODEVICE",
        "No TAPI line is available: the phone system's TAPI driver (TSP) is not installed or "
        "offers no line to this Windows user.",
    ),
    0x80000043: (
        "NODRIVER",
        "The phone system's TAPI driver (TSP) is missing or failed to start. Check it in "
        "Control Panel → Phone and Modem → Advanced.",
    ),
    0x80000044: ("NOMEM", "Windows telephony ran out of memory; restart callsys."),
    0x80000046: ("NOTOWNER", MONITOR_ONLY_MESSAGE),
    0x80000048: ("OPERATIONFAILED", "The phone system could not do it."),
    0x80000049: ("OPERATIONUNAVAIL", "The phone system's TAPI driver does not offer this."),
    0x8000004B: ("RESOURCEUNAVAIL", "The phone system is busy; try again in a moment."),
    0x8000004C: ("REQUESTOVERRUN", "The phone system is busy; try again in a moment."),
    0x8000004D: ("STRUCTURETOOSMALL", "The phone system's TAPI driver answered with too much data."),
    0x8000004E: ("TARGETNOTFOUND", "The phone system did not find that number."),
    0x8000004F: ("TARGETSELF", "A call cannot be transferred to the same phone."),
    0x80000050: ("UNINITIALIZED", "Windows telephony is not started."),
    0x80000052: (
        "REINIT",
        "Windows telephony is being reconfigured (a TAPI driver was added or removed); "
        "restart callsys in a moment.",
    ),
    0x80000053: ("ADDRESSBLOCKED", "The phone system does not allow calls to that number."),
    0x80000055: ("INVALFEATURE", "The phone system's TAPI driver does not offer this."),
    0x80000060: ("DISCONNECTED", "The phone system's TAPI driver lost its connection to the PBX."),
    0x80000061: (
        "SERVICE_NOT_RUNNING",
        "The Windows Telephony service is not running. Start it (services.msc → Telephony) "
        "or ask the administrator.",
    ),
}

_UNAVAILABLE = {"NODEVICE", "NODRIVER", "NOMEM", "UNINITIALIZED", "REINIT", "DISCONNECTED"}
_UNAVAILABLE |= {"SERVICE_NOT_RUNNING", "INIFILECORRUPT", "INVALAPPHANDLE", "INVALLINEHANDLE"}
_NOT_SUPPORTED = {"OPERATIONUNAVAIL", "INVALFEATURE", "NOTOWNER", "INVALCALLPRIVILEGE", "INVALPRIVSELECT"}


def _unsigned(code: int) -> int:
    return code & 0xFFFFFFFF


def name_of(code: int) -> str:
    """``LINEERR_NOTOWNER`` for ``0x80000046`` (or its negative ``LONG``)."""
    known = _CODES.get(_unsigned(code))
    return f"LINEERR_{known[0]}" if known else f"TAPI error 0x{_unsigned(code):08X}"


def describe(code: int, doing: str = "") -> str:
    """A sentence for *code*; *doing* ("answer the call") says what was being attempted."""
    unsigned = _unsigned(code)
    known = _CODES.get(unsigned)
    text = known[1] if known else "The phone system's TAPI driver refused the request."
    if doing:
        text = f"Could not {doing}. {text}"
    return f"{text} ({name_of(code)}, 0x{unsigned:08X})" if known else f"{text} (0x{unsigned:08X})"


class TapiError(ProviderError):
    """A ``LINEERR_*`` from TAPI; ``code`` is the unsigned value."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = _unsigned(code)


class _Unavailable(TapiError, ProviderUnavailable):
    pass


class _NotSupported(TapiError, NotSupported):
    pass


class _UnknownCall(TapiError, UnknownCall):
    pass


def error_for(code: int, doing: str = "") -> TapiError:
    """The exception for *code*: ``UnknownCall`` for a call that is gone, ``NotSupported`` for
    what the driver does not offer or allow, ``ProviderUnavailable`` when TAPI itself is not
    there, else a plain ``ProviderError`` — all of them ``TapiError``\\ s carrying the code."""
    known = _CODES.get(_unsigned(code))
    name = known[0] if known else ""
    message = describe(code, doing)
    if name == "INVALCALLHANDLE":
        return _UnknownCall(message, code)
    if name in _NOT_SUPPORTED:
        return _NotSupported(message, code)
    if name in _UNAVAILABLE:
        return _Unavailable(message, code)
    return TapiError(message, code)
