"""Optional behaviour is declared, and the declarations hold: each provider and CRM is the
protocols the front ends ask it for (``isinstance``) — a method renamed on one side would turn a
feature off without an error (the local directory's instant pop-up record, IN3; voicemail per
line, IN6; the server's activities, IN14) — and ``Option.choices`` lists a setting's values."""

from __future__ import annotations

import pytest

from callsys.auth import StaticTokens
from callsys.crm import (
    BrowsableDirectory,
    EditableDirectory,
    IndexedCrm,
    InstantLookup,
    InstantRecord,
    NumberedCrm,
    RecordDetails,
    RekeyableDirectory,
    SignedInCrm,
)
from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm
from callsys.crm.local import LocalCrm
from callsys.numbers import NumberPlan
from callsys.provider import (
    ActivityRelay,
    DirectSipCalls,
    KeepsOptions,
    PerCallVoicemail,
    ScenarioPlayer,
    SipAddressDialing,
    writes_own_activity,
)
from callsys.settings import CALENDAR, CRM_BACKEND, OPTIONS, PHONE_PROVIDER, Choice
from callsys.store import open_database
from providers.server import ServerProvider
from providers.sim import SCENARIOS, SimulatedProvider
from providers.sip.options import SipOptions
from providers.sip.provider import SipProvider
from providers.tapi import TapiProvider
from tests.dataverse_fake import ORG

LOCAL_ONLY = (
    InstantLookup,
    InstantRecord,
    RecordDetails,
    BrowsableDirectory,
    EditableDirectory,
    RekeyableDirectory,
)


def test_the_local_directory_declares_what_it_does_at_once() -> None:
    crm = LocalCrm(open_database(":memory:"), NumberPlan())
    for protocol in (*LOCAL_ONLY, NumberedCrm):
        assert isinstance(crm, protocol), protocol.__name__
    assert not isinstance(crm, IndexedCrm)
    assert not isinstance(crm, SignedInCrm)


@pytest.mark.asyncio
async def test_dynamics_declares_its_index_and_its_sign_in_but_no_instant_answer() -> None:
    crm = DynamicsCrm(ORG, StaticTokens("token"), plan=NumberPlan(), tables=DEFAULT_TABLES)
    try:
        for protocol in (IndexedCrm, SignedInCrm, NumberedCrm):
            assert isinstance(crm, protocol), protocol.__name__
        for protocol in LOCAL_ONLY:  # Dynamics 365 is asked over the network, and edited there
            assert not isinstance(crm, protocol), protocol.__name__
    finally:
        await crm.close()


def test_the_providers_declare_their_optional_behaviour() -> None:
    sim = SimulatedProvider({"speed": 0})
    assert isinstance(sim, ScenarioPlayer) and sim.scenarios is SCENARIOS
    assert writes_own_activity(sim)
    assert not isinstance(
        sim, PerCallVoicemail | SipAddressDialing | ActivityRelay | KeepsOptions | DirectSipCalls
    )
    assert issubclass(SipProvider, PerCallVoicemail)
    assert SipProvider.dials_sip_addresses is True
    # The status bar names the softphone's registered lines and its direct address from these.
    sip = SipProvider({"audio": {"mode": "none"}})
    assert isinstance(sip, KeepsOptions) and isinstance(sip.options, SipOptions)
    assert isinstance(sip, DirectSipCalls)
    assert isinstance(TapiProvider({}), KeepsOptions)


@pytest.mark.parametrize(("owner", "desktop_writes"), [("server", False), ("desktop", True)])
def test_a_server_connection_says_who_writes_the_activities(owner: str, desktop_writes: bool) -> None:
    provider = ServerProvider({"url": "wss://callsys.example:8765"})
    assert isinstance(provider, ActivityRelay)
    assert not writes_own_activity(provider)  # until the server's welcome says otherwise
    provider.activity_owner = owner  # what the welcome said
    assert writes_own_activity(provider) is desktop_writes


def test_a_choice_setting_lists_its_values() -> None:
    assert CALENDAR.choices == ("gregorian", "jalali")
    assert CRM_BACKEND.choices == ("local", "dynamics")
    assert PHONE_PROVIDER.choices is None  # any registered provider: the registry lists them
    assert {key for key, option in OPTIONS.items() if isinstance(option.parse, Choice)} == {
        key for key, option in OPTIONS.items() if option.choices is not None
    }


@pytest.mark.asyncio
async def test_conversion_back_ends_and_report_sources_declare_what_they_do() -> None:
    from callsys.crm.conversion import AsksRequired, DynamicsBackend, LocalBackend, PrefilledForms
    from callsys.reports import DynamicsSource, InstantReport, LocalSource

    db = open_database(":memory:")
    local = LocalBackend(LocalCrm(db, NumberPlan()))
    assert not isinstance(local, AsksRequired | PrefilledForms)  # the directory asks for nothing more
    crm = DynamicsCrm(ORG, StaticTokens("token"), plan=NumberPlan(), tables=DEFAULT_TABLES)
    try:
        dynamics = DynamicsBackend(crm)
        assert isinstance(dynamics, AsksRequired) and isinstance(dynamics, PrefilledForms)
        assert isinstance(LocalSource(db), InstantReport)  # counted at once, on the GUI thread
        assert not isinstance(DynamicsSource(crm, db), InstantReport)  # asked in the background
    finally:
        await crm.close()
