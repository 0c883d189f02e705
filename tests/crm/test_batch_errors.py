"""A failed ``$batch`` answered the way Dataverse answers it, decoded in every shape.

Without ``Prefer: odata.continue-on-error`` the service stops at the first failing operation and
answers the *batch* with that operation's status and response; with it, ``200 OK`` and every
part's own status ("Handling errors", Execute batch operations using the Web API).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from callsys.activity import ActivityLogger, register_handlers
from callsys.callmanager import CallManager
from callsys.crm.dynamics.batch import BatchRequest, ChangeSet, decode_batch, encode_batch
from callsys.crm.dynamics.client import DynamicsCrm, is_duplicate, response_error
from callsys.errors import CrmConflict, CrmRejected, CrmThrottled
from callsys.model import EndReason
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database
from tests.crm.helpers import FakeClock, play_call
from tests.dataverse_fake import DataverseFake

AID = "11111111-1111-4111-8111-111111111111"


def _post_batch(
    fake: DataverseFake, parts: list[BatchRequest | ChangeSet], prefer: str = ""
) -> tuple[int, str, str]:
    ctype, body = encode_batch(parts)
    headers = {"Authorization": f"Bearer {fake.issue_token()}", "Content-Type": ctype}
    if prefer:
        headers["Prefer"] = prefer
    resp = fake.handle("POST", f"{fake.api}/$batch", headers, body)
    return resp.status, resp.headers["Content-Type"], resp.body.decode()


def _closed_create(fake: DataverseFake) -> ChangeSet:
    return ChangeSet(
        [
            BatchRequest("POST", f"{fake.api}/phonecalls", {"activityid": AID, "subject": "Unanswered"}),
            BatchRequest("PATCH", "$1", {"statecode": 2, "statuscode": 3}, {"If-Match": "*"}),
        ]
    )


def test_failed_changeset_is_the_batchs_own_status_without_continue_on_error(fake: DataverseFake) -> None:
    assert _post_batch(fake, [_closed_create(fake)])[0] == 200
    lookup = BatchRequest("GET", f"{fake.api}/contacts?$select=fullname&$top=1")
    status, ctype, text = _post_batch(fake, [_closed_create(fake), lookup])  # delivered twice
    assert status == 412  # the failing operation's status is the batch's
    [part] = decode_batch(ctype, text)  # processing stopped: the GET after it was not answered
    assert part.status == 412 and part.json()["error"]["code"] == "0x80040237"


def test_with_continue_on_error_the_batch_is_200_and_each_part_has_its_status(fake: DataverseFake) -> None:
    _post_batch(fake, [_closed_create(fake)])
    lookup = BatchRequest("GET", f"{fake.api}/contacts?$select=fullname&$top=1")
    status, ctype, text = _post_batch(fake, [_closed_create(fake), lookup], prefer="odata.continue-on-error")
    assert status == 200
    assert [p.status for p in decode_batch(ctype, text)] == [412, 200]


def test_a_429_for_one_operation_carries_its_retry_after_in_the_part(fake: DataverseFake) -> None:
    fake.inject(429, retry_after=7, method="PATCH", inner=True)
    status, ctype, text = _post_batch(fake, [_closed_create(fake)])
    assert status == 429
    [part] = decode_batch(ctype, text)
    assert part.status == 429 and part.headers["retry-after"] == "7"
    assert fake.count("phonecall") == 0  # the changeset was rolled back


# ------------------------------------------------------------------------------ the client
def _batch_response(status: int, part: str, outer: dict[str, str] | None = None) -> httpx.Response:
    body = (
        "--batchresponse_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"{part}\r\n--batchresponse_x--\r\n"
    )
    headers = {"Content-Type": "multipart/mixed; boundary=batchresponse_x", **(outer or {})}
    return httpx.Response(status, headers=headers, text=body)


def test_every_shape_of_a_failed_batch_is_decoded() -> None:
    dup = json.dumps(
        {"error": {"code": "0x80040237", "message": "A record with matching key values already exists."}}
    )
    err = response_error(
        _batch_response(
            412, f"HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n\r\n{dup}"
        ),
        "log the unanswered call",
    )
    assert isinstance(err, CrmConflict) and is_duplicate(err)

    throttled = json.dumps(
        {"error": {"code": "0x80072322", "message": "Number of requests exceeded the limit."}}
    )
    part = f"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 42\r\nContent-Type: application/json\r\n\r\n{throttled}"
    err = response_error(_batch_response(429, part), "complete the phone call")
    assert isinstance(err, CrmThrottled) and err.retry_after == 42  # the operation's, not 1 s
    # Retry-After only on the batch's own response: that one
    part = f"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n\r\n{throttled}"
    err = response_error(_batch_response(429, part, {"Retry-After": "9"}), "complete the phone call")
    assert isinstance(err, CrmThrottled) and err.retry_after == 9

    # a failure without a JSON body, and a batch body that cannot be read: a sentence, no multipart
    for resp in (
        _batch_response(400, "HTTP/1.1 400 Bad Request\r\n\r\nContent-ID Reference: '$1' does not exist."),
        httpx.Response(
            400, headers={"Content-Type": "multipart/mixed; boundary=zzz"}, text="--other\r\njunk"
        ),
    ):
        err = response_error(resp, "log the call")
        text = str(err)
        assert isinstance(err, CrmRejected)
        assert text.startswith("log the call: Dynamics 365 answered 400")
        assert "--" not in text and "Content-Type" not in text and "\n" not in text


@dataclass
class Rig:
    manager: CallManager
    logger: ActivityLogger
    outbox: Outbox
    clock: FakeClock


@pytest_asyncio.fixture
async def rig(tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan) -> AsyncIterator[Rig]:
    clock = FakeClock()
    db = open_database(tmp_path / "callsys.sqlite3")
    outbox = Outbox(db, clock=clock, sleep=clock.sleep)
    register_handlers(outbox, crm)
    logger = ActivityLogger(outbox, agent_for=lambda call: fake.default_user)
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(logger)
    try:
        yield Rig(manager, logger, outbox, clock)
    finally:
        db.conn.close()


@pytest.mark.asyncio
async def test_unanswered_call_delivered_twice_is_already_there_not_dead(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    play_call(rig.manager, plan, "m1", "+493077770001", answer_after=None, reason=EndReason.MISSED)
    fake.inject(drop="after", method="POST", path="/$batch")  # created and closed; the answer is lost
    result = await rig.outbox.drain()
    assert result.pending == 0 and rig.outbox.dead() == []
    [row] = fake.rows["phonecall"].values()
    assert row["activityid"] == rig.logger.activity_id("m1") and row["statecode"] == 2


@pytest.mark.asyncio
async def test_a_429_inside_a_changeset_waits_its_retry_after(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    play_call(rig.manager, plan, "a1", "+493012340001", talk=60)
    fake.inject(429, retry_after=17, method="PATCH", path="/phonecalls(", inner=True)
    result = await rig.outbox.drain()
    assert result.pending == 0 and rig.outbox.dead() == [] and fake.faults == []
    assert rig.clock.sleeps == [17]
    [row] = fake.rows["phonecall"].values()
    assert (row["statecode"], row["statuscode"]) == (1, 4)


@pytest.mark.asyncio
async def test_a_refused_changeset_is_parked_with_the_services_sentence(
    rig: Rig, fake: DataverseFake, plan: NumberPlan
) -> None:
    fake.tables["phonecall"].states[2] = {5}  # this organisation has no Canceled/Canceled (2, 3)
    play_call(rig.manager, plan, "m2", "+493077770002", answer_after=None, reason=EndReason.MISSED)
    await rig.outbox.drain()
    [dead] = rig.outbox.dead()
    assert "is not a valid status code" in dead.last_error
    assert "batchresponse" not in dead.last_error and "application/http" not in dead.last_error


def test_content_ids_are_unique_in_the_whole_batch(fake: DataverseFake) -> None:
    """Two changesets that each create and close a call ($1 is each one's own create): the
    Content-IDs are numbered across the batch, as OData wants, and each $1 finds its create."""
    second = "22222222-2222-4222-8222-222222222222"
    parts: list[BatchRequest | ChangeSet] = [
        _closed_create(fake),
        ChangeSet(
            [
                BatchRequest(
                    "POST", f"{fake.api}/phonecalls", {"activityid": second, "subject": "Unanswered"}
                ),
                BatchRequest("PATCH", "$1", {"statecode": 2, "statuscode": 3}, {"If-Match": "*"}),
            ]
        ),
    ]
    status, _, text = _post_batch(fake, parts, prefer="odata.continue-on-error")
    assert status == 200 and "0x80060888" not in text, text
    assert fake.find("phonecall", AID)["statecode"] == 2  # type: ignore[index]
    assert fake.find("phonecall", second)["statecode"] == 2  # type: ignore[index]
