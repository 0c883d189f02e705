"""No exception may leave a pjsua2 callback: SWIG turns it into a C++ exception that unwinds
through pjsip's C code and aborts the process. And SIP INFO DTMF bodies are read right."""

from __future__ import annotations

import inspect
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from providers.sip import pjengine

# The engine this run uses (the built one or the wheel): importing pjsua2 here first would load
# the wheel, and a process runs one engine only.
pj = pjengine.pj


def overridden_callbacks() -> list[tuple[str, Any]]:
    """Every method of a pjengine class that overrides a method of its pjsua2 base class."""
    found = []
    for name, cls in inspect.getmembers(pjengine, inspect.isclass):
        if cls.__module__ != pjengine.__name__:
            continue
        bases = [base for base in cls.__mro__[1:] if base.__module__.startswith("pjsua2")]
        for attr, value in vars(cls).items():
            if attr.startswith("on") and callable(value) and any(hasattr(base, attr) for base in bases):
                found.append((f"{name}.{attr}", value))
    # the endpoint's hook lives in a mixin (it is not a pjsua2 class itself)
    found.append(("_SelectAccountHook.onSelectAccount", pjengine._SelectAccountHook.onSelectAccount))
    return found


def test_every_pjsua2_callback_is_guarded() -> None:
    callbacks = overridden_callbacks()
    names = {name for name, _ in callbacks}
    assert {"_Call.onCallMediaState", "_Call.onCallState", "_Account.onIncomingCall"} <= names
    assert [name for name, fn in callbacks if not getattr(fn, "guarded", False)] == []


def test_a_pj_error_in_on_call_media_state_does_not_escape(caplog: pytest.LogCaptureFixture) -> None:
    """``getInfo`` raises ``pj.Error`` for a call pjsua has just let go of."""

    def get_info() -> None:
        error = pj.Error()
        error.reason = "PJSIP_ESESSIONTERMINATED"
        raise error

    call = SimpleNamespace(engine=object(), quiet=False, getInfo=get_info)
    with caplog.at_level(logging.ERROR, logger="providers.sip.pjengine"):
        assert pjengine._Call.onCallMediaState(call, SimpleNamespace()) is None
    assert "onCallMediaState failed" in caplog.text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf\r\n\r\n5", (True, "5")),
        ("INFO sip:x SIP/2.0\r\nc: Application/DTMF\r\n\r\n#\r\n", (True, "#")),
        ("INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf\r\n\r\nSignal=a\r\n", (True, "A")),
        ("INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf\r\n\r\nhello", (True, "")),
        ("INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf\r\n\r\n55", (True, "")),
        (
            "INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf-relay\r\n\r\nSignal=5\r\nDuration=160",
            (True, "5"),
        ),
        ("INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf-relay\r\n\r\nSignal=5", (True, "5")),
        ("INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf-relay\r\n\r\nSignal=\r\n", (True, "")),
        ("INFO sip:x SIP/2.0\r\nContent-Type: text/plain\r\n\r\n5", (False, "")),
        ("INFO sip:x SIP/2.0\r\n\r\n5", (False, "")),
    ],
)
def test_info_dtmf_bodies(message: str, expected: tuple[bool, str]) -> None:
    assert pjengine._info_dtmf(message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("REFER sip:x SIP/2.0\r\nCall-ID: abc@host\r\nCSeq: 2 REFER\r\n\r\n", "abc@host"),
        ("REFER sip:x SIP/2.0\r\ni:  xyz \r\n\r\n", "xyz"),
        ("REFER sip:x SIP/2.0\r\nCSeq: 2 REFER\r\n\r\nCall-ID: in-the-body", ""),
    ],
)
def test_call_id_of_a_request(message: str, expected: str) -> None:
    assert pjengine._call_id(message) == expected
