"""Shared helpers for the CRM tests: a fake clock for the outbox, a call driver and a request to
the Dataverse fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from callsys.callmanager import CallManager
from callsys.model import CallEvent, Direction, EndReason, ProviderEvent
from callsys.numbers import NumberPlan
from tests.dataverse_fake import DataverseFake

T0 = datetime(2025, 5, 1, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    """Time that passes only when the outbox sleeps — so 'waited exactly N s' is checkable."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def play_call(
    manager: CallManager,
    plan: NumberPlan,
    call_id: str,
    number: str,
    *,
    direction: Direction = Direction.INCOMING,
    answer_after: float | None = 5,
    talk: float = 253,
    reason: EndReason = EndReason.COMPLETED,
    start: datetime = T0,
    line: str | None = None,
    extension: str | None = None,
) -> None:
    remote = plan.parse(number)
    first = CallEvent.INCOMING if direction is Direction.INCOMING else CallEvent.OUTGOING
    manager.handle(
        ProviderEvent(
            first, call_id, direction=direction, remote=remote, at=start, line=line, extension=extension
        )
    )
    if answer_after is None:
        manager.handle(
            ProviderEvent(CallEvent.ENDED, call_id, reason=reason, at=start + timedelta(seconds=25))
        )
        return
    answered = start + timedelta(seconds=answer_after)
    manager.handle(ProviderEvent(CallEvent.ANSWERED, call_id, at=answered))
    manager.handle(
        ProviderEvent(CallEvent.ENDED, call_id, reason=reason, at=answered + timedelta(seconds=talk))
    )


def call(
    fake: DataverseFake, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, Any, dict[str, str]]:
    """*method* *path* on the fake's Web API with a valid token: (status, body, headers)."""
    token = fake.issue_token()
    hdrs = {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): v for k, v in headers.items()}}
    raw = json.dumps(body).encode() if body is not None else b""
    resp = fake.handle(method, f"{fake.api}/{path}", hdrs, raw)
    text = resp.body.decode()
    return resp.status, (json.loads(text) if text.startswith("{") else text), resp.headers
