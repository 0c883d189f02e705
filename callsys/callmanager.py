"""CallManager — the one call state machine.

Providers report ``ProviderEvent``s; the manager applies them to its table of live calls,
enforces the legal transitions and the product rules, and tells observers what happened with
an immutable ``Call`` snapshot. Pop-ups, the call log, the CRM logger and the server are all
observers; none of them keeps its own idea of a call's state.

States (per call)::

    incoming:  RINGING ───────────────► ACTIVE ⇄ HELD ──► ENDED(completed)
                  └─► ENDED(missed | rejected | cancelled | busy | answered_elsewhere | failed)
    outgoing:  DIALING ─► ALERTING ──► ACTIVE ⇄ HELD ──► ENDED(completed)
                  └──────────┴─► ENDED(cancelled | busy | no_answer | failed)

Rules applied here (and only here):
- IN5: an incoming call that rings while another call of the same extension is connected is a
  *waiting* call; several at once is normal and unlimited.
- B1: a call answered by another member of a ring group or queue ends with
  ``ANSWERED_ELSEWHERE`` and is not a missed call for this agent.
- IN12: the receiving line comes from the provider or is resolved from the dialled number
  (``for_plan``'s *dnis_lines*: by the number as written, else by its parsed form).
- IN13: ``loggable`` is decided once, when the call starts, by the short-number rule.
- End reasons are made consistent: a call that never connected cannot end "completed", and one
  that connected cannot end "missed".
- Consultation and conference (attended transfer): a call dialled to consult for another names
  it in ``consult_of`` (only while that call is live); when the consulted-for call ends, its
  consultation becomes an ordinary call. When a conference is down to one call, that call is
  no longer in a conference.

Events that make no sense (answer of an ended call, a second INCOMING for a live call, events
for unknown calls) are ignored with a debug log line — a PBX replaying history after a reconnect
must not corrupt the table. Observers that raise are logged and skipped; the others still run.
Re-entrant calls (an observer that makes a provider emit synchronously) are queued and applied
in order after the current event.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from callsys.model import (
    Call,
    CallEvent,
    CallState,
    Direction,
    EndReason,
    PhoneNumber,
    ProviderEvent,
    freeze_variables,
)
from callsys.provider import ProviderListener, ProviderStatus

if TYPE_CHECKING:
    from callsys.numbers import NumberPlan

__all__ = ["CallManager", "CallObserver", "StatusObserver"]

log = logging.getLogger(__name__)

CallObserver = Callable[[CallEvent, Call], None]
StatusObserver = Callable[[ProviderStatus], None]

_RECENTLY_ENDED = 4096  # ids remembered after ENDED, so late duplicates are recognised


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallManager:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = _utcnow,
        is_loggable: Callable[[PhoneNumber], bool] = lambda _n: True,
        resolve_line: Callable[[str, str], str] = lambda line, _dnis: line,
        normalize: Callable[[PhoneNumber], PhoneNumber] = lambda number: number,
        undial: Callable[[PhoneNumber], PhoneNumber] | None = None,
    ) -> None:
        """*is_loggable* implements IN13; *resolve_line(line, dnis)* implements IN12;
        *normalize* turns a provider's number into its E.164 form (``NumberPlan.parse``), so
        providers may report numbers as written on the wire."""
        self._clock = clock
        self._normalize = normalize
        #: SET3: an outgoing call's far end was dialled with the outside-line prefix; this turns
        #: what was dialled back into the customer's number (``NumberPlan.undial``).
        self._undial = undial
        self._is_loggable = is_loggable
        self._resolve_line = resolve_line
        self._calls: dict[str, Call] = {}
        # Connected live calls by extension, so IN5 costs O(1) rather than a scan of every live
        # call (a server has hundreds): call id → extension, and extension → how many.
        self._connected: dict[str, str] = {}
        self._connected_on: dict[str, int] = {}
        self._ended: OrderedDict[str, Call] = OrderedDict()
        self._observers: list[CallObserver] = []
        self._status_observers: list[StatusObserver] = []
        self._statuses: dict[str, ProviderStatus] = {}
        self._pending: deque[tuple[ProviderEvent, str]] = deque()
        self._busy = False

    @classmethod
    def for_plan(
        cls,
        plan: NumberPlan,
        dnis_lines: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> CallManager:
        """The manager every front end uses: numbers read with the configured *plan* and IN12's
        receiving line from *dnis_lines* (see ``use_plan``)."""
        manager = cls(clock=clock)
        manager.use_plan(plan, dnis_lines)
        return manager

    def use_plan(self, plan: NumberPlan, dnis_lines: Mapping[str, str] | None = None) -> None:
        """Read numbers with *plan* (E.164, SET3's undial, IN13's short-number rule) and name the
        receiving line (IN12) from *dnis_lines* (``numbers.dnis_lines``: dialled number → line
        name) when the provider names none — by the dialled number as written, else by its parsed
        form, so ``"+98 21 7000 1234"`` finds the line configured for ``"02170001234"``. Applies
        from the next event on: Settings change the plan without a restart."""
        parse = plan.parse  # remembers the recent ones itself (numbers._parse is cached)
        lines = dict(dnis_lines or {})
        by_key: dict[str, str] = {}
        for dialled, label in lines.items():
            by_key.setdefault(parse(dialled).key or dialled, label)

        def normalize(number: PhoneNumber) -> PhoneNumber:
            parsed = parse(number.raw or number.digits)
            return parsed if not parsed.is_anonymous else number

        def resolve_line(line: str, dnis: str) -> str:
            if line or not dnis:
                return line
            return lines.get(dnis) or by_key.get(parse(dnis).key, "")

        self._normalize = normalize
        self._is_loggable = plan.is_loggable
        self._resolve_line = resolve_line
        self._undial = plan.undial

    # ------------------------------------------------------------------ observers
    def subscribe(self, observer: CallObserver) -> Callable[[], None]:
        """Call *observer(event, call)* after every change. Returns an unsubscribe function."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def subscribe_status(self, observer: StatusObserver) -> Callable[[], None]:
        self._status_observers.append(observer)
        return lambda: self._status_observers.remove(observer) if observer in self._status_observers else None

    # ------------------------------------------------------------------ queries
    def get(self, call_id: str) -> Call | None:
        """The live call, or the recently ended one, with this id."""
        return self._calls.get(call_id) or self._ended.get(call_id)

    def live_calls(self) -> tuple[Call, ...]:
        """Every call that has not ended, oldest first."""
        return tuple(sorted(self._calls.values(), key=lambda c: c.started_at))

    def __iter__(self) -> Iterator[Call]:
        return iter(self.live_calls())

    def __len__(self) -> int:
        return len(self._calls)

    def consultation_of(self, call_id: str) -> Call | None:
        """The live call the agent dialled to consult for *call_id* (the newest), if any."""
        found = [call for call in self._calls.values() if call.consult_of == call_id]
        return max(found, key=lambda c: c.started_at) if found else None

    def conference_calls(self) -> tuple[Call, ...]:
        """The live calls of the conference on this phone, oldest first (empty: none)."""
        return tuple(call for call in self.live_calls() if call.conference)

    @property
    def statuses(self) -> dict[str, ProviderStatus]:
        return dict(self._statuses)

    # ------------------------------------------------------------------ input
    def listener(self, provider: str) -> ProviderListener:
        """A ``ProviderListener`` that feeds this manager and stamps calls with *provider*."""
        manager = self

        class _Listener:
            def call_event(self, event: ProviderEvent) -> None:
                manager.handle(event, provider=provider)

            def status_changed(self, status: ProviderStatus) -> None:
                manager.handle_status(status)

        return _Listener()

    def handle_status(self, status: ProviderStatus) -> None:
        self._statuses[status.provider] = status
        for observer in list(self._status_observers):
            try:
                observer(status)
            except Exception:
                log.exception("status observer %r failed", observer)

    def handle(self, event: ProviderEvent, *, provider: str = "") -> Call | None:
        """Apply *event*. Returns the resulting snapshot, or ``None`` if the event was ignored.

        When called re-entrantly from an observer, the event is queued and ``None`` is returned.
        """
        self._pending.append((event, provider))
        if self._busy:
            return None
        self._busy = True
        result: Call | None = None
        try:
            first = True
            while self._pending:
                ev, prov = self._pending.popleft()
                try:
                    outcome = self._apply(ev, prov)
                except Exception:  # a bug here must not stop the phone from ringing next time
                    log.exception("could not apply %r", ev)
                    outcome = None
                if first:
                    result = outcome[1] if outcome else None
                    first = False
                if outcome is not None:
                    self._notify(*outcome)
        finally:
            self._busy = False
        return result

    # ------------------------------------------------------------------ the machine
    def _apply(self, ev: ProviderEvent, provider: str) -> tuple[CallEvent, Call] | None:
        at = ev.at or self._clock()
        call = self._calls.get(ev.call_id)
        kind = ev.event

        if call is None:
            if ev.call_id in self._ended:
                log.debug("ignoring %s for ended call %s", kind, ev.call_id)
                return None
            if kind in (CallEvent.INCOMING, CallEvent.OUTGOING):
                return kind, self._store(self._new_call(ev, at, provider))
            if kind is CallEvent.ANSWERED and ev.direction is not None:
                # A call already up when we (re)connected to the PBX: adopt it.
                new = self._new_call(ev, at, provider).evolve(state=CallState.ACTIVE, answered_at=at)
                return kind, self._store(new)
            log.debug("ignoring %s for unknown call %s", kind, ev.call_id)
            return None

        merged = self._merge(call, ev)
        state = merged.state

        if kind in (CallEvent.INCOMING, CallEvent.OUTGOING, CallEvent.UPDATED):
            if merged == call:
                return None
            return CallEvent.UPDATED, self._store(merged)
        if kind is CallEvent.DTMF:
            return (kind, call) if ev.digits else None
        if kind is CallEvent.RINGBACK:
            if state is not CallState.DIALING:
                return None if merged == call else (CallEvent.UPDATED, self._store(merged))
            return kind, self._store(merged.evolve(state=CallState.ALERTING))
        if kind is CallEvent.ANSWERED:
            if state.is_connected:
                return None if merged == call else (CallEvent.UPDATED, self._store(merged))
            return kind, self._store(merged.evolve(state=CallState.ACTIVE, answered_at=at, waiting=False))
        if kind is CallEvent.HELD:
            if state is not CallState.ACTIVE:
                return None
            return kind, self._store(merged.evolve(state=CallState.HELD, on_hold_since=at))
        if kind is CallEvent.RESUMED:
            if state is not CallState.HELD:
                return None
            return kind, self._store(merged.evolve(state=CallState.ACTIVE, on_hold_since=None))
        if kind is CallEvent.ENDED:
            assert ev.reason is not None  # ProviderEvent guarantees it
            reason = self._consistent_reason(merged, ev.reason)
            ended = merged.evolve(state=CallState.ENDED, ended_at=at, end_reason=reason, on_hold_since=None)
            del self._calls[ended.id]
            self._track_connected(ended.id, None)
            self._ended[ended.id] = ended
            while len(self._ended) > _RECENTLY_ENDED:
                self._ended.popitem(last=False)
            self._after_end(ended)
            return kind, ended
        return None  # pragma: no cover - every CallEvent is handled above

    def _after_end(self, ended: Call) -> None:
        """The calls that *ended* leaves behind: a consultation for it becomes an ordinary call,
        the last call of a conference is no longer in one (applied right after the ENDED)."""
        for call in self._calls.values():
            if call.consult_of == ended.id:
                self._pending.append(
                    (ProviderEvent(CallEvent.UPDATED, call.id, consult_of=""), call.provider)
                )
        if ended.conference:
            left = [call for call in self._calls.values() if call.conference]
            if len(left) == 1:
                self._pending.append(
                    (ProviderEvent(CallEvent.UPDATED, left[0].id, conference=False), left[0].provider)
                )

    def _new_call(self, ev: ProviderEvent, at: datetime, provider: str) -> Call:
        if ev.event is CallEvent.OUTGOING:
            direction, state = Direction.OUTGOING, CallState.DIALING
        else:
            direction, state = ev.direction or Direction.INCOMING, CallState.RINGING
            if direction is Direction.OUTGOING:
                state = CallState.DIALING
        remote = self._normalized(ev.remote) if ev.remote is not None else PhoneNumber(raw="")
        if direction is Direction.OUTGOING and self._undial is not None and ev.remote is not None:
            try:
                remote = self._undial(remote)
            except Exception:
                log.exception("could not undial %r", remote)
        # IN5: waiting means "this agent is already talking". One manager may watch many
        # extensions (the server), so only a connected call on the same extension counts; an
        # unknown extension (a desktop's own phone) matches any.
        extension = ev.extension or ""
        talking = self._connected_on
        waiting = state is CallState.RINGING and (
            bool(self._connected) if not extension else bool(talking.get(extension) or talking.get(""))
        )
        line = self._resolve_line(ev.line or "", ev.dnis or "")
        return Call(
            id=ev.call_id,
            direction=direction,
            state=state,
            started_at=at,
            remote=remote,
            remote_name=ev.remote_name or "",
            line=line,
            dnis=ev.dnis or "",
            extension=ev.extension or "",
            variables=freeze_variables(ev.variables),
            waiting=waiting,
            provider=provider,
            loggable=self._loggable(remote),
            consult_of=ev.consult_of if ev.consult_of and ev.consult_of in self._calls else "",
            transferred_to=ev.transferred_to or "",
            conference=bool(ev.conference),
        )

    def _normalized(self, number: PhoneNumber) -> PhoneNumber:
        if number.e164:
            return number
        try:
            return self._normalize(number)
        except Exception:
            log.exception("could not normalise %r", number)
            return number

    def _loggable(self, remote: PhoneNumber) -> bool:
        try:
            return bool(self._is_loggable(remote))
        except Exception:
            log.exception("short-number rule failed for %r; logging the call", remote)
            return True

    def _merge(self, call: Call, ev: ProviderEvent) -> Call:
        changes: dict[str, object] = {}
        remote = self._normalized(ev.remote) if ev.remote is not None else None
        if remote is not None and not remote.is_anonymous and remote != call.remote:
            changes["remote"] = remote
            changes["loggable"] = self._loggable(remote)
        if ev.remote_name and ev.remote_name != call.remote_name:
            changes["remote_name"] = ev.remote_name
        if ev.dnis and ev.dnis != call.dnis:
            changes["dnis"] = ev.dnis
        if ev.line or ev.dnis:
            line = self._resolve_line(ev.line or call.line, ev.dnis or call.dnis)
            if line != call.line:
                changes["line"] = line
        if ev.extension and ev.extension != call.extension:
            changes["extension"] = ev.extension
        if ev.remote_hold is not None and ev.remote_hold != call.remote_hold:
            changes["remote_hold"] = ev.remote_hold
        consult_of = ev.consult_of
        if (
            consult_of is not None
            and consult_of != call.consult_of
            and (not consult_of or consult_of in self._calls)
        ):
            changes["consult_of"] = consult_of
        if ev.transferred_to and ev.transferred_to != call.transferred_to:
            changes["transferred_to"] = ev.transferred_to
        if ev.conference is not None and ev.conference != call.conference:
            changes["conference"] = ev.conference
        if ev.variables:
            merged_vars = {**call.variables, **ev.variables}
            if merged_vars != dict(call.variables):
                changes["variables"] = freeze_variables(merged_vars)
        return call.evolve(**changes) if changes else call

    @staticmethod
    def _consistent_reason(call: Call, reason: EndReason) -> EndReason:
        connected = call.answered_at is not None
        if connected:
            return EndReason.COMPLETED if reason is not EndReason.FAILED else EndReason.FAILED
        if reason is EndReason.COMPLETED:
            # Normal clearing before anyone answered: the caller (or we) gave up.
            return EndReason.CANCELLED
        if call.direction is Direction.OUTGOING and reason in (EndReason.MISSED, EndReason.REJECTED):
            return EndReason.NO_ANSWER if reason is EndReason.MISSED else EndReason.BUSY
        if call.direction is Direction.INCOMING and reason is EndReason.NO_ANSWER:
            return EndReason.MISSED
        return reason

    def _store(self, call: Call) -> Call:
        self._calls[call.id] = call
        self._track_connected(call.id, call.extension if call.state.is_connected else None)
        return call

    def _track_connected(self, call_id: str, extension: str | None) -> None:
        """Record that *call_id* is connected on *extension* (None: not connected / gone)."""
        old = self._connected.get(call_id)
        if old == extension:
            return
        if old is not None:
            del self._connected[call_id]
            left = self._connected_on[old] - 1
            if left:
                self._connected_on[old] = left
            else:
                del self._connected_on[old]
        if extension is not None:
            self._connected[call_id] = extension
            self._connected_on[extension] = self._connected_on.get(extension, 0) + 1

    def _notify(self, event: CallEvent, call: Call) -> None:
        for observer in list(self._observers):
            try:
                observer(event, call)
            except Exception:
                log.exception("call observer %r failed on %s", observer, event)
