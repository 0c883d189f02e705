"""Conversions from a call (IN11, OUT7): Case needs a customer, Lead, Contact, Account, follow-up
Phone Call, add a number with ETag/412 re-read, relink the (closed) activity, record URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callsys.activity import ActivityLogger, register_handlers
from callsys.callmanager import CallManager
from callsys.crm.dynamics.client import CONTACT, DynamicsCrm
from callsys.crm.dynamics.convert import CallerDetails, Converter
from callsys.errors import CrmRejected
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database
from tests.crm.helpers import play_call
from tests.dataverse_fake import DataverseFake


@pytest.mark.asyncio
async def test_case_needs_a_customer_and_links_the_closed_activity(
    tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    db = open_database(tmp_path / "db")
    outbox = Outbox(db)
    register_handlers(outbox, crm)
    logger = ActivityLogger(outbox)
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(logger)
    play_call(manager, plan, "c1", "+4930123456")
    await outbox.drain()
    activity = logger.activity_id("c1")
    assert activity and fake.find("phonecall", activity)["statecode"] == 1

    convert = Converter(crm, agent_id=fake.default_user)
    details = CallerDetails(plan.parse("+4930123456"), name="Ana Ruiz", subject="Printer broken")
    fake.log.clear()
    with pytest.raises(CrmRejected, match="needs a customer"):
        await convert.case(details, ("lead", "00000000-0000-4000-8000-000000000001"))
    assert fake.log == []
    contact = await convert.contact(details)
    case = await convert.case(details, ("contact", contact.id), link_activity=activity)
    row = fake.find("incident", case.id)
    assert row is not None
    assert row["_customerid_value"] == contact.id and row["caseorigincode"] == 1
    assert row["title"] == "Printer broken"
    call = fake.find("phonecall", activity)
    assert call is not None and call["_regardingobjectid_value"] == case.id
    assert (call["statecode"], call["statuscode"]) == (1, 4)  # closed again after the relink
    assert case.linked and case.url.endswith(f"etn=incident&id=%7B{case.id}%7D")
    db.conn.close()


@pytest.mark.asyncio
async def test_lead_contact_account_are_prefilled_and_found_by_the_next_ring(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    convert = Converter(crm)
    lead = await convert.lead(CallerDetails(plan.parse("030 5550001"), name="Lea Lang", company="Fabrikam"))
    mobile = await convert.contact(CallerDetails(plan.parse("0151 23456789"), name="Mo Bile"))
    account = await convert.account(CallerDetails(plan.parse("030 5550003"), company="Contoso"))
    lead_row = fake.find("lead", lead.id) or {}
    assert (lead_row["firstname"], lead_row["lastname"], lead_row["companyname"], lead_row["telephone1"]) == (
        "Lea",
        "Lang",
        "Fabrikam",
        "+49305550001",
    )
    assert (fake.find("contact", mobile.id) or {})["mobilephone"] == "+4915123456789"
    assert (fake.find("account", account.id) or {})["name"] == "Contoso"
    for number, record in (
        ("+49305550001", lead.id),
        ("+4915123456789", mobile.id),
        ("+49305550003", account.id),
    ):
        assert [m.party.id for m in await crm.lookup(plan.parse(number))] == [record]


@pytest.mark.asyncio
async def test_follow_up_phone_call_is_open_and_scheduled(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz"})
    convert = Converter(crm, agent_id=fake.default_user)
    due = datetime(2025, 5, 2, 10, 0, tzinfo=UTC)
    made = await convert.follow_up(
        CallerDetails(plan.parse("+4930123456"), name="Ana Ruiz"), due, regarding=("contact", cid)
    )
    row = fake.find("phonecall", made.id) or {}
    assert (row["statecode"], row["directioncode"], row["scheduledend"]) == (0, True, "2025-05-02T10:00:00Z")
    assert row["subject"] == "Call back Ana Ruiz" and row["_regardingobjectid_value"] == cid
    assert {(p["partyid@table"], p["participationtypemask"]) for p in row["@parties"]} == {
        ("contact", 2),
        ("systemuser", 1),
    }


@pytest.mark.asyncio
async def test_add_number_rereads_after_412_and_never_clobbers(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "telephone1": "+4930111111"})
    patches = 0

    def colleague(method: str, path: str) -> None:
        nonlocal patches
        if method == "PATCH":
            patches += 1
            if patches == 1:  # between our read and our write, a colleague fills telephone2
                fake.update("contact", cid, {"telephone2": "+4930222222"})

    fake.before_request = colleague
    convert = Converter(crm)
    column = await convert.add_number(CONTACT, cid, plan.parse("+4930333333"))
    fake.before_request = None
    row = fake.find("contact", cid) or {}
    assert patches == 2  # the first PATCH got 412 and was retried after a re-read
    assert column == "telephone3"
    assert (row["telephone1"], row["telephone2"], row["telephone3"]) == (
        "+4930111111",
        "+4930222222",
        "+4930333333",
    )
    # the same number again: nothing to do
    assert await convert.add_number(CONTACT, cid, plan.parse("030 333333")) == "telephone3"
    assert patches == 2


def test_record_and_new_form_urls(crm: DynamicsCrm, plan: NumberPlan) -> None:
    convert = Converter(crm)
    url = convert.new_form_url(
        "lead", CallerDetails(plan.parse("+4930123456"), name="Ana Ruiz", company="A&B=C")
    )
    assert url.startswith(
        "https://contoso.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=lead&extraqs="
    )
    assert "companyname%3DA%2526B%253DC" in url  # '&' and '=' inside a value are encoded twice
    assert "telephone1%3D%252B4930123456" in url


@pytest.mark.asyncio
async def test_long_names_are_cut_to_the_columns_length_and_mobiles_go_to_mobilephone(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    # the service refuses text longer than the column (lastname: 50) with 400 0x80044331
    status = fake.handle(
        "POST",
        f"{fake.api}/contacts",
        {"Authorization": f"Bearer {fake.issue_token()}", "Content-Type": "application/json"},
        b'{"lastname": "' + b"L" * 51 + b'"}',
    ).status
    assert status == 400 and fake.count("contact") == 0

    first, last = "Abdolhossein-Mohammadreza " * 3, "Khorramshahri-Tabatabaei-Nejad " * 3
    convert = Converter(crm)
    details = CallerDetails(
        plan.parse("0151 23456789"), name=f"{first.strip()} {last.strip()}", company="C" * 150
    )
    lead = fake.find("lead", (await convert.lead(details)).id) or {}
    contact = fake.find("contact", (await convert.contact(details)).id) or {}
    for row in (lead, contact):
        assert len(row["lastname"]) <= 50 and row["lastname"].startswith("Khorramshahri")
        assert len(row["firstname"]) == 50 and row["firstname"].startswith("Abdolhossein")
    assert len(lead["companyname"]) == 100
    # a mobile number is the lead's mobile phone, as it is the contact's
    assert (lead.get("mobilephone"), lead.get("telephone1")) == ("+4915123456789", None)
    landline = fake.find("lead", (await convert.lead(CallerDetails(plan.parse("030 5550009")))).id) or {}
    assert (landline.get("telephone1"), landline.get("mobilephone")) == ("+49305550009", None)
