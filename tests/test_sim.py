"""Every SimulatedProvider scenario, played through a real CallManager as fast as possible: the
calls end exactly as the scenario says, and the simulator obeys the app's commands."""

from __future__ import annotations

import asyncio

import pytest

from callsys.callmanager import CallManager
from callsys.errors import ConfigError, NotSupported, ProviderError, UnknownCall
from callsys.model import Call, CallEvent, CallState, Direction, EndReason
from callsys.numbers import NumberPlan
from callsys.provider import Capability, Provider, Registration
from providers import REGISTRY
from providers.sim import SCENARIOS, SimulatedProvider

PLAN = NumberPlan("IR", "21")

# scenario → per call, in the order they appear: (direction, end reason, was waiting, was answered)
EXPECTED: dict[str, list[tuple[Direction, EndReason, bool, bool]]] = {
    "incoming": [(Direction.INCOMING, EndReason.COMPLETED, False, True)],
    "missed": [(Direction.INCOMING, EndReason.MISSED, False, False)],
    "cancelled": [(Direction.INCOMING, EndReason.CANCELLED, False, False)],
    "rejected": [(Direction.INCOMING, EndReason.REJECTED, False, False)],
    "voicemail": [(Direction.INCOMING, EndReason.VOICEMAIL, False, False)],
    "busy": [(Direction.INCOMING, EndReason.BUSY, False, False)],
    "answered-elsewhere": [(Direction.INCOMING, EndReason.ANSWERED_ELSEWHERE, False, False)],
    "ivr": [(Direction.INCOMING, EndReason.COMPLETED, False, True)],
    "waiting": [
        (Direction.INCOMING, EndReason.COMPLETED, False, True),
        (Direction.INCOMING, EndReason.COMPLETED, True, True),
    ],
    "waiting-abandoned": [
        (Direction.INCOMING, EndReason.COMPLETED, False, True),
        (Direction.INCOMING, EndReason.CANCELLED, True, False),
    ],
    "two-waiting": [
        (Direction.INCOMING, EndReason.COMPLETED, False, True),
        (Direction.INCOMING, EndReason.CANCELLED, True, False),
        (Direction.INCOMING, EndReason.MISSED, True, False),
    ],
    "outgoing": [(Direction.OUTGOING, EndReason.COMPLETED, False, True)],
}


class Watcher:
    def __init__(self, manager: CallManager) -> None:
        self.order: list[str] = []
        self.first: dict[str, Call] = {}
        self.ended: dict[str, Call] = {}
        self.events: list[tuple[CallEvent, str]] = []
        manager.subscribe(self)

    def __call__(self, event: CallEvent, call: Call) -> None:
        if call.id not in self.first:
            self.order.append(call.id)
            self.first[call.id] = call
        self.events.append((event, call.id))
        if event is CallEvent.ENDED:
            self.ended[call.id] = call


def make(**options: object) -> tuple[SimulatedProvider, CallManager, Watcher]:
    provider = SimulatedProvider({"speed": 0, **options})
    manager = CallManager(normalize=lambda n: PLAN.parse(n.raw), is_loggable=PLAN.is_loggable)
    return provider, manager, Watcher(manager)


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SCENARIOS)


@pytest.mark.asyncio
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
async def test_scenario_ends_exactly_as_scripted(scenario: str) -> None:
    provider, manager, seen = make()
    await provider.start(manager.listener("sim"))
    await provider.play(scenario)
    outcome = [
        (
            seen.ended[cid].direction,
            seen.ended[cid].end_reason,
            seen.first[cid].waiting,
            seen.ended[cid].answered_at is not None,
        )
        for cid in seen.order
    ]
    assert outcome == EXPECTED[scenario]
    assert len(manager) == 0  # nothing left ringing
    for call in seen.ended.values():
        assert call.provider == "sim"
        assert call.remote.e164  # every scripted number normalises to E.164
        assert call.is_missed == (call.end_reason in (EndReason.MISSED, EndReason.CANCELLED, EndReason.BUSY))
    await provider.close()


@pytest.mark.asyncio
async def test_scenario_details_reach_the_call() -> None:
    provider, manager, seen = make()
    await provider.start(manager.listener("sim"))
    await provider.play("ivr")
    (call,) = seen.ended.values()
    assert call.dnis == "7100"
    assert dict(call.variables) == {"CUSTOMER_ID": "4711", "IVR_CHOICE": "support"}
    assert call.extension == "1001"
    await provider.play("incoming")
    sara = seen.ended[seen.order[-1]]
    assert (sara.remote_name, sara.line, sara.remote.e164) == ("Sara Ahmadi", "Sales", "+982188776655")


@pytest.mark.asyncio
async def test_waiting_scenario_holds_the_first_call_while_the_second_is_answered() -> None:
    provider, manager, seen = make()
    await provider.start(manager.listener("sim"))
    await provider.play("waiting")
    a, b = seen.order
    assert seen.events == [
        (CallEvent.INCOMING, a),
        (CallEvent.ANSWERED, a),
        (CallEvent.INCOMING, b),
        (CallEvent.HELD, a),
        (CallEvent.ANSWERED, b),
        (CallEvent.ENDED, b),
        (CallEvent.RESUMED, a),
        (CallEvent.ENDED, a),
    ]


@pytest.mark.asyncio
async def test_without_the_agent_script_the_call_waits_for_the_app() -> None:
    provider, manager, seen = make(agent_script=False)
    await provider.start(manager.listener("sim"))
    await provider.play("incoming")  # rings, then the caller hangs up: nobody answered
    (call,) = seen.ended.values()
    assert call.end_reason is EndReason.CANCELLED  # "completed" while ringing is made consistent

    ringing = provider.ring("+982188776655", "Sara")
    assert manager.get(ringing).state is CallState.RINGING  # type: ignore[union-attr]
    await provider.answer(ringing)
    second = provider.ring("09123456789", "Reza")
    assert manager.get(second).waiting  # type: ignore[union-attr]
    await provider.answer(second)  # answering the waiting call holds the first one
    assert manager.get(ringing).state is CallState.HELD  # type: ignore[union-attr]
    await provider.hangup(second)
    await provider.resume(ringing)
    assert manager.get(ringing).state is CallState.ACTIVE  # type: ignore[union-attr]
    provider.remote_hangup(ringing)
    assert seen.ended[ringing].end_reason is EndReason.COMPLETED
    assert seen.ended[second].end_reason is EndReason.COMPLETED


@pytest.mark.asyncio
async def test_commands() -> None:
    provider, manager, seen = make()
    await provider.start(manager.listener("sim"))
    rejected = provider.ring("09123456789")
    await provider.reject(rejected)
    assert seen.ended[rejected].end_reason is EndReason.REJECTED
    with pytest.raises(UnknownCall):
        await provider.answer(rejected)
    ringing = provider.ring("09123456789")
    with pytest.raises(ProviderError, match="Cannot hold a call that is ringing"):
        await provider.hold(ringing)
    await provider.close()
    assert seen.ended[ringing].end_reason is EndReason.FAILED  # closing ends what was live


@pytest.mark.asyncio
async def test_send_to_voicemail_ends_the_ringing_call_as_voicemail_in6() -> None:
    provider, manager, seen = make()
    await provider.start(manager.listener("sim"))
    assert Capability.VOICEMAIL in provider.capabilities
    ringing = provider.ring("09123456789", "Reza")
    await provider.send_to_voicemail(ringing)
    assert provider.commands == [("voicemail", ringing)]
    ended = seen.ended[ringing]
    assert ended.end_reason is EndReason.VOICEMAIL and ended.answered_at is None
    assert ended.end_reason.is_unanswered and not ended.is_missed  # IN8 activity, not a missed call
    assert seen.events == [(CallEvent.INCOMING, ringing), (CallEvent.ENDED, ringing)]
    with pytest.raises(UnknownCall):
        await provider.send_to_voicemail(ringing)
    connected = provider.ring("09123456789")
    await provider.answer(connected)
    with pytest.raises(ProviderError, match="Cannot voicemail a call that is active"):
        await provider.send_to_voicemail(connected)
    assert manager.get(connected).state is CallState.ACTIVE  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_capabilities_option_narrows_what_the_simulator_can_do() -> None:
    provider, manager, _seen = make(capabilities=["answer", "reject", "hangup"])
    await provider.start(manager.listener("sim"))
    assert provider.capabilities == {Capability.ANSWER, Capability.REJECT, Capability.HANGUP}
    ringing = provider.ring("09123456789")
    with pytest.raises(NotSupported, match="cannot send calls to voicemail"):
        await provider.send_to_voicemail(ringing)
    assert manager.get(ringing).state is CallState.RINGING  # type: ignore[union-attr]
    for bad in ("answer", ["answer", "teleport"], [1]):
        with pytest.raises(ConfigError) as exc:
            SimulatedProvider({"capabilities": bad})
        assert exc.value.key == "phone.options.capabilities"


@pytest.mark.asyncio
async def test_dial_is_answered_by_the_far_end() -> None:
    provider, manager, seen = make()
    await provider.start(manager.listener("sim"))
    call_id = await provider.dial("902188776655", "Sales")
    for _ in range(5):
        await asyncio.sleep(0)
    call = manager.get(call_id)
    assert call is not None
    assert (call.direction, call.state, call.line) == (Direction.OUTGOING, CallState.ACTIVE, "Sales")
    assert provider.commands == [("dial", "902188776655")]
    await provider.hangup(call_id)
    assert seen.ended[call_id].end_reason is EndReason.COMPLETED
    with pytest.raises(ProviderError):
        await provider.dial("")


@pytest.mark.asyncio
async def test_do_not_disturb_turns_new_calls_away_busy_as_the_sip_phone_does() -> None:
    """No ringing, but a trace: a missed "Busy" call in the log, as the SIP phone's 486 leaves."""
    provider, manager, seen = make()
    statuses = []
    manager.subscribe_status(statuses.append)
    await provider.start(manager.listener("sim"))
    await provider.set_dnd(True)
    await provider.play("missed")
    [call_id] = seen.order
    assert [event for event, _id in seen.events] == [CallEvent.INCOMING, CallEvent.ENDED]
    assert seen.ended[call_id].end_reason is EndReason.BUSY
    assert seen.ended[call_id].is_missed and seen.ended[call_id].answered_at is None
    assert provider.commands == [("dnd", "True")]  # nothing was answered or rung through
    assert statuses[-1].dnd is True
    assert statuses[-1].registration is Registration.ONLINE


def test_registry_builds_the_simulator() -> None:
    provider = REGISTRY.create("sim", {"speed": 0})
    assert isinstance(provider, Provider)
    assert Capability.ANSWER in provider.capabilities
    assert [line.id for line in provider.lines()] == ["Sales", "Support"]
