"""Call → phone-call activity, exactly once (IN7, IN8, OUT5, OUT6, IN13, B1, B4, B7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from callsys.activity import ActivityLogger, register_handlers
from callsys.callmanager import CallManager
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.model import Call, Direction, EndReason, Party, PartyKind
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database
from tests.crm.helpers import FakeClock, play_call
from tests.dataverse_fake import DataverseFake


@dataclass
class Rig:
    manager: CallManager
    logger: ActivityLogger
    outbox: Outbox
    clock: FakeClock
    parties: dict[str, Party]


@pytest_asyncio.fixture
async def rig(tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan) -> AsyncIterator[Rig]:
    clock = FakeClock()
    db = open_database(tmp_path / "callsys.sqlite3")
    outbox = Outbox(db, clock=clock, sleep=clock.sleep)
    register_handlers(outbox, crm)
    parties: dict[str, Party] = {}
    logger = ActivityLogger(
        outbox,
        resolve_party=lambda call: parties.get(call.remote.key),
        agent_for=lambda call: fake.default_user,
        display_number=lambda c: plan.display(c.remote),
    )
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(logger)
    try:
        yield Rig(manager, logger, outbox, clock, parties)
    finally:
        db.conn.close()


def _party(kind: PartyKind, record_id: str, name: str) -> Party:
    return Party(kind=kind, id=record_id, name=name, source="dynamics")


@pytest.mark.asyncio
async def test_answered_incoming_call_becomes_one_completed_activity(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})
    rig.parties["+4930123456"] = _party(PartyKind.CONTACT, cid, "Ana Ruiz")
    play_call(rig.manager, plan, "c1", "+4930123456", talk=253)
    rig.logger.set_notes("c1", "Wants a callback about invoice 42.")
    await rig.outbox.drain()

    assert fake.count("phonecall") == 1
    activity = fake.find("phonecall", rig.logger.activity_id("c1") or "")
    assert activity is not None
    assert (activity["statecode"], activity["statuscode"]) == (1, 4)  # Completed / Received
    assert activity["directioncode"] is False
    assert activity["actualstart"] == "2025-05-01T09:00:05Z"
    assert activity["actualend"] == "2025-05-01T09:04:18Z"
    assert activity["actualdurationminutes"] == 5  # 4 min 13 s, rounded up
    assert "253 s" in activity["description"] and "invoice 42" in activity["description"]
    assert activity["subject"].startswith("Inbound call 030 123456")
    assert activity["_regardingobjectid_value"] == cid
    assert activity["_ownerid_value"] == fake.default_user
    masks = {(p["partyid@table"], p["participationtypemask"]) for p in activity["@parties"]}
    assert masks == {("contact", 1), ("systemuser", 2)}  # caller → agent


@pytest.mark.asyncio
async def test_outgoing_call_is_made_with_parties_swapped(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    acc = fake.add("account", {"name": "Contoso", "telephone1": "+4930555111"})
    rig.parties["+4930555111"] = _party(PartyKind.ACCOUNT, acc, "Contoso")
    play_call(rig.manager, plan, "o1", "+4930555111", direction=Direction.OUTGOING, talk=20)
    await rig.outbox.drain()
    [activity] = fake.rows["phonecall"].values()
    assert (activity["statecode"], activity["statuscode"]) == (1, 2)  # Completed / Made
    assert activity["directioncode"] is True
    assert activity["actualdurationminutes"] == 1
    masks = {(p["partyid@table"], p["participationtypemask"]) for p in activity["@parties"]}
    assert masks == {("account", 2), ("systemuser", 1)}


@pytest.mark.asyncio
async def test_missed_call_is_a_distinguishable_unanswered_activity(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    play_call(rig.manager, plan, "m1", "+4930999000", answer_after=None, reason=EndReason.MISSED)
    play_call(rig.manager, plan, "r1", "+4930999001", answer_after=None, reason=EndReason.REJECTED)
    await rig.outbox.drain()
    rows = list(fake.rows["phonecall"].values())
    assert len(rows) == 2
    for row in rows:
        assert row["subject"].startswith("Unanswered: Inbound call")
        assert (row["statecode"], row["statuscode"]) == (2, 3)
        assert row["actualdurationminutes"] == 0


@pytest.mark.asyncio
async def test_call_sent_to_voicemail_is_an_unanswered_activity_that_says_so_in6(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    play_call(rig.manager, plan, "v1", "+4930999002", answer_after=None, reason=EndReason.VOICEMAIL)
    await rig.outbox.drain()
    (row,) = fake.rows["phonecall"].values()
    assert row["subject"].startswith("Unanswered: Inbound call")  # IN8, like a rejected call
    assert (row["statecode"], row["statuscode"]) == (2, 3)
    assert row["description"].startswith("Sent to voicemail by the agent; rang ")


@pytest.mark.asyncio
async def test_unanswered_status_can_be_a_custom_status_reason(
    tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    fake.add_status_reason("phonecall", 1, 100000000, "Unanswered")
    db = open_database(tmp_path / "db")
    outbox = Outbox(db)
    register_handlers(outbox, crm)
    logger = ActivityLogger(outbox, unanswered_status=(1, 100000000), unanswered_title="بی پاسخ")
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(logger)
    play_call(manager, plan, "m1", "+4930999000", answer_after=None, reason=EndReason.MISSED)
    await outbox.drain()
    [row] = fake.rows["phonecall"].values()
    assert (row["statecode"], row["statuscode"]) == (1, 100000000)
    assert row["subject"].startswith("بی پاسخ")
    db.conn.close()


@pytest.mark.asyncio
async def test_short_numbers_and_calls_answered_elsewhere_are_not_logged(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    play_call(rig.manager, plan, "x1", "1001")  # internal extension (IN13)
    play_call(rig.manager, plan, "x2", "+4930123456", answer_after=None, reason=EndReason.ANSWERED_ELSEWHERE)
    await rig.outbox.drain()
    assert fake.count("phonecall") == 0
    assert rig.outbox.pending_count() == 0


@pytest.mark.asyncio
async def test_notes_after_close_reopen_update_and_close_again(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    play_call(rig.manager, plan, "c1", "+4930123456", talk=61)
    await rig.outbox.drain()
    assert rig.logger.set_notes("c1", "Follow-up: send the offer")
    await rig.outbox.drain()
    [row] = fake.rows["phonecall"].values()
    assert (row["statecode"], row["statuscode"]) == (1, 4)
    assert row["description"].startswith("Follow-up: send the offer")
    assert "61 s" in row["description"]
    assert rig.outbox.dead() == []


@pytest.mark.asyncio
async def test_deleted_caller_record_still_logs_the_call(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    cid = fake.add("contact", {"firstname": "Gone", "lastname": "Soon"})
    rig.parties["+4930123456"] = _party(PartyKind.CONTACT, cid, "Gone Soon")
    play_call(rig.manager, plan, "c1", "+4930123456")
    fake.delete("contact", cid)
    await rig.outbox.drain()
    [row] = fake.rows["phonecall"].values()
    assert (row["statecode"], row["statuscode"]) == (1, 4)
    assert row.get("_regardingobjectid_value") is None


@pytest.mark.asyncio
@pytest.mark.parametrize("batches", [False, True], ids=["one at a time", "many to a batch"])
async def test_exactly_one_activity_per_call_under_429_503_and_drops(
    rig: Rig, fake: DataverseFake, plan: NumberPlan, crm: DynamicsCrm, batches: bool
) -> None:
    register_handlers(rig.outbox, crm, batches=batches)
    rig.outbox.batch_size, rig.outbox.concurrency = 5, 1  # one batch after another: each fault in turn
    for n in range(12):
        play_call(rig.manager, plan, f"a{n}", f"+49301234{n:02d}", talk=30 + n)
    for n in range(6):
        play_call(rig.manager, plan, f"m{n}", f"+49307777{n:02d}", answer_after=None, reason=EndReason.MISSED)
    if batches:  # every write goes in a $batch
        fake.inject(drop="after", times=3, method="POST", path="/$batch")  # applied, answer lost
    else:
        fake.inject(429, retry_after=3, method="POST", path="/phonecalls")
        fake.inject(drop="after", times=3, method="POST", path="/phonecalls")  # created, answer lost
        fake.inject(drop="after", times=2, method="POST", path="/$batch")  # closed, answer lost
    fake.inject(503, times=2)
    fake.inject(drop="before", times=2)
    fake.inject(429, retry_after=11, method="POST", path="/$batch")
    if batches:  # then faults of single operations inside a batch, once the batches are answered
        armed = False

        def arm(method: str, path: str) -> None:
            nonlocal armed
            if not armed and not fake.faults:
                armed = True
                fake.inject(429, retry_after=3, method="POST", path="/phonecalls", inner=True)
                fake.inject(503, method="PATCH", path="/phonecalls", inner=True)

        fake.before_request = arm
    result = await rig.outbox.drain()

    assert result.pending == 0 and rig.outbox.dead() == []
    assert fake.faults == []  # every fault was hit
    assert 3 in rig.clock.sleeps and 11 in rig.clock.sleeps  # exactly Retry-After
    ids = {rig.logger.activity_id(f"a{n}") for n in range(12)} | {
        rig.logger.activity_id(f"m{n}") for n in range(6)
    }
    assert set(fake.rows["phonecall"]) == ids and len(ids) == 18  # one per call, no more
    answered = [r for r in fake.rows["phonecall"].values() if r["statecode"] == 1]
    missed = [r for r in fake.rows["phonecall"].values() if r["statecode"] == 2]
    assert len(answered) == 12 and len(missed) == 6


def test_observer_ignores_calls_that_never_connect_or_update(rig: Rig) -> None:
    from callsys.model import CallEvent, CallState

    call = Call(
        id="u1",
        direction=Direction.INCOMING,
        state=CallState.RINGING,
        started_at=__import__("datetime").datetime.now(),
    )
    rig.logger(CallEvent.UPDATED, call)
    rig.logger(CallEvent.INCOMING, call)
    assert rig.outbox.pending_count() == 0


@pytest.mark.asyncio
async def test_desktop_behind_a_server_adds_notes_to_the_servers_activity(
    rig: Rig, tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    # the server logged the call (rig); the desktop has its own database and must not log it again
    play_call(rig.manager, plan, "c1", "+4930123456", talk=90)
    await rig.outbox.drain()
    server_activity = rig.logger.activity_id("c1")
    assert server_activity

    db = open_database(tmp_path / "desktop.sqlite3")
    outbox = Outbox(db)
    register_handlers(outbox, crm)
    desktop = ActivityLogger(outbox, creates=False)
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(desktop)
    play_call(manager, plan, "c1", "+4930123456", talk=90)
    desktop.adopt("c1", server_activity, closed=True, status=(1, 4))
    assert desktop.set_notes("c1", "Typed on the desktop")
    await outbox.drain()
    assert fake.count("phonecall") == 1
    row = fake.find("phonecall", server_activity) or {}
    assert row["description"] == "Typed on the desktop" and row["statecode"] == 1
    db.conn.close()


@pytest.mark.asyncio
async def test_crm_down_for_an_hour_loses_nothing(rig: Rig, fake: DataverseFake, plan: NumberPlan) -> None:
    for n in range(5):
        play_call(rig.manager, plan, f"h{n}", f"+49301234{n:02d}")
    fake.inject(503, times=40)  # every attempt for a long while fails
    result = await rig.outbox.drain(max_wait=4 * 3600)
    assert result.pending == 0 and rig.outbox.dead() == []
    assert sum(rig.clock.sleeps) >= 3600 and max(rig.clock.sleeps) <= rig.outbox.max_delay  # capped backoff
    assert fake.count("phonecall") == 5 and fake.count("phonecall", statecode=1) == 5


@pytest.mark.asyncio
async def test_a_call_id_used_again_later_is_a_new_call(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    from datetime import timedelta

    from tests.crm.helpers import T0

    play_call(rig.manager, plan, "sim-1", "+4930123456", talk=10)
    first = rig.logger.activity_id("sim-1")
    fresh = CallManager(is_loggable=plan.is_loggable)  # the provider restarted and counts from 1 again
    fresh.subscribe(rig.logger)
    play_call(fresh, plan, "sim-1", "+4930654321", talk=20, start=T0 + timedelta(days=1))
    second = rig.logger.activity_id("sim-1")
    assert first and second and first != second
    await rig.outbox.drain()
    assert fake.count("phonecall") == 2


@pytest.mark.asyncio
async def test_notes_saved_many_times_send_only_the_latest_text(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    from callsys.model import CallEvent, ProviderEvent
    from tests.crm.helpers import T0

    rig.manager.handle(
        ProviderEvent(
            CallEvent.INCOMING, "n1", direction=Direction.INCOMING, remote=plan.parse("+4930123456"), at=T0
        )
    )
    rig.manager.handle(ProviderEvent(CallEvent.ANSWERED, "n1", at=T0))
    for text in ("C", "Ca", "Cal", "Call me", "Call me back"):
        rig.logger.set_notes("n1", text)
    assert [i.kind for i in rig.outbox.pending()] == ["phonecall.create", "phonecall.update"]
    fake.log.clear()
    await rig.outbox.drain()
    [row] = fake.rows["phonecall"].values()
    assert row["description"] == "Call me back" and row["statecode"] == 0
    assert len(fake.log) <= 3  # create, read state, update


@pytest.mark.asyncio
async def test_line_and_ivr_input_are_kept_with_the_activity(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    from datetime import timedelta

    from callsys.model import CallEvent, ProviderEvent
    from tests.crm.helpers import T0

    rig.manager.handle(
        ProviderEvent(
            CallEvent.INCOMING,
            "v1",
            direction=Direction.INCOMING,
            remote=plan.parse("+4930123456"),
            line="Support",
            dnis="7100",
            variables={"customer_no": "4711"},
            at=T0,
        )
    )
    rig.manager.handle(ProviderEvent(CallEvent.ANSWERED, "v1", at=T0 + timedelta(seconds=3)))
    rig.manager.handle(
        ProviderEvent(CallEvent.ENDED, "v1", reason=EndReason.COMPLETED, at=T0 + timedelta(seconds=33))
    )
    await rig.outbox.drain()
    [row] = fake.rows["phonecall"].values()
    assert "Line: Support (7100)" in row["description"] and "customer_no: 4711" in row["description"]


@pytest.mark.asyncio
async def test_a_backlog_goes_many_to_a_batch_each_calls_create_before_its_completion(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    for n in range(25):
        play_call(rig.manager, plan, f"a{n}", f"+49301234{n:02d}", talk=30 + n)
    for n in range(5):
        play_call(rig.manager, plan, f"m{n}", f"+49307777{n:02d}", answer_after=None, reason=EndReason.MISSED)
    fake.log.clear()
    result = await rig.outbox.drain()

    assert result.pending == 0 and rig.outbox.dead() == []
    # 30 creates (25 + 5 already closed) in 3 batches of 10, then 25 completions in 3 more
    assert fake.log == [("POST", "/api/data/v9.2/$batch")] * 6
    assert len(fake.rows["phonecall"]) == 30
    assert sorted(r["statecode"] for r in fake.rows["phonecall"].values()) == [1] * 25 + [2] * 5
    # the first three batches create (25 posts; 5 posts each closed by a PATCH of its $1), the
    # last three complete: every completion comes after its call's create
    first, then = fake.batch_parts[:35], fake.batch_parts[35:]
    assert [m for m, _ in first].count("POST") == 30
    assert {m for m, _ in then} == {"PATCH"} and len({url for _, url in then}) == 25 and len(then) == 50
