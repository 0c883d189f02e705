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


class RecordingActivities:
    def __init__(self, owner_for: Callable[[Call], str | None]) -> None:
        self.owner_for = owner_for
        self.activities: dict[str, Activity] = {}
        self.writes = 0  # every attempt, to prove that nothing is written twice
        self.closed = False

    def __call__(self, event: CallEvent, call: Call) -> None:
        if event is CallEvent.ENDED and call.loggable:
            self.writes += 1
            self.activities.setdefault(call.id, Activity(call, self.owner_for(call)))

    async def add_note(self, call: Call, text: str, author: str) -> None:
        activity = self.activities.get(call.id)
        if activity is None:  # the call is still live: the activity is created now, as the real logger does
            activity = self.activities[call.id] = Activity(call, self.owner_for(call))
        activity.notes.append((author, text))

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
