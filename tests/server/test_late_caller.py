"""Late caller match (IN7, IN8): a call that ends before the CRM said who was calling (sent to
voicemail in 50 ms, or the CRM slow or down at ring time) is logged at once — and its activity
gets the caller's record, the caller as its party and the name in its subject when the answer
arrives. The server's CRM side for real: ``OutboxActivities`` over the one ``ActivityLogger``,
its outbox delivering into the Dataverse fake."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.activity import ActivityLogger, register_handlers
from callsys.callmanager import CallManager
from callsys.crm import Match
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.lookup import CallerLookup
from callsys.model import EndReason, Party, PartyKind, PhoneNumber
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.server.crm import OutboxActivities
from callsys.store import open_database
from tests.crm import conftest as dataverse
from tests.crm.helpers import play_call
from tests.dataverse_fake import DataverseFake

NUMBER = "+4930123456"

# The Dataverse fake and a DynamicsCrm bound to it, as the CRM tests have them.
plan, fake, crm = dataverse.plan, dataverse.fake, dataverse.crm


class SlowCrm:
    """The CRM, whose caller lookups answer only when the test opens the gate."""

    def __init__(self, inner: DynamicsCrm) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.asked = 0

    async def lookup(self, number: PhoneNumber) -> Sequence[Match]:
        self.asked += 1
        await self.gate.wait()
        return await self.inner.lookup(number)


@pytest_asyncio.fixture
async def writer(
    tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake
) -> AsyncIterator[tuple[OutboxActivities, SlowCrm]]:
    db = open_database(tmp_path / "server.sqlite3")
    outbox = Outbox(db)
    register_handlers(outbox, crm)
    slow = SlowCrm(crm)
    lookup = CallerLookup(slow)  # type: ignore[arg-type]
    resolve = lambda call: next((m.party for m in lookup.cached(call.remote) or []), None)  # noqa: E731
    logger = ActivityLogger(outbox, resolve_party=resolve, agent_for=lambda _c: fake.default_user)
    activities = OutboxActivities(outbox, logger, lookup=lookup)
    activities.start(deliver=False)
    try:
        yield activities, slow
    finally:
        await activities.close()
        db.conn.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("answered", [False, True], ids=["unanswered", "answered"])
async def test_a_call_that_ends_before_its_lookup_gets_the_caller_afterwards(
    writer: tuple[OutboxActivities, SlowCrm],
    fake: DataverseFake,
    plan: NumberPlan,
    answered: bool,
) -> None:
    activities, slow = writer
    contact = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": NUMBER})
    manager = CallManager(normalize=lambda n: plan.parse(n.raw or n.digits))
    manager.subscribe(activities)
    play_call(manager, plan, "c-1", NUMBER, answer_after=1 if answered else None, talk=3,
              reason=EndReason.COMPLETED if answered else EndReason.VOICEMAIL)  # fmt: skip
    for _ in range(100):
        if slow.asked:
            break
        await asyncio.sleep(0)
    assert slow.asked == 1  # the lookup went out at ring time and has not come back
    await activities.outbox.drain(max_wait=5)
    (row,) = fake.rows["phonecall"].values()
    assert "Ana Ruiz" not in row["subject"] and not row.get("_regardingobjectid_value")
    # The CRM answers: the same activity gets the record, the party and the name.
    slow.gate.set()
    for _ in range(200):
        if activities.outbox.pending_count():
            break
        await asyncio.sleep(0.01)
    await activities.outbox.drain(max_wait=5)
    (row,) = fake.rows["phonecall"].values()
    assert row["subject"].endswith("— Ana Ruiz")
    assert row.get("_regardingobjectid_value") == contact
    assert row["statecode"] == 1 if answered else row["statecode"] == 2  # closed as it was
    # The caller became the activity's from party, next to the agent (the parties go as a set).
    (update,) = [json.loads(r[0]) for r in activities.outbox.db.execute(
        "SELECT payload FROM outbox WHERE kind = 'phonecall.update'").fetchall()]  # fmt: skip
    parties = update["fields"]["phonecall_activity_parties"]
    assert {"partyid_contact@odata.bind": f"/contacts({contact})", "participationtypemask": 1} in parties
    assert {
        "partyid_systemuser@odata.bind": f"/systemusers({fake.default_user})",
        "participationtypemask": 2,
    } in parties
    # Told again (another notification of the same answer): nothing more for this call.
    ended = manager.get("c-1")
    assert ended is not None
    ana = Party(kind=PartyKind.CONTACT, id=contact, name="Ana Ruiz", source="dynamics")
    assert activities.logger.found_party(ended, ana) is False
