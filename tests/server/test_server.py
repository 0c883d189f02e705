"""The server's core path with the SimulatedProvider as its PBX: every call logged once with no
desktop (IN14), pushed to the right desktops, desktop commands and notes, HTTP endpoints."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from callsys.callmanager import CallManager
from callsys.errors import NotSupported, ProviderUnavailable, UnknownCall
from callsys.model import CallEvent, CallState, Direction, EndReason
from callsys.provider import Capability
from providers.server import ServerProvider

from .conftest import BOB_USER, SARA_USER, SECRETS, ServerMaker, activities, http, open_client, url
from .helpers import sim, state_of, until


@pytest.mark.asyncio
async def test_every_call_is_logged_once_with_no_desktop_connected(make_server: ServerMaker) -> None:
    server = await make_server()
    pbx = sim(server)
    answered = pbx.ring("02188776655", "Sara Ahmadi", dnis="7000")
    await pbx.answer(answered)
    pbx.remote_hangup(answered, EndReason.COMPLETED)
    missed = pbx.ring("09123456789")
    pbx.remote_hangup(missed, EndReason.MISSED)
    internal = pbx.ring("1002")  # an extension: the short-number rule keeps it out of the CRM (IN13)
    pbx.remote_hangup(internal, EndReason.CANCELLED)
    outgoing = await pbx.dial("+14155550100", "Sales")
    await until(lambda: pbx.state(outgoing) is CallState.ACTIVE)
    await pbx.hangup(outgoing)  # the agent hangs up on the desk phone
    await asyncio.sleep(0)

    logged = activities(server).activities
    assert sorted(logged) == ["hq/sim-1", "hq/sim-2", "hq/sim-4"]
    first = logged["hq/sim-1"].call
    assert (first.direction, first.end_reason, first.line) == (
        Direction.INCOMING,
        EndReason.COMPLETED,
        "Sales",
    )
    assert first.remote.e164 == "+982188776655"
    assert logged["hq/sim-1"].owner == SARA_USER
    second = logged["hq/sim-2"].call
    assert second.is_missed and second.remote.e164 == "+989123456789"
    out = logged["hq/sim-4"].call
    assert out.direction is Direction.OUTGOING and out.end_reason is EndReason.COMPLETED
    assert activities(server).writes == 3


@pytest.mark.asyncio
async def test_activity_owner_follows_the_extension_map(make_server: ServerMaker) -> None:
    from callsys.numbers import NumberPlan
    from callsys.server.config import Branch

    branch = Branch("east", "sim", {"speed": 0, "extension": "1002"}, NumberPlan(region="IR"), {})
    server = await make_server(
        branches=(branch,), users={"east/1002": BOB_USER, "1002": SARA_USER}, agents={}
    )
    pbx = sim(server, "east")
    call = pbx.ring("09123456789")
    pbx.remote_hangup(call, EndReason.MISSED)
    await asyncio.sleep(0)
    # a branch-qualified entry wins over the plain extension (two branches may both have a 1002)
    assert activities(server).activities["east/sim-1"].owner == BOB_USER


@pytest.mark.asyncio
async def test_desktop_on_the_server_provider_sees_its_calls_and_nothing_is_logged_twice(
    make_server: ServerMaker,
) -> None:
    server = await make_server()
    desktop = CallManager()
    seen: list[tuple[CallEvent, str, CallState]] = []
    desktop.subscribe(lambda ev, call: seen.append((ev, call.id, call.state)))
    provider = ServerProvider({"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"]})
    await provider.start(desktop.listener("server"))
    try:
        assert await provider.wait_connected()
        assert not provider.owns_activity
        assert Capability.ANSWER in provider.capabilities
        assert Capability.ALL_EXTENSIONS not in provider.capabilities
        assert desktop.statuses["server"].registration.value == "online"

        pbx = sim(server)
        local = pbx.ring("+982188776655", "Sara Ahmadi", dnis="7001")
        call_id = f"hq/{local}"
        await until(lambda: desktop.get(call_id) is not None)
        popup = desktop.get(call_id)
        assert popup is not None and popup.state is CallState.RINGING
        assert (popup.remote_name, popup.line, popup.extension) == ("Sara Ahmadi", "Support", "1001")

        await provider.answer(call_id)  # the agent clicks Answer on the pop-up: the server's PBX answers
        await until(lambda: state_of(desktop, call_id) is CallState.ACTIVE)
        assert pbx.commands[-1] == ("answer", local)
        await provider.set_notes(call_id, "wants a callback on Monday")
        await provider.link(call_id, "contact", "cccccccc-0000-0000-0000-000000000001")
        pbx.remote_hangup(local, EndReason.COMPLETED)
        await until(lambda: state_of(desktop, call_id) is CallState.ENDED)

        ended = desktop.get(call_id)
        assert ended is not None and ended.end_reason is EndReason.COMPLETED
        assert [e for e, cid, _ in seen if cid == call_id] == [
            CallEvent.INCOMING,
            CallEvent.ANSWERED,
            CallEvent.ENDED,
        ]
        logged = activities(server).activities
        assert list(logged) == [call_id]  # one activity — the server's — with the desktop's note on it
        assert logged[call_id].notes == [("sara", "wants a callback on Monday")]
        assert logged[call_id].regarding == ("contact", "cccccccc-0000-0000-0000-000000000001")
        assert logged[call_id].call.state is CallState.ENDED
        assert activities(server).writes == 1
    finally:
        await provider.close()


@pytest.mark.asyncio
async def test_desktop_only_sees_and_controls_its_own_extensions(make_server: ServerMaker) -> None:
    server = await make_server()
    bob = CallManager()
    provider = ServerProvider({"url": url(server), "agent": "bob", "token": SECRETS["server/agent/bob"]})
    await provider.start(bob.listener("server"))
    boss = CallManager()
    supervisor = ServerProvider(
        {"url": url(server), "agent": "boss", "token": SECRETS["server/shared-secret"], "extensions": "*"}
    )
    await supervisor.start(boss.listener("server"))
    try:
        assert await provider.wait_connected() and await supervisor.wait_connected()
        local = sim(server).ring("+982188776655")  # rings 1001 (sara), not bob's 1002
        await until(lambda: boss.get(f"hq/{local}") is not None)
        assert bob.get(f"hq/{local}") is None
        with pytest.raises(UnknownCall):
            await provider.hangup(f"hq/{local}")
        assert sim(server).state(local) is CallState.RINGING
        with pytest.raises(NotSupported):
            await provider.set_dnd(True)
    finally:
        await provider.close()
        await supervisor.close()


@pytest.mark.asyncio
async def test_send_to_voicemail_goes_through_the_server_with_the_same_checks_as_reject(
    make_server: ServerMaker,
) -> None:
    """IN6: the desktop's Voicemail button → the server's PBX provider; only for the agent's own
    calls, and only when the server's PBX can (its capabilities travel in the welcome)."""
    server = await make_server()
    desktop = CallManager()
    sara = ServerProvider({"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"]})
    bob = ServerProvider({"url": url(server), "agent": "bob", "token": SECRETS["server/agent/bob"]})
    await sara.start(desktop.listener("server"))
    await bob.start(CallManager().listener("server"))
    try:
        assert await sara.wait_connected() and await bob.wait_connected()
        assert Capability.VOICEMAIL in sara.capabilities
        pbx = sim(server)
        local = pbx.ring("+982188776655", "Sara Ahmadi")
        call_id = f"hq/{local}"
        await until(lambda: desktop.get(call_id) is not None)
        with pytest.raises(UnknownCall):
            await bob.send_to_voicemail(call_id)  # not bob's extension
        assert pbx.state(local) is CallState.RINGING
        await sara.send_to_voicemail(call_id)
        assert pbx.commands[-1] == ("voicemail", local)
        await until(lambda: state_of(desktop, call_id) is CallState.ENDED)
        ended = desktop.get(call_id)
        assert ended is not None and ended.end_reason is EndReason.VOICEMAIL
        logged = activities(server).activities[call_id].call  # the server logs it (IN8), once
        assert logged.end_reason is EndReason.VOICEMAIL and logged.answered_at is None
    finally:
        await sara.close()
        await bob.close()


@pytest.mark.asyncio
async def test_no_voicemail_when_the_servers_pbx_cannot(make_server: ServerMaker) -> None:
    from callsys.numbers import NumberPlan
    from callsys.server.config import Branch

    options = {"speed": 0, "extension": "1001", "capabilities": ["answer", "reject", "hangup"]}
    server = await make_server(branches=(Branch("hq", "sim", options, NumberPlan(region="IR"), {}),))
    manager = CallManager()
    provider = ServerProvider({"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"]})
    await provider.start(manager.listener("server"))
    try:
        assert await provider.wait_connected()
        assert Capability.VOICEMAIL not in provider.capabilities
        assert Capability.REJECT in provider.capabilities
        local = sim(server).ring("+982188776655")
        await until(lambda: manager.get(f"hq/{local}") is not None)
        with pytest.raises(NotSupported, match="cannot send calls to voicemail"):
            await provider.send_to_voicemail(f"hq/{local}")
        assert sim(server).state(local) is CallState.RINGING
    finally:
        await provider.close()


@pytest.mark.asyncio
async def test_click_to_dial_goes_through_the_server(make_server: ServerMaker) -> None:
    server = await make_server()
    manager = CallManager()
    provider = ServerProvider({"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"]})
    await provider.start(manager.listener("server"))
    try:
        assert await provider.wait_connected()
        call_id = await provider.dial("+14155550100", "Sales")
        assert call_id.startswith("hq/sim-")
        await until(lambda: state_of(manager, call_id) is CallState.ACTIVE)
        call = manager.get(call_id)
        assert call is not None and call.direction is Direction.OUTGOING
    finally:
        await provider.close()


@pytest.mark.asyncio
async def test_desktop_reconnects_and_no_popup_stays_stuck(make_server: ServerMaker) -> None:
    server = await make_server()
    manager = CallManager()
    provider = ServerProvider(
        {"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"], "retry": 0.05}
    )
    await provider.start(manager.listener("server"))
    try:
        assert await provider.wait_connected()
        pbx = sim(server)
        gone = pbx.ring("+982188776655")
        stays = pbx.ring("+989123456789")
        await until(lambda: len(manager) == 2)
        # the link drops; meanwhile one call ends and a new one starts
        session = server.hub.sessions[0]
        await session.connection.close(1011, "test: link lost")
        pbx.remote_hangup(gone, EndReason.CANCELLED)
        fresh = pbx.ring("+14155550100")
        await until(lambda: manager.get(f"hq/{fresh}") is not None)
        assert state_of(manager, f"hq/{gone}") is CallState.ENDED
        assert {c.id for c in manager.live_calls()} == {f"hq/{stays}", f"hq/{fresh}"}
    finally:
        await provider.close()
    with pytest.raises(ProviderUnavailable):
        await provider.hangup(f"hq/{stays}")


@pytest.mark.asyncio
async def test_health_settings_and_update_manifest_endpoints(
    make_server: ServerMaker, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"version": "0.2.0", "url": "https://updates.invalid/callsys-0.2.0.msi"}))
    server = await make_server(update_manifest=manifest)
    ws, _ = await open_client(server, agent="sara", token=SECRETS["server/agent/sara"])
    async with httpx.AsyncClient() as client:
        health = await client.get(http(server, "/health"))
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["seats"] == {"used": 1, "limit": 10}
        assert body["branches"][0]["name"] == "hq" and body["branches"][0]["status"] == "online"

        refused = await client.get(http(server, "/settings"), headers={"X-Callsys-Agent": "sara"})
        assert refused.status_code == 401
        shared = await client.get(
            http(server, "/settings"),
            headers={"Authorization": f"Bearer {SECRETS['server/agent/sara']}", "X-Callsys-Agent": "sara"},
        )
        assert shared.status_code == 200
        assert shared.json() == {
            "branch": "hq",
            "region": "IR",
            "area_code": "21",
            "dial_prefix": "9",
            "min_log_digits": 5,
            "dnis_lines": {"7000": "Sales", "7001": "Support"},
            "lines": ["Sales", "Support"],
        }
        update = await client.get(http(server, "/update/manifest.json"))
        assert update.json()["version"] == "0.2.0"
        assert (await client.get(http(server, "/nothing-here"))).status_code == 404
    await ws.close()


@pytest.mark.asyncio
async def test_graceful_stop_tells_desktops_and_closes_the_logger(make_server: ServerMaker) -> None:
    server = await make_server()
    ws, _ = await open_client(server, agent="sara", token=SECRETS["server/agent/sara"])
    remaining = await server.stop()
    await ws.wait_closed()
    assert ws.close_code == 1001 and "shutting down" in (ws.close_reason or "")
    assert remaining == 0 and activities(server).closed
