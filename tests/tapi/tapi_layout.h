/* The TAPI structures the fake tapi32 fills, laid out as the Windows SDK's tapi.h on x64.
 *
 * tapi.h puts everything under #pragma pack(1); handles (HLINEAPP, HLINE, HCALL) are 32-bit
 * DWORDs (DECLARE_OPAQUE32), DWORD_PTR and HANDLE are 64 bits on x64, WCHAR is UTF-16 (16 bits —
 * not Linux's 32-bit wchar_t). The static asserts below are the SDK's x64 sizes and offsets,
 * written down from tapi.h; test_layout.py also checks every field of providers/tapi/structs.py
 * against this header and, when x86_64-w64-mingw32-gcc is installed, against MinGW-w64's tapi.h.
 */
#ifndef FAKE_TAPI_LAYOUT_H
#define FAKE_TAPI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t DWORD;
typedef uint16_t WORD;
typedef uint8_t BYTE;
typedef int32_t LONG;
typedef uint64_t DWORD_PTR;
typedef void *HANDLE;
typedef uint16_t WCHAR;

#pragma pack(push, 1)

typedef struct { DWORD Data1; WORD Data2; WORD Data3; BYTE Data4[8]; } GUID;

typedef struct {
    WORD wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds;
} SYSTEMTIME;

typedef struct {
    DWORD dwDialPause, dwDialSpeed, dwDigitDuration, dwWaitForDialtone;
} LINEDIALPARAMS;

typedef struct {
    DWORD dwExtensionID0, dwExtensionID1, dwExtensionID2, dwExtensionID3;
} LINEEXTENSIONID;

typedef struct {
    DWORD dwTotalSize, dwNeededSize, dwUsedSize, dwOptions;
    union { HANDLE hEvent; HANDLE hCompletionPort; } Handles;
    DWORD dwCompletionKey;
} LINEINITIALIZEEXPARAMS;

typedef struct {
    DWORD hDevice, dwMessageID;
    DWORD_PTR dwCallbackInstance, dwParam1, dwParam2, dwParam3;
} LINEMESSAGE;

typedef struct {
    DWORD dwTotalSize, dwNeededSize, dwUsedSize, dwProviderInfoSize, dwProviderInfoOffset,
        dwSwitchInfoSize, dwSwitchInfoOffset, dwPermanentLineID, dwLineNameSize, dwLineNameOffset,
        dwStringFormat, dwAddressModes, dwNumAddresses, dwBearerModes, dwMaxRate, dwMediaModes,
        dwGenerateToneModes, dwGenerateToneMaxNumFreq, dwGenerateDigitModes,
        dwMonitorToneMaxNumFreq, dwMonitorToneMaxNumEntries, dwMonitorDigitModes,
        dwGatherDigitsMinTimeout, dwGatherDigitsMaxTimeout, dwMedCtlDigitMaxListSize,
        dwMedCtlMediaMaxListSize, dwMedCtlToneMaxListSize, dwMedCtlCallStateMaxListSize,
        dwDevCapFlags, dwMaxNumActiveCalls, dwAnswerMode, dwRingModes, dwLineStates,
        dwUUIAcceptSize, dwUUIAnswerSize, dwUUIMakeCallSize, dwUUIDropSize,
        dwUUISendUserUserInfoSize, dwUUICallInfoSize;
    LINEDIALPARAMS MinDialParams, MaxDialParams, DefaultDialParams;
    DWORD dwNumTerminals, dwTerminalCapsSize, dwTerminalCapsOffset, dwTerminalTextEntrySize,
        dwTerminalTextSize, dwTerminalTextOffset, dwDevSpecificSize, dwDevSpecificOffset,
        dwLineFeatures, dwSettableDevStatus, dwDeviceClassesSize, dwDeviceClassesOffset;
    GUID PermanentLineGuid;
    DWORD dwAddressTypes;
    GUID ProtocolGuid;
    DWORD dwAvailableTracking;
} LINEDEVCAPS;

typedef struct {
    DWORD dwTotalSize, dwNeededSize, dwUsedSize, hLine, dwLineDeviceID, dwAddressID, dwBearerMode,
        dwRate, dwMediaMode, dwAppSpecific, dwCallID, dwRelatedCallID, dwCallParamFlags,
        dwCallStates, dwMonitorDigitModes, dwMonitorMediaModes;
    LINEDIALPARAMS DialParams;
    DWORD dwOrigin, dwReason, dwCompletionID, dwNumOwners, dwNumMonitors, dwCountryCode, dwTrunk,
        dwCallerIDFlags, dwCallerIDSize, dwCallerIDOffset, dwCallerIDNameSize,
        dwCallerIDNameOffset, dwCalledIDFlags, dwCalledIDSize, dwCalledIDOffset,
        dwCalledIDNameSize, dwCalledIDNameOffset, dwConnectedIDFlags, dwConnectedIDSize,
        dwConnectedIDOffset, dwConnectedIDNameSize, dwConnectedIDNameOffset,
        dwRedirectionIDFlags, dwRedirectionIDSize, dwRedirectionIDOffset,
        dwRedirectionIDNameSize, dwRedirectionIDNameOffset, dwRedirectingIDFlags,
        dwRedirectingIDSize, dwRedirectingIDOffset, dwRedirectingIDNameSize,
        dwRedirectingIDNameOffset, dwAppNameSize, dwAppNameOffset, dwDisplayableAddressSize,
        dwDisplayableAddressOffset, dwCalledPartySize, dwCalledPartyOffset, dwCommentSize,
        dwCommentOffset, dwDisplaySize, dwDisplayOffset, dwUserUserInfoSize,
        dwUserUserInfoOffset, dwHighLevelCompSize, dwHighLevelCompOffset, dwLowLevelCompSize,
        dwLowLevelCompOffset, dwChargingInfoSize, dwChargingInfoOffset, dwTerminalModesSize,
        dwTerminalModesOffset, dwDevSpecificSize, dwDevSpecificOffset,
        dwCallTreatment, dwCallDataSize, dwCallDataOffset, dwSendingFlowspecSize,
        dwSendingFlowspecOffset, dwReceivingFlowspecSize, dwReceivingFlowspecOffset,
        dwCallerIDAddressType, dwCalledIDAddressType, dwConnectedIDAddressType,
        dwRedirectionIDAddressType, dwRedirectingIDAddressType;
} LINECALLINFO;

typedef struct {
    DWORD dwTotalSize, dwNeededSize, dwUsedSize, dwCallState, dwCallStateMode, dwCallPrivilege,
        dwCallFeatures, dwDevSpecificSize, dwDevSpecificOffset, dwCallFeatures2;
    SYSTEMTIME tStateEntryTime;
} LINECALLSTATUS;

#pragma pack(pop)

/* The Windows SDK's x64 layout (tapi.h, #pragma pack(1)). */
_Static_assert(sizeof(LINEDIALPARAMS) == 16, "LINEDIALPARAMS");
_Static_assert(sizeof(LINEEXTENSIONID) == 16, "LINEEXTENSIONID");
_Static_assert(sizeof(LINEINITIALIZEEXPARAMS) == 28, "LINEINITIALIZEEXPARAMS: packed, not 32");
_Static_assert(offsetof(LINEINITIALIZEEXPARAMS, Handles) == 16, "hEvent at 16");
_Static_assert(offsetof(LINEINITIALIZEEXPARAMS, dwCompletionKey) == 24, "dwCompletionKey at 24");
_Static_assert(sizeof(LINEMESSAGE) == 40, "LINEMESSAGE");
_Static_assert(offsetof(LINEMESSAGE, dwCallbackInstance) == 8, "dwCallbackInstance at 8");
_Static_assert(offsetof(LINEMESSAGE, dwParam3) == 32, "dwParam3 at 32");
_Static_assert(sizeof(LINEDEVCAPS) == 292, "LINEDEVCAPS (TAPI 3.1 fields)");
_Static_assert(offsetof(LINEDEVCAPS, dwLineNameOffset) == 36, "dwLineNameOffset at 36");
_Static_assert(offsetof(LINEDEVCAPS, MinDialParams) == 156, "MinDialParams at 156");
_Static_assert(offsetof(LINEDEVCAPS, PermanentLineGuid) == 252, "PermanentLineGuid at 252");
_Static_assert(sizeof(LINECALLINFO) == 344, "LINECALLINFO (TAPI 3.1 fields)");
_Static_assert(offsetof(LINECALLINFO, DialParams) == 64, "DialParams at 64");
_Static_assert(offsetof(LINECALLINFO, dwOrigin) == 80, "dwOrigin at 80");
_Static_assert(offsetof(LINECALLINFO, dwCallerIDFlags) == 108, "dwCallerIDFlags at 108");
_Static_assert(offsetof(LINECALLINFO, dwCalledIDOffset) == 136, "dwCalledIDOffset at 136");
_Static_assert(offsetof(LINECALLINFO, dwCallTreatment) == 296, "dwCallTreatment at 296");
_Static_assert(sizeof(LINECALLSTATUS) == 56, "LINECALLSTATUS");
_Static_assert(offsetof(LINECALLSTATUS, tStateEntryTime) == 40, "tStateEntryTime at 40");

#endif
