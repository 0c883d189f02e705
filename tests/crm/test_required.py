"""What a Dynamics 365 table requires on create (IN11, OUT7): read from the attribute metadata once
per session, the columns callsys fills itself left out; the fake serves the metadata in the
service's shapes and refuses a create without an enforced required column."""

from __future__ import annotations

import pytest

from callsys.crm.dynamics.client import DynamicsCrm
from callsys.crm.dynamics.convert import CallerDetails, Converter
from callsys.crm.dynamics.required import RequiredColumn, required_columns
from callsys.errors import CrmRejected
from tests.crm.helpers import call
from tests.dataverse_fake import Column, DataverseFake

REGION = Column("new_region", "Picklist", "Region", options={100000000: "North", 100000001: "South"})


def test_the_fake_serves_attribute_metadata_in_the_service_shapes(fake: DataverseFake) -> None:
    fake.require("lead", REGION)
    status, body, _ = call(
        fake,
        "GET",
        "EntityDefinitions(LogicalName='lead')/Attributes?$select=LogicalName,RequiredLevel,DisplayName",
    )
    assert status == 200 and body["@odata.context"].endswith(
        "$metadata#EntityDefinitions('lead')/Attributes(LogicalName,RequiredLevel,DisplayName)"
    )
    rows = {r["LogicalName"]: r for r in body["value"]}
    region = rows["new_region"]
    assert set(region) == {"@odata.type", "MetadataId", "LogicalName", "RequiredLevel", "DisplayName"}
    assert region["RequiredLevel"]["Value"] == "ApplicationRequired"
    assert region["DisplayName"]["UserLocalizedLabel"]["Label"] == "Region"
    assert rows["lastname"]["RequiredLevel"]["Value"] == "ApplicationRequired"
    assert rows["ownerid"]["RequiredLevel"]["Value"] == "SystemRequired"

    status, body, _ = call(
        fake,
        "GET",
        "EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet($select=Options)",
    )
    [region] = [r for r in body["value"] if r["LogicalName"] == "new_region"]
    options = [
        (o["Value"], o["Label"]["UserLocalizedLabel"]["Label"]) for o in region["OptionSet"]["Options"]
    ]
    assert options == [(100000000, "North"), (100000001, "South")]
    status, body, _ = call(fake, "GET", "EntityDefinitions(LogicalName='lead')/Attributes?$expand=OptionSet")
    assert status == 400  # OptionSet is a property of the picklist type only: cast first


def test_a_create_without_an_enforced_required_column_is_refused(fake: DataverseFake) -> None:
    fake.require("lead", REGION)
    fake.require("lead", Column("new_note", "String", "Note", required="Recommended"))
    status, body, _ = call(fake, "POST", "leads", {"lastname": "Lang", "subject": "Call"})
    assert (status, body["error"]["code"], body["error"]["message"]) == (
        400,
        "0x80040265",
        "Region is required.",
    )
    status, body, _ = call(fake, "POST", "leads", {"lastname": "Lang", "new_region": 7})
    assert status == 400 and "outside the valid range" in body["error"]["message"]
    status, _, _ = call(fake, "POST", "leads", {"lastname": "Lang", "new_region": 100000001})  # no note
    assert status == 204 and fake.count("lead", new_region=100000001) == 1


@pytest.mark.asyncio
async def test_required_columns_are_read_once_and_exclude_what_callsys_fills(
    fake: DataverseFake, crm: DynamicsCrm
) -> None:
    fake.require("lead", REGION)
    fake.require("lead", Column("new_budget", "Money", "Budget"))
    fake.require("lead", Column("new_branch", "Lookup", "Branch"))
    fake.require("lead", Column("new_note", "String", "Note", required="Recommended"))
    fake.log.clear()
    columns = await required_columns(crm).required("lead")
    assert columns == (
        RequiredColumn(
            "new_region", "Region", "choice", "Picklist", ((100000000, "North"), (100000001, "South"))
        ),
        RequiredColumn("new_budget", "Budget", "money", "Money"),
        RequiredColumn("new_branch", "Branch", "lookup", "Lookup"),
    )  # not lastname, subject (callsys fills them), ownerid, leadid, statecode (the platform does)
    assert [c.typed_here for c in columns] == [True, True, False]
    assert len(fake.log) == 2  # the attributes, then the picklists' options
    assert await required_columns(crm).required("lead") == columns
    assert await required_columns(crm).required("account") == ()
    assert len(fake.log) == 3  # cached for the session; one more table, one more read


@pytest.mark.asyncio
async def test_the_values_typed_for_required_columns_go_into_the_record(
    fake: DataverseFake, crm: DynamicsCrm
) -> None:
    fake.require("lead", REGION)
    details = CallerDetails(crm.plan.parse("+4930123456"), name="Lea Lang")
    with pytest.raises(CrmRejected, match=r"Region is required"):
        await Converter(crm).lead(details)
    created = await Converter(crm).lead(
        CallerDetails(details.number, name="Lea Lang", extra={"new_region": 100000000})
    )
    row = fake.find("lead", created.id)
    assert row is not None and (row["lastname"], row["new_region"]) == ("Lang", 100000000)
