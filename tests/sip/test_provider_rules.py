"""SipProvider's rules (IN5, IN6, DND, cap, end reasons, flood guard) with a fake engine.

The fake (``fake_engine.py``) follows the ``Engine`` contract: it records commands, refuses
unknown calls and a 5th call like pjsua does, and the tests play pjsua's part by calling the
listener methods.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

from callsys.callmanager import CallManager
from callsys.errors import ConfigError, NotSupported, ProviderError, UnknownCall
from callsys.model import CallState, EndReason
from callsys.provider import Capability, Provider, Registration
from providers.sip.engine import IncomingCall, Phase
from providers.sip.options import MAX_CALLS, SipOptions
from providers.sip.provider import BURST_CALLS, SipProvider

from .fake_engine import VOICEMAIL_LINES, FakeEngine, Rig


@pytest.mark.asyncio
async def test_capabilities_and_limits() -> None:
    rig = await Rig().start()
    assert isinstance(rig.provider, Provider)  # the runtime-checkable protocol
    caps = rig.provider.capabilities
    assert {Capability.ANSWER, Capability.HOLD, Capability.DTMF, Capability.TRANSFER, Capability.DND} <= caps
    assert Capability.ALL_EXTENSIONS not in caps
    assert rig.provider.max_calls == 4
    await rig.provider.close()
    assert rig.engine.destroyed


@pytest.mark.asyncio
async def test_incoming_answer_and_both_ways_of_ending() -> None:
    rig = await Rig().start()
    key = rig.ring(name="Alice")
    call = rig.manager.get(key)
    assert call is not None and call.remote.digits == "1002" and call.remote_name == "Alice"
    assert call.dnis == "2000" and call.line == "Direct"
    await rig.provider.answer(key)
    assert ("answer", key, 200) in rig.engine.commands
    rig.connect(key)
    assert rig.state(key) is CallState.ACTIVE
    rig.disconnect(key)
    assert rig.manager.get(key).end_reason is EndReason.COMPLETED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("action", "code", "reason"),
    [
        ("reject", 487, EndReason.REJECTED),
        (None, 487, EndReason.CANCELLED),  # the caller gave up
    ],
)
@pytest.mark.asyncio
async def test_unanswered_incoming_end_reasons(action: str | None, code: int, reason: EndReason) -> None:
    rig = await Rig(reject_code=603).start()
    key = rig.ring()
    if action == "reject":
        await rig.provider.reject(key)
        assert ("hangup", key, 603) in rig.engine.commands
    rig.disconnect(key, code)
    call = rig.manager.get(key)
    assert (
        call is not None and call.end_reason is reason and call.is_missed is (reason is EndReason.CANCELLED)
    )


@pytest.mark.asyncio
async def test_send_to_voicemail_redirects_to_the_lines_voicemail_uri_in6() -> None:
    rig = await Rig(lines=VOICEMAIL_LINES).start()
    assert Capability.VOICEMAIL in rig.provider.capabilities
    office, home, shop = rig.ring(line="office"), rig.ring(line="home"), rig.ring(line="shop")
    await rig.provider.send_to_voicemail(office)
    await rig.provider.send_to_voicemail(home)
    assert rig.engine.commands[-2:] == [
        ("redirect", office, "sip:*97@pbx.example.com"),  # a plain number: the line's domain
        ("redirect", home, "sip:vm-1001@192.0.2.9;transport=tcp"),
    ]
    with pytest.raises(ProviderError, match="Only a ringing"):
        await rig.provider.send_to_voicemail(office)  # already on its way
    with pytest.raises(NotSupported, match="shop has no voicemail"):
        await rig.provider.send_to_voicemail(shop)
    rig.disconnect(office, 302)
    rig.disconnect(home, 302)
    assert [rig.manager.get(k).end_reason for k in (office, home)] == [  # type: ignore[union-attr]
        EndReason.VOICEMAIL,
        EndReason.VOICEMAIL,
    ]
    assert rig.state(shop) is CallState.RINGING
    rig.connect(shop)
    with pytest.raises(ProviderError, match="Only a ringing"):
        await rig.provider.send_to_voicemail(shop)


@pytest.mark.asyncio
async def test_no_voicemail_capability_without_a_voicemail_uri() -> None:
    rig = await Rig().start()
    assert Capability.VOICEMAIL not in rig.provider.capabilities
    key = rig.ring()
    with pytest.raises(NotSupported, match="cannot send calls to voicemail"):
        await rig.provider.send_to_voicemail(key)
    assert not [c for c in rig.engine.commands if c[0] == "redirect"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [(486, EndReason.BUSY), (603, EndReason.BUSY), (480, EndReason.NO_ANSWER), (404, EndReason.FAILED)],
)
@pytest.mark.asyncio
async def test_outgoing_failures(code: int, reason: EndReason) -> None:
    rig = await Rig().start()
    key = await rig.provider.dial("1002@192.0.2.7")
    assert rig.engine.commands[-1] == ("dial", key, "direct", "sip:1002@192.0.2.7")
    rig.provider.on_phase(key, Phase.RINGING, 180, "Ringing")
    assert rig.state(key) is CallState.ALERTING
    rig.disconnect(key, code)
    assert rig.manager.get(key).end_reason is reason  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_cancel_while_ringing_is_cancelled() -> None:
    rig = await Rig().start()
    key = await rig.provider.dial("sip:1002@192.0.2.7")
    await rig.provider.hangup(key)
    rig.disconnect(key, 487)
    assert rig.manager.get(key).end_reason is EndReason.CANCELLED  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_direct_line_needs_a_sip_address_and_registered_lines_get_their_domain() -> None:
    rig = await Rig().start()
    with pytest.raises(ProviderError):
        await rig.provider.dial("1002")
    other = await Rig(
        lines=[{"id": "office", "registrar": "sip:pbx.example.com", "user": "1001", "transport": "tcp"}]
    ).start()
    key = await other.provider.dial("tel:+4930123")
    assert other.engine.commands[-1] == ("dial", key, "office", "sip:+4930123@pbx.example.com")
    assert other.manager.get(key).remote.e164 == "+4930123"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_waiting_call_answer_holds_the_connected_call() -> None:
    rig = await Rig().start()
    first = rig.ring()
    await rig.provider.answer(first)
    rig.connect(first)
    second = rig.ring(user="1003")
    assert rig.manager.get(second).waiting  # type: ignore[union-attr]
    await rig.provider.answer(second)
    assert rig.engine.commands[-2:] == [("hold", first), ("answer", second, 200)]
    rig.provider.on_media(first, True, False)
    assert rig.state(first) is CallState.HELD


@pytest.mark.asyncio
async def test_do_not_disturb_answers_busy_and_shows_the_attempt() -> None:
    rig = await Rig(dnd=True).start()
    assert rig.statuses[-1].dnd
    key = rig.ring()
    assert ("hangup", key, 486) in rig.engine.commands
    rig.disconnect(key, 486)
    call = rig.manager.get(key)
    assert call is not None and call.end_reason is EndReason.BUSY and call.is_missed


@pytest.mark.asyncio
async def test_fifth_outgoing_call_is_refused() -> None:
    rig = await Rig().start()
    for n in range(MAX_CALLS):
        await rig.provider.dial(f"{n}@192.0.2.7")
    with pytest.raises(ProviderError, match="4 calls"):
        await rig.provider.dial("5@192.0.2.7")


@pytest.mark.asyncio
async def test_auto_answer_but_not_a_waiting_call_and_not_a_flood() -> None:
    rig = await Rig(auto_answer=True).start()
    key = rig.ring()
    await asyncio.sleep(0.01)
    assert ("answer", key, 200) in rig.engine.commands
    rig.connect(key)
    waiting = rig.ring()
    await asyncio.sleep(0.01)
    assert ("answer", waiting, 200) not in rig.engine.commands

    flood = await Rig(auto_answer=True).start()
    keys = [flood.ring(user=str(1000 + n)) for n in range(BURST_CALLS + 3)]
    await asyncio.sleep(0.01)
    answered = {c[1] for c in flood.engine.commands if c[0] == "answer" and c[2] == 200}
    assert answered == set(keys[:BURST_CALLS])


@pytest.mark.asyncio
async def test_ring_timeout_declines_as_missed() -> None:
    rig = await Rig(ring_timeout=0.05).start()
    key = rig.ring()
    for _ in range(100):
        if ("hangup", key, 480) in rig.engine.commands:
            break
        await asyncio.sleep(0.01)
    rig.disconnect(key, 480)
    assert rig.manager.get(key).end_reason is EndReason.MISSED  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_an_unknown_caller_rings_for_unknown_ring_timeout_on_a_direct_line() -> None:
    """A caller's address is known once a call from it was answered; until then its calls ring
    ``unknown_ring_timeout`` at most (``ring_timeout`` 0: the known caller's never time out)."""
    rig = await Rig(ring_timeout=0, unknown_ring_timeout=0.05).start()
    first = rig.ring(source="192.0.2.7")
    rig.connect(first)
    rig.disconnect(first)
    known = rig.ring(source="192.0.2.7")
    stranger = rig.ring(source="198.51.100.9")
    for _ in range(100):
        if ("hangup", stranger, 480) in rig.engine.commands:
            break
        await asyncio.sleep(0.01)
    assert ("hangup", stranger, 480) in rig.engine.commands
    assert not [c for c in rig.engine.commands if c[0] == "hangup" and c[1] == known]


@pytest.mark.asyncio
async def test_commands_need_a_connected_call_and_hold_retries_while_busy() -> None:
    rig = await Rig().start()
    key = rig.ring()
    with pytest.raises(NotSupported):
        await rig.provider.hold(key)
    with pytest.raises(UnknownCall):
        await rig.provider.answer("nope")
    await rig.provider.answer(key)
    rig.connect(key)
    rig.engine.busy_once.add("hold")
    await rig.provider.hold(key)  # first attempt refused (offer/answer pending), retried
    assert ("hold", key) in rig.engine.commands
    rig.provider.on_media(key, True, False)
    await rig.provider.resume(key)
    rig.provider.on_media(key, False, False)
    assert rig.state(key) is CallState.ACTIVE
    await rig.provider.set_mute(key, True)
    await rig.provider.send_dtmf(key, "12#")
    rig.provider.on_dtmf(key, "5")
    assert [c for c in rig.engine.commands if c[0] in ("mute", "dtmf")] == [
        ("mute", key, True),
        ("dtmf", key, "12#"),
    ]


@pytest.mark.asyncio
async def test_transfer_hangs_up_our_leg_when_the_target_answers() -> None:
    rig = await Rig().start()
    key = await rig.provider.dial("1002@192.0.2.7")
    rig.connect(key)
    await rig.provider.transfer(key, "3000@192.0.2.8")
    assert ("transfer", key, "sip:3000@192.0.2.8") in rig.engine.commands
    rig.provider.on_transfer(key, 100, False)
    assert ("hangup", key, 0) not in rig.engine.commands
    rig.provider.on_transfer(key, 200, True)
    assert ("hangup", key, 0) in rig.engine.commands


@pytest.mark.asyncio
async def test_registration_state_reaches_the_status() -> None:
    rig = await Rig(
        lines=[{"id": "office", "label": "Office", "registrar": "pbx.example.com", "user": "1001"}]
    ).start()
    assert rig.statuses[-1].registration is Registration.CONNECTING
    rig.provider.on_registration("office", 200, "OK", True)
    assert rig.statuses[-1].registration is Registration.ONLINE
    rig.provider.on_registration("office", 408, "Request Timeout", False)
    status = rig.statuses[-1]
    assert status.registration is Registration.OFFLINE and status.lines[0].detail == "408 Request Timeout"


@pytest.mark.parametrize(
    "options",
    [
        {"lines": [{"registrar": "pbx"}]},  # no user
        {"lines": [{"user": "1", "transport": "sctp"}]},
        {"lines": [{"user": "1", "id": "a"}, {"user": "2", "id": "a"}]},
        {"reject_code": 404},
        {"default_line": "nope"},
        {"audio": {"mode": "speakers"}},
        {"listen_port": 70000},
        {"lines": [{"user": "1", "voicemail_uri": "sip:*97@pbx>;x"}]},
        {"lines": [{"user": "1", "voicemail_uri": 97}]},
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        SipOptions.parse(options)


def test_registry_entry_is_cheap_and_does_not_load_pjsua2() -> None:
    code = (
        "import sys, providers\n"
        "p = providers.REGISTRY.create('sip', {'listen_port': 5099})\n"
        "assert p.name == 'sip'\n"
        "assert 'pjsua2' not in sys.modules and 'PyQt6' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2])
    )


@pytest.mark.asyncio
async def test_registry_factory_reads_numbers_with_the_number_plan() -> None:
    import providers
    from callsys.numbers import NumberPlan

    provider = providers.REGISTRY.create(
        "sip", {"number_plan": NumberPlan(region="DE"), "audio": {"mode": "none"}}
    )
    assert isinstance(provider, SipProvider)
    engine = FakeEngine()
    provider._engine_factory = lambda: engine
    manager = CallManager()
    await provider.start(manager.listener("sip"))
    engine.live.add("k1")
    provider.on_incoming("k1", IncomingCall("direct", "030 1234567", "", "2000", "c", "sip:x@h"))
    assert manager.get("k1").remote.e164 == "+49301234567"  # type: ignore[union-attr]
    await provider.close()


class FakeTone:
    def __init__(self, _options: Any, ringback: bool = False) -> None:
        self.ringback = ringback
        self.ringing = False

    def start(self) -> None:
        self.ringing = True

    def stop(self) -> None:
        self.ringing = False


@pytest.mark.asyncio
async def test_ringtone_and_ringback_follow_the_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers.sip import sound

    tones: list[FakeTone] = []
    preloads: list[str] = []
    monkeypatch.setattr(sound, "Ringer", lambda *a, **kw: tones.append(FakeTone(*a, **kw)) or tones[-1])
    monkeypatch.setattr(sound, "preload_numpy", lambda: preloads.append("numpy"))
    rig = Rig(audio={"mode": "device"})
    await rig.start()
    ringer, ringback = tones
    assert not ringer.ringback and ringback.ringback

    key = rig.ring()
    assert ringer.ringing  # an incoming call rings
    await rig.provider.answer(key)
    rig.connect(key)
    assert not ringer.ringing
    rig.disconnect(key)

    out = await rig.provider.dial("1002@192.0.2.7")
    assert preloads == ["numpy"]  # the resampler is imported (on a thread) before the far end answers
    assert not ringback.ringing  # not before the far end rings
    rig.provider.on_phase(out, Phase.RINGING, 180, "Ringing")
    assert ringback.ringing
    rig.connect(out)
    assert not ringback.ringing

    early = await rig.provider.dial("1003@192.0.2.7")
    rig.provider.on_phase(early, Phase.RINGING, 183, "Session Progress")
    rig.provider.on_media(early, False, False)  # early media: the far end plays its own ringback
    assert not ringback.ringing
    await rig.provider.close()
