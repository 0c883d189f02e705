"""The TAPI 2.x structures and constants callsys uses, laid out as the Windows SDK's ``tapi.h``.

``tapi.h`` wraps its whole body in ``#pragma pack(1)``: no padding anywhere. It matters for
``LINEINITIALIZEEXPARAMS`` (its ``HANDLE`` sits at offset 16 and ``dwCompletionKey`` at 24, 28
bytes in all on x64, not 32) and for ``LINEMESSAGE`` (two ``DWORD``\\ s, then four ``DWORD_PTR``\\ s:
40 bytes on x64). Every handle (``HLINEAPP``, ``HLINE``, ``HCALL``) is a 32-bit ``DWORD``
(``DECLARE_OPAQUE32``), also on x64. Strings of the ``W`` functions are UTF-16-LE; a ``...Size``
is in bytes and includes the terminating NUL.

The structures carry the fields up to TAPI 3.1 (what the SDK declares today): a bigger
``dwTotalSize`` than TAPI 2.2 needs is always accepted. ``tests/tapi`` compiles a check of every
size and offset here against MinGW-w64's ``tapi.h`` and against the fake ``tapi32``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

__all__ = [
    "GUID",
    "LINECALLINFO",
    "LINECALLSTATUS",
    "LINEDEVCAPS",
    "LINEDIALPARAMS",
    "LINEEXTENSIONID",
    "LINEINITIALIZEEXPARAMS",
    "LINEMESSAGE",
    "STRUCTURES",
    "SYSTEMTIME",
]

DWORD = ctypes.c_uint32
WORD = ctypes.c_uint16
BYTE = ctypes.c_uint8
DWORD_PTR = ctypes.c_size_t  # 64 bits on x64 (and on the Linux the fake runs on)
HANDLE = ctypes.c_void_p

# ------------------------------------------------------------------------------ versions
TAPI_VERSION_2_0 = 0x00020000
TAPI_VERSION_2_2 = 0x00020002

# ------------------------------------------------------------------------------ messages
LINE_CALLINFO = 1
LINE_CALLSTATE = 2
LINE_CLOSE = 3
LINE_LINEDEVSTATE = 8
LINE_REPLY = 12
LINE_CREATE = 19
LINE_APPNEWCALL = 23
LINE_REMOVE = 25

# ------------------------------------------------------------------------------ call states
LINECALLSTATE_IDLE = 0x00000001
LINECALLSTATE_OFFERING = 0x00000002
LINECALLSTATE_ACCEPTED = 0x00000004
LINECALLSTATE_DIALTONE = 0x00000008
LINECALLSTATE_DIALING = 0x00000010
LINECALLSTATE_RINGBACK = 0x00000020
LINECALLSTATE_BUSY = 0x00000040
LINECALLSTATE_SPECIALINFO = 0x00000080
LINECALLSTATE_CONNECTED = 0x00000100
LINECALLSTATE_PROCEEDING = 0x00000200
LINECALLSTATE_ONHOLD = 0x00000400
LINECALLSTATE_CONFERENCED = 0x00000800
LINECALLSTATE_ONHOLDPENDCONF = 0x00001000
LINECALLSTATE_ONHOLDPENDTRANSFER = 0x00002000
LINECALLSTATE_DISCONNECTED = 0x00004000
LINECALLSTATE_UNKNOWN = 0x00008000

LINECALLINFOSTATE_CALLID = 0x00000040
LINECALLINFOSTATE_ORIGIN = 0x00000100
LINECALLINFOSTATE_REASON = 0x00000200
LINECALLINFOSTATE_CALLERID = 0x00008000
LINECALLINFOSTATE_CALLEDID = 0x00010000
LINECALLINFOSTATE_CONNECTEDID = 0x00020000
LINECALLINFOSTATE_REDIRECTINGID = 0x00080000

LINECALLORIGIN_OUTBOUND = 0x00000001
LINECALLORIGIN_INTERNAL = 0x00000002
LINECALLORIGIN_EXTERNAL = 0x00000004
LINECALLORIGIN_UNKNOWN = 0x00000010
LINECALLORIGIN_UNAVAIL = 0x00000020
LINECALLORIGIN_CONFERENCE = 0x00000040
LINECALLORIGIN_INBOUND = 0x00000080

LINECALLREASON_DIRECT = 0x00000001
LINECALLREASON_FWDBUSY = 0x00000002
LINECALLREASON_FWDNOANSWER = 0x00000004
LINECALLREASON_FWDUNCOND = 0x00000008
LINECALLREASON_PICKUP = 0x00000010
LINECALLREASON_REDIRECT = 0x00000040
LINECALLREASON_TRANSFER = 0x00000100

LINECALLPARTYID_BLOCKED = 0x00000001
LINECALLPARTYID_OUTOFAREA = 0x00000002
LINECALLPARTYID_NAME = 0x00000004
LINECALLPARTYID_ADDRESS = 0x00000008
LINECALLPARTYID_PARTIAL = 0x00000010
LINECALLPARTYID_UNKNOWN = 0x00000020
LINECALLPARTYID_UNAVAIL = 0x00000040

LINECALLPRIVILEGE_NONE = 0x00000001
LINECALLPRIVILEGE_MONITOR = 0x00000002
LINECALLPRIVILEGE_OWNER = 0x00000004

LINECALLFEATURE_ANSWER = 0x00000004
LINECALLFEATURE_BLINDTRANSFER = 0x00000008
LINECALLFEATURE_DROP = 0x00000080
LINECALLFEATURE_HOLD = 0x00000800
LINECALLFEATURE_UNHOLD = 0x08000000

LINEDISCONNECTMODE_NORMAL = 0x00000001
LINEDISCONNECTMODE_UNKNOWN = 0x00000002
LINEDISCONNECTMODE_REJECT = 0x00000004
LINEDISCONNECTMODE_PICKUP = 0x00000008
LINEDISCONNECTMODE_FORWARDED = 0x00000010
LINEDISCONNECTMODE_BUSY = 0x00000020
LINEDISCONNECTMODE_NOANSWER = 0x00000040
LINEDISCONNECTMODE_BADADDRESS = 0x00000080
LINEDISCONNECTMODE_UNREACHABLE = 0x00000100
LINEDISCONNECTMODE_CONGESTION = 0x00000200
LINEDISCONNECTMODE_INCOMPATIBLE = 0x00000400
LINEDISCONNECTMODE_UNAVAIL = 0x00000800
LINEDISCONNECTMODE_NODIALTONE = 0x00001000
LINEDISCONNECTMODE_NUMBERCHANGED = 0x00002000
LINEDISCONNECTMODE_OUTOFORDER = 0x00004000
LINEDISCONNECTMODE_TEMPFAILURE = 0x00008000
LINEDISCONNECTMODE_QOSUNAVAIL = 0x00010000
LINEDISCONNECTMODE_BLOCKED = 0x00020000
LINEDISCONNECTMODE_DONOTDISTURB = 0x00040000
LINEDISCONNECTMODE_CANCELLED = 0x00080000

LINEDEVSTATE_OUTOFSERVICE = 0x00000080
LINEDEVSTATE_INSERVICE = 0x00000100
LINEDEVSTATE_CLOSE = 0x00000400
LINEDEVSTATE_REINIT = 0x00040000

LINEINITIALIZEEXOPTION_USEHIDDENWINDOW = 0x00000001
LINEINITIALIZEEXOPTION_USEEVENT = 0x00000002

LINEMEDIAMODE_INTERACTIVEVOICE = 0x00000004
STRINGFORMAT_UNICODE = 0x00000003

#: lineGetMessage's answer when its timeout passed without a message.
LINEERR_OPERATIONFAILED = -0x7FFFFFB8  # 0x80000048 as a LONG


def _dwords(names: str) -> list[tuple[str, Any]]:
    return [(name, DWORD) for name in names.split()]


class _Packed(ctypes.Structure):
    _pack_ = 1


class GUID(_Packed):
    _fields_ = [("Data1", DWORD), ("Data2", WORD), ("Data3", WORD), ("Data4", BYTE * 8)]


class SYSTEMTIME(_Packed):
    _fields_ = [
        (name, WORD)
        for name in ["wYear", "wMonth", "wDayOfWeek", "wDay", "wHour", "wMinute", "wSecond", "wMilliseconds"]
    ]


class LINEDIALPARAMS(_Packed):
    _fields_ = _dwords("dwDialPause dwDialSpeed dwDigitDuration dwWaitForDialtone")


class LINEEXTENSIONID(_Packed):
    _fields_ = _dwords("dwExtensionID0 dwExtensionID1 dwExtensionID2 dwExtensionID3")


class _Handles(ctypes.Union):
    _pack_ = 1
    _fields_ = [("hEvent", HANDLE), ("hCompletionPort", HANDLE)]


class LINEINITIALIZEEXPARAMS(_Packed):
    _fields_ = [
        *_dwords("dwTotalSize dwNeededSize dwUsedSize dwOptions"),
        ("Handles", _Handles),
        ("dwCompletionKey", DWORD),
    ]


class LINEMESSAGE(_Packed):
    _fields_ = [
        ("hDevice", DWORD),
        ("dwMessageID", DWORD),
        ("dwCallbackInstance", DWORD_PTR),
        ("dwParam1", DWORD_PTR),
        ("dwParam2", DWORD_PTR),
        ("dwParam3", DWORD_PTR),
    ]


class LINEDEVCAPS(_Packed):
    _fields_ = [
        *_dwords(
            "dwTotalSize dwNeededSize dwUsedSize dwProviderInfoSize dwProviderInfoOffset "
            "dwSwitchInfoSize dwSwitchInfoOffset dwPermanentLineID dwLineNameSize dwLineNameOffset "
            "dwStringFormat dwAddressModes dwNumAddresses dwBearerModes dwMaxRate dwMediaModes "
            "dwGenerateToneModes dwGenerateToneMaxNumFreq dwGenerateDigitModes "
            "dwMonitorToneMaxNumFreq dwMonitorToneMaxNumEntries dwMonitorDigitModes "
            "dwGatherDigitsMinTimeout dwGatherDigitsMaxTimeout dwMedCtlDigitMaxListSize "
            "dwMedCtlMediaMaxListSize dwMedCtlToneMaxListSize dwMedCtlCallStateMaxListSize "
            "dwDevCapFlags dwMaxNumActiveCalls dwAnswerMode dwRingModes dwLineStates "
            "dwUUIAcceptSize dwUUIAnswerSize dwUUIMakeCallSize dwUUIDropSize "
            "dwUUISendUserUserInfoSize dwUUICallInfoSize"
        ),
        ("MinDialParams", LINEDIALPARAMS),
        ("MaxDialParams", LINEDIALPARAMS),
        ("DefaultDialParams", LINEDIALPARAMS),
        *_dwords(
            "dwNumTerminals dwTerminalCapsSize dwTerminalCapsOffset dwTerminalTextEntrySize "
            "dwTerminalTextSize dwTerminalTextOffset dwDevSpecificSize dwDevSpecificOffset "
            "dwLineFeatures dwSettableDevStatus dwDeviceClassesSize dwDeviceClassesOffset"
        ),
        ("PermanentLineGuid", GUID),  # TAPI 2.2
        ("dwAddressTypes", DWORD),  # TAPI 3.0 from here
        ("ProtocolGuid", GUID),
        ("dwAvailableTracking", DWORD),
    ]


class LINECALLINFO(_Packed):
    _fields_ = [
        *_dwords(
            "dwTotalSize dwNeededSize dwUsedSize hLine dwLineDeviceID dwAddressID dwBearerMode "
            "dwRate dwMediaMode dwAppSpecific dwCallID dwRelatedCallID dwCallParamFlags "
            "dwCallStates dwMonitorDigitModes dwMonitorMediaModes"
        ),
        ("DialParams", LINEDIALPARAMS),
        *_dwords(
            "dwOrigin dwReason dwCompletionID dwNumOwners dwNumMonitors dwCountryCode dwTrunk "
            "dwCallerIDFlags dwCallerIDSize dwCallerIDOffset dwCallerIDNameSize "
            "dwCallerIDNameOffset dwCalledIDFlags dwCalledIDSize dwCalledIDOffset "
            "dwCalledIDNameSize dwCalledIDNameOffset dwConnectedIDFlags dwConnectedIDSize "
            "dwConnectedIDOffset dwConnectedIDNameSize dwConnectedIDNameOffset "
            "dwRedirectionIDFlags dwRedirectionIDSize dwRedirectionIDOffset "
            "dwRedirectionIDNameSize dwRedirectionIDNameOffset dwRedirectingIDFlags "
            "dwRedirectingIDSize dwRedirectingIDOffset dwRedirectingIDNameSize "
            "dwRedirectingIDNameOffset dwAppNameSize dwAppNameOffset dwDisplayableAddressSize "
            "dwDisplayableAddressOffset dwCalledPartySize dwCalledPartyOffset dwCommentSize "
            "dwCommentOffset dwDisplaySize dwDisplayOffset dwUserUserInfoSize "
            "dwUserUserInfoOffset dwHighLevelCompSize dwHighLevelCompOffset dwLowLevelCompSize "
            "dwLowLevelCompOffset dwChargingInfoSize dwChargingInfoOffset dwTerminalModesSize "
            "dwTerminalModesOffset dwDevSpecificSize dwDevSpecificOffset "
            # TAPI 2.0
            "dwCallTreatment dwCallDataSize dwCallDataOffset dwSendingFlowspecSize "
            "dwSendingFlowspecOffset dwReceivingFlowspecSize dwReceivingFlowspecOffset "
            # TAPI 3.0
            "dwCallerIDAddressType dwCalledIDAddressType dwConnectedIDAddressType "
            "dwRedirectionIDAddressType dwRedirectingIDAddressType"
        ),
    ]


class LINECALLSTATUS(_Packed):
    _fields_ = [
        *_dwords(
            "dwTotalSize dwNeededSize dwUsedSize dwCallState dwCallStateMode dwCallPrivilege "
            "dwCallFeatures dwDevSpecificSize dwDevSpecificOffset dwCallFeatures2"
        ),
        ("tStateEntryTime", SYSTEMTIME),
    ]


#: Every structure whose layout the tests check against ``tapi.h`` (name → ctypes type).
STRUCTURES: Sequence[type[ctypes.Structure]] = (
    LINEDIALPARAMS,
    LINEEXTENSIONID,
    LINEINITIALIZEEXPARAMS,
    LINEMESSAGE,
    LINEDEVCAPS,
    LINECALLINFO,
    LINECALLSTATUS,
)
