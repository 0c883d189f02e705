"""Test doubles for the server tests — clearly doubles, not the product's logger.

``RecordingActivities`` stands in for the CRM logger (``callsys.activity.ActivityLogger`` over the
outbox) where a test is about the server's wiring, not the CRM: it follows the same contract the
server relies on — one activity per loggable call, keyed by the call id, written when the call
ends, idempotent, notes added to the existing activity, ``owner_for`` deciding whose queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from callsys.model import Call, CallEvent
from callsys.server.config import ServerConfig


@dataclass
class Activity:
    call: Call
    owner: str | None
    notes: list[tuple[str, str]] = field(default_factory=list)
    regarding: tuple[str, str] | None = None


class RecordingActivities:
    def __init__(self, owner_for: Callable[[Call], str | None]) -> None:
        self.owner_for = owner_for
        self.activities: dict[str, Activity] = {}
        self.writes = 0  # every attempt, to prove that nothing is written twice
        self.closed = False

    def __call__(self, event: CallEvent, call: Call) -> None:
        if event is CallEvent.ENDED and call.loggable:
            self.writes += 1
            activity = self.activities.setdefault(call.id, Activity(call, self.owner_for(call)))
            activity.call = call

    def _activity(self, call: Call) -> Activity | None:
        # like the real logger: an answered call has its activity from the moment it was answered
        if call.id not in self.activities and call.answered_at is not None and call.loggable:
            self.activities[call.id] = Activity(call, self.owner_for(call))
        return self.activities.get(call.id)

    async def set_notes(self, call: Call, text: str, author: str) -> bool:
        activity = self._activity(call)
        if activity is None:
            return False
        activity.notes.append((author, text))
        return True

    async def link(self, call: Call, table: str, record_id: str) -> bool:
        activity = self._activity(call)
        if activity is None:
            return False
        activity.regarding = (table, record_id)
        return True

    def pending(self) -> int:
        return 0

    async def flush(self, timeout: float) -> int:
        return 0

    async def close(self) -> None:
        self.closed = True


async def recording_factory(
    config: ServerConfig, owner_for: Callable[[Call], str | None]
) -> RecordingActivities:
    return RecordingActivities(owner_for)
