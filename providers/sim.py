"""SimulatedProvider — a pretend PBX for demos and tests (the provider world's ``MockTransport``).

It plays scripted scenarios (``SCENARIOS``) and also obeys commands, so a test or a demo can
ring the agent, let the UI answer, and have the "caller" hang up later. Every capability is
supported, because the simulator is also how the UI's full feature set is exercised; the option
``capabilities`` (a list of ``Capability`` values) narrows them, to show or test how the UI
behaves with a phone system that cannot do everything (e.g. no voicemail).

Timing: a step's ``after`` is seconds since the previous step, divided by ``speed`` (``speed``
0 means "as fast as possible" — the steps still run in order, one loop iteration apart).
Scripted agent actions (answer / reject / hold …) only run when ``agent_script`` is true; with
it false the scenario rings and waits for the UI or the test to act.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callsys.errors import ConfigError, ProviderError, UnknownCall
from callsys.model import CallEvent, CallState, Direction, EndReason, PhoneNumber, ProviderEvent
from callsys.optionkeys import OptionKeys
from callsys.provider import Capability, Line, ProviderListener, ProviderStatus, Registration, require

__all__ = ["OPTION_KEYS", "SCENARIOS", "SimulatedProvider", "Step"]

_CAPS = frozenset(Capability)

#: Every key ``SimulatedProvider`` reads from its options (any other gets a warning).
OPTION_KEYS = OptionKeys(
    "the simulator",
    dict.fromkeys(("speed", "agent_script", "extension", "capabilities", "lines", "dial_answer_after")),
)


def _capabilities(value: Any) -> frozenset[Capability]:
    if value is None:
        return _CAPS
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            'capabilities must be a list such as ["answer", "reject"].', key="phone.options.capabilities"
        )
    try:
        return frozenset(Capability(v) for v in value)
    except ValueError as exc:
        raise ConfigError(f"Unknown capability: {exc}.", key="phone.options.capabilities") from None


@dataclass(frozen=True, slots=True)
class Step:
    after: float  # seconds after the previous step
    action: str  # ring | dial | ringback | answer | hold | resume | hangup | update | dtmf
    call: str  # scenario-local call name ("a", "b" …)
    number: str = ""
    name: str = ""
    line: str = ""
    dnis: str = ""
    reason: EndReason | None = None
    agent: bool = False  # the agent does this (skipped unless agent_script)
    variables: Mapping[str, str] = field(default_factory=dict)
    digits: str = ""


def _s(*steps: Step) -> tuple[Step, ...]:
    return steps


SARA = ("+982188776655", "Sara Ahmadi")
REZA = ("09123456789", "Reza Karimi")
ACME = ("+14155550100", "ACME Corp")


def _ring(
    call: str,
    who: tuple[str, str],
    *,
    after: float = 0,
    line: str = "",
    dnis: str = "",
    variables: Mapping[str, str] | None = None,
) -> Step:
    return Step(
        after, "ring", call, number=who[0], name=who[1], line=line, dnis=dnis, variables=dict(variables or {})
    )


SCENARIOS: dict[str, tuple[Step, ...]] = {
    "incoming": _s(
        _ring("a", SARA, after=0, line="Sales", dnis="7000"),
        Step(2, "answer", "a", agent=True),
        Step(4, "hangup", "a", reason=EndReason.COMPLETED),
    ),
    "missed": _s(_ring("a", REZA, after=0), Step(5, "hangup", "a", reason=EndReason.MISSED)),
    "cancelled": _s(_ring("a", REZA, after=0), Step(3, "hangup", "a", reason=EndReason.CANCELLED)),
    "rejected": _s(_ring("a", ACME, after=0), Step(2, "hangup", "a", reason=EndReason.REJECTED, agent=True)),
    "voicemail": _s(
        _ring("a", REZA, after=0), Step(2, "hangup", "a", reason=EndReason.VOICEMAIL, agent=True)
    ),
    "busy": _s(_ring("a", REZA, after=0), Step(0.5, "hangup", "a", reason=EndReason.BUSY)),
    "answered-elsewhere": _s(
        _ring("a", SARA, after=0, line="Support", dnis="7200"),
        Step(3, "hangup", "a", reason=EndReason.ANSWERED_ELSEWHERE),
    ),
    "ivr": _s(
        _ring("a", SARA, after=0, dnis="7100", variables={"CUSTOMER_ID": "4711", "IVR_CHOICE": "support"}),
        Step(2, "answer", "a", agent=True),
        Step(3, "hangup", "a", reason=EndReason.COMPLETED),
    ),
    "waiting": _s(
        _ring("a", SARA, after=0),
        Step(1, "answer", "a", agent=True),
        _ring("b", REZA, after=2),
        Step(2, "hold", "a", agent=True),
        Step(0, "answer", "b", agent=True),
        Step(3, "hangup", "b", reason=EndReason.COMPLETED),
        Step(0.5, "resume", "a", agent=True),
        Step(2, "hangup", "a", reason=EndReason.COMPLETED),
    ),
    "waiting-abandoned": _s(
        _ring("a", SARA, after=0),
        Step(1, "answer", "a", agent=True),
        _ring("b", REZA, after=2),
        Step(4, "hangup", "b", reason=EndReason.CANCELLED),
        Step(2, "hangup", "a", reason=EndReason.COMPLETED),
    ),
    "two-waiting": _s(
        _ring("a", SARA, after=0),
        Step(1, "answer", "a", agent=True),
        _ring("b", REZA, after=1),
        _ring("c", ACME, after=1),
        Step(3, "hangup", "b", reason=EndReason.CANCELLED),
        Step(1, "hangup", "c", reason=EndReason.MISSED),
        Step(1, "hangup", "a", reason=EndReason.COMPLETED),
    ),
    "outgoing": _s(
        Step(0, "dial", "a", number=ACME[0], name=ACME[1], line="Sales"),
        Step(1, "ringback", "a"),
        Step(2, "answer", "a"),
        Step(4, "hangup", "a", reason=EndReason.COMPLETED, agent=True),
    ),
}


class SimulatedProvider:
    """A provider whose PBX is a script. See the module docstring."""

    name = "sim"
    #: The scenarios ``play`` knows by name (``callsys simulate --list``, the Simulate menu).
    scenarios: Mapping[str, Sequence[Step]] = SCENARIOS

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        self._speed = float(opts.get("speed", 1.0))
        self._agent_script = bool(opts.get("agent_script", True))
        self._extension = str(opts.get("extension", "1001"))
        self._caps = _capabilities(opts.get("capabilities"))
        self._lines = tuple(
            Line(id=str(line), label=str(line)) for line in opts.get("lines", ("Sales", "Support"))
        )
        self._listener: ProviderListener | None = None
        self._states: dict[str, CallState] = {}
        self._numbers: dict[str, str] = {}  # call id -> the number as dialled or calling
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._dnd = False
        self.commands: list[tuple[str, str]] = []  # what the app asked for, for tests
        self._dial_answer_after: float | None = opts.get("dial_answer_after", 1.0)

    # -------------------------------------------------------------------- Provider protocol
    @property
    def capabilities(self) -> frozenset[Capability]:
        return self._caps

    def lines(self) -> tuple[Line, ...]:
        return self._lines

    async def start(self, listener: ProviderListener) -> None:
        self._listener = listener
        self._status()

    async def answer(self, call_id: str) -> None:
        self._command("answer", call_id, expect=(CallState.RINGING,))
        # Answering a call while another is up puts the other one on hold, like a real phone.
        for other, state in list(self._states.items()):
            if other != call_id and state is CallState.ACTIVE:
                self._set(other, CallEvent.HELD, CallState.HELD)
        self._set(call_id, CallEvent.ANSWERED, CallState.ACTIVE)

    async def reject(self, call_id: str) -> None:
        self._command("reject", call_id, expect=(CallState.RINGING,))
        self._end(call_id, EndReason.REJECTED)

    async def send_to_voicemail(self, call_id: str) -> None:
        require(self, Capability.VOICEMAIL)
        self._command("voicemail", call_id, expect=(CallState.RINGING,))
        self._end(call_id, EndReason.VOICEMAIL)

    async def hangup(self, call_id: str) -> None:
        self._command("hangup", call_id)
        state = self._states[call_id]
        reason = EndReason.COMPLETED if state.is_connected else EndReason.CANCELLED
        if state is CallState.RINGING:
            reason = EndReason.REJECTED
        self._end(call_id, reason)

    async def hold(self, call_id: str) -> None:
        self._command("hold", call_id, expect=(CallState.ACTIVE,))
        self._set(call_id, CallEvent.HELD, CallState.HELD)

    async def resume(self, call_id: str) -> None:
        self._command("resume", call_id, expect=(CallState.HELD,))
        for other, state in list(self._states.items()):
            if other != call_id and state is CallState.ACTIVE:
                self._set(other, CallEvent.HELD, CallState.HELD)
        self._set(call_id, CallEvent.RESUMED, CallState.ACTIVE)

    async def set_mute(self, call_id: str, muted: bool) -> None:
        self._command("mute" if muted else "unmute", call_id, expect=(CallState.ACTIVE, CallState.HELD))

    async def dial(self, number: str, line: str | None = None, *, consult_of: str | None = None) -> str:
        if not number:
            raise ProviderError("There is no number to dial.")
        call_id = f"sim-{next(self._ids)}"
        self.commands.append(("dial", number))
        self._states[call_id] = CallState.DIALING
        self._numbers[call_id] = number
        self._emit(
            ProviderEvent(
                CallEvent.OUTGOING,
                call_id,
                direction=Direction.OUTGOING,
                remote=PhoneNumber(raw=number, digits="".join(c for c in number if c.isdigit())),
                line=line or (self._lines[0].id if self._lines else ""),
                extension=self._extension,
                consult_of=consult_of,
            )
        )
        if self._dial_answer_after is not None:
            self._spawn(self._far_end_answers(call_id, self._dial_answer_after))
        return call_id

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        self._command(f"dtmf:{digits}", call_id, expect=(CallState.ACTIVE,))

    async def transfer(self, call_id: str, target: str) -> None:
        self._command(f"transfer:{target}", call_id, expect=(CallState.ACTIVE, CallState.HELD))
        self._end(call_id, EndReason.COMPLETED, transferred_to=target)

    async def consult(self, call_id: str, number: str, line: str | None = None) -> str:
        require(self, Capability.CONSULT)
        self._command(f"consult:{number}", call_id, expect=(CallState.ACTIVE, CallState.HELD))
        if self._states[call_id] is CallState.ACTIVE:
            self._set(call_id, CallEvent.HELD, CallState.HELD)
        return await self.dial(number, line, consult_of=call_id)

    async def transfer_to_call(self, call_id: str, other_id: str) -> None:
        require(self, Capability.ATTENDED_TRANSFER)
        connected = (CallState.ACTIVE, CallState.HELD)
        self._command(f"transfer_to_call:{other_id}", call_id, expect=connected)
        if self._states.get(other_id) not in connected:
            raise ProviderError("The consulted call is not connected.")
        self._end(call_id, EndReason.COMPLETED, transferred_to=self._numbers.get(other_id, ""))
        self._end(other_id, EndReason.COMPLETED)

    async def conference(self, call_id: str, other_id: str) -> None:
        require(self, Capability.CONFERENCE)
        connected = (CallState.ACTIVE, CallState.HELD)
        self._command(f"conference:{other_id}", call_id, expect=connected)
        if self._states.get(other_id) not in connected:
            raise ProviderError("The consulted call is not connected.")
        for one in (call_id, other_id):
            if self._states[one] is CallState.HELD:
                self._set(one, CallEvent.RESUMED, CallState.ACTIVE)
            self._emit(ProviderEvent(CallEvent.UPDATED, one, conference=True))

    async def set_dnd(self, enabled: bool) -> None:
        self._dnd = enabled
        self.commands.append(("dnd", str(enabled)))
        self._status()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for call_id in list(self._states):
            self._end(call_id, EndReason.FAILED)

    # -------------------------------------------------------------------- scenario playing
    def play(self, scenario: str | Sequence[Step]) -> asyncio.Task[None]:
        """Start playing a scenario (by name or as steps); returns the task that plays it."""
        steps = self.scenarios[scenario] if isinstance(scenario, str) else tuple(scenario)
        return self._spawn(self._play(steps))

    def ring(
        self,
        number: str,
        name: str = "",
        *,
        line: str = "",
        dnis: str = "",
        variables: Mapping[str, str] | None = None,
    ) -> str:
        """Make a call ring now (for the UI's demo menu and for tests). Returns its call id."""
        call_id = f"sim-{next(self._ids)}"
        self._do(
            Step(
                0, "ring", "", number=number, name=name, line=line, dnis=dnis, variables=dict(variables or {})
            ),
            call_id,
        )
        return call_id

    def remote_hangup(self, call_id: str, reason: EndReason = EndReason.COMPLETED) -> None:
        """The far end hangs up (or, for a ringing call, gives up / is taken elsewhere)."""
        if call_id in self._states:
            self._end(call_id, reason)

    def state(self, call_id: str) -> CallState | None:
        return self._states.get(call_id)

    async def _play(self, steps: Sequence[Step]) -> None:
        ids: dict[str, str] = {}
        for step in steps:
            delay = step.after / self._speed if self._speed > 0 else 0
            await asyncio.sleep(delay)
            if step.agent and not self._agent_script:
                continue
            call_id = ids.setdefault(step.call, f"sim-{next(self._ids)}")
            self._do(step, call_id)

    def _do(self, step: Step, call_id: str) -> None:
        a = step.action
        if a in ("ring", "dial"):
            incoming = a == "ring"
            self._states[call_id] = CallState.RINGING if incoming else CallState.DIALING
            self._numbers[call_id] = step.number
            digits = "".join(c for c in step.number if c.isdigit())
            self._emit(
                ProviderEvent(
                    CallEvent.INCOMING if incoming else CallEvent.OUTGOING,
                    call_id,
                    direction=Direction.INCOMING if incoming else Direction.OUTGOING,
                    remote=PhoneNumber(raw=step.number, digits=digits),
                    remote_name=step.name,
                    line=step.line or None,
                    dnis=step.dnis or None,
                    extension=self._extension,
                    variables=step.variables or None,
                )
            )
            if incoming and self._dnd:
                # As the SIP phone does (486 Busy Here): the call arrives, is turned away at once
                # and is logged as a missed "Busy" call — do not disturb leaves a trace.
                self._end(call_id, EndReason.BUSY)
            return
        if call_id not in self._states:
            return
        if a == "ringback":
            self._set(call_id, CallEvent.RINGBACK, CallState.ALERTING)
        elif a == "answer":
            self._set(call_id, CallEvent.ANSWERED, CallState.ACTIVE)
        elif a == "hold":
            self._set(call_id, CallEvent.HELD, CallState.HELD)
        elif a == "resume":
            self._set(call_id, CallEvent.RESUMED, CallState.ACTIVE)
        elif a == "dtmf":
            self._emit(ProviderEvent(CallEvent.DTMF, call_id, digits=step.digits))
        elif a == "update":
            self._emit(
                ProviderEvent(
                    CallEvent.UPDATED,
                    call_id,
                    remote_name=step.name or None,
                    variables=step.variables or None,
                )
            )
        elif a == "hangup":
            self._end(call_id, step.reason or EndReason.COMPLETED)

    async def _far_end_answers(self, call_id: str, after: float) -> None:
        await asyncio.sleep(0)
        if self._states.get(call_id) is CallState.DIALING:
            self._set(call_id, CallEvent.RINGBACK, CallState.ALERTING)
        await asyncio.sleep(after / self._speed if self._speed > 0 else 0)
        if self._states.get(call_id) is CallState.ALERTING:
            self._set(call_id, CallEvent.ANSWERED, CallState.ACTIVE)

    # -------------------------------------------------------------------- internals
    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _command(self, name: str, call_id: str, expect: tuple[CallState, ...] | None = None) -> None:
        state = self._states.get(call_id)
        if state is None:
            raise UnknownCall(f"There is no call {call_id} any more.")
        if expect is not None and state not in expect:
            raise ProviderError(f"Cannot {name.split(':', maxsplit=1)[0]} a call that is {state.value}.")
        self.commands.append((name, call_id))

    def _set(self, call_id: str, event: CallEvent, state: CallState) -> None:
        self._states[call_id] = state
        self._emit(ProviderEvent(event, call_id))

    def _end(self, call_id: str, reason: EndReason, transferred_to: str = "") -> None:
        self._numbers.pop(call_id, None)
        if self._states.pop(call_id, None) is not None:
            self._emit(
                ProviderEvent(CallEvent.ENDED, call_id, reason=reason, transferred_to=transferred_to or None)
            )

    def _emit(self, event: ProviderEvent) -> None:
        if self._listener is not None:
            self._listener.call_event(event)

    def _status(self) -> None:
        if self._listener is not None:
            self._listener.status_changed(
                ProviderStatus(
                    self.name,
                    Registration.ONLINE,
                    self._lines,
                    dnd=self._dnd,
                    message="Simulated phone system",
                )
            )


def create(options: Mapping[str, Any]) -> SimulatedProvider:
    return SimulatedProvider(options)
