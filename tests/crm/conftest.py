"""Fixtures for the Dynamics 365 tests: the Dataverse fake and a ``DynamicsCrm`` bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from callsys.auth import StaticTokens
from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm, TableSpec
from callsys.numbers import NumberPlan
from tests.dataverse_fake import ORG, DataverseFake, Table

CUSTOM = Table(
    "new_patient", "new_patients", "new_patientid", "new_name", ["new_emergencyphone"], ["new_name"], [], {}
)
CUSTOM_SPEC = TableSpec("new_patient", "new_patients", "new_patientid", "new_name", ("new_emergencyphone",))


@pytest.fixture
def plan() -> NumberPlan:
    return NumberPlan(region="DE")


@pytest.fixture
def fake() -> DataverseFake:
    return DataverseFake(custom_tables=[CUSTOM])


@pytest_asyncio.fixture
async def crm(fake: DataverseFake, plan: NumberPlan) -> AsyncIterator[DynamicsCrm]:
    client = DynamicsCrm(
        ORG,
        StaticTokens(fake.issue_token()),
        plan=plan,
        tables=(*DEFAULT_TABLES, CUSTOM_SPEC),
        transport=fake.transport(),
    )
    try:
        yield client
    finally:
        await client.close()
