"""The call session every front end shares (``callsys.session``), without a window: the number
plan from the settings reaches the provider and the CallManager (IN12's receiving line, a German
caller read as German), the caller is found in the directory, and the record chosen for a call
goes into the call log and is shown for the call until it ends (IN1, B2, IN12)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from callsys.crm.local import LocalCrm
from callsys.model import CallEvent, Direction, EndReason, PhoneNumber, ProviderEvent
from callsys.numbers import NumberPlan
from callsys.provider import ProviderRegistry
from callsys.session import CallSession, open_session
from callsys.settings import Settings
from providers import REGISTRY


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(
        {
            "numbers.region": "DE",
            "numbers.dnis_lines": {"0221 666 0": "Köln"},
            "phone.provider": "sim",
            "phone.options": {"speed": 0, "agent_script": False},
            "crm.backend": "local",
            "storage.database": str(tmp_path / "callsys.sqlite3"),
            **values,
        }
    )


def _ring(session: CallSession, call_id: str, number: str, dnis: str = "") -> None:
    listener = session.manager.listener("sim")
    listener.call_event(
        ProviderEvent(
            CallEvent.INCOMING,
            call_id,
            direction=Direction.INCOMING,
            remote=PhoneNumber(raw=number, digits=number),
            dnis=dnis,
        )
    )


def test_the_settings_plan_reaches_the_provider(tmp_path: Path) -> None:
    seen: list[Mapping[str, Any]] = []
    registry = ProviderRegistry()

    def build(options: Mapping[str, Any]) -> Any:
        seen.append(options)
        return REGISTRY.create("sim", {k: v for k, v in options.items() if k != "number_plan"})

    registry.register("sim", build)
    session = open_session(_settings(tmp_path), registry)
    try:
        assert session.provider is not None, session.problems
        plan = seen[0]["number_plan"]
        assert isinstance(plan, NumberPlan) and plan.region == "DE"
        assert plan == session.plan
    finally:
        assert session.db is not None
        session.db.conn.close()


@pytest.mark.asyncio
async def test_one_session_reads_finds_and_remembers_the_caller(tmp_path: Path) -> None:
    session = open_session(_settings(tmp_path), REGISTRY)
    try:
        assert isinstance(session.crm, LocalCrm)
        erika = session.crm.add("Erika Mustermann", ["0171 2345678"], company="Muster GmbH")
        _ring(session, "c1", "01712345678", dnis="02216660")
        call = session.manager.get("c1")
        assert call is not None
        assert call.remote.e164 == "+491712345678"  # read as German, not as an Iranian number
        assert call.line == "Köln"  # IN12: the receiving line named by the number dialled

        known = session.known_now(call)  # the local directory answers at once, for good
        assert known is not None and [m.party.id for m in known] == [erika.id]
        assert session.party_of("c1") == known[0].party
        assert not session.needs_lookup(call)  # a final answer: the CRM is not asked again

        session.remember_party("c1", known[0].party)  # the record the agent sees for the call
        record = session.calllog.get("c1")
        assert record is not None and record.party_name == "Erika Mustermann"
        assert record.party_company == "Muster GmbH"

        session.manager.listener("sim").call_event(
            ProviderEvent(CallEvent.ENDED, "c1", reason=EndReason.CANCELLED)
        )
        ended = session.manager.get("c1")
        assert ended is not None
        assert not session.needs_lookup(ended)
        assert session.party_of("c1") is None  # an ended call's record is no longer shown
        assert session.parties["c1"] == known[0].party  # but stays the call's chosen record
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_a_caller_the_directory_does_not_know_is_looked_up_once(tmp_path: Path) -> None:
    session = open_session(_settings(tmp_path, **{"numbers.region": "US"}), REGISTRY)
    try:
        _ring(session, "c2", "2125550142")
        call = session.manager.get("c2")
        assert call is not None and call.remote.e164 == "+12125550142"
        assert session.known_now(call) == []  # known at once: nobody
        assert session.party_of("c2") is None
        assert not session.needs_lookup(call)
    finally:
        await session.close()


def test_a_branch_session_names_its_lines_with_its_own_plan() -> None:
    session = CallSession.for_plan(NumberPlan(region="US"), {"(212) 555-0100": "New York"})
    _ring(session, "b1", "2125550142", dnis="+1 212 555 0100")
    call = session.manager.get("b1")
    assert call is not None
    assert call.remote.e164 == "+12125550142"
    assert call.line == "New York"
    assert session.provider_options({"host": "pbx"}) == {"host": "pbx", "number_plan": session.plan}
