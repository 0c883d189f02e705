"""Several branches, one server, one Dynamics 365 (SET6): each PBX has its own number habits and
its own extension 1001; calls never mix, and each lands in the right user's queue."""

from __future__ import annotations

import asyncio

import pytest

from callsys.callmanager import CallManager
from callsys.model import EndReason
from callsys.numbers import NumberPlan
from callsys.server.config import Agent, Branch
from providers.server import ServerProvider
from providers.sim import SimulatedProvider

from .conftest import SECRETS, ServerMaker, activities, url

TEHRAN_1001 = "11111111-0000-0000-0000-000000001001"
TABRIZ_1001 = "22222222-0000-0000-0000-000000001001"


@pytest.mark.asyncio
async def test_two_branches_with_the_same_extension_stay_apart(make_server: ServerMaker) -> None:
    tehran = Branch(
        "tehran", "sim", {"speed": 0, "extension": "1001"}, NumberPlan(region="IR", area_code="21"), {}
    )
    tabriz = Branch(
        "tabriz", "sim", {"speed": 0, "extension": "1001"}, NumberPlan(region="IR", area_code="41"), {}
    )
    server = await make_server(
        branches=(tehran, tabriz),
        users={"tehran/1001": TEHRAN_1001, "tabriz/1001": TABRIZ_1001},
        agents={"sara": Agent("sara", ("1001",), "tabriz")},
    )
    desk = CallManager()
    provider = ServerProvider({"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"]})
    await provider.start(desk.listener("server"))
    try:
        assert await provider.wait_connected()
        assert provider.settings["branch"] == "tabriz" and provider.settings["area_code"] == "41"
        pbx = {name: server.branches[name].provider for name in ("tehran", "tabriz")}
        assert all(isinstance(p, SimulatedProvider) for p in pbx.values())
        ids = {}
        for name, p in pbx.items():
            assert isinstance(p, SimulatedProvider)
            local = p.ring("33445566")  # a local number, written the way each city writes it
            ids[name] = f"{name}/{local}"
            p.remote_hangup(local, EndReason.MISSED)
        for _ in range(200):
            if desk.get(ids["tabriz"]) is not None:
                break
            await asyncio.sleep(0.01)
        logged = activities(server).activities
        assert set(logged) == set(ids.values())  # the same sim-1 id on both PBXes: two calls
        assert logged[ids["tehran"]].owner == TEHRAN_1001 and logged[ids["tabriz"]].owner == TABRIZ_1001
        assert logged[ids["tehran"]].call.remote.e164 == "+982133445566"  # Tehran's area code
        assert logged[ids["tabriz"]].call.remote.e164 == "+984133445566"  # Tabriz's
        assert desk.get(ids["tabriz"]) is not None and desk.get(ids["tehran"]) is None  # her branch only
    finally:
        await provider.close()
