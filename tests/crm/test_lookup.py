"""Caller lookup against the Dataverse fake (IN1, IN2, IN4, B2): one $batch, eq on written forms,
OData injection through the caller ID matches nothing and breaks nothing."""

from __future__ import annotations

import pytest

from callsys.crm import Crm
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.errors import AuthError, CrmThrottled, CrmUnavailable
from callsys.model import PartyKind
from callsys.numbers import NumberPlan
from tests.dataverse_fake import DataverseFake


@pytest.mark.asyncio
async def test_one_round_trip_finds_records_in_all_tables_and_custom_columns(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    acc = fake.add("account", {"name": "Contoso", "telephone1": "+49 30 123456"})
    assert acc
    fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "030 123456"})
    fake.add(
        "lead",
        {
            "firstname": "Lea",
            "lastname": "Lead",
            "companyname": "Fabrikam",
            "address2_telephone3": "004930123456",
        },
    )
    fake.add("systemuser", {"firstname": "Sam", "lastname": "User", "homephone": "+4930123456"})
    fake.add("new_patient", {"new_name": "Pat", "new_emergencyphone": "+49-30-123456"})
    fake.add("contact", {"firstname": "Other", "lastname": "Person", "mobilephone": "+4930999999"})
    fake.log.clear()

    matches = await crm.lookup(plan.parse("+4930123456"))

    assert fake.log == [("POST", "/api/data/v9.2/$batch")]  # one round trip
    assert {m.party.kind for m in matches} == {
        PartyKind.CONTACT,
        PartyKind.ACCOUNT,
        PartyKind.LEAD,
        PartyKind.SYSTEMUSER,
        PartyKind.CUSTOM,
    }
    assert {m.field for m in matches} == {
        "telephone1",
        "mobilephone",
        "address2_telephone3",
        "homephone",
        "new_emergencyphone",
    }
    # every part is an eq filter, never a leading wildcard
    assert all("endswith" not in url and "contains" not in url for _, url in fake.batch_parts)
    # ranked: a person first, a colleague last
    assert matches[0].party.kind is PartyKind.CONTACT and matches[0].party.name == "Ana Ruiz"
    assert matches[-1].party.kind is PartyKind.SYSTEMUSER
    custom = next(m for m in matches if m.party.kind is PartyKind.CUSTOM)
    assert custom.party.table == "new_patient" and custom.party.name == "Pat"
    assert all(m.party.url.startswith("https://contoso.crm.dynamics.com/main.aspx?") for m in matches)
    assert isinstance(crm, Crm)


@pytest.mark.asyncio
async def test_company_of_contact_comes_from_its_parent_account(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    acc = fake.add("account", {"name": "Contoso GmbH"})
    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "telephone2": "+4930555000"})
    fake.update("contact", cid, {"_parentcustomerid_value": acc, "_parentcustomerid_value@table": "account"})
    [match] = await crm.lookup(plan.parse("030 555000"))
    assert match.party.company == "Contoso GmbH"
    assert match.field == "telephone2"


@pytest.mark.asyncio
async def test_unknown_number_matches_nothing(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    fake.add("contact", {"firstname": "A", "lastname": "B", "mobilephone": "+4930123456"})
    assert await crm.lookup(plan.parse("+4930123457")) == []


HOSTILE = [
    "' or 1 eq 1 or telephone1 eq '",
    "+4930123456' or contains(fullname,'a') or '",
    "%",
    "_",
    "[0-9]%",
    "+49%30%",
    "030 123456'); DROP TABLE contacts;--",
    "\u202e+4930123456",
    "+٤٩٣٠١٢٣٤٥٦' or '1' eq '1",
    "anonymous",
    "x" * 5000,
    "&$filter=true&x=",
    "+49 30 1234#56",
]


@pytest.mark.asyncio
@pytest.mark.parametrize("caller_id", HOSTILE)
async def test_hostile_caller_ids_match_nothing_and_break_nothing(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan, caller_id: str
) -> None:
    fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930999888"})
    fake.add("account", {"name": "Percent % Inc", "telephone1": "%"})
    fake.add("account", {"name": "Quote", "telephone1": "'"})
    matches = await crm.lookup(plan.parse(caller_id))
    assert all(m.party.name not in ("Ana Ruiz", "Percent % Inc", "Quote") for m in matches)
    # and a normal lookup right after still works
    [again] = await crm.lookup(plan.parse("+4930999888"))
    assert again.party.name == "Ana Ruiz"


@pytest.mark.asyncio
async def test_quote_and_plus_in_a_stored_number_are_escaped_correctly(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    # '+' must reach the service as %2B: unencoded it would arrive as a space and match nothing
    fake.add("contact", {"firstname": "Plus", "lastname": "Sign", "mobilephone": "+49 30 777888"})
    [m] = await crm.lookup(plan.parse("+4930777888"))
    assert m.party.name == "Plus Sign"
    found = await crm.search("O'Br")
    assert found == []
    fake.add("contact", {"firstname": "Pat", "lastname": "O'Bryan"})
    fake.add("contact", {"firstname": "O'Bryan", "lastname": "Pat"})
    [hit] = await crm.search("O'Br")
    assert hit.name == "O'Bryan Pat"


@pytest.mark.asyncio
async def test_throttled_lookup_reports_retry_after(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    fake.inject(429, retry_after=7)
    with pytest.raises(CrmThrottled) as info:
        await crm.lookup(plan.parse("+4930123456"))
    assert info.value.retry_after == 7


@pytest.mark.asyncio
async def test_unreachable_and_unavailable_map_to_crm_unavailable(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    fake.inject(drop="before")
    with pytest.raises(CrmUnavailable):
        await crm.lookup(plan.parse("+4930123456"))
    fake.inject(503)
    with pytest.raises(CrmUnavailable):
        await crm.lookup(plan.parse("+4930123456"))


@pytest.mark.asyncio
async def test_expired_token_is_refreshed_once(fake: DataverseFake, plan: NumberPlan) -> None:
    from callsys.auth import TokenProvider
    from tests.dataverse_fake import ORG

    class Rotating:
        def __init__(self) -> None:
            self.calls: list[bool] = []

        async def token(self, *, force_refresh: bool = False) -> str:
            self.calls.append(force_refresh)
            return fake.issue_token()

    tokens = Rotating()
    provider: TokenProvider = tokens
    crm = DynamicsCrm(ORG, provider, plan=plan, transport=fake.transport())
    try:
        fake.add("contact", {"firstname": "A", "lastname": "B", "mobilephone": "+4930123456"})
        assert len(await crm.lookup(plan.parse("+4930123456"))) == 1
        fake.tokens.clear()  # the token expired
        assert len(await crm.lookup(plan.parse("+4930123456"))) == 1
        assert tokens.calls == [False, True]
        fake.inject(401, times=2)  # refused even after a refresh → AuthError, no loop
        with pytest.raises(AuthError):
            await crm.lookup(plan.parse("+4930123456"))
        assert tokens.calls == [False, True, True]
    finally:
        await crm.close()


@pytest.mark.asyncio
async def test_get_and_record_urls(crm: DynamicsCrm, fake: DataverseFake) -> None:
    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})
    party = await crm.get("contact", cid)
    assert party is not None and party.name == "Ana Ruiz"
    assert (
        party.url
        == f"https://contoso.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=contact&id=%7B{cid}%7D"
    )
    assert await crm.get("contact", "00000000-0000-4000-8000-000000000000") is None
    assert await crm.get("contact", "' or 1 eq 1") is None
    url = crm.new_record_url("lead", {"telephone1": "+4930123456", "subject": "A=B&C"})
    assert url.endswith("&extraqs=telephone1%3D%252B4930123456%26subject%3DA%253DB%2526C")


@pytest.mark.asyncio
async def test_a_misconfigured_custom_table_does_not_hide_the_others(
    fake: DataverseFake, plan: NumberPlan
) -> None:
    from callsys.auth import StaticTokens
    from callsys.crm.dynamics.client import DEFAULT_TABLES, TableSpec
    from tests.dataverse_fake import ORG

    broken = TableSpec("new_patient", "new_patients", "new_patientid", "new_name", ("new_typo_phone",))
    client = DynamicsCrm(
        ORG,
        StaticTokens(fake.issue_token()),
        plan=plan,
        tables=(broken, *DEFAULT_TABLES),
        transport=fake.transport(),
    )
    try:
        fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})
        [match] = await client.lookup(plan.parse("+4930123456"))
        assert match.party.name == "Ana Ruiz"
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_links_to_another_host_are_not_followed_with_our_token(crm: DynamicsCrm) -> None:
    from callsys.errors import CrmRejected

    with pytest.raises(CrmRejected):
        async for _page in crm.pages(
            "https://evil.example.com/api/data/v9.2/contacts?$skiptoken=1", prefer=""
        ):
            pass
    with pytest.raises(CrmRejected):
        crm.url("https://contoso.crm.dynamics.com.evil.example/api/data/v9.2/contacts")


@pytest.mark.asyncio
async def test_a_captive_portal_page_is_a_transient_error(plan: NumberPlan) -> None:
    import httpx

    from callsys.auth import StaticTokens
    from tests.dataverse_fake import ORG

    def portal(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Type": "text/html"}, text="<html>Log in to the hotel Wi-Fi</html>"
        )

    client = DynamicsCrm(ORG, StaticTokens("t"), plan=plan, transport=httpx.MockTransport(portal))
    try:
        with pytest.raises(CrmUnavailable):
            await client.lookup(plan.parse("+4930123456"))
        with pytest.raises(CrmUnavailable):
            await client.create("phonecalls", {"subject": "x"})
        with pytest.raises(CrmUnavailable):
            await client.who_am_i()
    finally:
        await client.close()
